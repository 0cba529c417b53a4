"""Operations on the database file: the process lock, consistent copies, inspection, health.

SQL lives in :mod:`bot.store` only; this module holds what ``digest-bot backup``,
``restore``, ``check`` and the health endpoint ask of the database:

* :class:`DatabaseLock` -- an exclusive ``flock`` on ``<database>.lock`` that the running bot
  holds for its whole life and ``restore`` takes before replacing the file, so a restore
  never swaps the database under a running bot (and a bot does not start mid-restore). The
  kernel drops the lock when the process ends, however it ends: a stale lock file means
  nothing.
* :func:`snapshot_copy` -- a copy taken with SQLite's online backup API inside one read
  transaction, so the counts read in that transaction are exactly what the copy holds, while
  the bot goes on writing (WAL: readers never block the writer).
* :func:`inspect_file` -- schema version, ``PRAGMA integrity_check`` and the counts of a
  database file, opened read-only.
* :func:`install_copy` / :func:`set_aside` -- the file moves of a restore.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from bot.store.db import BUSY_TIMEOUT_MS, Database, StoreError

LOCK_SUFFIX = ".lock"
SIDE_FILES = ("-wal", "-shm")  # SQLite's WAL and shared-memory files beside a database


# Channel subscriptions only: a member's follow is a subscription row whose target is the
# member's DM, stored as channel_id = -user_id (bot.store.personal.follow_target).
CHANNELS_ONLY = "channel_id > 0"


# ---- the process lock ------------------------------------------------------------------------


def lock_path(database: Path) -> Path:
    return Path(str(database) + LOCK_SUFFIX)


class DatabaseLock:
    """An exclusive advisory lock on ``<database>.lock`` (``fcntl.flock``).

    ``acquire()`` raises :class:`StoreError` when another process holds it. The lock file is
    left in place on release (removing it would race with a process about to lock it).
    """

    def __init__(self, database: Path) -> None:
        self.database = Path(database)
        self.path = lock_path(self.database)
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self, purpose: str = "run the bot") -> None:
        if self._file is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = self.path.open("a+", encoding="utf-8")
        except OSError as exc:
            raise StoreError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}"
            ) from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(handle)
            handle.close()
            raise StoreError(
                f"the database {self.database} is in use by another digest-bot process"
                f"{f' (pid {holder})' if holder else ''}, which holds {self.path}: "
                f"stop it before you {purpose}"
            ) from None
        except OSError as exc:
            handle.close()
            raise StoreError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
            handle.close()  # closing the descriptor drops the flock

    def __enter__(self) -> DatabaseLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_locked(database: Path) -> bool:
    """Whether a process holds ``database``'s lock right now (without keeping it)."""
    lock = DatabaseLock(database)
    if not lock.path.exists():
        return False
    try:
        lock.acquire()
    except StoreError:
        return True
    lock.release()
    return False


def _read_holder(handle: IO[str]) -> str:
    with contextlib.suppress(OSError, ValueError):
        handle.seek(0)
        text = handle.read(32).strip()
        if text.isdigit():
            return text
    return ""


# ---- what a database holds -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """What a digest-bot database holds (the same in a copy as in its source snapshot)."""

    papers: int
    removed_papers: int
    authors: int
    digests: int
    subscriptions: int
    paused_subscriptions: int
    outbox_pending: int
    alerts_delivered: int
    catalogue_version: int
    last_indexed_at: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FileInfo:
    """A database file as :func:`inspect_file` found it."""

    path: Path
    size: int
    schema_version: int
    integrity: str  # "ok", or the first problems PRAGMA integrity_check reported
    counts: Counts | None  # None: not a digest-bot database (no catalogue tables)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.counts is not None


_TABLES = ("meta", "papers", "authors", "digests")


def _counts(conn: sqlite3.Connection) -> Counts | None:
    names = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not set(_TABLES) <= names:
        return None

    def value(sql: str) -> int:
        row = conn.execute(sql).fetchone()
        return int(row[0] or 0) if row is not None else 0

    def meta(key: str) -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    alerts = "subscriptions" in names and "outbox" in names
    version = meta("catalogue_version")
    return Counts(
        papers=value("SELECT count(*) FROM papers WHERE removed = 0"),
        removed_papers=value("SELECT count(*) FROM papers WHERE removed = 1"),
        authors=value("SELECT count(*) FROM authors WHERE paper_count > 0"),
        digests=value("SELECT count(*) FROM digests WHERE present = 1"),
        subscriptions=(
            value(f"SELECT count(*) FROM subscriptions WHERE {CHANNELS_ONLY}") if alerts else 0
        ),
        paused_subscriptions=(
            value(f"SELECT count(*) FROM subscriptions WHERE state = 'paused' AND {CHANNELS_ONLY}")
            if alerts
            else 0
        ),
        outbox_pending=(
            value("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL")
            if alerts
            else 0
        ),
        alerts_delivered=(
            value("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") if alerts else 0
        ),
        catalogue_version=int(version) if version and version.isdigit() else 0,
        last_indexed_at=meta("last_indexed_at"),
    )


def _user_version(conn: sqlite3.Connection) -> int:
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row is not None else 0


