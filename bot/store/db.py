"""The SQLite database: connections, pragmas, migrations and the one writer.

Every module that stores something goes through :class:`Database`:

* one **writer** connection; every write happens inside ``async with db.transaction() as tx``,
  which takes an :class:`asyncio.Lock` (aiosqlite would otherwise interleave the statements of
  two concurrent transactions on the same connection) and runs ``BEGIN IMMEDIATE`` ... ``COMMIT``
  (``ROLLBACK`` on any exception, cancellation included);
* one **reader** connection (``query_only``) for :meth:`Database.fetchall` /
  :meth:`Database.fetchone`; in WAL mode it reads the last committed state while a write is
  in progress;
* for code that already runs in a worker thread (a search answered in one trip off the event
  loop: index, page read and snippets), :meth:`Database.fetchrows_in_thread` reads on a
  third, synchronous ``query_only`` connection of its own, under a thread lock; it refuses to
  run on the event loop's thread;
* both with ``foreign_keys=ON``, ``busy_timeout`` and ``synchronous=NORMAL``;
* errors: what the store raises is a :class:`StoreError`. A statement SQLite fails (the
  database locked past ``busy_timeout``, a full disk, a constraint, a damaged file) raises a
  :class:`DatabaseFailure` carrying SQLite's message, so callers outside the store never
  catch :mod:`sqlite3`'s exceptions;
* migrations: ``bot/store/migrations/NNNN_name.sql`` (package data), applied in order, each in
  its own ``BEGIN IMMEDIATE`` transaction that also sets ``PRAGMA user_version = NNNN``. A
  database whose ``user_version`` is newer than the newest migration is refused with a
  :class:`StoreError`. Modules add their tables by adding the next numbered file
  (``0002_alerts.sql``, ...); nothing here needs to change.

:meth:`Database.close` closes every connection and stops their threads (an open aiosqlite
thread keeps the process from exiting).
"""

from __future__ import annotations

import asyncio
import contextvars
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import aiosqlite

BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 128 * 1024  # page cache per connection; bulk reindexes touch large indexes
SYNC_READER_CACHE_KIB = 16 * 1024
# The synchronous reader maps the database file (SQLite's memory-mapped I/O, up to this many
# bytes; SQLite's own build caps it at 2 GiB) and reads its pages in place instead of a read()
# and a copy per page that misses its cache: at 1M papers (a 1.9 GB file) reading 6 papers
# at random takes half the CPU time (p50 0.62 -> 0.23 ms). Only this query_only reader maps
# the file: a writer's changes go through the WAL, which SQLite never maps.
SYNC_READER_MMAP_BYTES = 2**31
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

Params = Sequence[Any]

# Set while the current task is inside Database.transaction(): a nested transaction would wait
# forever for the lock its own task holds, so it is refused instead.
_IN_TRANSACTION: contextvars.ContextVar[Database | None] = contextvars.ContextVar(
    "digest_bot_in_transaction", default=None
)


class StoreError(Exception):
    """The database cannot be used as asked; the message says why and what to do."""


class DatabaseFailure(StoreError):
    """SQLite failed a statement: the database stayed locked past the busy timeout, the disk
    is full, a constraint was violated, the file is damaged, ... The message is SQLite's.

    Raised by :class:`Database` and :class:`Transaction` in place of the :mod:`sqlite3`
    exception. Each one is also an instance of the :mod:`sqlite3` class it replaces (a
    failed constraint is a ``sqlite3.IntegrityError`` too), so code inside the store that
    tells SQLite's errors apart keeps doing so; code outside catches this class.
    """


_FAILURES: dict[type[sqlite3.Error], type[DatabaseFailure]] = {}


def database_failure(exc: sqlite3.Error) -> DatabaseFailure:
    """``exc`` as a :class:`DatabaseFailure` (same message, same SQLite error code)."""
    if isinstance(exc, DatabaseFailure):
        return exc
    kind = type(exc)
    failure_type = _FAILURES.get(kind)
    if failure_type is None:
        made = type(f"Store{kind.__name__}", (DatabaseFailure, kind), {"__module__": __name__})
        failure_type = _FAILURES[kind] = cast(type[DatabaseFailure], made)
    failure = failure_type(*exc.args)
    for name in ("sqlite_errorcode", "sqlite_errorname"):
        if hasattr(exc, name):
            setattr(failure, name, getattr(exc, name))
    return failure


