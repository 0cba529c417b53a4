"""Every CLI command's expected failures: one line on stderr and the documented exit code.

0 done, 1 nothing found, 2 bad usage or configuration, 3 nothing could be applied, 141 the
reader of stdout went away (``digest-bot search x | head -1``). Run as real subprocesses
(arguments that are not UTF-8 reach ``sys.argv`` only through a real exec).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parents[2]
SEED_NAME = "000_3fb66f32c462d8d6.txt"
BAD_BYTES = b"\xff\xfe"


def _env(root: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DIGEST_", "DATABASE_", "INDEX_", "LOG_"))
    }
    environ.update(
        PYTHONPATH=str(REPO),
        DIGEST_DIR=str(root / "digests"),
        DATABASE_PATH=str(root / "digest.db"),
        INDEX_DIR=str(root / "index"),
    )
    environ.update(extra or {})
    return environ


def _run(
    args: Sequence[str | bytes],
    env: dict[str, str],
    cwd: Path,
    stdout: int = subprocess.PIPE,
    stderr: int = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,  # a folder without a .env
        env=env,
        stdout=stdout,
        stderr=stderr,
        text=True,
        timeout=120,
    )


def _one_line(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("digest-bot: "), proc.stderr
    assert needle in lines[0], proc.stderr


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the seed digest indexed into ``digest.db``, and ``newer.db``: the same
    database stamped with a schema version this code does not know."""
    folder = tmp_path_factory.mktemp("cli-errors")
    (folder / "digests").mkdir()
    shutil.copy(REPO / "seeds" / SEED_NAME, folder / "digests")
    done = _run(["reindex"], _env(folder), folder)
    assert done.returncode == 0, done.stderr
    shutil.copy(folder / "digest.db", folder / "newer.db")
    with sqlite3.connect(folder / "newer.db") as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()
    return folder


# ---------------------------------------------------------------- 13: arguments not UTF-8


@pytest.mark.parametrize(
    "args",
    [
        ["paper", "--", BAD_BYTES],
        ["search", BAD_BYTES],
        ["search", b"caf\xe9 au lait"],
        ["author", BAD_BYTES],
        ["reindex", "--digests", BAD_BYTES],
        ["search", "learning", "--db", b"\xff.db"],
        ["generate", "--papers", "1", "--out", BAD_BYTES],
        [BAD_BYTES],
    ],
    ids=["paper", "search", "search-latin1", "author", "reindex", "db", "generate", "command"],
)
def test_arguments_that_are_not_utf8_exit_2_with_one_line(
    root: Path, args: list[str | bytes]
) -> None:
    proc = _run(args, _env(root), root)
    assert proc.returncode == 2, proc.stderr
    _one_line(proc, "is not valid UTF-8 text")
    assert proc.stdout == ""