def _integrity(conn: sqlite3.Connection, quick: bool = False) -> str:
    rows = conn.execute("PRAGMA quick_check(5)" if quick else "PRAGMA integrity_check(5)")
    problems = [str(r[0]) for r in rows.fetchall()]
    return "ok" if problems == ["ok"] else "; ".join(problems)[:300]


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"no database at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the database {path}: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"cannot open the database {path}: {exc}") from None
    return conn


def inspect_file(path: Path, *, integrity: bool = True) -> FileInfo:
    """Open ``path`` read-only: schema version, integrity check (``integrity=False``: the
    quick check) and counts. Raises :class:`StoreError` when it is not an SQLite database."""
    path = Path(path)
    conn = _open_read_only(path)
    try:
        version = _user_version(conn)
        state = _integrity(conn, quick=not integrity)
        counts = _counts(conn) if state == "ok" else None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a usable SQLite database: {exc}") from None
    finally:
        conn.close()
    return FileInfo(path, path.stat().st_size, version, state, counts)


# ---- copies -----------------------------------------------------------------------------------


def snapshot_copy(source: Path, target: Path) -> Counts:
    """Copy the database ``source`` to the new file ``target`` while others write to it.

    One read transaction on ``source`` covers both the counts and SQLite's online backup
    (all pages in one step), so they describe the same snapshot: what the copy holds. The
    copy is switched to rollback-journal mode, so it is one self-contained file. Raises
    :class:`StoreError`; ``target`` is removed when the copy fails.
    """
    source, target = Path(source), Path(target)
    if target.exists():
        raise StoreError(f"{target} already exists; choose a new file name")
    src = _open_read_only(source)
    try:
        try:
            src.execute("BEGIN")
            counts = _counts(src)
            if counts is None:
                raise StoreError(f"{source} is not a digest-bot database (no catalogue tables)")
            dst = sqlite3.connect(target, isolation_level=None)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")
            finally:
                dst.close()
            src.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"copying {source} to {target} failed: {exc}") from None
    except BaseException:
        for name in (target, *(Path(str(target) + s) for s in SIDE_FILES)):
            with contextlib.suppress(OSError):
                name.unlink()
        raise
    finally:
        src.close()
    fsync(target)
    return counts


def fsync(path: Path) -> None:
    """Flush ``path`` (and its folder's entry) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def set_aside(database: Path, suffix: str = ".before-restore") -> Path | None:
    """Rename ``database`` (and its WAL file, which SQLite finds by name) to
    ``<database><suffix>`` -- or ``<suffix>.1``, ``.2``... when taken; the shared-memory
    file is only a cache and is removed. Returns the new path, or None without a database."""
    database = Path(database)
    if not database.exists():
        return None
    n = 0
    while True:
        aside = Path(f"{database}{suffix}" + (f".{n}" if n else ""))
        if not any(Path(str(aside) + s).exists() for s in ("", *SIDE_FILES)):
            break
        n += 1
    wal = Path(str(database) + "-wal")
    database.rename(aside)
    if wal.exists():
        wal.rename(Path(str(aside) + "-wal"))
    with contextlib.suppress(FileNotFoundError):
        Path(str(database) + "-shm").unlink()
    return aside


def put_back(aside: Path, database: Path) -> None:
    """Undo :func:`set_aside`: ``aside`` (and its WAL) become ``database`` again."""
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            Path(str(database) + suffix).unlink()
    aside.rename(database)
    wal = Path(str(aside) + "-wal")
    if wal.exists():
        wal.rename(Path(str(database) + "-wal"))


def install_copy(source: Path, database: Path) -> None:
    """Copy the database file ``source`` to ``database`` (which must not exist): written
    beside it under a temporary name, flushed, then renamed into place."""
    database = Path(database)
    tmp = database.with_name(f".{database.name}.restore-{os.getpid()}")
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            Path(str(tmp) + suffix).unlink()
    snapshot_copy(source, tmp)
    tmp.rename(database)
    fsync(database)


# ---- what the health endpoint and the self-check read ----------------------------------------


async def paused_subscriptions(db: Database) -> int:
    """How many channel subscriptions are paused (a channel the bot cannot post in); members'
    follows (paused when their DMs are closed) are not the operator's to fix."""
    value = await db.fetchvalue(
        f"SELECT count(*) FROM subscriptions WHERE state = 'paused' AND {CHANNELS_ONLY}"
    )
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class SubscribedChannel:
    guild_id: int
    channel_id: int
    active: int
    paused: int


def subscribed_channels(path: Path) -> list[SubscribedChannel]:
    """Every channel with a subscription, read-only from the database file ``path``."""
    conn = _open_read_only(Path(path))
    try:
        rows = conn.execute(
            "SELECT guild_id, channel_id, sum(state = 'active'), sum(state = 'paused') "
            f"FROM subscriptions WHERE {CHANNELS_ONLY} "
            "GROUP BY guild_id, channel_id ORDER BY guild_id, channel_id"
        ).fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the subscriptions in {path}: {exc}") from None
    finally:
        conn.close()
    return [SubscribedChannel(int(r[0]), int(r[1]), int(r[2] or 0), int(r[3] or 0)) for r in rows]