class _SQLiteFailures:
    """``with _AS_STORE_ERRORS:`` -- a :mod:`sqlite3` error raised in the block leaves it as
    a :class:`DatabaseFailure` (a class, not ``contextlib.contextmanager``: this wraps every
    statement, and costs nothing when nothing fails)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, DatabaseFailure):
            raise database_failure(exc) from exc


_AS_STORE_ERRORS = _SQLiteFailures()


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: ``version`` is the ``NNNN`` of ``NNNN_name.sql``."""

    version: int
    name: str
    sql: str


@dataclass(frozen=True, slots=True)
class Executed:
    """What a write statement did."""

    rowcount: int
    lastrowid: int | None


def load_migrations(package: str = "bot.store", folder: str = "migrations") -> list[Migration]:
    """Read ``NNNN_name.sql`` files from package data, in order; numbers must be 1, 2, 3, ..."""
    root = resources.files(package).joinpath(folder)
    found: list[Migration] = []
    for entry in root.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise StoreError(
                    f"migration file {entry.name!r} is not named NNNN_name.sql "
                    "(four digits, underscore, lower-case name)"
                )
            continue
        found.append(
            Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8"))
        )
    found.sort(key=lambda m: m.version)
    check_migrations(found)
    return found


def check_migrations(migrations: Sequence[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise StoreError(
                f"migrations must be numbered 0001, 0002, ... without gaps or duplicates; "
                f"found {migration.version:04d}_{migration.name} where {expected:04d} was expected"
            )


def split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (semicolons in strings and trigger
    bodies are handled by :func:`sqlite3.complete_statement`)."""
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if _has_code(statement):
                statements.append(statement)
            buffer = ""
    if _has_code(buffer.rstrip(";")):
        raise StoreError(f"migration ends with an incomplete statement: {buffer.strip()[:80]!r}")
    return statements


def _has_code(statement: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in statement.splitlines())
    return any(line and line != ";" for line in lines)


class Transaction:
    """The open write transaction handed out by :meth:`Database.transaction`.

    Statements see the transaction's own uncommitted writes. Do not keep it after the
    ``async with`` block ends.
    """

    __slots__ = ("_conn", "_open")

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._open = True

    def _check(self) -> aiosqlite.Connection:
        if not self._open:
            raise StoreError("this transaction is finished; open a new one")
        return self._conn

    async def execute(self, sql: str, params: Params = ()) -> Executed:
        conn = self._check()
        with _AS_STORE_ERRORS:
            async with conn.execute(sql, params) as cursor:
                return Executed(cursor.rowcount, cursor.lastrowid)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        """Run one statement for every row; returns the total row count."""
        conn = self._check()
        with _AS_STORE_ERRORS:
            async with conn.executemany(sql, rows) as cursor:
                return cursor.rowcount

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        conn = self._check()
        with _AS_STORE_ERRORS:
            return list(await conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        conn = self._check()
        with _AS_STORE_ERRORS:
            async with conn.execute(sql, params) as cursor:
                return await cursor.fetchone()

    async def fetchvalue(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


async def _run(conn: aiosqlite.Connection, sql: str, params: Params = ()) -> None:
    """Execute a statement and close its cursor (a left-open statement blocks VACUUM)."""
    async with conn.execute(sql, params):
        pass


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    pending = aiosqlite.connect(path, isolation_level=None)
    try:
        conn = await pending
    except BaseException:
        # When the file cannot be opened, aiosqlite stops its worker thread by posting to this
        # event loop; wait for the thread, or it posts to a closed loop after asyncio.run has
        # returned and prints a thread traceback at exit.
        await asyncio.to_thread(pending._thread.join, 5.0)
        raise
    try:
        conn.row_factory = sqlite3.Row
        await _run(conn, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
                row = await cursor.fetchone()
            if row is None or str(row[0]).lower() != "wal":
                raise StoreError(f"{path}: could not switch the database to WAL mode")
        await _run(conn, "PRAGMA foreign_keys = ON")
        await _run(conn, "PRAGMA synchronous = NORMAL")
        await _run(conn, f"PRAGMA cache_size = -{CACHE_KIB}")
        await _run(conn, "PRAGMA temp_store = MEMORY")
        if not read_only:
            # A big reindex grows the WAL; let it shrink back after the checkpoint.
            await _run(conn, f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        if read_only:
            await _run(conn, "PRAGMA query_only = ON")
        async with conn.execute("PRAGMA foreign_keys") as cursor:
            row = await cursor.fetchone()
        if row is None or row[0] != 1:
            raise StoreError("this SQLite build cannot enforce foreign keys")
    except BaseException:
        await conn.close()
        raise
    return conn


def _connect_sync(path: Path) -> sqlite3.Connection:
    """A synchronous ``query_only`` reader with the same pragmas as :func:`_connect`'s, usable
    from any thread (its user serialises the calls)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        for pragma in (
            f"busy_timeout = {BUSY_TIMEOUT_MS}",
            "foreign_keys = ON",
            "synchronous = NORMAL",
            f"cache_size = -{SYNC_READER_CACHE_KIB}",  # pages of papers: the OS caches the file
            f"mmap_size = {SYNC_READER_MMAP_BYTES}",
            "temp_store = MEMORY",
            "query_only = ON",
        ):
            conn.execute(f"PRAGMA {pragma}").close()
    except BaseException:
        conn.close()
        raise
    return conn


def read_rows(path: Path, statements: Sequence[tuple[str, Params]]) -> list[list[tuple[Any, ...]]]:
    """The rows of each of ``statements``, read on a short-lived synchronous reader of its own
    (for a process that has no :class:`Database`, e.g. an index build's worker). The
    statements run one after the other, each in its own snapshot (autocommit), like the
    :class:`Database` reader's."""
    with _AS_STORE_ERRORS:
        conn = _connect_sync(path)
        try:
            return [conn.execute(sql, params).fetchall() for sql, params in statements]
        finally:
            conn.close()


class Database:
    """An open digest-bot database. Create with ``await Database.open(path)``."""

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self._closed = False
        self.schema_version = 0
        # the synchronous reader for worker threads (opened at first use, in such a thread)
        self._sync_lock = threading.Lock()
        self._sync_reader: sqlite3.Connection | None = None

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path, *, migrations: Sequence[Migration] | None = None) -> Database:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises :class:`StoreError` with a one-line explanation when the file cannot be used
        (not a database, unwritable, or written by a newer digest-bot).
        """
        path = Path(path)
        steps = list(migrations) if migrations is not None else load_migrations()
        check_migrations(steps)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the database folder {path.parent}: {exc.strerror or exc}"
            ) from None
        try:
            writer = await _connect(path, read_only=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {path}: {exc}") from None
        try:
            version = await _migrate(writer, path, steps)
            reader = await _connect(path, read_only=True)
        except BaseException as exc:
            await writer.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot use the database {path}: {exc}") from None
            raise
        db = cls(path, writer, reader)
        db.schema_version = version
        return db

    async def close(self) -> None:
        """Close both connections (waiting for a running transaction to finish). Idempotent."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            with _AS_STORE_ERRORS:
                try:
                    # on the loop itself: at shutdown the default executor may be gone (a
                    # read in progress, which the lock waits for, takes milliseconds)
                    self._close_sync_reader()
                    await self._reader.close()
                finally:
                    await self._writer.close()

    def _close_sync_reader(self) -> None:
        with self._sync_lock:  # waits for a read in progress
            if self._sync_reader is not None:
                self._sync_reader.close()
                self._sync_reader = None

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- writing ---------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``BEGIN IMMEDIATE`` on the writer, under the writer lock; COMMIT or ROLLBACK."""
        if _IN_TRANSACTION.get() is self:
            raise StoreError("a transaction is already open in this task (no nesting)")
        self._check_open()
        async with self._lock:
            self._check_open()
            token = _IN_TRANSACTION.set(self)
            tx = Transaction(self._writer)
            try:
                with _AS_STORE_ERRORS:
                    await _run(self._writer, "BEGIN IMMEDIATE")
                yield tx
                tx._open = False
                with _AS_STORE_ERRORS:
                    await _run(self._writer, "COMMIT")
            except BaseException:
                tx._open = False
                # Shielded: a cancelled task must still leave the writer clean. The ROLLBACK is
                # queued behind whatever the connection is still running (even a BEGIN still
                # waiting for another process's lock), so nothing is left open.
                await asyncio.shield(self._rollback())
                raise
            finally:
                tx._open = False
                _IN_TRANSACTION.reset(token)

    async def _rollback(self) -> None:
        try:
            await _run(self._writer, "ROLLBACK")
        except sqlite3.OperationalError as exc:
            if "no transaction is active" not in str(exc):
                raise database_failure(exc) from exc

    # -- reading ---------------------------------------------------------------------------

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        self._check_open()
        with _AS_STORE_ERRORS:
            return list(await self._reader.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        self._check_open()
        with _AS_STORE_ERRORS:
            async with self._reader.execute(sql, params) as cursor:
                return await cursor.fetchone()

    async def fetchvalue(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def fetchrows(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Like :meth:`fetchall` but plain tuples: about twice as fast for bulk reads."""
        self._check_open()
        with _AS_STORE_ERRORS:
            async with self._reader.execute(sql, params) as cursor:
                cursor.row_factory = None
                rows: Iterable[Any] = await cursor.fetchall()  # tuples: no row factory
                return list(rows)

    def fetchrows_in_thread(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """:meth:`fetchrows` for code running in a worker thread (never on the event loop:
        it blocks), on a synchronous reader of its own: the caller saves the round trip to the
        reader's thread when it is already off the loop (one search, one trip)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise StoreError("fetchrows_in_thread blocks: call it from a worker thread")
        with self._sync_lock:
            self._check_open()
            with _AS_STORE_ERRORS:
                conn = self._sync_reader
                if conn is None:
                    conn = self._sync_reader = _connect_sync(self.path)
                return conn.execute(sql, params).fetchall()

    # -- maintenance -----------------------------------------------------------------------

    async def backup(self, path: Path) -> None:
        """Write a consistent, compacted copy of the database to ``path`` (``VACUUM INTO``).

        Runs on its own short-lived connection, so readers and the writer carry on.
        """
        self._check_open()
        target = Path(path)
        if target.exists():
            raise StoreError(f"backup target {target} already exists; choose a new file name")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {target.parent}: {exc.strerror or exc}") from None
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await _run(conn, f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _run(conn, "VACUUM INTO ?", (str(target),))
        except sqlite3.Error as exc:
            raise StoreError(f"backup to {target} failed: {exc}") from None
        finally:
            await conn.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the database {self.path} is closed")


async def _migrate(conn: aiosqlite.Connection, path: Path, steps: Sequence[Migration]) -> int:
    """Apply the migrations newer than ``PRAGMA user_version``; return the final version."""
    known = steps[-1].version if steps else 0
    version = await _user_version(conn)
    if version > known:
        raise StoreError(
            f"the database {path} is at schema version {version}, but this digest-bot only "
            f"knows versions up to {known}: upgrade digest-bot, or point DATABASE_PATH at "
            "another file"
        )
    for step in steps:
        if step.version <= version:
            continue
        statements = split_sql(step.sql)
        await _run(conn, "BEGIN IMMEDIATE")
        try:
            # Another process may have migrated while we waited for the write lock.
            version = await _user_version(conn)
            if version >= step.version:
                await _run(conn, "ROLLBACK")
                continue
            for statement in statements:
                await _run(conn, statement)
            await _run(conn, f"PRAGMA user_version = {step.version:d}")
            await _run(conn, "COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                await _run(conn, "ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"migration {step.version:04d}_{step.name} failed on {path}: {exc} "
                    "(nothing of it was applied)"
                ) from None
            raise
        version = step.version
    return version


async def _user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0
