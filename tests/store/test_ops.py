"""bot.store.ops: the process lock, snapshot copies under a writer, setting a database aside."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.store.db import Database, StoreError
from bot.store.ops import (
    DatabaseLock,
    inspect_file,
    is_locked,
    put_back,
    set_aside,
    snapshot_copy,
)


def test_the_lock_is_exclusive_across_processes(tmp_path: Path) -> None:
    database = tmp_path / "digest.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from bot.store.ops import DatabaseLock\n"
            f"lock = DatabaseLock(Path({str(database)!r})); lock.acquire(); print('held', "
            "flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert is_locked(database)
        with pytest.raises(
            StoreError,
            match=rf"in use by another digest-bot process \(pid "
            rf"{holder.pid}\).*stop it before you restore",
        ):
            DatabaseLock(database).acquire("restore")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()  # the holder exits: the kernel drops its lock
        holder.wait(10)
    assert not is_locked(database)
    with DatabaseLock(database) as lock:
        assert lock.held and is_locked(database)
    assert not is_locked(database)


async def test_a_snapshot_copy_holds_exactly_what_its_counts_say_while_a_writer_writes(
    tmp_path: Path,
) -> None:
    database = tmp_path / "digest.db"
    async with await Database.open(database):
        pass  # migrated
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        conn = sqlite3.connect(database, isolation_level=None)
        conn.execute("PRAGMA busy_timeout = 10000")
        while not stop.is_set() and written[0] < 20_000:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT INTO digests (path, content_hash, indexed_at) VALUES (?, '', '')",
                (f"d{written[0]}.txt",),
            )
            conn.execute("COMMIT")
            written[0] += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = []
        for n in range(5):
            while written[0] < (n + 1) * 50:
                stop.wait(0.001)
            target = tmp_path / f"copy{n}.db"
            counts = snapshot_copy(database, target)
            info = inspect_file(target)
            assert info.integrity == "ok" and info.counts == counts
            copies.append(counts.digests)
    finally:
        stop.set()
        thread.join()
    assert copies == sorted(copies) and copies[0] >= 50 and copies[-1] < written[0]
    with sqlite3.connect(tmp_path / "copy0.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    conn.close()
    with pytest.raises(StoreError, match="already exists"):
        snapshot_copy(database, tmp_path / "copy0.db")


def test_set_aside_keeps_the_wal_with_its_database_and_put_back_undoes_it(
    tmp_path: Path,
) -> None:
    database = tmp_path / "digest.db"
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (42)")  # only in the WAL so far
    (tmp_path / "digest.db.before-restore").write_text("an older one")
    aside = set_aside(database)
    conn.close()
    assert aside == tmp_path / "digest.db.before-restore.1"
    assert not database.exists() and not (tmp_path / "digest.db-shm").exists()
    with sqlite3.connect(aside) as check:
        assert check.execute("SELECT x FROM t").fetchone() == (42,)
    check.close()
    put_back(aside, database)
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT x FROM t").fetchone() == (42,)
    check.close()
    assert set_aside(tmp_path / "none.db") is None


def test_a_database_sqlite_cannot_open_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is there but SQLite cannot open it (as root every file opens, so SQLite's
    refusal is played): the caller gets a StoreError, not sqlite3's exception."""
    database = tmp_path / "digest.db"
    database.write_bytes(b"")

    def refuse(*args: object, **kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite3, "connect", refuse)
    with pytest.raises(StoreError, match="unable to open database file"):
        inspect_file(database)
    with pytest.raises(StoreError, match="unable to open database file"):
        snapshot_copy(database, tmp_path / "copy.db")


async def test_members_follows_are_not_counted_or_checked_as_channels(tmp_path: Path) -> None:
    """A follow is a subscriptions row aimed at the member's DM (channel_id = -user_id): the
    operator's counts and `digest-bot check`'s channel list leave it out."""
    from bot.store.alerts import AlertStore
    from bot.store.ops import paused_subscriptions, subscribed_channels
    from bot.store.personal import PersonalStore

    database = tmp_path / "digest.db"
    async with await Database.open(database) as db:
        alerts = AlertStore(db)
        await alerts.add(
            guild_id=1,
            channel_id=10,
            query="scaling laws",
            created_by=5,
            max_per_channel=10,
            max_per_guild=50,
        )
        personal = PersonalStore(db, alerts)
        await personal.follow(user_id=7, guild_id=1, query="author:barbier", max_follows=25)
        await personal.pause_follows(7, "DMs closed", "Your DMs are closed.")
        assert await paused_subscriptions(db) == 0
    channels = subscribed_channels(database)
    assert [(c.guild_id, c.channel_id) for c in channels] == [(1, 10)]
    info = inspect_file(database)
    assert info.counts is not None
    assert (info.counts.subscriptions, info.counts.paused_subscriptions) == (1, 0)
