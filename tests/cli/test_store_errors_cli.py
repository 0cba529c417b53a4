"""A database failure in a command: one line on stderr, exit 3, never a traceback."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import db as db_module
from tests.conftest import SEED_FILE

EXTRA = """Header


Scaling Laws Revisited for Chemistry

Müller, Thomas, Barbier, Jean

Neural Information Processing Systems

We revisit scaling laws for molecular chemistry models and report stable training.
"""


def test_a_database_locked_by_another_process_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for key in ("DISCORD_TOKEN", "DISCORD_API_BASE", "INDEX_DIR"):
        monkeypatch.delenv(key, raising=False)
    digests = tmp_path / "digests"
    digests.mkdir()
    shutil.copy(SEED_FILE, digests / SEED_FILE.name)
    database = tmp_path / "data" / "digest.db"
    monkeypatch.setenv("DIGEST_DIR", str(digests))
    monkeypatch.setenv("DATABASE_PATH", str(database))
    assert main(["reindex"]) == 0
    (digests / "extra.txt").write_text(EXTRA, encoding="utf-8")
    capsys.readouterr()

    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(database, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process is writing, and takes its time
        assert main(["reindex"]) == 3
    finally:
        other.close()
    assert capsys.readouterr().err == "digest-bot: database error: database is locked\n"
    assert main(["reindex"]) == 0  # nothing was lost: the next reindex applies
    assert "1 added" in capsys.readouterr().out
