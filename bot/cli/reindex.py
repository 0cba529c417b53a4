"""``digest-bot reindex [--digests DIR] [--db PATH] [--json] [--force]``.

Indexes the digest folder into the catalogue through :meth:`bot.catalogue.Catalogue.reindex`,
the path the bot's ``/reindex`` and periodic job take, alert hook included (papers first seen
here are alerted by the running bot), and leaves the search index built and saved: the next
``search`` and a running bot (which notices the new catalogue version) load it, nobody builds
it. On a terminal, progress covers every phase (files read, papers written, papers indexed)
with counts and an ETA; piped, only the summary is printed, its time the whole run's.

Exit codes: 0 applied (even with diagnostics); 2 bad settings; 3 nothing could be applied
(missing folder, every file rejected, database unusable), with one line on stderr.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from bot.catalogue import Catalogue
from bot.cli.common import (
    EXIT_NOT_APPLIED,
    EXIT_OK,
    CliError,
    TerminalProgress,
    print_error,
    run_command,
    settings_with_db,
)
from bot.core.models import ReindexReport
from bot.settings import Settings
from bot.store.alerts import AlertStore, make_alert_hook
from bot.store.db import StoreError
from bot.ui.reindex import PHASES, summary


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
    started = time.perf_counter()
    settings = settings_with_db(args.db, args.digests)
    digest_dir: Path = settings.digest_dir
    report, version = await reindex_folder(settings, force=args.force)
    report = replace(report, duration_s=time.perf_counter() - started)  # the whole run
    if args.json:
        print(json.dumps(to_json(report, version), ensure_ascii=False))
    return finish(report, digest_dir, show=not args.json)


async def reindex_folder(settings: Settings, *, force: bool = False) -> tuple[ReindexReport, int]:
    """The CLI's reindex of ``settings.digest_dir`` through :meth:`Catalogue.reindex` (alert
    hook included), with progress on a terminal; leaves the search index built and saved.
    Returns the report and the catalogue version. Shared by ``reindex`` and ``import
    --reindex``."""
    progress = TerminalProgress(PHASES)
    try:
        try:
            catalogue = await Catalogue.open(settings, warm=False, progress=progress)
        except StoreError as exc:
            raise CliError(str(exc), EXIT_NOT_APPLIED) from None
        try:
            hook = make_alert_hook(AlertStore(catalogue.db))
            report = await catalogue.reindex(alert_hook=hook, progress=progress, force=force)
            version = catalogue.index.version
        finally:
            await catalogue.close()
    finally:
        progress.done()
    return report, version


def finish(report: ReindexReport, digest_dir: Path, *, show: bool = True) -> int:
    """Print the summary (``show``) and, when nothing was applied, the reason; the exit code."""
    if show and (report.applied or report.files):
        print(summary(report, digest_dir))
    if not report.applied:
        reason = _reason(report)
        if not digest_dir.is_dir():
            reason += " (pass --digests DIR or set DIGEST_DIR)"
        print_error(f"reindex not applied: {reason}")
        return EXIT_NOT_APPLIED
    return EXIT_OK


def to_json(report: ReindexReport, version: int) -> dict[str, Any]:
    """The ``--json`` object: the report's fields plus the catalogue version."""
    data = asdict(report)
    data["version"] = version
    return data


def _reason(report: ReindexReport) -> str:
    folder_level = [d.message for d in report.diagnostics if d.line == 0]
    if folder_level:
        return folder_level[-1]
    return "see the diagnostics above"
