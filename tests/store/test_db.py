"""Database: migrations, pragmas, the one writer, transactions, backups (real SQLite files)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.store.db import (
    Database,
    Migration,
    StoreError,
    check_migrations,
    load_migrations,
    split_sql,
)

CATALOGUE_TABLES = {"meta", "digests", "papers", "authors", "paper_authors", "paper_digests"}


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


# -- migrations --------------------------------------------------------------------------------


async def test_open_creates_parent_and_applies_every_migration(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "digest.db"
    migrations = load_migrations()
    assert [m.version for m in migrations][:1] == [1]
    async with await Database.open(path) as db:
        assert db.schema_version == migrations[-1].version
        tables = {
            r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert tables >= CATALOGUE_TABLES
        assert await db.fetchvalue("SELECT value FROM meta WHERE key='catalogue_version'") == "0"
    assert path.is_file()
    assert user_version(path) == migrations[-1].version


async def test_reopen_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    async with await Database.open(path) as db, db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('probe', 'kept')")
    async with await Database.open(path) as db:
        assert await db.fetchvalue("SELECT value FROM meta WHERE key='probe'") == "kept"


async def test_database_newer_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    async with await Database.open(path):
        pass
    newest = load_migrations()[-1].version
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {newest + 5}")
    before = set(threading.enumerate())
    with pytest.raises(StoreError) as caught:
        await Database.open(path)
    message = str(caught.value)
    assert f"schema version {newest + 5}" in message
    assert f"up to {newest}" in message
    assert "upgrade digest-bot" in message
    assert "\n" not in message
    for thread in set(threading.enumerate()) - before:  # the refused connection's thread
        thread.join(timeout=5)
        assert not thread.is_alive()
    assert user_version(path) == newest + 5  # untouched


async def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    path.write_bytes(b"this is not a database, just some text " * 50)
    with pytest.raises(StoreError, match=r"digest\.db"):
        await Database.open(path)


async def test_failing_migration_applies_nothing(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    steps = [
        Migration(1, "ok", "CREATE TABLE one (x INTEGER);"),
        Migration(2, "broken", "CREATE TABLE two (x INTEGER); CREATE TABLE two (y INTEGER);"),
    ]
    with pytest.raises(StoreError, match="0002_broken"):
        await Database.open(path, migrations=steps)
    assert user_version(path) == 1
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "one" in tables and "two" not in tables
    # Fixed, it applies on the next open.
    fixed = [steps[0], Migration(2, "fixed", "CREATE TABLE two (x INTEGER);")]
    async with await Database.open(path, migrations=fixed) as db:
        assert db.schema_version == 2


def test_migrations_must_be_numbered_without_gaps() -> None:
    with pytest.raises(StoreError, match="without gaps"):
        check_migrations([Migration(1, "a", ""), Migration(3, "c", "")])
    with pytest.raises(StoreError):
        check_migrations([Migration(1, "a", ""), Migration(1, "b", "")])


def test_split_sql_respects_strings_comments_and_triggers() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'c;d' WHERE rowid = new.rowid;
    END;
    -- trailing comment
    """
    statements = split_sql(script)
    assert len(statements) == 2
    assert "'a;b'" in statements[0]
    assert statements[1].rstrip().endswith("END;")
    assert split_sql("CREATE TABLE t (x INTEGER)") == ["CREATE TABLE t (x INTEGER);"]
    with pytest.raises(StoreError, match="incomplete"):
        split_sql("CREATE TABLE t (x TEXT DEFAULT 'unterminated)")


# -- pragmas -----------------------------------------------------------------------------------


async def test_pragmas_on_every_connection(db: Database) -> None:
    assert await db.fetchvalue("PRAGMA foreign_keys") == 1
    assert str(await db.fetchvalue("PRAGMA journal_mode")).lower() == "wal"
    assert int(await db.fetchvalue("PRAGMA busy_timeout")) > 0
    assert await db.fetchvalue("PRAGMA synchronous") == 1  # NORMAL
    async with db.transaction() as tx:
        assert await tx.fetchvalue("PRAGMA foreign_keys") == 1
        assert int(await tx.fetchvalue("PRAGMA busy_timeout")) > 0
        assert await tx.fetchvalue("PRAGMA synchronous") == 1


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO paper_digests (paper, digest, line) VALUES (12345, 678, 1)"
            )
    assert await db.fetchvalue("SELECT count(*) FROM paper_digests") == 0


