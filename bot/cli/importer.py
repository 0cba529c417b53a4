"""``digest-bot import [SOURCE...] [--digests DIR] [--reindex] [--exclude replace|cross] ...``.

Imports feeds (http(s) URLs or files: arXiv API Atom, arXiv RSS, any RSS 2.0 / Atom feed)
as digest files, one per source and day, into the digest folder (:mod:`bot.feeds.importer`);
with ``--reindex`` the folder is reindexed at once, exactly as ``digest-bot reindex`` does.
Without SOURCE it imports ``FEEDS``.

Exit codes: 0 when at least one source imported (or was already up to date) -- the others are
reported on stderr, one line each with the source and the reason; 2 bad usage (no source, a
source that is neither an http(s) URL nor a path, a bad setting); 3 nothing could be applied
(every source failed, or ``--reindex`` could not apply).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli.common import (
    EXIT_NOT_APPLIED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    TerminalProgress,
    print_error,
    run_command,
    settings_with_db,
)
from bot.cli.reindex import finish, reindex_folder, to_json
from bot.feeds.limits import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from bot.settings import FEED_EXCLUDE_NAMES

if TYPE_CHECKING:  # the feed machinery (HTTP client, feed parser) loads when a feed is imported
    from bot.feeds.importer import ImportReport, SourceOutcome


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import RSS / Atom feeds (arXiv API, arXiv RSS, any feed) as digest files",
        description=(
            "Fetch each SOURCE (an http(s) URL or a file: an arXiv API Atom response, an arXiv "
            "RSS listing, or any RSS 2.0 / Atom feed) and write its entries as a digest file "
            "feed-<source>-<YYYY-MM-DD>.txt in the digest folder; papers that day's file "
            "already holds are left out. Without SOURCE, FEEDS is imported. Exit 0 when at "
            "least one source imported, 3 when none could."
        ),
    )
    parser.add_argument(
        "sources", nargs="*", metavar="SOURCE", help="feed URL or file (default: FEEDS)"
    )
    parser.add_argument(
        "--digests",
        type=Path,
        metavar="DIR",
        help="digest folder to write to (default: DIGEST_DIR from .env / the environment)",
    )
    parser.add_argument(
        "--reindex", action="store_true", help="reindex the digest folder right after"
    )
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="SQLite database for --reindex (default: DATABASE_PATH)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        choices=FEED_EXCLUDE_NAMES,
        metavar="{replace,cross}",
        help="leave out arXiv RSS replacements / cross-lists (repeatable; default: FEEDS_EXCLUDE)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="fetch in full even when the server says the feed has not changed",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds allowed for each fetch (default {DEFAULT_TIMEOUT_S:g})",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"largest feed accepted, in bytes (default {DEFAULT_MAX_BYTES:,})",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    return run_command(_import(args))


async def _import(args: argparse.Namespace) -> int:
    from bot.feeds.fetch import source_problem
    from bot.feeds.importer import exclude_types, import_feeds

    settings = settings_with_db(args.db)
    sources: list[str] = list(args.sources) or list(settings.feeds)
    if not sources:
        raise CliError("nothing to import: give SOURCE (a feed URL or file) or set FEEDS")
    for source in sources:
        problem = source_problem(source)
        if problem is not None:
            raise CliError(problem, EXIT_USAGE)
    if args.timeout <= 0 or args.max_bytes <= 0:
        raise CliError("--timeout and --max-bytes must be positive", EXIT_USAGE)
    names = args.exclude if args.exclude is not None else sorted(settings.feeds_exclude)
    digest_dir: Path = args.digests or settings.digest_dir
    progress = TerminalProgress({"import": ("importing feeds", "feeds")})
    try:
        report = await import_feeds(
            sources,
            digest_dir,
            exclude=exclude_types(names),
            force=args.force,
            timeout_s=args.timeout,
            max_bytes=args.max_bytes,
            progress=progress,
        )
    finally:
        progress.done()
    code = EXIT_OK if report.any_ok else EXIT_NOT_APPLIED
    if args.json:
        data = import_json(report, digest_dir)
        if args.reindex:
            result, version = await reindex_folder(replace(settings, digest_dir=digest_dir))
            data["reindex"] = to_json(result, version)
            code = max(code, finish(result, digest_dir, show=False))
        print(json.dumps(data, ensure_ascii=False))
        _print_failures(report)
        return code
    print(render(report, digest_dir))
    _print_failures(report)
    if args.reindex:
        result, _version = await reindex_folder(replace(settings, digest_dir=digest_dir))
        code = max(code, finish(result, digest_dir))
    return code


def _print_failures(report: ImportReport) -> None:
    for outcome in report.failed:
        print_error(f"import {outcome.source}: {outcome.message}")
    for note in report.notes:
        print_error(f"warning: {note}")


def import_json(report: ImportReport, digest_dir: Path) -> dict[str, Any]:
    """The ``--json`` object: one record per source, totals, and ``reindex`` (or null)."""
    return {
        "digest_dir": str(digest_dir),
        "sources": [asdict(o) for o in report.outcomes],
        "added": report.added,
        "failed": len(report.failed),
        "duration_s": round(report.duration_s, 3),
        "notes": list(report.notes),
        "reindex": None,
    }


def describe(outcome: SourceOutcome) -> str:
    """One line for a source that did not fail."""
    extras = []
    if outcome.duplicates and outcome.added:
        extras.append(f"{outcome.duplicates} already there")
    if outcome.excluded:
        extras.append(f"{outcome.excluded} excluded")
    if outcome.skipped:
        extras.append(f"{len(outcome.skipped)} skipped")
    tail = f" ({', '.join(extras)})" if extras else ""
    if outcome.status == "imported":
        return (f"{outcome.source}: {outcome.added} new paper(s) of {outcome.entries} "
                f"-> {outcome.file}{tail}")  # fmt: skip
    if outcome.status == "not_modified":
        return f"{outcome.source}: not modified since the last import"
    if outcome.entries:
        return f"{outcome.source}: nothing new, {outcome.file} has all {outcome.entries}{tail}"
    return f"{outcome.source}: no entries{tail}"


def render(report: ImportReport, digest_dir: Path) -> str:
    """The human summary: a line per source that worked, its skipped entries, the totals."""
    lines = []
    for outcome in report.outcomes:
        if not outcome.ok:
            continue
        lines.append(describe(outcome))
        lines.extend(f"  {outcome.source}: warning: {s}" for s in outcome.skipped)
    ok = len(report.outcomes) - len(report.failed)
    lines.append(
        f"Feeds into {digest_dir}: {report.added:,} new paper(s) from {ok} feed(s), "
        f"{len(report.failed)} failed ({report.duration_s:.2f} s)"
    )
    return "\n".join(lines)
