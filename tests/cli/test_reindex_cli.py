"""``python -m bot reindex`` as a real subprocess: JSON, human output, exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED_NAME = "000_3fb66f32c462d8d6.txt"


def run(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"DIGEST_DIR", "DATABASE_PATH"}}
    environ["PYTHONPATH"] = str(REPO)
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", "reindex", *args],
        cwd=cwd,  # a folder without a .env, so only what the test sets counts
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def digests(tmp_path: Path, seed_path: Path) -> Path:
    folder = tmp_path / "digests"
    folder.mkdir()
    shutil.copy(seed_path, folder / SEED_NAME)
    return folder


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data


def test_json_output_and_rerun(tmp_path: Path, digests: Path) -> None:
    db = tmp_path / "data" / "digest.db"
    first = run(["--digests", str(digests), "--db", str(db), "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""  # not a TTY: no progress
    data = as_json(first)
    assert (data["added"], data["updated"], data["unchanged"], data["removed"]) == (8, 0, 0, 0)
    assert data["total"] == 8
    assert data["files"] == [{"path": SEED_NAME, "status": "indexed", "papers": 8, "message": ""}]
    assert data["diagnostics"] == []
    assert data["new_paper_ids"][0] == "8t72zh2v" and len(data["new_paper_ids"]) == 8
    assert data["alerts_queued"] == 0
    assert data["applied"] is True
    assert data["version"] == 1
    assert db.is_file()

    second = as_json(run(["--digests", str(digests), "--db", str(db), "--json"], tmp_path))
    assert (second["added"], second["unchanged"], second["total"]) == (0, 8, 8)
    assert [f["status"] for f in second["files"]] == ["unchanged"]
    assert second["version"] == 1


def test_diagnostics_in_json_and_human_output(
    tmp_path: Path, digests: Path, digest_fixtures: Path
) -> None:
    shutil.copy(digest_fixtures / "bad" / "latin1.txt", digests / "001_latin1.txt")
    shutil.copy(digest_fixtures / "good" / "cut_short.txt", digests / "002_cut_short.txt")
    db = tmp_path / "digest.db"
    proc = run(["--digests", str(digests), "--db", str(db), "--json", "--force"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = as_json(proc)
    assert {f["path"]: f["status"] for f in data["files"]} == {
        SEED_NAME: "indexed",
        "001_latin1.txt": "rejected",
        "002_cut_short.txt": "indexed",
    }
    assert data["added"] == 10
    assert {(d["file"], d["line"], d["severity"]) for d in data["diagnostics"]} == {
        ("001_latin1.txt", 6, "error"),
        ("002_cut_short.txt", 15, "error"),
    }
    assert all(d["message"] for d in data["diagnostics"])

    (digests / "002_cut_short.txt").unlink()
    human = run(["--digests", str(digests), "--db", str(db)], tmp_path)
    assert human.returncode == 0, human.stderr
    out = human.stdout
    assert "1 unchanged, 1 rejected, 1 gone" in out
    assert "0 added, 0 updated, 8 unchanged, 2 gone" in out
    assert "8 in the catalogue" in out
    assert "001_latin1.txt:6: error: not UTF-8 text (invalid byte 0xe9); file skipped" in out
    assert "Traceback" not in human.stderr


def test_settings_come_from_the_environment(tmp_path: Path, digests: Path) -> None:
    db = tmp_path / "env" / "digest.db"
    proc = run(["--json"], tmp_path, {"DIGEST_DIR": str(digests), "DATABASE_PATH": str(db)})
    assert proc.returncode == 0, proc.stderr
    assert as_json(proc)["added"] == 8
    assert db.is_file()


def test_missing_folder_exits_3_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    db = tmp_path / "digest.db"
    proc = run(["--digests", str(missing), "--db", str(db)], tmp_path)
    assert proc.returncode == 3
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(missing) in lines[0] and "does not exist" in lines[0]
    assert lines[0].startswith("digest-bot: ")
    assert "Traceback" not in proc.stderr

    as_json_proc = run(["--digests", str(missing), "--db", str(db), "--json"], tmp_path)
    assert as_json_proc.returncode == 3
    assert as_json(as_json_proc)["applied"] is False
    assert "Traceback" not in as_json_proc.stderr


def test_every_file_rejected_exits_3(tmp_path: Path, digest_fixtures: Path) -> None:
    folder = tmp_path / "bad"
    shutil.copytree(digest_fixtures / "bad", folder)
    proc = run(["--digests", str(folder), "--db", str(tmp_path / "digest.db")], tmp_path)
    assert proc.returncode == 3
    assert "binary.txt:3: error: not a text file" in proc.stdout
    assert "every digest file was rejected" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_database_newer_than_the_code_exits_3(tmp_path: Path, digests: Path) -> None:
    db = tmp_path / "digest.db"
    assert run(["--digests", str(digests), "--db", str(db)], tmp_path).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 999")
    proc = run(["--digests", str(digests), "--db", str(db)], tmp_path)
    assert proc.returncode == 3
    assert "schema version 999" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_bad_setting_exits_2(tmp_path: Path, digests: Path) -> None:
    proc = run(["--digests", str(digests)], tmp_path, {"LOG_LEVEL": "chatty"})
    assert proc.returncode == 2
    assert "LOG_LEVEL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_reindex_keeps_the_saved_search_index_current(tmp_path: Path, digests: Path) -> None:
    """After a CLI reindex a running bot loads the saved index instead of rebuilding it."""
    from bot.core.index import Index

    db = tmp_path / "data" / "digest.db"
    index_dir = tmp_path / "data" / "index"
    assert run(["--digests", str(digests), "--db", str(db)], tmp_path).returncode == 0
    environ = {k: v for k, v in os.environ.items() if k not in {"DIGEST_DIR", "DATABASE_PATH"}}
    environ["PYTHONPATH"] = str(REPO)
    searched = subprocess.run(  # the search CLI builds and saves the index
        [sys.executable, "-m", "bot", "search", "scaling", "--db", str(db), "--json"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert searched.returncode == 0, searched.stderr
    assert Index.saved_version(index_dir) == 1
    (digests / "001_new.txt").write_text(
        "Sparse Kernel Tricks for Quasar Detection\n\nDoe, Jane\n\narXiv.org Astrophysics\n\n"
        "We detect quasars with sparse kernels in survey images.\n"
    )
    second = run(["--digests", str(digests), "--db", str(db), "--json"], tmp_path)
    assert second.returncode == 0, second.stderr
    data = as_json(second)
    assert data["added"] == 1
    assert Index.saved_version(index_dir) == data["version"] == 2
    index = Index.load(index_dir)
    assert index.n_docs == 9


def test_reindex_into_a_new_database_leaves_the_search_index_built_and_saved(
    tmp_path: Path, digests: Path
) -> None:
    """The first ``search`` after reindexing into a fresh database loads the saved index; it
    does not build it (issue 12: 46 s at 100k papers)."""
    from bot.core.index import Index

    db = tmp_path / "fresh" / "digest.db"
    proc = run(["--digests", str(digests), "--db", str(db), "--json"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    version = as_json(proc)["version"]
    index_dir = tmp_path / "fresh" / "index"
    assert Index.saved_version(index_dir) == version == 1
    index = Index.load(index_dir)
    assert index.n_docs == 8 and index.version == 1


def run_on_terminal(
    args: list[str], cwd: Path, columns: int = 120
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``python -m bot reindex ARGS`` with stderr on a pseudo-terminal (stdout piped);
    returns the process and what the terminal showed."""
    import fcntl
    import pty
    import struct
    import termios

    environ = {k: v for k, v in os.environ.items() if k not in {"DIGEST_DIR", "DATABASE_PATH"}}
    environ["PYTHONPATH"] = str(REPO)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "reindex", *args],
        cwd=cwd,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    out, _ = proc.communicate(timeout=120)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, "")
    return done, shown.decode("utf-8", errors="replace")


def test_progress_on_a_terminal_covers_every_phase_with_counts_and_an_eta(
    tmp_path: Path, digests: Path
) -> None:
    shutil.copy(digests / SEED_NAME, digests / "001_copy.txt")
    db = tmp_path / "data" / "digest.db"
    proc, terminal = run_on_terminal(["--digests", str(digests), "--db", str(db)], tmp_path)
    assert proc.returncode == 0, terminal
    lines = [line.strip() for line in re.split(r"[\r\n]+", terminal) if line.strip()]
    final = {line.split(":")[0]: line for line in lines}  # the last state of each phase
    assert "reading digest files" in final and "2/2 files" in final["reading digest files"]
    assert "writing papers" in final and "8/8 papers" in final["writing papers"]
    assert "building the search index" in final, terminal
    assert "8/8 papers" in final["building the search index"]
    for phase in ("reading digest files", "writing papers", "building the search index"):
        assert re.search(r"\[\d\d:\d\d<\d\d:\d\d", final[phase]), final[phase]  # elapsed<ETA
    assert "Traceback" not in terminal
    assert "8 in the catalogue" in proc.stdout  # the summary on stdout, as when piped
