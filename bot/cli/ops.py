"""``digest-bot backup FILE``, ``digest-bot restore FILE`` and ``digest-bot check``.

* **backup** copies the database while the bot runs (SQLite's online backup inside one read
  transaction: a consistent snapshot, the bot keeps writing), verifies the copy
  (``PRAGMA integrity_check``, and its counts equal the source's in that same snapshot),
  then moves it to ``FILE`` and prints what it holds. An existing ``FILE`` is never
  overwritten.
* **restore** checks ``FILE`` first (a digest-bot database, intact, a schema version this
  digest-bot knows), refuses while a bot holds the database (its lock file, see
  :class:`bot.store.ops.DatabaseLock`), keeps the current database as
  ``<database>.before-restore``, puts the copy in place and rebuilds the saved search index
  to match. Anything failing on the way puts the previous database back.
* **check** runs :mod:`bot.selfcheck` and prints one line a finding.

Exit codes: 0 done (check: nothing blocks running); 1 no such database or file; 2 bad
usage (the backup file exists, restoring the database onto itself); 3 nothing applied (the
bot holds the database, a file that fails its checks; check: something blocks running).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import (
    EXIT_NOT_APPLIED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    is_tty,
    print_error,
    settings_with_db,
)
from bot.settings import Settings
from bot.store.db import StoreError, load_migrations
from bot.store.ops import (
    Counts,
    DatabaseLock,
    FileInfo,
    inspect_file,
    install_copy,
    put_back,
    set_aside,
    snapshot_copy,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = subparsers.add_parser(
        "backup",
        help="write a verified copy of the database (safe while the bot runs)",
        description=(
            "Copy the database to FILE while the bot may be running (a consistent snapshot), "
            "verify the copy (integrity check and counts) and print what it holds."
        ),
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="the new backup file")
    backup.add_argument("--db", type=Path, metavar="PATH", help="database (default: settings)")
    backup.add_argument("--json", action="store_true", help="print the summary as JSON")
    backup.set_defaults(func=cmd_backup)

    restore = subparsers.add_parser(
        "restore",
        help="replace the database with a backup (the bot must be stopped)",
        description=(
            "Check FILE (integrity, schema version), keep the current database as "
            "<database>.before-restore, put FILE in its place and rebuild the search index. "
            "Refused while the bot runs on the database."
        ),
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a backup file")
    restore.add_argument("--db", type=Path, metavar="PATH", help="database (default: settings)")
    restore.add_argument("--json", action="store_true", help="print the summary as JSON")
    restore.set_defaults(func=cmd_restore)

    check = subparsers.add_parser(
        "check",
        help="check the settings, files, database, index and Discord set-up",
        description=(
            "Check everything the bot needs, one line a finding with what to do. Exit 0 when "
            "nothing blocks running the bot, 3 when something does."
        ),
    )
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(func=cmd_check)


def _guarded(args: argparse.Namespace, command: Any) -> int:
    try:
        code: int = command(args)
        return code
    except CliError as exc:
        print_error(exc.message)
        return exc.exit_code
    except StoreError as exc:
        print_error(str(exc))
        return EXIT_NOT_APPLIED
    except OSError as exc:  # e.g. the folder is not writable, the disk is full
        where = f" ({exc.filename})" if exc.filename else ""
        print_error(f"{exc.strerror or exc}{where}; nothing was changed")
        return EXIT_NOT_APPLIED


# ---- backup -----------------------------------------------------------------------------------


def cmd_backup(args: argparse.Namespace) -> int:
    return _guarded(args, _backup)


def _backup(args: argparse.Namespace) -> int:
    settings = settings_with_db(args.db)
    database = Path(settings.database_path)
    target = Path(args.file)
    if not database.is_file():
        raise CliError(
            f"no database at {database}: nothing to back up (check DATABASE_PATH or --db)",
            EXIT_NOT_FOUND,
        )
    if target.exists() or target.is_symlink():
        raise CliError(
            f"{target} already exists: choose a new file name (a backup never overwrites a file)",
            EXIT_USAGE,
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(
            f"cannot create {target.parent}: {exc.strerror or exc}", EXIT_NOT_APPLIED
        ) from None
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        counts = snapshot_copy(database, partial)
        info = inspect_file(partial, integrity=True)
        if info.integrity != "ok":
            raise CliError(
                f"the copy failed its integrity check ({info.integrity}); "
                f"check {database} with `digest-bot check`",
                EXIT_NOT_APPLIED,
            )
        if info.counts != counts:
            raise CliError(
                f"the copy does not hold what the database held ({info.counts} "
                f"!= {counts}); nothing was written",
                EXIT_NOT_APPLIED,
            )
        partial.rename(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    info = FileInfo(target, target.stat().st_size, info.schema_version, "ok", info.counts)
    _report("backup written", info, args.json)
    return EXIT_OK


def _size(n: int) -> str:
    size = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} bytes"  # pragma: no cover


def _describe(counts: Counts) -> list[str]:
    last = counts.last_indexed_at or "never"
    return [
        f"{counts.papers:,} papers ({counts.removed_papers:,} removed), "
        f"{counts.authors:,} authors, {counts.digests:,} digests",
        f"{counts.subscriptions:,} subscriptions ({counts.paused_subscriptions:,} paused), "
        f"{counts.outbox_pending:,} alerts waiting, {counts.alerts_delivered:,} delivered",
        f"catalogue version {counts.catalogue_version}, last indexed {last}",
    ]


def _report(
    what: str,
    info: FileInfo,
    as_json: bool,
    extra: dict[str, Any] | None = None,
    lines: list[str] | None = None,
) -> None:
    assert info.counts is not None
    if as_json:
        data: dict[str, Any] = {
            "file": str(info.path),
            "bytes": info.size,
            "integrity": info.integrity,
            "schema_version": info.schema_version,
            **info.counts.as_dict(),
            **(extra or {}),
        }
        print(json.dumps(data, indent=2))
        return
    print(
        f"{what}: {info.path} ({_size(info.size)}), schema version {info.schema_version}, "
        f"integrity {info.integrity}"
    )
    for line in [*_describe(info.counts), *(lines or [])]:
        print(f"  {line}")


# ---- restore ----------------------------------------------------------------------------------


def cmd_restore(args: argparse.Namespace) -> int:
    return _guarded(args, _restore)


def check_restorable(source: Path) -> FileInfo:
    """``source`` as a restore would use it, or :class:`CliError` saying what is wrong."""
    if not source.is_file():
        raise CliError(f"no backup file at {source}", EXIT_NOT_FOUND)
    try:
        info = inspect_file(source, integrity=True)
    except StoreError as exc:
        raise CliError(f"{exc}; nothing was changed", EXIT_NOT_APPLIED) from None
    if info.integrity != "ok":
        raise CliError(
            f"{source} fails its integrity check ({info.integrity}); nothing was "
            "changed: choose another backup",
            EXIT_NOT_APPLIED,
        )
    known = load_migrations()[-1].version
    if info.schema_version > known:
        raise CliError(
            f"{source} is at schema version {info.schema_version}, newer than this "
            f"digest-bot knows ({known}): upgrade digest-bot first; nothing was "
            "changed",
            EXIT_NOT_APPLIED,
        )
    if info.counts is None or info.schema_version < 1:
        raise CliError(
            f"{source} is not a digest-bot database; nothing was changed", EXIT_NOT_APPLIED
        )
    return info


def _restore(args: argparse.Namespace) -> int:
    settings = settings_with_db(args.db)
    database = Path(settings.database_path)
    source = Path(args.file)
    if database.exists() and source.exists() and source.resolve() == database.resolve():
        raise CliError(f"{source} is the database itself: give a backup file", EXIT_USAGE)
    info = check_restorable(source)
    lock = DatabaseLock(database)
    lock.acquire("restore a backup (e.g. systemctl stop digest-bot)")
    try:
        aside = set_aside(database)
        index_aside = _set_index_aside(settings)
        try:
            install_copy(source, database)
            papers = asyncio.run(_rebuild_index(settings))
        except BaseException:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{database}{suffix}").unlink(missing_ok=True)
            if aside is not None:
                put_back(aside, database)
            if index_aside is not None:
                shutil.rmtree(settings.index_dir, ignore_errors=True)
                index_aside.rename(settings.index_dir)
            raise
        if index_aside is not None:
            shutil.rmtree(index_aside, ignore_errors=True)
    finally:
        lock.release()
    kept = f"the previous database is kept as {aside}" if aside else "there was no database"
    lines = [kept, f"search index rebuilt in {settings.index_dir} ({papers:,} papers)"]
    restored = FileInfo(database, database.stat().st_size, info.schema_version, "ok", info.counts)
    _report(
        f"restored {source} into",
        restored,
        args.json,
        lines=lines,
        extra={"before_restore": str(aside) if aside else None, "index_papers": papers},
    )
    return EXIT_OK


def _set_index_aside(settings: Settings) -> Path | None:
    """Move the saved index out of the way (it belongs to the database being replaced)."""
    directory = Path(settings.index_dir)
    if not directory.is_dir():
        return None
    database = Path(settings.database_path).resolve()
    if database.is_relative_to(directory.resolve()):
        raise CliError(
            f"INDEX_DIR ({directory}) holds the database: give the index a folder "
            "of its own (e.g. data/index)",
            EXIT_USAGE,
        )
    aside = directory.with_name(f"{directory.name}.before-restore-{os.getpid()}")
    directory.rename(aside)
    return aside


async def _rebuild_index(settings: Settings) -> int:
    """Open the restored database (migrating an older one) and build and save its index."""
    from bot.catalogue import Catalogue

    catalogue = await Catalogue.open(settings, warm=False)
    try:
        return catalogue.index.n_docs
    finally:
        await catalogue.close()


# ---- check ------------------------------------------------------------------------------------

_MARK = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def cmd_check(args: argparse.Namespace) -> int:
    from bot.selfcheck import blocking, run_checks

    findings = asyncio.run(run_checks())
    if args.json:
        print(
            json.dumps(
                {"ok": not blocking(findings), "findings": [f.as_dict() for f in findings]},
                indent=2,
            )
        )
    else:
        colour = is_tty(sys.stdout) and not os.environ.get("NO_COLOR")
        for f in findings:
            mark = _MARK[f.status]
            if colour and f.status != "ok":
                mark = f"\x1b[{'33' if f.status == 'warn' else '31'}m{mark}\x1b[0m"
            fix = f" -- {f.fix}" if f.fix else ""
            print(f"{mark}  {f.check}: {f.detail}{fix}")
    return EXIT_NOT_APPLIED if blocking(findings) else EXIT_OK
