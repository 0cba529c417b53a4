"""``digest-bot search QUERY``, ``digest-bot paper ID_OR_TITLE``, ``digest-bot author NAME``.

The same :class:`~bot.catalogue.Catalogue` the bot uses. Human output is a readable card;
``--json`` prints one JSON document on stdout. Exit codes: 0 found; 1 nothing found (the
message on stderr, with a "did you mean" when there is one) or the catalogue is empty; 2 a
query that cannot be understood (the message says what to fix), a ``--limit`` or ``--offset``
out of range, or bad settings; 3 a database that cannot be used (not a database, unreadable,
or from a newer digest-bot).

A query word may start with ``-`` (``digest-bot search scaling -chemistry``): the dispatcher
passes ``search``'s arguments through :func:`query_after_options` first, which moves every
argument that is not one of ``search``'s options after ``--``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.catalogue import Catalogue
from bot.cli.common import (
    EXIT_NOT_APPLIED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    run_command,
    settings_with_db,
)
from bot.core.models import StoredPaper
from bot.core.query import QueryError
from bot.core.snippet import render
from bot.store.db import StoreError

EMPTY = "the catalogue is empty: run `digest-bot reindex` first"
MAX_LIMIT = 100  # Catalogue.search returns at most this many hits at a time

# search's options: every other argument starting with "-" is a query word (-chemistry)
_FLAGS = ("--help", "-h", "--json", "--version")
_VALUED = ("--limit", "--offset", "--db")


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number between 1 and {MAX_LIMIT}, got {text!r}"
        ) from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def _offset(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number, 0 or more, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _option(arg: str) -> str | None:
    """The ``search`` option ``arg`` names (also abbreviated, or as ``--opt=value``)."""
    if arg in _FLAGS or arg in _VALUED:
        return arg
    if arg.startswith("--") and len(arg) > 2:
        key = arg.split("=", 1)[0]
        found = [o for o in (*_FLAGS, *_VALUED) if o.startswith(key)]
        if len(found) == 1:
            return found[0]
    return None


def query_after_options(args: Sequence[str]) -> list[str]:
    """``search``'s arguments with the query's words after ``--``, so that a word starting
    with ``-`` is a query word, not an unknown option: ``scaling -chemistry --limit 3`` ->
    ``--limit 3 -- scaling -chemistry``. After a ``--`` everything is query."""
    options: list[str] = []
    query: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--":
            query += rest
            break
        name = _option(arg)
        if name is None:
            query.append(arg)
            continue
        options.append(arg)
        if name in _VALUED and "=" not in arg and rest:
            options.append(rest.pop(0))
    return [*options, "--", *query] if query else options


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = subparsers.add_parser(
        "search",
        help="search the catalogue",
        description=(
            'Search papers: words (all required, ranked by BM25), "phrases", author:name, '
            "venue:name, -exclusions (digest-bot search scaling -chemistry). Exit 1 when "
            "nothing matches, 2 for a query that cannot be understood."
        ),
    )
    search.add_argument("query", nargs="+", help="the query (quote it in the shell)")
    search.add_argument(
        "--limit", type=_limit, default=10, metavar="N", help=f"hits to show, 1-{MAX_LIMIT}"
    )
    search.add_argument("--offset", type=_offset, default=0, metavar="N", help="hits to skip")
    _common(search)
    search.set_defaults(func=lambda a: run_command(_search(a)))

    paper = subparsers.add_parser(
        "paper",
        help="show a paper by id or title",
        description="Show a paper by its id, or by its title (typos allowed), with similar papers.",
    )
    paper.add_argument("id_or_title", nargs="+", help="a paper id or (part of) its title")
    _common(paper)
    paper.set_defaults(func=lambda a: run_command(_paper(a)))

    author = subparsers.add_parser(
        "author",
        help="show an author's papers",
        description="Show an author by name (any order, case, accents or initials).",
    )
    author.add_argument("name", nargs="+", help='e.g. "zihan yao", "Yao, Zihan", "Z. Yao"')
    _common(author)
    author.set_defaults(func=lambda a: run_command(_author(a)))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", type=Path, metavar="PATH", help="SQLite database (default: DATABASE_PATH)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON on stdout")


async def open_catalogue(args: argparse.Namespace) -> Catalogue:
    settings = settings_with_db(args.db)
    if not Path(settings.database_path).exists():
        raise CliError(f"{EMPTY} (no database at {settings.database_path})", EXIT_NOT_FOUND)
    try:
        catalogue = await Catalogue.open(settings, warm=False)  # one command: no warm-up
    except StoreError as exc:
        raise CliError(str(exc), EXIT_NOT_APPLIED) from None
    if catalogue.index.n_docs == 0 and (await catalogue.stats()).papers == 0:
        await catalogue.close()
        raise CliError(EMPTY, EXIT_NOT_FOUND)
    return catalogue


def _emit(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def _paper_json(sp: StoredPaper) -> dict[str, Any]:
    p = sp.paper
    return {
        "id": p.id,
        "title": p.title,
        "authors": [a.display for a in p.authors],
        "venue": p.venue,
    }


def _byline(sp: StoredPaper) -> str:
    names = [a.display for a in sp.paper.authors]
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    return " · ".join(x for x in (shown, sp.paper.venue) if x)


async def _search(args: argparse.Namespace) -> int:
    text = " ".join(args.query)
    catalogue = await open_catalogue(args)
    try:
        try:
            page = await catalogue.search(text, limit=args.limit, offset=args.offset)
        except QueryError as exc:
            raise CliError(f"cannot understand the query: {exc}", EXIT_USAGE) from None
    finally:
        await catalogue.close()
    if not page.hits:
        hint = f"; did you mean: {page.suggestion}" if page.suggestion else ""
        raise CliError(f"no papers match {text!r}{hint}", EXIT_NOT_FOUND)
    if args.json:
        _emit(
            [
                {
                    **_paper_json(h.paper),
                    "score": h.score,
                    "snippet": render(h.snippet),
                    "digests": [d.path for d in h.paper.digests],
                }
                for h in page.hits
            ]
        )
        return EXIT_OK
    first, last = page.offset + 1, page.offset + len(page.hits)
    about = "" if page.total_exact else "about "
    print(f"{about}{page.total:,} papers match {page.canonical!r} (showing {first}-{last})\n")
    for n, hit in enumerate(page.hits, start=first):
        p = hit.paper.paper
        print(f"{n}. {p.title}  [{p.id}]  score {hit.score:.3f}")
        print(f"   {_byline(hit.paper)}")
        if hit.snippet:
            print(f"   {render(hit.snippet)}")
        print()
    return EXIT_OK


async def _paper(args: argparse.Namespace) -> int:
    text = " ".join(args.id_or_title)
    catalogue = await open_catalogue(args)
    try:
        detail = await catalogue.paper(text)
    finally:
        await catalogue.close()
    if detail is None:
        raise CliError(f"no paper with id or title {text!r}", EXIT_NOT_FOUND)
    sp = detail.paper
    ids = sp.paper.identifiers
    if args.json:
        _emit(
            {
                **_paper_json(sp),
                "abstract": sp.paper.abstract,
                "digests": [
                    {"path": d.path, "heading": d.heading, "indexed_at": d.indexed_at}
                    for d in sp.digests
                ],
                "first_seen": sp.first_seen,
                "removed": sp.removed,
                "url": ids.url,
                "arxiv_id": ids.arxiv_id,
                "doi": ids.doi,
                "pdf_url": ids.pdf_url,
                "matched_by": detail.matched_by,
                "similar": [_paper_json(s) for s in detail.similar],
                "candidates": [_paper_json(s) for s in detail.candidates],
            }
        )
        return EXIT_OK
    p = sp.paper
    print(f"{p.title}\n[{p.id}]{'  (removed: its digests are gone)' if sp.removed else ''}")
    print(_byline(sp))
    if sp.digests:
        print("Digests: " + ", ".join(d.path for d in sp.digests))
    links = [("URL", ids.url), ("arXiv", ids.arxiv_id), ("DOI", ids.doi), ("PDF", ids.pdf_url)]
    for label, value in links:
        if value:
            print(f"{label}: {value}")
    print(f"\n{p.abstract}\n")
    if detail.candidates:
        print("Other close titles:")
        for c in detail.candidates:
            print(f"  [{c.paper.id}] {c.paper.title}")
    if detail.similar:
        print("Similar papers:")
        for s in detail.similar:
            print(f"  [{s.paper.id}] {s.paper.title}")
    return EXIT_OK


async def _author(args: argparse.Namespace) -> int:
    name = " ".join(args.name)
    catalogue = await open_catalogue(args)
    try:
        profile = await catalogue.author(name)
    finally:
        await catalogue.close()
    if profile is None:
        raise CliError(f"no author named {name!r}", EXIT_NOT_FOUND)
    if args.json:
        _emit(
            {
                "name": profile.name,
                "key": profile.key,
                "papers": [_paper_json(p) for p in profile.papers],
                "coauthors": [{"name": n, "papers": c} for n, c in profile.coauthors],
                "venues": [{"venue": v, "papers": c} for v, c in profile.venues],
                "other_matches": [
                    {"name": a.display, "papers": a.paper_count} for a in profile.other_matches
                ],
            }
        )
        return EXIT_OK
    count = len(profile.papers)
    print(f"{profile.name} — {count} paper{'s' if count != 1 else ''}\n")
    for sp in profile.papers:
        print(f"  [{sp.paper.id}] {sp.paper.title}  ({sp.paper.venue})")
    if profile.coauthors:
        print("\nFrequent co-authors: " + ", ".join(f"{n} ({c})" for n, c in profile.coauthors))
    if profile.venues:
        print("Venues: " + ", ".join(f"{v} ({c})" for v, c in profile.venues))
    if profile.other_matches:
        print("Also matching: " + ", ".join(a.display for a in profile.other_matches))
    return EXIT_OK