async def test_fetchrows_gives_plain_tuples(db: Database) -> None:
    rows = await db.fetchrows("SELECT 1, 'a' UNION ALL SELECT 2, 'b'")
    assert rows == [(1, "a"), (2, "b")]
    assert all(type(r) is tuple for r in rows)
    row = await db.fetchone("SELECT 1 AS one")
    assert row is not None and row["one"] == 1  # the other reads keep named columns


async def test_reader_is_read_only(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError):
        await db.fetchall("INSERT INTO meta (key, value) VALUES ('x', 'y')")


async def test_the_reader_for_worker_threads(db: Database) -> None:
    def read(sql: str) -> list[tuple[object, ...]]:
        return db.fetchrows_in_thread(sql)

    assert await asyncio.to_thread(read, "PRAGMA foreign_keys") == [(1,)]
    assert await asyncio.to_thread(read, "PRAGMA query_only") == [(1,)]
    with pytest.raises(sqlite3.OperationalError):  # read-only, like the other reader
        await asyncio.to_thread(read, "INSERT INTO meta (key, value) VALUES ('x', 'y')")
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('w', '1')")
        # the last committed state, not the open transaction
        assert await asyncio.to_thread(read, "SELECT value FROM meta WHERE key='w'") == []
    assert await asyncio.to_thread(read, "SELECT value FROM meta WHERE key='w'") == [("1",)]
    with pytest.raises(StoreError, match="worker thread"):
        read("SELECT 1")  # on the event loop's thread it would block the loop: refused
    await db.close()
    with pytest.raises(StoreError, match="closed"):
        await asyncio.to_thread(read, "SELECT 1")


# -- transactions ------------------------------------------------------------------------------


async def test_commit_is_visible_to_readers(db: Database) -> None:
    async with db.transaction() as tx:
        done = await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
        assert done.rowcount == 1
        assert await tx.fetchvalue("SELECT value FROM meta WHERE key='a'") == "1"
        # The reader sees the last committed state, not the open transaction.
        assert await db.fetchvalue("SELECT value FROM meta WHERE key='a'") is None
    assert await db.fetchvalue("SELECT value FROM meta WHERE key='a'") == "1"


async def test_error_rolls_back_everything(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            await tx.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)", [("b", "2"), ("c", "3")]
            )
            raise Boom
    assert await db.fetchvalue("SELECT count(*) FROM meta WHERE key IN ('a','b','c')") == 0
    # The writer is usable again.
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
    assert await db.fetchvalue("SELECT value FROM meta WHERE key='a'") == "1"


async def test_sql_error_rolls_back_earlier_statements(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '2')")  # duplicate key
    assert await db.fetchvalue("SELECT count(*) FROM meta WHERE key='a'") == 0


async def test_cancelled_transaction_rolls_back_and_frees_the_writer(db: Database) -> None:
    entered = asyncio.Event()

    async def slow_writer() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('cancelled', '1')")
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(slow_writer())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await db.fetchvalue("SELECT count(*) FROM meta WHERE key='cancelled'") == 0
    async with asyncio.timeout(5), db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('after', '1')")
    assert await db.fetchvalue("SELECT value FROM meta WHERE key='after'") == "1"


async def test_cancelled_while_waiting_for_another_process_leaves_nothing_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "digest.db"
    async with await Database.open(path) as mine, await Database.open(path) as other:
        holding = asyncio.Event()
        release = asyncio.Event()

        async def hold_the_lock() -> None:
            async with other.transaction() as tx:
                await tx.execute("INSERT INTO meta (key, value) VALUES ('other', '1')")
                holding.set()
                await release.wait()

        holder = asyncio.create_task(hold_the_lock())
        await holding.wait()

        async def wait_for_begin() -> None:
            async with mine.transaction() as tx:  # BEGIN IMMEDIATE waits (busy_timeout)
                await tx.execute("INSERT INTO meta (key, value) VALUES ('mine', '1')")

        waiter = asyncio.create_task(wait_for_begin())
        await asyncio.sleep(0.2)
        waiter.cancel()
        release.set()
        await holder
        with pytest.raises(asyncio.CancelledError):
            await waiter
        async with asyncio.timeout(5), mine.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('after', '1')")
        assert await mine.fetchvalue("SELECT count(*) FROM meta WHERE key = 'mine'") == 0
        assert await mine.fetchvalue("SELECT value FROM meta WHERE key = 'other'") == "1"
        assert await mine.fetchvalue("SELECT value FROM meta WHERE key = 'after'") == "1"


