"""The paper catalogue in SQLite: the read API every layer uses.

Reads (:class:`PaperStore`) return core models (:class:`~bot.core.models.Paper`,
:class:`~bot.core.models.StoredPaper`, ...). ``rowid`` is a paper's stable document number:
papers are never deleted (a paper whose every digest is gone is only marked ``removed``), so a
number, once given, always means the same paper.

The reindex write (what :mod:`bot.ingest` hands over, and how it lands) is
:mod:`bot.store.reindex_write`; the row helpers both sides share (:func:`chunks`,
:func:`placeholders`, :func:`identifiers_from`) and :func:`set_meta` are public here.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bot.core.digests import date_from_name
from bot.core.identity import normalise_paper_id as normalise_paper_id
from bot.core.index.tokens import Source
from bot.core.models import (
    NO_IDENTIFIERS,
    Author,
    AuthorSummary,
    CatalogueState,
    CatalogueStats,
    DigestInfo,
    Identifiers,
    Paper,
    StoredPaper,
)
from bot.core.text import fold, normalise_space
from bot.store.db import Database, Params, Transaction, read_rows

META_VERSION = "catalogue_version"
META_LAST_INDEXED = "last_indexed_at"
META_STAMP = "catalogue_stamp"  # random, renewed with every version (0005_catalogue_stamp.sql)

# Bound parameters per IN (...) list.
_IN_CHUNK = 500
_KEYS_CHUNK = 50_000  # paper keys per json_each(?) list (one bound parameter)

_PAPER_COLUMNS = (
    "p.rowid, p.id, p.key, p.title, p.authors_raw, p.venue, p.abstract, p.line, "
    "p.first_seen, p.removed, p.url, p.arxiv_id, p.doi, p.pdf_url"
)
_DIGEST_COLUMNS = (
    "d.path, d.heading, d.content_hash, d.indexed_at, d.paper_count, d.present, d.date, d.title"
)
_AUTHORS_SQL = (
    "SELECT pa.paper, pa.author, pa.last, pa.first, a.key FROM paper_authors pa "
    "JOIN authors a ON a.id = pa.author "
)
_AUTHORS_ORDER = "ORDER BY pa.paper, pa.position"
_N_PAPER_COLUMNS = len(_PAPER_COLUMNS.split(","))
# A stored paper in one row: the paper's columns, then its authors and its digests as JSON
# arrays (one statement, hence one trip to the database thread, whatever the page's size).
_STORED_COLUMNS = (
    f"{_PAPER_COLUMNS}, "
    "(SELECT json_group_array(json_array(pa.position, pa.author, pa.last, pa.first, a.key)) "
    " FROM paper_authors pa JOIN authors a ON a.id = pa.author WHERE pa.paper = p.rowid), "
    "(SELECT json_group_array(json_array(d.path, d.heading, d.content_hash, d.indexed_at, "
    "  d.paper_count, d.present, d.date, d.title)) "
    " FROM paper_digests pd JOIN digests d ON d.id = pd.digest WHERE pd.paper = p.rowid)"
)
_INTERN_LIMIT = 200_000  # authors shared across the batches of one iter_papers

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = _IN_CHUNK) -> Iterator[list[_T]]:
    """``items`` in lists of at most ``size`` (bound parameters per ``IN (...)`` list)."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def placeholders(count: int) -> str:
    """``?,?,...`` for an ``IN (...)`` list of ``count`` values."""
    return ",".join("?" * count)


# -- what the reindex reads of the catalogue --------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestStamp:
    """What the reindex remembers of a digest file to skip it cheaply when unchanged.

    ``content_mtime_ns`` is the file's modification time when its current content was
    indexed (a touch, same content, changes ``mtime_ns`` only).
    """

    content_hash: str
    size: int
    mtime_ns: int
    content_mtime_ns: int = 0


@dataclass(frozen=True, slots=True)
class Appearance:
    """A paper in a digest, as the catalogue holds it now (see :meth:`PaperStore.appearances`)."""

    key: str
    paper_id: str
    entry_hash: str  # of the paper's stored text
    path: str  # the digest
    line: int


_INDEX_SQL = "SELECT p.rowid, p.id, p.title, p.abstract, p.venue FROM papers p "


def _index_authors(first: int, last: int) -> tuple[str, Params]:
    """The author rows of the papers with rowids ``first`` to ``last``."""
    return _AUTHORS_SQL + "WHERE pa.paper BETWEEN ? AND ? " + _AUTHORS_ORDER, (first, last)


