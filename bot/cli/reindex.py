"""``digest-bot reindex [--digests DIR] [--db PATH] [--json] [--force]``.

Indexes the digest folder into the catalogue (the same :func:`bot.ingest.reindex` the bot's
``/reindex`` and periodic job use, alert hook included, so papers first seen here are alerted
by the running bot). A running bot notices the new catalogue version and reloads.

Exit codes: 0 applied (even with diagnostics); 2 bad settings; 3 nothing could be applied
(missing folder, every file rejected, database unusable), with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.catalogue import update_saved_index
from bot.cli.common import (
    EXIT_NOT_APPLIED,
    EXIT_OK,
    Progress,
    open_database,
    print_error,
    run_command,
    settings_with_db,
)
from bot.core.models import ReindexReport
from bot.ingest import IngestResult, reindex
from bot.settings import Settings
from bot.store.alerts import AlertStore, make_alert_hook
from bot.store.papers import PaperStore
from bot.ui.reindex import summary


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "reindex",
        help="index the digest folder into the catalogue",
        description=(
            "Read every *.txt digest under the digest folder, add new papers, update changed "
            "ones, mark papers whose digests are all gone as removed, and queue alerts for "
            "papers never seen before. Unchanged files are skipped. Exit 0 when applied, "
            "3 when nothing could be applied."
        ),
    )
    parser.add_argument(
        "--digests",
        type=Path,
        metavar="DIR",
        help="digest folder (default: DIGEST_DIR from .env / the environment)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="SQLite database file (default: DATABASE_PATH from .env / the environment)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--force",
        action="store_true",
        help="re-parse unchanged files too; let an empty folder mark every digest as gone",
    )
    parser.set_defaults(func=cmd_reindex)


def cmd_reindex(args: argparse.Namespace) -> int:
    return run_command(_reindex(args))


async def _reindex(args: argparse.Namespace) -> int:
    settings = settings_with_db(args.db, args.digests)
    digest_dir: Path = settings.digest_dir
    result = await reindex_folder(settings, digest_dir, force=args.force)
    if args.json:
        print(json.dumps(to_json(result), ensure_ascii=False))
    return finish(result, digest_dir, show=not args.json)


async def reindex_folder(
    settings: Settings, digest_dir: Path, *, force: bool = False
) -> IngestResult:
    """The CLI's reindex of ``digest_dir`` (alert hook included), with progress on a TTY;
    keeps the saved search index current. Shared by ``reindex`` and ``import --reindex``."""
    progress = Progress({"parse": "files", "write": "papers"})
    async with await open_database(settings.database_path) as db:
        hook = make_alert_hook(AlertStore(db))
        before = await PaperStore(db).catalogue_state()
        try:
            result = await reindex(
                db,
                digest_dir,
                alert_hook=hook,
                progress=progress,
                force=force,
                max_bytes=settings.max_digest_bytes,
                follow_symlinks=settings.follow_symlinks,
            )
        finally:
            progress.done()
        if result.report.applied:
            # Keep the saved search index current, so a running bot loads it instead of
            # rebuilding it from the store (and clean what killed saves left).
            try:
                await update_saved_index(settings, db, result, before)
            except OSError as exc:
                print_error(f"warning: search index not updated ({exc}); the bot rebuilds it")
    return result


def finish(result: IngestResult, digest_dir: Path, *, show: bool = True) -> int:
    """Print the summary (``show``) and, when nothing was applied, the reason; the exit code."""
    report = result.report
    if show and (report.applied or report.files):
        print(summary(report, digest_dir))
    if not report.applied:
        reason = _reason(report)
        if not digest_dir.is_dir():
            reason += " (pass --digests DIR or set DIGEST_DIR)"
        print_error(f"reindex not applied: {reason}")
        return EXIT_NOT_APPLIED
    return EXIT_OK


def to_json(result: IngestResult) -> dict[str, Any]:
    """The ``--json`` object: the report's fields plus the catalogue version."""
    data = asdict(result.report)
    data["version"] = result.version
    return data


def _reason(report: ReindexReport) -> str:
    folder_level = [d.message for d in report.diagnostics if d.line == 0]
    if folder_level:
        return folder_level[-1]
    return "see the diagnostics above"