async def test_concurrent_writers_are_serialised(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('counter', '0')")
    inside = 0
    overlaps = 0

    async def increment() -> None:
        nonlocal inside, overlaps
        async with db.transaction() as tx:
            inside += 1
            overlaps += inside > 1
            value = int(await tx.fetchvalue("SELECT value FROM meta WHERE key='counter'"))
            await asyncio.sleep(0)  # let every other task try to get in
            await tx.execute("UPDATE meta SET value = ? WHERE key='counter'", (str(value + 1),))
            inside -= 1

    await asyncio.gather(*(increment() for _ in range(25)))
    assert overlaps == 0
    assert await db.fetchvalue("SELECT value FROM meta WHERE key='counter'") == "25"


async def test_two_databases_on_one_file_serialise_through_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "digest.db"
    async with await Database.open(path) as first, await Database.open(path) as second:
        async with first.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('n', '0')")

        async def bump(db: Database) -> None:
            for _ in range(10):
                async with db.transaction() as tx:
                    value = int(await tx.fetchvalue("SELECT value FROM meta WHERE key='n'"))
                    await asyncio.sleep(0)
                    await tx.execute("UPDATE meta SET value = ? WHERE key='n'", (str(value + 1),))

        await asyncio.gather(bump(first), bump(second))
        assert await second.fetchvalue("SELECT value FROM meta WHERE key='n'") == "20"


async def test_nested_transaction_is_refused(db: Database) -> None:
    async with db.transaction():
        with pytest.raises(StoreError, match="already open"):
            async with db.transaction():
                pass


async def test_transaction_object_is_dead_after_the_block(db: Database) -> None:
    async with db.transaction() as tx:
        pass
    with pytest.raises(StoreError, match="finished"):
        await tx.execute("SELECT 1")


# -- backup and close --------------------------------------------------------------------------


async def test_backup_with_vacuum_into(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO meta (key, value) VALUES ('backed', 'up')")
    target = tmp_path / "backups" / "copy.db"
    await db.backup(target)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key='backed'").fetchone() == ("up",)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version
    with pytest.raises(StoreError, match="already exists"):
        await db.backup(target)
    async with await Database.open(target) as restored:
        assert await restored.fetchvalue("SELECT value FROM meta WHERE key='backed'") == "up"


async def test_close_stops_threads_and_is_idempotent(tmp_path: Path) -> None:
    before = set(threading.enumerate())
    db = await Database.open(tmp_path / "digest.db")
    started = set(threading.enumerate()) - before
    assert len(started) >= 2  # the writer's and the reader's connection threads
    await db.close()
    await db.close()
    for thread in started:
        thread.join(timeout=5)
        assert not thread.is_alive()
    assert db.closed
    with pytest.raises(StoreError, match="closed"):
        await db.fetchall("SELECT 1")
    with pytest.raises(StoreError, match="closed"):
        async with db.transaction():
            pass


# -- SQLite's failures reach callers as the store's errors -------------------------------------


async def test_sqlite_failures_are_store_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement SQLite refuses (a constraint, a write on the reader, a database another
    process keeps locked past the busy timeout) is a StoreError for the callers of the store,
    who need not know sqlite3; the message is SQLite's."""
    from bot.store import db as db_module
    from bot.store.papers import PaperStore

    with pytest.raises(StoreError, match="UNIQUE constraint failed"):
        async with await Database.open(tmp_path / "a.db") as db, db.transaction() as tx:
            await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')")
            await tx.execute("INSERT INTO meta (key, value) VALUES ('a', '2')")
    async with await Database.open(tmp_path / "a.db") as db:
        with pytest.raises(StoreError, match="readonly"):
            await db.fetchall("INSERT INTO meta (key, value) VALUES ('x', 'y')")

    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "locked.db"
    async with await Database.open(path) as db:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            with pytest.raises(StoreError, match="database is locked"):
                await PaperStore(db).set_meta("probe", "1")
            other.execute("ROLLBACK")
        finally:
            other.close()
        await PaperStore(db).set_meta("probe", "1")  # the writer is usable again
        assert await PaperStore(db).get_meta("probe") == "1"
