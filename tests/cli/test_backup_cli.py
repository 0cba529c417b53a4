"""``digest-bot backup`` / ``restore``: what they refuse, and that a refusal changes nothing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.store.ops import DatabaseLock
from tests.conftest import SEED_DIR


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder without .env; the settings point into it; the catalogue indexed."""
    monkeypatch.chdir(tmp_path)
    for key in ("DISCORD_TOKEN", "DISCORD_API_BASE", "INDEX_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DIGEST_DIR", str(SEED_DIR))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "data" / "digest.db"))
    assert main(["reindex"]) == 0
    return tmp_path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _err(capsys: pytest.CaptureFixture[str], needle: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("digest-bot: ") and needle in err, err


def test_backup_then_restore_round_trip(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = workdir / "data" / "digest.db"
    assert main(["backup", "b.db"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("backup written: b.db (") and "integrity ok" in out
    assert "8 papers (0 removed)" in out and "catalogue version 1" in out
    with sqlite3.connect(database) as conn:  # a change after the backup
        conn.execute("DELETE FROM paper_digests")
    conn.close()
    assert main(["restore", "b.db", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"papers": 8' in out and '"index_papers": 8' in out
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM paper_digests").fetchone()[0] == 8
    conn.close()
    assert main(["search", "learning", "--limit", "1"]) == 0


def test_backup_refuses_an_existing_file_and_a_missing_database(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "taken.db").write_text("keep me")
    assert main(["backup", "taken.db"]) == 2
    _err(capsys, "taken.db already exists")
    assert (workdir / "taken.db").read_text() == "keep me"
    assert main(["backup", "x.db", "--db", str(workdir / "nope.db")]) == 1
    _err(capsys, "no database at")
    assert not (workdir / "nope.db").exists() and not (workdir / "x.db").exists()
    assert not list(workdir.glob(".*partial*"))


def _newer(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()


def _damaged(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, page):  # every page's header but the first
        data[start : start + 16] = b"\xff" * 16
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("name", "spoil", "code", "needle"),
    [
        ("missing.db", None, 1, "no backup file at"),
        ("text.db", lambda p: p.write_text("not a database"), 3, "not a usable SQLite database"),
        ("empty.db", lambda p: p.write_bytes(b""), 3, "not a digest-bot database"),
        ("newer.db", _newer, 3, "schema version 999, newer than this digest-bot"),
        ("damaged.db", _damaged, 3, "nothing was changed"),
    ],
    ids=["missing", "not-sqlite", "empty", "newer", "damaged"],
)
def test_restore_checks_the_file_first_and_changes_nothing(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    spoil: object,
    code: int,
    needle: str,
) -> None:
    database = workdir / "data" / "digest.db"
    target = workdir / name
    if spoil is not None:
        assert main(["backup", str(target)]) == 0
        capsys.readouterr()
        spoil(target)  # type: ignore[operator]
    before = _digest(database)
    assert main(["restore", str(target)]) == code
    _err(capsys, needle)
    assert _digest(database) == before
    assert not list(database.parent.glob("*.before-restore*"))


def test_restore_refuses_while_the_database_is_held(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = workdir / "data" / "digest.db"
    assert main(["backup", "b.db"]) == 0
    capsys.readouterr()
    before = _digest(database)
    with DatabaseLock(database):  # what the running bot holds
        assert main(["restore", "b.db"]) == 3
    _err(capsys, "in use by another digest-bot process")
    assert _digest(database) == before
    assert main(["restore", str(database)]) == 2
    _err(capsys, "is the database itself")


def test_a_failed_restore_puts_the_database_back(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    database = workdir / "data" / "digest.db"
    assert main(["backup", "b.db"]) == 0
    capsys.readouterr()
    before = _digest(database)
    index = workdir / "data" / "index"
    index.mkdir(exist_ok=True)
    (index / "marker").write_text("old index")

    async def broken(settings: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("bot.cli.ops._rebuild_index", broken)
    assert main(["restore", "b.db"]) == 3
    _err(capsys, "No space left on device; nothing was changed")
    assert _digest(database) == before
    assert not list(database.parent.glob("*.before-restore*"))
    assert (index / "marker").read_text() == "old index"
