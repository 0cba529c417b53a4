"""``digest-bot export [QUERY] --format bibtex|csv|jsonl [--out FILE]``.

Writes the papers matching QUERY (the query language of ``search``; best first), or every
paper in the catalogue (not those gone from the digest folder) when there is none, to stdout
or to FILE (written whole, then moved into place: a failure leaves no half-written file).
Exit codes: 0 written; 1 nothing matches or the catalogue is empty; 2 a query that cannot be
understood, or a FILE that cannot be written.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from bot.catalogue import Catalogue
from bot.cli.common import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, CliError, run_command
from bot.cli.search import open_catalogue
from bot.core import bibtex
from bot.core.digests import digest_year
from bot.core.models import StoredPaper
from bot.core.query import QueryError

FORMATS = ("bibtex", "csv", "jsonl")
CSV_COLUMNS = (
    "id", "title", "authors", "venue", "year", "url", "arxiv_id", "doi", "pdf_url",
    "first_seen", "digests", "abstract",
)  # fmt: skip


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = subparsers.add_parser(
        "export",
        help="write papers as BibTeX, CSV or JSON lines",
        description=(
            "Write the papers matching QUERY (the search query language; best first), or "
            "every paper when there is no query, as BibTeX, CSV or JSON lines. Exit 1 when "
            "nothing matches, 2 for a query that cannot be understood or a FILE that cannot "
            "be written."
        ),
    )
    export.add_argument("query", nargs="*", help="the query (quote it in the shell); none: all")
    export.add_argument(
        "--format", choices=FORMATS, default="bibtex", help="output format (default: bibtex)"
    )
    export.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of stdout")
    export.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite database (default: DATABASE_PATH)"
    )
    export.set_defaults(func=lambda a: run_command(_export(a)))


def year_of(sp: StoredPaper) -> int | None:
    """The year of the earliest digest the paper was in (None when no digest is dated)."""
    return digest_year(sp.digests)


def record(sp: StoredPaper) -> dict[str, Any]:
    """One paper as the CSV and JSON-lines formats write it."""
    p = sp.paper
    ids = p.identifiers
    return {
        "id": p.id,
        "title": p.title,
        "authors": [a.display for a in p.authors],
        "venue": p.venue,
        "year": year_of(sp),
        "url": ids.url,
        "arxiv_id": ids.arxiv_id,
        "doi": ids.doi,
        "pdf_url": ids.pdf_url,
        "first_seen": sp.first_seen,
        "digests": [d.path for d in sp.digests],
        "abstract": p.abstract,
    }


def render(fmt: str, batch: Iterable[StoredPaper], first: bool) -> str:
    """A batch of papers in ``fmt`` (``first``: the batch that starts the output)."""
    if fmt == "bibtex":
        return "".join(bibtex.entries((sp.paper, year_of(sp)) for sp in batch))
    if fmt == "jsonl":
        return "".join(json.dumps(record(sp), ensure_ascii=False) + "\n" for sp in batch)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    if first:
        writer.writeheader()
    for sp in batch:
        row = record(sp)
        row["authors"] = "; ".join(row["authors"])
        row["digests"] = "; ".join(row["digests"])
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


async def _write(catalogue: Catalogue, query: str | None, fmt: str, out: TextIO) -> int:
    count = 0
    try:
        async for batch in catalogue.export(query):
            out.write(render(fmt, batch, first=count == 0))
            count += len(batch)
    except QueryError as exc:
        raise CliError(f"cannot understand the query: {exc}", EXIT_USAGE) from None
    if count == 0 and fmt == "csv":
        out.write(render(fmt, [], first=True))
    return count


async def _export(args: argparse.Namespace) -> int:
    query = " ".join(args.query).strip() or None
    target: Path | None = args.out
    if target is not None and not target.parent.is_dir():
        raise CliError(f"cannot write {target}: the folder {target.parent} does not exist")
    catalogue = await open_catalogue(args)
    try:
        if target is None:
            count = await _write(catalogue, query, args.format, sys.stdout)
        else:
            count = await _to_file(catalogue, query, args.format, target)
    finally:
        await catalogue.close()
    if count == 0:
        raise CliError(f"no papers match {query!r}", EXIT_NOT_FOUND)
    if target is not None:
        print(f"exported {count:,} paper{'s' * (count != 1)} to {target}", file=sys.stderr)
    return EXIT_OK


async def _to_file(catalogue: Catalogue, query: str | None, fmt: str, target: Path) -> int:
    """Write to a temporary file beside ``target``, then move it into place (nothing is
    left behind on failure, and an existing file is replaced only by a complete one)."""
    try:
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            count = await _write(catalogue, query, fmt, out)
        if count:
            os.chmod(temp, 0o666 & ~_umask())  # as open() would create it (mkstemp: 0600)
            os.replace(temp, target)
        return count
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