def _index_sources(rows: Sequence[Any], author_rows: Iterable[Any]) -> list[Source]:
    """The index sources of paper rows (``_INDEX_SQL``) with their author rows."""
    grouped: dict[int, list[tuple[str, str]]] = {}
    for paper, _author, author_last, author_first, key in author_rows:
        display = f"{author_first} {author_last}".strip()
        found = grouped.get(paper)
        if found is None:
            grouped[paper] = [(key, display)]
        else:
            found.append((key, display))
    none: list[tuple[str, str]] = []
    return [(r[0], r[1], r[2], r[3], tuple(grouped.get(r[0], none)), r[4]) for r in rows]


def read_index_sources(path: Path, first: int, last: int) -> list[Source]:
    """:meth:`PaperStore.iter_index_sources`'s sources of the papers with rowids ``first`` to
    ``last``, read synchronously on a connection of their own (an index build's worker
    process reads its part of the store itself: see :meth:`PaperStore.index_ranges`)."""
    rows, authors = read_rows(
        path,
        [(_INDEX_SQL + "WHERE p.rowid BETWEEN ? AND ? ORDER BY p.rowid", (first, last)),
         _index_authors(first, last)],
    )  # fmt: skip
    return _index_sources(rows, authors)


class PaperStore:
    """Catalogue reads on a :class:`~bot.store.db.Database`."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- papers ------------------------------------------------------------------------------

    async def iter_papers(self, batch_size: int = 10_000) -> AsyncIterator[list[tuple[int, Paper]]]:
        """Every paper (removed ones too) as ``(rowid, paper)``, by ascending rowid, in batches.

        Papers committed while the iteration runs are picked up if their rowid is still ahead.
        Equal authors are shared between the papers of an iteration (fewer objects).
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        last = 0
        interned: dict[int, Author] = {}
        while True:
            rows = await self.db.fetchrows(
                f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE p.rowid > ? ORDER BY p.rowid LIMIT ?",
                (last, batch_size),
            )
            if not rows:
                return
            first, last = rows[0][0], rows[-1][0]
            if len(interned) > _INTERN_LIMIT:
                interned.clear()
            authors = _group_authors(
                await self.db.fetchrows(
                    _AUTHORS_SQL + "WHERE pa.paper BETWEEN ? AND ? " + _AUTHORS_ORDER, (first, last)
                ),
                interned,
            )
            yield [(r[0], _paper(r, authors.get(r[0], ()))) for r in rows]
            if len(rows) < batch_size:
                return

    async def iter_index_sources(self, batch_size: int = 10_000) -> AsyncIterator[list[Source]]:
        """What the search index needs of every paper (removed ones too), by ascending rowid,
        in batches: (rowid, id, title, abstract, (key, display) of each author, venue). A
        lighter read than :meth:`iter_papers` (no Paper objects)."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        last = 0
        while True:
            rows = await self.db.fetchrows(
                _INDEX_SQL + "WHERE p.rowid > ? ORDER BY p.rowid LIMIT ?", (last, batch_size)
            )
            if not rows:
                return
            first, last = rows[0][0], rows[-1][0]
            yield _index_sources(rows, await self.db.fetchrows(*_index_authors(first, last)))
            if len(rows) < batch_size:
                return

    async def index_ranges(self, size: int) -> list[tuple[int, int]]:
        """Every paper's rowid (removed ones too) in ranges of ``size`` papers (the last may
        hold fewer), as ``(first, last)`` rowids, ascending: :func:`read_index_sources` of
        each reads every paper once."""
        if size < 1:
            raise ValueError("size must be at least 1")
        starts = [
            r[0]
            for r in await self.db.fetchrows(
                "SELECT rowid FROM (SELECT rowid, row_number() OVER (ORDER BY rowid) - 1 AS n "
                "FROM papers) WHERE n % ? = 0 ORDER BY rowid",
                (size,),
            )
        ]
        if not starts:
            return []
        ((last,),) = await self.db.fetchrows("SELECT max(rowid) FROM papers")
        return list(zip(starts, [s - 1 for s in starts[1:]] + [last], strict=True))

    async def get_paper(self, paper_id: str) -> StoredPaper | None:
        """The paper with this id (read by :func:`~bot.core.identity.normalise_paper_id`), or
        None."""
        found = await self.get_papers([paper_id])
        return next(iter(found.values()), None)

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, StoredPaper]:
        """The papers with these ids, keyed by their stored id; unknown ids are left out."""
        rows = []
        for chunk in chunks(_wanted_ids(paper_ids)):
            rows.extend(await self.db.fetchrows(_papers_by_id_sql(len(chunk)), chunk))
        return _stored_by_id(rows)

    def read_papers(self, paper_ids: Sequence[str]) -> dict[str, StoredPaper]:
        """:meth:`get_papers` for code running in a worker thread (it blocks: never call it on
        the event loop), without a trip to the reader's thread."""
        rows = []
        for chunk in chunks(_wanted_ids(paper_ids)):
            rows.extend(self.db.fetchrows_in_thread(_papers_by_id_sql(len(chunk)), chunk))
        return _stored_by_id(rows)

    def read_papers_at(self, rowids: Sequence[int]) -> dict[int, StoredPaper]:
        """The papers at these rowids (the index's docnos), keyed by rowid, for code running
        in a worker thread (it blocks: never call it on the event loop). Unknown rowids are
        left out. The index's hits carry docnos, so no id is normalised or looked up (the
        cost is the same as :meth:`read_papers`'s: the rows' subqueries dominate)."""
        out: dict[int, StoredPaper] = {}
        for chunk in chunks(list(dict.fromkeys(rowids))):
            for row in self.db.fetchrows_in_thread(_papers_at_sql(len(chunk)), chunk):
                out[int(row[0])] = _stored_paper(row)
        return out

    async def papers_by_identifier(
        self, *, arxiv_id: str | None = None, doi: str | None = None, url: str | None = None
    ) -> list[StoredPaper]:
        """The papers with this arXiv id (no version), DOI (any case) or URL, oldest first."""
        query = _by_identifier_query(arxiv_id, doi, url)
        if query is None:
            return []
        return [_stored_paper(r) for r in await self.db.fetchrows(*query)]

    def read_papers_by_identifier(
        self, *, arxiv_id: str | None = None, doi: str | None = None, url: str | None = None
    ) -> list[StoredPaper]:
        """:meth:`papers_by_identifier` for code running in a worker thread (it blocks: never
        call it on the event loop), without a trip to the reader's thread."""
        query = _by_identifier_query(arxiv_id, doi, url)
        if query is None:
            return []
        return [_stored_paper(r) for r in self.db.fetchrows_in_thread(*query)]

    async def stored_batches(
        self, batch_size: int = 1000, *, live_only: bool = True
    ) -> AsyncIterator[list[StoredPaper]]:
        """Every paper (only those not removed with ``live_only``) with its digests, by
        ascending rowid, in batches (an export of the whole catalogue)."""
        last = 0
        live = "AND p.removed = 0 " if live_only else ""
        while True:
            rows = await self.db.fetchall(
                f"SELECT {_STORED_COLUMNS} FROM papers p WHERE p.rowid > ? {live}"
                "ORDER BY p.rowid LIMIT ?",
                (last, max(1, batch_size)),
            )
            if not rows:
                return
            last = int(rows[-1][0])
            yield [_stored_paper(r) for r in rows]

    async def papers_by_author(
        self,
        author_key: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        live_only: bool = False,
    ) -> list[StoredPaper]:
        """The papers of the author with this key (removed ones too unless ``live_only``),
        newest first seen first; ``limit`` / ``offset`` page them (None: every paper).

        Rowids are given in the order papers are first seen, so the newest is the highest:
        the (author, paper) index yields a page without reading the author's other papers.
        """
        key = normalise_space(fold(author_key))
        rows = await self.db.fetchall(
            _author_papers(live_only) + f"SELECT {_STORED_COLUMNS} FROM papers p WHERE p.rowid IN ("
            "  SELECT paper FROM mine ORDER BY paper DESC LIMIT ? OFFSET ?) "
            "ORDER BY p.first_seen DESC, p.rowid DESC",
            (key, -1 if limit is None else max(0, limit), max(0, offset)),
        )
        return [_stored_paper(r) for r in rows]

    async def author_paper_counts(self, author_key: str) -> tuple[int, int]:
        """``(live, all)``: how many papers the author with this key has (not removed, any)."""
        key = normalise_space(fold(author_key))
        row = await self.db.fetchone(
            "SELECT a.paper_count, (SELECT count(DISTINCT pa.paper) FROM paper_authors pa "
            "WHERE pa.author = a.id) FROM authors a WHERE a.key = ?",
            (key,),
        )
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    async def author_coauthors(
        self, author_key: str, limit: int = 10, *, live_only: bool = False
    ) -> list[tuple[str, int]]:
        """The author's most frequent co-authors as ``(name as written, papers)``, most first
        (ties: the most recently seen first); removed papers count unless ``live_only``."""
        key = normalise_space(fold(author_key))
        rows = await self.db.fetchrows(
            _author_papers(live_only)
            + "SELECT trim(o.first || ' ' || o.last) AS name, count(*) AS n "
            "FROM mine JOIN paper_authors o ON o.paper = mine.paper "
            "WHERE o.author != mine.author "
            "GROUP BY name ORDER BY n DESC, max(o.paper) DESC, name LIMIT ?",
            (key, max(0, limit)),
        )
        return [(str(name), int(n)) for name, n in rows]

    async def author_venues(
        self, author_key: str, limit: int = 10, *, live_only: bool = False
    ) -> list[tuple[str, int]]:
        """The venues the author published in as ``(venue, papers)``, most first (ties: the
        most recently seen first); papers without a venue are left out."""
        key = normalise_space(fold(author_key))
        rows = await self.db.fetchrows(
            _author_papers(live_only)
            + "SELECT p.venue, count(*) AS n FROM mine JOIN papers p ON p.rowid = mine.paper "
            "WHERE p.venue != '' GROUP BY p.venue ORDER BY n DESC, max(p.rowid) DESC, p.venue "
            "LIMIT ?",
            (key, max(0, limit)),
        )
        return [(str(venue), int(n)) for venue, n in rows]

    async def removed_rowids(self) -> frozenset[int]:
        """Document numbers of the papers marked removed (for the search index to skip)."""
        rows = await self.db.fetchrows("SELECT rowid FROM papers WHERE removed = 1")
        return frozenset(r[0] for r in rows)

    # -- authors -----------------------------------------------------------------------------

    async def authors(self) -> list[AuthorSummary]:
        """Every author with at least one paper that is not removed, in the order the
        catalogue first saw them (a table scan: sort in memory if another order is needed)."""
        rows = await self.db.fetchrows(
            "SELECT key, display, paper_count FROM authors WHERE paper_count > 0 ORDER BY id"
        )
        return [AuthorSummary(key, display, count) for key, display, count in rows]

    # -- digests -----------------------------------------------------------------------------

    async def latest_digest(self) -> DigestInfo | None:
        """The most recently indexed digest still in the folder (ties: the last by name)."""
        row = await self.db.fetchone(
            f"SELECT {_DIGEST_COLUMNS} FROM digests d WHERE d.present = 1 "
            "ORDER BY d.indexed_at DESC, d.path DESC LIMIT 1"
        )
        return None if row is None else _digest(row)

    async def digests(self, include_gone: bool = False) -> list[DigestInfo]:
        """The digests in the folder by path (with ``include_gone``, also those since removed)."""
        where = "" if include_gone else "WHERE d.present = 1 "
        rows = await self.db.fetchall(
            f"SELECT {_DIGEST_COLUMNS} FROM digests d {where}ORDER BY d.path"
        )
        return [_digest(r) for r in rows]

    async def digest_stamps(self) -> dict[str, DigestStamp]:
        """Content hash, size and modification times of every digest in the folder, by path."""
        rows = await self.db.fetchall(
            "SELECT path, content_hash, size, mtime_ns, content_mtime_ns FROM digests "
            "WHERE present = 1"
        )
        return {str(r[0]): DigestStamp(str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows}

    async def appearances(
        self, keys: Collection[str] = (), digests: Collection[str] = ()
    ) -> list[Appearance]:
        """Where the papers with these keys, and the papers now in these digests, appear:
        each of their appearances in a digest's latest content, in digests still in the
        folder, by key then path (the reindex picks which digest gives a paper its text)."""
        # CROSS JOIN fixes the join order: from the few keys / digests asked, never a scan
        # of every appearance.
        tail = (
            "CROSS JOIN paper_digests pd ON pd.paper = p.rowid AND pd.present = 1 "
            "CROSS JOIN digests d ON d.id = pd.digest AND d.present = 1"
        )
        columns = "SELECT p.key, p.id, p.entry_hash, d.path, pd.line FROM "
        rows: set[tuple[str, str, str, str, int]] = set()
        for chunk in chunks(sorted(set(keys)), _KEYS_CHUNK):
            found = await self.db.fetchrows(
                columns + "json_each(?) k CROSS JOIN papers p ON p.key = k.value " + tail,
                (json.dumps(chunk),),
            )
            rows.update((str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in found)
        for chunk in chunks(sorted(set(digests))):
            found = await self.db.fetchrows(
                columns + "digests d2 CROSS JOIN paper_digests pd2 "
                "ON pd2.digest = d2.id AND pd2.present = 1 "
                "CROSS JOIN papers p ON p.rowid = pd2.paper " + tail + " "
                f"WHERE d2.present = 1 AND d2.path IN ({placeholders(len(chunk))})",
                chunk,
            )
            rows.update((str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in found)
        return [Appearance(*row) for row in sorted(rows)]

    async def digest_papers(
        self, path: str, offset: int = 0, limit: int | None = None
    ) -> list[StoredPaper]:
        """The papers of a digest's latest indexed content, in file order; ``offset`` /
        ``limit`` page them (None: every paper)."""
        rows = await self.db.fetchall(
            f"SELECT {_STORED_COLUMNS} FROM digests d "
            "JOIN paper_digests pd ON pd.digest = d.id AND pd.present = 1 "
            "JOIN papers p ON p.rowid = pd.paper "
            "WHERE d.path = ? ORDER BY pd.line, pd.paper LIMIT ? OFFSET ?",
            (path, -1 if limit is None else max(0, limit), max(0, offset)),
        )
        return [_stored_paper(r) for r in rows]

    async def digest_paper_count(self, path: str) -> int:
        """How many papers :meth:`digest_papers` lists for this digest."""
        value = await self.db.fetchvalue(
            "SELECT count(*) FROM digests d "
            "JOIN paper_digests pd ON pd.digest = d.id AND pd.present = 1 WHERE d.path = ?",
            (path,),
        )
        return int(value or 0)

    # -- catalogue ---------------------------------------------------------------------------

    async def stats(self) -> CatalogueStats:
        counts = {
            int(r[0]): int(r[1])
            for r in await self.db.fetchall("SELECT removed, count(*) FROM papers GROUP BY removed")
        }
        authors = await self.db.fetchvalue("SELECT count(*) FROM authors WHERE paper_count > 0")
        digests = await self.db.fetchvalue("SELECT count(*) FROM digests WHERE present = 1")
        return CatalogueStats(
            papers=counts.get(0, 0),
            authors=int(authors or 0),
            digests=int(digests or 0),
            removed_papers=counts.get(1, 0),
            last_indexed_at=await self.get_meta(META_LAST_INDEXED),
            version=await self.catalogue_version(),
        )

    async def catalogue_version(self) -> int:
        """Bumped by every reindex that changed the catalogue (a cheap "reload?" check)."""
        value = await self.get_meta(META_VERSION)
        return int(value) if value else 0

    async def catalogue_state(self) -> CatalogueState:
        """The catalogue version and its stamp, read together (one consistent snapshot)."""
        rows = await self.db.fetchall(
            "SELECT key, value FROM meta WHERE key IN (?, ?)", (META_VERSION, META_STAMP)
        )
        values = {str(r[0]): str(r[1]) for r in rows}
        version = values.get(META_VERSION)
        return CatalogueState(int(version) if version else 0, values.get(META_STAMP, ""))

    async def get_meta(self, key: str) -> str | None:
        value = await self.db.fetchvalue("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str) -> None:
        async with self.db.transaction() as tx:
            await set_meta(tx, key, value)

    # -- building models ---------------------------------------------------------------------

    # -- the reindex write (inside the ingest transaction) -----------------------------------


async def set_meta(tx: Transaction, key: str, value: str) -> None:
    """Set a ``meta`` value inside an open transaction."""
    await tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


# -- rows -> core models ----------------------------------------------------------------------


def _author_papers(live_only: bool) -> str:
    """A ``mine (paper, author)`` CTE: the distinct papers of the author whose key is the
    first parameter (only those not removed with ``live_only``)."""
    live = "JOIN papers q ON q.rowid = pa.paper AND q.removed = 0 " if live_only else ""
    return (
        "WITH mine AS (SELECT DISTINCT pa.paper AS paper, pa.author AS author "
        f"FROM paper_authors pa {live}"
        "WHERE pa.author = (SELECT id FROM authors WHERE key = ?)) "
    )


def _paper(row: Params, authors: tuple[Author, ...]) -> Paper:
    """A Paper from a ``_PAPER_COLUMNS`` row (SQLite already gives str / int)."""
    return Paper(
        id=row[1],
        key=row[2],
        title=row[3],
        authors=authors,
        authors_raw=row[4],
        venue=row[5],
        abstract=row[6],
        line=row[7],
        identifiers=identifiers_from(row[10], row[11], row[12], row[13]),
    )


def _by_identifier_query(
    arxiv_id: str | None, doi: str | None, url: str | None
) -> tuple[str, list[str]] | None:
    """The statement reading the papers with this arXiv id, DOI or URL (None: none given)."""
    clauses: list[str] = []
    params: list[str] = []
    if arxiv_id:
        clauses.append("p.arxiv_id = ?")
        params.append(arxiv_id)
    if doi:
        clauses.append("p.doi = ? COLLATE NOCASE")
        params.append(doi)
    if url:
        clauses.append("p.url = ? OR p.pdf_url = ?")
        params += [url, url]
    if not clauses:
        return None
    sql = (
        f"SELECT {_STORED_COLUMNS} FROM papers p WHERE {' OR '.join(clauses)} "
        "ORDER BY p.rowid LIMIT 10"
    )
    return sql, params


def _wanted_ids(paper_ids: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(normalise_paper_id(i) for i in paper_ids if i.strip()))


@functools.lru_cache(maxsize=64)
def _papers_by_id_sql(count: int) -> str:
    return f"SELECT {_STORED_COLUMNS} FROM papers p WHERE p.id IN ({placeholders(count)})"


def _papers_at_sql(count: int) -> str:
    return f"SELECT {_STORED_COLUMNS} FROM papers p WHERE p.rowid IN ({placeholders(count)})"


def _stored_by_id(rows: Iterable[Params]) -> dict[str, StoredPaper]:
    stored = [_stored_paper(r) for r in rows]
    return {s.paper.id: s for s in stored}


def _stored_paper(row: Params) -> StoredPaper:
    """A StoredPaper from a ``_STORED_COLUMNS`` row (authors by position, digests by path)."""
    n = _N_PAPER_COLUMNS
    by_position = sorted(json.loads(row[n] or "[]"))
    authors = tuple(_author_of(last, first, key) for _, _, last, first, key in by_position)
    digests = tuple(_digest_of(tuple(d)) for d in sorted(json.loads(row[n + 1] or "[]")))
    return StoredPaper(
        paper=_paper(row, authors),
        first_seen=str(row[8]),
        digests=digests,
        removed=bool(row[9]),
    )


@functools.lru_cache(maxsize=4096)
def _digest_of(row: tuple[Any, ...]) -> DigestInfo:
    """:func:`_digest`, cached: a page's papers share a few digests (DigestInfo is frozen)."""
    return _digest(row)


def identifiers_from(
    url: str | None, arxiv_id: str | None, doi: str | None, pdf_url: str | None
) -> Identifiers:
    if url is None and arxiv_id is None and doi is None and pdf_url is None:
        return NO_IDENTIFIERS
    return Identifiers(url=url, arxiv_id=arxiv_id, doi=doi, pdf_url=pdf_url)


def _digest(row: Params) -> DigestInfo:
    """A DigestInfo from a ``_DIGEST_COLUMNS`` row; a date in the file name wins."""
    named = date_from_name(row[0])
    return DigestInfo(
        path=row[0],
        heading=row[1],
        content_hash=row[2],
        indexed_at=row[3],
        paper_count=row[4],
        present=bool(row[5]),
        date=named.isoformat() if named else row[6],
        title=row[7],
    )


@functools.lru_cache(maxsize=65_536)
def _author_of(last: str, first: str, key: str) -> Author:
    """:func:`_author`, cached: authors recur across pages (Author is frozen)."""
    return _author(last, first, key)


def _author(last: str, first: str, key: str) -> Author:
    """An Author from its stored columns (the display name is first + last)."""
    return Author(display=f"{first} {last}".strip(), last=last, first=first, key=key)


def _group_authors(
    rows: Iterable[Params], interned: dict[int, Author]
) -> dict[int, tuple[Author, ...]]:
    """``_AUTHORS_SQL`` rows -> each paper's ordered authors; ``interned`` shares objects."""
    grouped: dict[int, list[Author]] = {}
    for paper, author_id, last, first, key in rows:
        author = interned.get(author_id)
        if author is None or author.last != last or author.first != first:
            author = _author(last, first, key)
            interned[author_id] = author
        authors = grouped.get(paper)
        if authors is None:
            grouped[paper] = [author]
        else:
            authors.append(author)
    return {paper: tuple(authors) for paper, authors in grouped.items()}