def test_main_checks_every_argument_before_running_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # What the interpreter puts in sys.argv for the bytes ff fe: surrogate escapes.
    assert main(["paper", "--", BAD_BYTES.decode("utf-8", "surrogateescape")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("digest-bot: ") and err.count("\n") == 1
    assert "\\xff\\xfe" in err


# ---------------------------------------------------------------- 14: stdout closed early


def _closed_pipe() -> int:
    """The write end of a pipe whose reader is already gone: every write fails (EPIPE)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


@pytest.mark.parametrize(
    "args",
    [
        ["search", "learning"],
        ["search", "learning", "--json"],
        ["paper", "scaling laws"],
        ["author", "Zihan", "Yao"],
        ["reindex", "--force"],
    ],
    ids=["search", "search-json", "paper", "author", "reindex"],
)
def test_a_reader_that_goes_away_ends_the_command_quietly(root: Path, args: list[str]) -> None:
    write_end = _closed_pipe()
    try:
        proc = _run(args, _env(root), root, stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == 141


def test_stdout_and_stderr_both_gone(root: Path) -> None:
    """``digest-bot search nothing 2>&1 | true``: even the error message has no reader."""
    write_end = _closed_pipe()
    try:
        proc = _run(["search", "xylophone"], _env(root), root, stdout=write_end, stderr=write_end)
    finally:
        os.close(write_end)
    assert proc.returncode == 141


# ---------------------------------------------------------------- 15: exit codes, per command


@pytest.mark.parametrize(
    "args",
    [["search", "learning"], ["paper", "scaling laws"], ["author", "Zihan Yao"], ["reindex"]],
    ids=["search", "paper", "author", "reindex"],
)
def test_database_newer_than_the_code_exits_3(root: Path, args: list[str]) -> None:
    proc = _run([*args, "--db", str(root / "newer.db")], _env(root), root)
    assert proc.returncode == 3, proc.stderr
    _one_line(proc, "schema version 999")
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["search", "learning"], ["paper", "scaling laws"], ["author", "Zihan Yao"], ["reindex"]],
    ids=["search", "paper", "author", "reindex"],
)
def test_a_database_path_that_is_not_a_database_exits_3(root: Path, args: list[str]) -> None:
    proc = _run([*args, "--db", str(root / "digests")], _env(root), root)  # a folder
    assert proc.returncode == 3, proc.stderr
    _one_line(proc, "database")


@pytest.mark.parametrize(
    "args",
    [
        ["search", "learning"],
        ["paper", "scaling laws"],
        ["author", "Zihan Yao"],
        ["reindex"],
        ["run"],
        ["sync"],
    ],
    ids=["search", "paper", "author", "reindex", "run", "sync"],
)
@pytest.mark.parametrize(("name", "value"), [("LOG_LEVEL", "chatty"), ("REINDEX_INTERVAL", "soon")])
def test_a_bad_setting_exits_2(root: Path, args: list[str], name: str, value: str) -> None:
    proc = _run(args, _env(root, {name: value, "DISCORD_TOKEN": "x"}), root)
    assert proc.returncode == 2, proc.stderr
    _one_line(proc, name)


def test_reindex_missing_digest_folder_exits_3(root: Path) -> None:
    proc = _run(["reindex", "--digests", str(root / "nowhere")], _env(root), root)
    assert proc.returncode == 3
    _one_line(proc, "does not exist")


def test_generate_into_a_folder_that_cannot_be_created_exits_3(root: Path) -> None:
    blocker = root / "a-file"
    blocker.write_text("not a folder\n")
    proc = _run(["generate", "--papers", "2", "--out", str(blocker / "out")], _env(root), root)
    assert proc.returncode == 3, proc.stderr
    _one_line(proc, str(blocker))


# ---------------------------------------------------------------- every setting, validated

# Bad values for every setting ({tmp} holds a file "a-file" and a folder "a-folder"), and
# what the one-line message must say besides the setting's name.
BAD_SETTINGS: dict[str, list[tuple[str, str]]] = {
    "DISCORD_TOKEN": [("two words", "space"), ("Bot abc.def.ghi", "space"), ("café.x", "ASCII")],
    "DISCORD_API_BASE": [
        ("notaurl", "http:// or https://"),
        ("ftp://example.com/api", "http:// or https://"),
        ("http:///api/v10", "host"),
        ("http://127.0.0.1:99999/api", "port"),
    ],
    "DISCORD_GATEWAY_URL": [("notaurl", "ws:// or wss://"), ("https://x.example", "ws://")],
    "DIGEST_DIR": [("{tmp}/a-file", "not a folder")],
    "DATABASE_PATH": [("{tmp}/a-folder", "is a folder"), ("{tmp}/a-file/db.sqlite", "folder")],
    "INDEX_DIR": [("{tmp}/a-file", "not a folder")],
    "OWNER_IDS": [("12,abc", "whole number"), ("0", "at least 1"), ("1" + "0" * 20, "id")],
    "DEV_GUILD_ID": [("guild", "whole number"), ("18446744073709551616", "id")],
    "LOG_LEVEL": [("LOUD", "DEBUG")],
    "REINDEX_INTERVAL": [("-1", "at least 0"), ("99999999999999999", "at most")],
    "WATCH_INTERVAL": [("soon", "whole number"), ("99999999999999999", "at most")],
    "MAX_SUBSCRIPTIONS_PER_CHANNEL": [("0", "at least 1")],
    "MAX_SUBSCRIPTIONS_PER_GUILD": [("lots", "whole number"), ("1" + "0" * 30, "at most")],
    "COOLDOWN_COMMANDS": [("-1", "at least 0")],
    "COOLDOWN_SECONDS": [("ten", "whole number")],
    "MAX_DIGEST_BYTES": [("0", "at least 1"), ("64M", "whole number")],
    "FOLLOW_SYMLINKS": [("maybe", "0 or 1")],
    "INDEX_LOCK_MEMORY": [("always", "0 or 1")],
    "FEEDS": [("ftp://feeds.example/x", "neither an http(s) URL")],
    "FEEDS_EXCLUDE": [("everything", "replace and cross")],
    "HEALTH_PORT": [("70000", "port"), ("http", "whole number")],
    "HEALTH_HOST": [("not a host", "host name"), ("http://x", "host name")],
    "LOG_FORMAT": [("xml", "text or json")],
    "MAX_FOLLOWS_PER_USER": [("0", "at least 1"), ("many", "whole number")],
}
_CASES = [(name, value, says) for name, bad in BAD_SETTINGS.items() for value, says in bad]


def test_every_setting_has_bad_values_here() -> None:
    from bot.settings import DEFAULTS

    missing = sorted(set(DEFAULTS) - set(BAD_SETTINGS))
    assert not missing, f"add bad values for {missing} to BAD_SETTINGS (and validate them)"


@pytest.mark.parametrize("args", [["run"], ["search", "learning"]], ids=["run", "search"])
@pytest.mark.parametrize(("name", "value", "says"), _CASES)
def test_every_bad_setting_is_one_line_and_exit_2(
    root: Path, tmp_path: Path, args: list[str], name: str, value: str, says: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    (tmp_path / "a-folder").mkdir()
    extra = {"DISCORD_TOKEN": "abc.def.ghi", "LOG_LEVEL": "WARNING"}
    extra[name] = value.format(tmp=tmp_path)
    proc = _run(args, _env(root, extra), root)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    _one_line(proc, name)
    assert says in proc.stderr, proc.stderr
    assert (tmp_path / "a-file").read_text() == "not a folder\n"  # left as it was
