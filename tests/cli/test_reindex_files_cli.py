"""``digest-bot reindex`` as a real subprocess on folders it cannot (or must not) read whole:
unreadable folders and files (issue 8 item 4), named pipes, devices and oversized files
(item 8), links out of the folder (item 9). Each problem is a ``file:line: message`` line and
no paper is marked gone because of it."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.test_ingest import digest, entry, write

REPO = Path(__file__).resolve().parents[2]
DROP_READ_OVERRIDE = ["--bounding-set=-dac_override,-dac_read_search"]

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux permissions and devices")


def run(
    args: list[str],
    cwd: Path,
    env: dict[str, str] | None = None,
    prefix: list[str] | None = None,
    memory_cap: int | None = None,
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"DIGEST_DIR", "DATABASE_PATH"}}
    environ["PYTHONPATH"] = str(REPO)
    environ.update(env or {})

    def limit() -> None:
        if memory_cap is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_cap, memory_cap))

    return subprocess.run(
        [*(prefix or []), sys.executable, "-m", "bot", "reindex", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=90,
        preexec_fn=limit,
    )


def papers(db: Path) -> tuple[int, int]:
    """(papers not removed, papers removed) in the catalogue."""
    with sqlite3.connect(db) as conn:
        live = conn.execute("SELECT count(*) FROM papers WHERE removed = 0").fetchone()[0]
        gone = conn.execute("SELECT count(*) FROM papers WHERE removed = 1").fetchone()[0]
    return int(live), int(gone)


@pytest.fixture
def cannot_read(tmp_path: Path) -> list[str]:
    """A command prefix under which the reindex cannot read a ``chmod 000`` file or folder.

    Root reads them anyway (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so as root the process
    runs without those two capabilities (``setpriv``); any other user needs nothing."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: no way to make a folder unreadable")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0)
    check = subprocess.run(
        [setpriv, *DROP_READ_OVERRIDE, sys.executable, "-c", f"open({str(probe)!r})"],
        capture_output=True,
        text=True,
    )
    probe.unlink()
    if "PermissionError" not in check.stderr:
        pytest.skip(f"setpriv could not drop the read override here: {check.stderr.strip()}")
    return [setpriv, *DROP_READ_OVERRIDE]


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "digests"
    path.mkdir()
    yield path
    for dirpath, dirnames, filenames in os.walk(path):  # let pytest clean up
        for name in dirnames + filenames:
            target = Path(dirpath) / name
            if not target.is_symlink():
                target.chmod(0o755)


def test_unreadable_folder_and_file_keep_their_papers(
    tmp_path: Path, folder: Path, cannot_read: list[str]
) -> None:
    write(folder / "a.txt", digest(entry("Top Level Paper")))
    (folder / "sub" / "deeper").mkdir(parents=True)
    write(folder / "sub" / "b.txt", digest(entry("Sub Paper One"), entry("Sub Two", "Roe, R")))
    write(folder / "sub" / "deeper" / "c.txt", digest(entry("Deeper Paper", "Poe, P")))
    write(folder / "locked.txt", digest(entry("Locked Paper", "Low, L")))
    db = tmp_path / "digest.db"
    first = run(["--digests", str(folder), "--db", str(db)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert papers(db) == (5, 0)

    (folder / "sub").chmod(0)
    # changed, so it must be read (an unchanged file is skipped without opening it)
    write(folder / "locked.txt", digest(entry("Locked Paper", "Low, L"), entry("Newer", "Nu, N")))
    (folder / "locked.txt").chmod(0)
    write(folder / "new.txt", digest(entry("Brand New Paper", "New, N")))
    proc = run(["--digests", str(folder), "--db", str(db)], tmp_path, prefix=cannot_read)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert (
        "sub:1: error: cannot read the folder (Permission denied); "
        "the digests in it keep their current state"
    ) in out
    assert "locked.txt:1: error: cannot read the file (Permission denied); file skipped" in out
    assert any(line.startswith("Papers: 1 added, 0 updated, 5 unchanged, 0 gone") for line in out)
    assert "  rejected: sub/b.txt — in a folder that cannot be read" in "\n".join(out)
    assert papers(db) == (6, 0)
    assert "Traceback" not in proc.stderr


def test_pipe_device_and_oversized_file_are_diagnostics(tmp_path: Path, folder: Path) -> None:
    write(folder / "a.txt", digest(entry("Regular Paper")))
    os.mkfifo(folder / "pipe.txt")
    (folder / "urandom.txt").symlink_to("/dev/urandom")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "big.txt").write_bytes(b"x" * 5000)
    db = tmp_path / "digest.db"
    args = ["--digests", str(folder), "--db", str(db)]
    env = {"MAX_DIGEST_BYTES": "4096", "FOLLOW_SYMLINKS": "1"}
    # Before the fix the pipe blocked forever and the device ate memory: bound both.
    proc = run(args, tmp_path, env=env, memory_cap=3 << 30)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert "pipe.txt:1: error: not a regular file (a named pipe); file skipped" in out
    assert "urandom.txt:1: error: not a regular file (a character device); file skipped" in out
    assert (
        "big.txt:1: error: the file is 5,000 bytes, over the limit of 4,096 bytes "
        "(MAX_DIGEST_BYTES); file skipped"
    ) in out
    assert papers(db) == (1, 0)

    # Without FOLLOW_SYMLINKS the links out of the folder are not even opened.
    proc = run(args, tmp_path, env={"MAX_DIGEST_BYTES": "4096"}, memory_cap=3 << 30)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.splitlines()
    assert (
        "urandom.txt:1: error: symbolic link to /dev/urandom, outside the digest folder; "
        "not followed (FOLLOW_SYMLINKS=1 allows it)"
    ) in out
    assert (
        "passwd.txt:1: error: symbolic link to /etc/passwd, outside the digest folder; "
        "not followed (FOLLOW_SYMLINKS=1 allows it)"
    ) in out
