"""The paper catalogue in SQLite: the read API every layer uses, and the reindex write.

Reads (:class:`PaperStore`) return core models (:class:`~bot.core.models.Paper`,
:class:`~bot.core.models.StoredPaper`, ...). ``rowid`` is a paper's stable document number:
papers are never deleted (a paper whose every digest is gone is only marked ``removed``), so a
number, once given, always means the same paper.

The write (:meth:`PaperStore.write_digests`) runs inside the reindex transaction opened by
:mod:`bot.ingest`; it touches only the papers of the digests that changed and works in bulk
(``executemany`` and temporary key tables), so adding a small digest to a large catalogue
costs little.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from collections.abc import AsyncIterator, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from bot.core import identifiers
from bot.core.digests import date_from_name, digest_date
from bot.core.identity import normalise_paper_id as normalise_paper_id
from bot.core.models import (
    NO_IDENTIFIERS,
    Author,
    AuthorSummary,
    CatalogueState,
    CatalogueStats,
    DigestInfo,
    Identifiers,
    Paper,
    ProgressFn,
    StoredPaper,
)
from bot.core.parser import ID_LENGTH, short_id
from bot.core.text import fold, normalise_space
from bot.store.db import Database, Params, Transaction

META_VERSION = "catalogue_version"
META_LAST_INDEXED = "last_indexed_at"
META_STAMP = "catalogue_stamp"  # random, renewed with every version (0005_catalogue_stamp.sql)

# Bound parameters per IN (...) list / rows per executemany chunk.
_IN_CHUNK = 500
_WRITE_CHUNK = 20_000
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
_INTERN_LIMIT = 200_000  # authors shared across the batches of one iter_papers

_T = TypeVar("_T")


def utc_now() -> str:
    """The stored form of "now": ISO-8601 UTC with microseconds and ``Z`` (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(paper: Paper) -> str:
    """A hash of what a reader sees of an entry; a change means the paper was updated."""
    material = "\x1f".join((paper.title, paper.authors_raw, paper.venue, paper.abstract))
    return hashlib.blake2b(material.encode("utf-8"), digest_size=16).hexdigest()


def _chunks(items: Sequence[_T], size: int = _IN_CHUNK) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _placeholders(count: int) -> str:
    return ",".join("?" * count)


# -- the write side: what ingest hands over and what it gets back ----------------------------


@dataclass(frozen=True, slots=True)
class DigestContent:
    """One digest file that parsed, to be written as that digest's new content.

    ``date_ns`` is the digest's date (see :mod:`bot.ingest`): of the contents that hold the
    same paper, the one with the latest ``(date_ns, path)`` gives the paper its text.
    """

    path: str
    content_hash: str
    heading: str | None
    papers: tuple[Paper, ...]
    size: int = 0
    mtime_ns: int = 0
    date_ns: int = 0


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


@dataclass(frozen=True, slots=True)
class CatalogueChange:
    """What :meth:`PaperStore.write_digests` changed.

    ``added`` carries the ids actually assigned (an 8-character id already taken by another
    paper makes the newcomer's id longer); ``updated`` carries the stored ids.
    """

    added: tuple[tuple[int, Paper], ...]
    updated: tuple[tuple[int, Paper], ...]
    removed: tuple[tuple[int, str], ...]  # (rowid, id) newly marked removed
    restored: tuple[tuple[int, str], ...]  # (rowid, id) removed before, back in a digest now
    digests_changed: bool  # a digest appeared, went, came back or changed content
    total: int  # papers in the catalogue that are not removed

    @property
    def papers_changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.restored)


@dataclass(slots=True)
class _Plan:
    """The pure part of a write, computed off the event loop."""

    merged: dict[str, tuple[Paper, str]]  # key -> (paper, entry hash); the newest digest wins
    order: list[str]  # keys in first-appearance order
    memberships: list[tuple[str, str, int]]  # (key, digest path, line)


def _plan(contents: Sequence[DigestContent], alias: dict[str, str] | None = None) -> _Plan:
    """Merge the papers of ``contents`` by key (``alias``: key -> the key of the paper it is,
    found by arXiv id or DOI). The last text wins; identifiers are merged (none is lost)."""
    merged: dict[str, tuple[Paper, str]] = {}
    ranks: dict[str, tuple[int, str]] = {}
    order: list[str] = []
    memberships: list[tuple[str, str, int]] = []
    for content in contents:
        rank = (content.date_ns, content.path)
        for paper in content.papers:
            key = alias.get(paper.key, paper.key) if alias else paper.key
            if key != paper.key:
                paper = replace(paper, key=key)
            held = ranks.get(key)
            if held is None:
                order.append(key)
                merged[key] = (paper, entry_hash(paper))
                ranks[key] = rank
            else:
                previous = merged[key][0]
                ids = identifiers.merge(previous.identifiers, paper.identifiers)
                if rank >= held:  # the newer digest gives the text; no identifier is lost
                    if ids is not paper.identifiers:
                        paper = replace(paper, identifiers=ids)
                    merged[key] = (paper, entry_hash(paper))
                    ranks[key] = rank
                elif ids is not previous.identifiers:
                    merged[key] = (replace(previous, identifiers=ids), merged[key][1])
            memberships.append((key, content.path, paper.line))
    return _Plan(merged, order, memberships)


def _content_date(content: DigestContent) -> str | None:
    """A digest's date as stored: the date ingest ranks it by (``date_ns``: from its file
    name, else the modification time of its content), else from its file name."""
    if content.date_ns:
        return digest_date(content.path, content.date_ns / 1e9).isoformat()
    found = date_from_name(content.path)
    return found.isoformat() if found else None


# (rowid, id, entry hash, removed, line, identifiers) of a stored paper, by key
_Existing = dict[str, tuple[int, str, str, bool, int, Identifiers]]


def _aliases(
    plan: _Plan, existing: _Existing, stored: dict[str, tuple[str, Params]]
) -> dict[str, str]:
    """New keys that are a known paper by arXiv id or DOI: key -> that paper's key.

    A key already stored is always itself. Otherwise the paper is the stored paper with one
    of its identifiers (``stored``: identity key -> (key, row)), else the first paper of
    this reindex with one of them.
    """
    owner = {ident: key for ident, (key, _) in stored.items()}
    for key in plan.order:
        if key in existing:
            for ident in identifiers.identity_keys(plan.merged[key][0].identifiers):
                owner.setdefault(ident, key)
    alias: dict[str, str] = {}
    for key in plan.order:
        if key in existing:
            continue
        idents = identifiers.identity_keys(plan.merged[key][0].identifiers)
        target = next((owner[i] for i in idents if owner.get(i, key) != key), None)
        if target is not None:
            alias[key] = target
        for ident in idents:
            owner.setdefault(ident, target or key)
    return alias


class PaperStore:
    """Catalogue reads (and the reindex write) on a :class:`~bot.store.db.Database`."""

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

    async def get_paper(self, paper_id: str) -> StoredPaper | None:
        """The paper with this id (read by :func:`~bot.core.identity.normalise_paper_id`), or
        None."""
        found = await self.get_papers([paper_id])
        return next(iter(found.values()), None)

    async def get_papers(self, paper_ids: Sequence[str]) -> dict[str, StoredPaper]:
        """The papers with these ids, keyed by their stored id; unknown ids are left out."""
        wanted = list(dict.fromkeys(normalise_paper_id(i) for i in paper_ids if i.strip()))
        rows = []
        for chunk in _chunks(wanted):
            rows.extend(
                await self.db.fetchall(
                    f"SELECT {_PAPER_COLUMNS} FROM papers p "
                    f"WHERE p.id IN ({_placeholders(len(chunk))})",
                    chunk,
                )
            )
        stored = await self._stored(rows)
        return {s.paper.id: s for s in stored}

    async def papers_by_identifier(
        self, *, arxiv_id: str | None = None, doi: str | None = None, url: str | None = None
    ) -> list[StoredPaper]:
        """The papers with this arXiv id (no version), DOI (any case) or URL, oldest first."""
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
            return []
        rows = await self.db.fetchall(
            f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE {' OR '.join(clauses)} "
            "ORDER BY p.rowid LIMIT 10",
            params,
        )
        return await self._stored(rows)

    async def stored_batches(
        self, batch_size: int = 1000, *, live_only: bool = True
    ) -> AsyncIterator[list[StoredPaper]]:
        """Every paper (only those not removed with ``live_only``) with its digests, by
        ascending rowid, in batches (an export of the whole catalogue)."""
        last = 0
        live = "AND p.removed = 0 " if live_only else ""
        while True:
            rows = await self.db.fetchall(
                f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE p.rowid > ? {live}"
                "ORDER BY p.rowid LIMIT ?",
                (last, max(1, batch_size)),
            )
            if not rows:
                return
            last = int(rows[-1][0])
            yield await self._stored(rows)

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
            _author_papers(live_only)
            + f"SELECT {_PAPER_COLUMNS} FROM papers p WHERE p.rowid IN ("
            "  SELECT paper FROM mine ORDER BY paper DESC LIMIT ? OFFSET ?) "
            "ORDER BY p.first_seen DESC, p.rowid DESC",
            (key, -1 if limit is None else max(0, limit), max(0, offset)),
        )
        return await self._stored(rows)

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
        return {
            str(r[0]): DigestStamp(str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows
        }

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
        for chunk in _chunks(sorted(set(keys)), _KEYS_CHUNK):
            found = await self.db.fetchrows(
                columns + "json_each(?) k CROSS JOIN papers p ON p.key = k.value " + tail,
                (json.dumps(chunk),),
            )
            rows.update((str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in found)
        for chunk in _chunks(sorted(set(digests))):
            found = await self.db.fetchrows(
                columns + "digests d2 CROSS JOIN paper_digests pd2 "
                "ON pd2.digest = d2.id AND pd2.present = 1 "
                "CROSS JOIN papers p ON p.rowid = pd2.paper " + tail + " "
                f"WHERE d2.present = 1 AND d2.path IN ({_placeholders(len(chunk))})",
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
            f"SELECT {_PAPER_COLUMNS} FROM digests d "
            "JOIN paper_digests pd ON pd.digest = d.id AND pd.present = 1 "
            "JOIN papers p ON p.rowid = pd.paper "
            "WHERE d.path = ? ORDER BY pd.line, pd.paper LIMIT ? OFFSET ?",
            (path, -1 if limit is None else max(0, limit), max(0, offset)),
        )
        return await self._stored(rows)

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

    async def _stored(self, rows: Sequence[Params]) -> list[StoredPaper]:
        rowids = [int(r[0]) for r in rows]
        authors = await self._authors_of(rowids)
        digests = await self._digests_of(rowids)
        out = []
        for r in rows:
            rowid = int(r[0])
            out.append(
                StoredPaper(
                    paper=_paper(r, authors.get(rowid, ())),
                    first_seen=str(r[8]),
                    digests=tuple(digests.get(rowid, ())),
                    removed=bool(r[9]),
                )
            )
        return out

    async def _authors_of(self, rowids: Sequence[int]) -> dict[int, tuple[Author, ...]]:
        rows = []
        for chunk in _chunks(sorted(set(rowids))):
            rows.extend(
                await self.db.fetchrows(
                    f"{_AUTHORS_SQL}WHERE pa.paper IN ({_placeholders(len(chunk))}) "
                    + _AUTHORS_ORDER,
                    chunk,
                )
            )
        return _group_authors(rows, {})

    async def _digests_of(self, rowids: Sequence[int]) -> dict[int, list[DigestInfo]]:
        out: dict[int, list[DigestInfo]] = {}
        for chunk in _chunks(sorted(set(rowids))):
            rows = await self.db.fetchall(
                f"SELECT pd.paper, {_DIGEST_COLUMNS} FROM paper_digests pd "
                "JOIN digests d ON d.id = pd.digest "
                f"WHERE pd.paper IN ({_placeholders(len(chunk))}) ORDER BY pd.paper, d.path",
                chunk,
            )
            for r in rows:
                out.setdefault(int(r[0]), []).append(_digest(r[1:]))
        return out

    # -- the reindex write (inside the ingest transaction) -----------------------------------

    async def write_digests(
        self,
        tx: Transaction,
        contents: Sequence[DigestContent],
        gone: Sequence[str],
        *,
        now: str,
        progress: ProgressFn | None = None,
        keep_text: Collection[str] = frozenset(),
    ) -> CatalogueChange:
        """Write the new content of ``contents`` and mark the digests ``gone`` as gone.

        Every paper of ``contents`` is added (new key), updated (same key, changed title,
        authors, venue or abstract; keeps its id and rowid) or left alone; a paper that was
        removed and appears again is restored. Papers that were in a changed or gone digest
        and are now in no present digest are marked removed. A paper that appears in several
        of ``contents`` takes its text from the newest (latest ``(date_ns, path)``); a stored
        paper whose key is in ``keep_text`` keeps its text and line (they come from a newer
        digest that is not among ``contents``), only its digest memberships change.
        """
        plan = await asyncio.to_thread(_plan, contents)
        await _reset_temp_tables(tx)
        # 1. Digest rows.
        digest_ids, digests_changed = await _write_digest_rows(tx, contents, gone, now)
        # 2. Which papers exist already (2b: new keys that are a known paper by arXiv id or DOI).
        plan, existing = await _existing_papers(tx, plan, contents)
        # 3. Classify; number and name the newcomers.
        sorted_out = await _classify(tx, plan, existing, keep_text)
        # 4. Papers.
        await _write_papers(tx, plan, sorted_out, now, progress)
        # 5. Authors: the lists of added and updated papers; counts of everyone touched.
        await self._write_authors(tx, sorted_out.added, sorted_out.updated, sorted_out.restored)
        # 6. Digest membership.
        await _write_memberships(tx, contents, plan, digest_ids, sorted_out.rowid_of)
        # 7. Papers left in no present digest.
        removed = await _mark_removed(tx, now)
        total = int(await tx.fetchvalue("SELECT count(*) FROM papers WHERE removed = 0"))
        await _reset_temp_tables(tx)
        return CatalogueChange(
            added=tuple(sorted_out.added),
            updated=tuple(sorted(sorted_out.updated, key=lambda item: item[0])),
            removed=tuple(removed),
            restored=tuple(sorted(sorted_out.restored)),
            digests_changed=digests_changed,
            total=total,
        )

    async def _write_authors(
        self,
        tx: Transaction,
        added: Sequence[tuple[int, Paper]],
        updated: Sequence[tuple[int, Paper]],
        restored: Sequence[tuple[int, str]],
    ) -> None:
        """Write the author lists of added and updated papers and keep counts right.

        Counts: an author of an added paper gains one per such paper (new authors are born
        with their count); everyone an update, a restore or a removal may move is put in
        ``temp.ingest_authors`` and recounted from scratch at the end of the write.
        """
        touched = [(rowid,) for rowid, _ in updated] + [(rowid,) for rowid, _ in restored]
        await tx.executemany(
            "INSERT OR IGNORE INTO temp.ingest_authors (author) "
            "SELECT author FROM paper_authors WHERE paper = ?",
            touched,
        )
        await tx.executemany(
            "DELETE FROM paper_authors WHERE paper = ?", [(rowid,) for rowid, _ in updated]
        )
        written = [*added, *updated]
        displays: dict[str, str] = {}
        for _, paper in written:
            for author in paper.authors:
                displays.setdefault(author.key, author.display)
        if not displays:
            return
        author_ids: dict[str, int] = {}
        if await tx.fetchvalue("SELECT 1 FROM authors LIMIT 1") is not None:
            await tx.executemany(
                "INSERT INTO temp.ingest_author_keys (key) VALUES (?)", ((k,) for k in displays)
            )
            author_ids = {
                str(r[1]): int(r[0])
                for r in await tx.fetchall(
                    "SELECT a.id, a.key FROM temp.ingest_author_keys k "
                    "JOIN authors a ON a.key = k.key"
                )
            }
        next_id = int(await tx.fetchvalue("SELECT coalesce(max(id), 0) FROM authors")) + 1
        new_authors: list[tuple[int, str, str]] = []
        for key, display in displays.items():
            if key not in author_ids:
                author_ids[key] = next_id
                new_authors.append((next_id, key, display))
                next_id += 1
        gains: dict[int, int] = {}
        for _, paper in added:
            for author_id in {author_ids[a.key] for a in paper.authors}:
                gains[author_id] = gains.get(author_id, 0) + 1
        await tx.executemany(
            "INSERT INTO authors (id, key, display, paper_count) VALUES (?, ?, ?, ?)",
            [(i, key, display, gains.pop(i, 0)) for i, key, display in new_authors],
        )
        await tx.executemany(
            "UPDATE authors SET paper_count = paper_count + ? WHERE id = ?",
            sorted(((n, i) for i, n in gains.items()), key=lambda row: row[1]),
        )
        await tx.executemany(
            "INSERT OR IGNORE INTO temp.ingest_authors (author) VALUES (?)",
            sorted({(author_ids[a.key],) for _, paper in updated for a in paper.authors}),
        )
        for start in range(0, len(written), _WRITE_CHUNK):
            await tx.executemany(
                "INSERT INTO paper_authors (paper, position, author, last, first) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (rowid, position, author_ids[a.key], a.last, a.first)
                    for rowid, paper in written[start : start + _WRITE_CHUNK]
                    for position, a in enumerate(paper.authors)
                ],
            )

    @staticmethod
    async def restamp(tx: Transaction, stamps: Sequence[tuple[str, DigestStamp]]) -> None:
        """Remember the new size / modification time of files whose content did not change."""
        await tx.executemany(
            "UPDATE digests SET size = ?, mtime_ns = ? WHERE path = ? AND content_hash = ?",
            [(s.size, s.mtime_ns, path, s.content_hash) for path, s in stamps],
        )

    @staticmethod
    async def version_in(tx: Transaction) -> int:
        """The catalogue version as the transaction sees it."""
        value = await tx.fetchvalue("SELECT value FROM meta WHERE key = ?", (META_VERSION,))
        return int(value) if value else 0

    @staticmethod
    async def bump_version(tx: Transaction, now: str) -> int:
        """Count one more change to the catalogue and note when; returns the new version.

        The catalogue stamp is renewed with it (see ``0005_catalogue_stamp.sql``).
        """
        version = await PaperStore.version_in(tx) + 1
        await set_meta(tx, META_VERSION, str(version))
        await tx.execute(
            "INSERT INTO meta (key, value) VALUES (?, lower(hex(randomblob(16)))) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (META_STAMP,),
        )
        await set_meta(tx, META_LAST_INDEXED, now)
        return version


async def set_meta(tx: Transaction, key: str, value: str) -> None:
    """Set a ``meta`` value inside an open transaction."""
    await tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


# -- the steps of PaperStore.write_digests -----------------------------------------------------


@dataclass(slots=True)
class _Classified:
    """The papers of a write, sorted out against the catalogue (step 3)."""

    rowid_of: dict[str, int]  # every key of the plan -> its rowid (new ones numbered)
    added: list[tuple[int, Paper]]  # with the ids assigned
    updated: list[tuple[int, Paper]]  # with the stored ids
    restored: list[tuple[int, str]]  # (rowid, id) removed before
    moved: list[tuple[int, int]]  # (line, rowid): same text, new line
    gained_ids: list[tuple[str | None, str | None, str | None, str | None, int]]  # + rowid


async def _write_digest_rows(
    tx: Transaction, contents: Sequence[DigestContent], gone: Sequence[str], now: str
) -> tuple[dict[str, int], bool]:
    """Upsert the digests of ``contents``, mark ``gone`` gone, and note in
    ``temp.ingest_affected`` the papers that were in any of them. Returns every digest's
    id by path, and whether a digest appeared, went, came back or changed content."""
    stored = {
        str(r["path"]): r
        for r in await tx.fetchall("SELECT id, path, content_hash, heading, present FROM digests")
    }
    digests_changed = bool(gone)
    for content in contents:
        old = stored.get(content.path)
        if (
            old is None
            or not old["present"]
            or old["content_hash"] != content.content_hash
            or old["heading"] != content.heading
        ):
            digests_changed = True
    await tx.executemany(
        "INSERT INTO digests (path, content_hash, size, mtime_ns, heading, indexed_at, "
        "paper_count, present, content_mtime_ns, date) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET "
        "indexed_at = CASE WHEN digests.content_hash <> excluded.content_hash "
        "  OR digests.present = 0 THEN excluded.indexed_at ELSE digests.indexed_at END, "
        "content_mtime_ns = CASE WHEN digests.content_hash <> excluded.content_hash "
        "  OR digests.present = 0 THEN excluded.content_mtime_ns "
        "  ELSE digests.content_mtime_ns END, "
        "content_hash = excluded.content_hash, size = excluded.size, "
        "mtime_ns = excluded.mtime_ns, heading = excluded.heading, "
        "paper_count = excluded.paper_count, present = 1, date = excluded.date",
        [
            (
                c.path, c.content_hash, c.size, c.mtime_ns, c.heading, now, len(c.papers),
                c.mtime_ns, _content_date(c),
            )
            for c in contents
        ],
    )  # fmt: skip
    await tx.executemany(
        "UPDATE digests SET present = 0 WHERE path = ?", [(path,) for path in gone]
    )
    digest_ids = {
        str(r["path"]): int(r["id"]) for r in await tx.fetchall("SELECT id, path FROM digests")
    }
    touched = [(digest_ids[c.path],) for c in contents] + [(digest_ids[p],) for p in gone]
    # Papers that were in a touched digest may end up in none: candidates for removal.
    await tx.executemany(
        "INSERT OR IGNORE INTO temp.ingest_affected (paper) "
        "SELECT paper FROM paper_digests WHERE digest = ? AND present = 1",
        touched,
    )
    return digest_ids, digests_changed


async def _existing_papers(
    tx: Transaction, plan: _Plan, contents: Sequence[DigestContent]
) -> tuple[_Plan, _Existing]:
    """The stored papers of the plan's keys. A new key that is a stored paper by arXiv id or
    DOI (a retitled paper) is that paper: the plan is made again with it mapped onto the
    stored key, and the stored paper counts as existing."""
    await tx.executemany(
        "INSERT INTO temp.ingest_keys (key) VALUES (?)", ((k,) for k in plan.order)
    )
    existing: _Existing = {
        str(r[1]): _existing_row(r)
        for r in await tx.fetchall(
            f"SELECT {_EXISTING_COLUMNS} FROM temp.ingest_keys k JOIN papers p ON p.key = k.key"
        )
    }
    by_identifier = await _stored_by_identifier(tx, plan, existing)
    alias = _aliases(plan, existing, by_identifier)
    if alias:
        plan = await asyncio.to_thread(_plan, contents, alias)
        for key, row in by_identifier.values():
            if key in plan.merged and key not in existing:
                existing[key] = _existing_row(row)
    return plan, existing


async def _classify(
    tx: Transaction, plan: _Plan, existing: _Existing, keep_text: Collection[str]
) -> _Classified:
    """Number and name the new papers; sort the stored ones into updated (text or
    identifiers changed), moved (only the line changed), restored (removed before) and, for
    a key in ``keep_text``, identifiers gained only."""
    new_keys = [k for k in plan.order if k not in existing]
    ids = await _assign_ids(tx, new_keys)
    base = int(
        await tx.fetchvalue(
            "SELECT max(coalesce((SELECT max(rowid) FROM papers), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'papers'), 0))"
        )
    )
    out = _Classified({}, [], [], [], [], [])
    for offset, key in enumerate(new_keys, start=1):
        paper = plan.merged[key][0]
        if ids[key] != paper.id:
            paper = replace(paper, id=ids[key])
        out.rowid_of[key] = base + offset
        out.added.append((base + offset, paper))
    for key, (rowid, stored_id, stored_hash, was_removed, line, had) in existing.items():
        out.rowid_of[key] = rowid
        if was_removed:
            out.restored.append((rowid, stored_id))
        if key in keep_text:  # the text stays; identifiers found now are still gained
            gained = identifiers.merge(had, plan.merged[key][0].identifiers)
            if gained != had:
                out.gained_ids.append((*_id_columns(gained), rowid))
            continue
        paper, digest = plan.merged[key]
        if paper.id != stored_id:
            paper = replace(paper, id=stored_id)
        known = identifiers.merge(had, paper.identifiers)
        if known is not paper.identifiers:
            paper = replace(paper, identifiers=known)
        if digest != stored_hash or known != had:
            out.updated.append((rowid, paper))
        elif paper.line != line:
            out.moved.append((paper.line, rowid))
    return out


async def _write_papers(
    tx: Transaction, plan: _Plan, papers: _Classified, now: str, progress: ProgressFn | None
) -> None:
    """Insert the added papers, rewrite the updated ones (reporting progress), then the lines
    moved, the identifiers gained and the papers restored."""
    total_writes = len(papers.added) + len(papers.updated)
    # generators: rows are built chunk by chunk, never all at once (1M papers)
    insert_rows = (
        (rowid, p.id, p.key, p.title, p.authors_raw, p.venue, p.abstract, p.line,
         plan.merged[p.key][1], now, now, *_id_columns(p.identifiers))
        for rowid, p in papers.added
    )  # fmt: skip
    update_rows = (
        (p.title, p.authors_raw, p.venue, p.abstract, p.line, plan.merged[p.key][1], now,
         *_id_columns(p.identifiers), rowid)
        for rowid, p in papers.updated
    )  # fmt: skip
    done = await _write_chunks(
        tx,
        "INSERT INTO papers (rowid, id, key, title, authors_raw, venue, abstract, line, "
        "entry_hash, first_seen, updated_at, url, arxiv_id, doi, pdf_url, removed) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        insert_rows,
        progress,
        0,
        total_writes,
    )
    await _write_chunks(
        tx,
        "UPDATE papers SET title = ?, authors_raw = ?, venue = ?, abstract = ?, "
        "line = ?, entry_hash = ?, updated_at = ?, url = ?, arxiv_id = ?, doi = ?, "
        "pdf_url = ? WHERE rowid = ?",
        update_rows,
        progress,
        done,
        total_writes,
    )
    await tx.executemany("UPDATE papers SET line = ? WHERE rowid = ?", papers.moved)
    await tx.executemany(
        "UPDATE papers SET url = ?, arxiv_id = ?, doi = ?, pdf_url = ? WHERE rowid = ?",
        papers.gained_ids,
    )
    await tx.executemany(
        "UPDATE papers SET removed = 0, updated_at = ? WHERE rowid = ?",
        [(now, rowid) for rowid, _ in papers.restored],
    )


async def _write_memberships(
    tx: Transaction,
    contents: Sequence[DigestContent],
    plan: _Plan,
    digest_ids: dict[str, int],
    rowid_of: dict[str, int],
) -> None:
    """The papers of each written digest are exactly the ones it holds now."""
    await tx.executemany(
        "UPDATE paper_digests SET present = 0 WHERE digest = ? AND present = 1",
        [(digest_ids[c.path],) for c in contents],
    )
    await tx.executemany(
        "INSERT INTO paper_digests (paper, digest, line, present) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (paper, digest) DO UPDATE SET line = excluded.line, present = 1",
        sorted((rowid_of[key], digest_ids[path], line) for key, path, line in plan.memberships),
    )


async def _mark_removed(tx: Transaction, now: str) -> list[tuple[int, str]]:
    """Mark removed the affected papers left in no present digest and recount the authors
    touched; returns ``(rowid, id)`` of the papers newly removed."""
    removed_rows = await tx.fetchall(
        "UPDATE papers SET removed = 1, updated_at = ? "
        "WHERE rowid IN (SELECT paper FROM temp.ingest_affected) AND removed = 0 "
        "AND NOT EXISTS (SELECT 1 FROM paper_digests pd JOIN digests d ON d.id = pd.digest "
        "  WHERE pd.paper = papers.rowid AND pd.present = 1 AND d.present = 1) "
        "RETURNING rowid, id",
        (now,),
    )
    removed = sorted((int(r[0]), str(r[1])) for r in removed_rows)
    await tx.executemany(
        "INSERT OR IGNORE INTO temp.ingest_authors (author) "
        "SELECT author FROM paper_authors WHERE paper = ?",
        [(rowid,) for rowid, _ in removed],
    )
    await tx.execute(
        "UPDATE authors SET paper_count = (SELECT count(DISTINCT pa.paper) "
        "  FROM paper_authors pa JOIN papers p ON p.rowid = pa.paper "
        "  WHERE pa.author = authors.id AND p.removed = 0) "
        "WHERE id IN (SELECT author FROM temp.ingest_authors)"
    )
    return removed


async def _reset_temp_tables(tx: Transaction) -> None:
    for statement in (
        "CREATE TEMP TABLE IF NOT EXISTS ingest_keys (key TEXT PRIMARY KEY) WITHOUT ROWID",
        "CREATE TEMP TABLE IF NOT EXISTS ingest_ids (id TEXT PRIMARY KEY) WITHOUT ROWID",
        "CREATE TEMP TABLE IF NOT EXISTS ingest_affected (paper INTEGER PRIMARY KEY)",
        "CREATE TEMP TABLE IF NOT EXISTS ingest_authors (author INTEGER PRIMARY KEY)",
        "CREATE TEMP TABLE IF NOT EXISTS ingest_author_keys (key TEXT PRIMARY KEY) WITHOUT ROWID",
        "DELETE FROM temp.ingest_keys",
        "DELETE FROM temp.ingest_ids",
        "DELETE FROM temp.ingest_affected",
        "DELETE FROM temp.ingest_authors",
        "DELETE FROM temp.ingest_author_keys",
    ):
        await tx.execute(statement)


async def _assign_ids(tx: Transaction, keys: Sequence[str]) -> dict[str, str]:
    """Short ids for new papers: 8 characters, or longer while the shorter one is taken.

    Ids already stored never change, so a newcomer whose prefix is taken (by a stored paper or
    by an earlier newcomer of this run) takes the next longer prefix of its own key.
    """
    lengths = dict.fromkeys(keys, ID_LENGTH)
    assigned: dict[str, str] = {}
    taken_here: set[str] = set()
    pending = list(keys)
    while pending:
        candidates = {key: short_id(key, lengths[key]) for key in pending}
        await tx.execute("DELETE FROM temp.ingest_ids")
        await tx.executemany(
            "INSERT OR IGNORE INTO temp.ingest_ids (id) VALUES (?)",
            ((c,) for c in candidates.values()),
        )
        taken = {
            str(r[0])
            for r in await tx.fetchall(
                "SELECT p.id FROM temp.ingest_ids t JOIN papers p ON p.id = t.id"
            )
        }
        retry = []
        for key in pending:
            candidate = candidates[key]
            if candidate in taken or candidate in taken_here:
                lengths[key] += 1
                retry.append(key)
            else:
                assigned[key] = candidate
                taken_here.add(candidate)
        pending = retry
    return assigned


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
        identifiers=_identifiers(row[10], row[11], row[12], row[13]),
    )


def _identifiers(
    url: str | None, arxiv_id: str | None, doi: str | None, pdf_url: str | None
) -> Identifiers:
    if url is None and arxiv_id is None and doi is None and pdf_url is None:
        return NO_IDENTIFIERS
    return Identifiers(url=url, arxiv_id=arxiv_id, doi=doi, pdf_url=pdf_url)


def _id_columns(ids: Identifiers) -> tuple[str | None, str | None, str | None, str | None]:
    return ids.url, ids.arxiv_id, ids.doi, ids.pdf_url


_EXISTING_COLUMNS = (
    "p.rowid, p.key, p.id, p.entry_hash, p.removed, p.line, p.url, p.arxiv_id, p.doi, p.pdf_url"
)


def _existing_row(r: Params) -> tuple[int, str, str, bool, int, Identifiers]:
    """An ``_EXISTING_COLUMNS`` row -> (rowid, id, entry hash, removed, line, identifiers)."""
    return (int(r[0]), str(r[2]), str(r[3]), bool(r[4]), int(r[5]),
            _identifiers(r[6], r[7], r[8], r[9]))  # fmt: skip


async def _stored_by_identifier(
    tx: Transaction, plan: _Plan, existing: _Existing
) -> dict[str, tuple[str, Params]]:
    """Stored papers holding an arXiv id or DOI of a new paper of ``plan``:
    identity key ("arxiv:<id>", "doi:<lower>") -> (stored key, ``_EXISTING_COLUMNS`` row)."""
    arxiv_ids: set[str] = set()
    dois: set[str] = set()
    for key in plan.order:
        if key in existing:
            continue
        ids = plan.merged[key][0].identifiers
        if ids.arxiv_id:
            arxiv_ids.add(ids.arxiv_id)
        if ids.doi:
            dois.add(ids.doi.lower())
    found: dict[str, tuple[str, Params]] = {}
    for column, values in (("arxiv_id", sorted(arxiv_ids)), ("doi", sorted(dois))):
        match = "p.arxiv_id" if column == "arxiv_id" else "p.doi COLLATE NOCASE"
        for chunk in _chunks(values):
            rows = await tx.fetchall(
                f"SELECT {_EXISTING_COLUMNS} FROM papers p "
                f"WHERE {match} IN ({_placeholders(len(chunk))}) ORDER BY p.rowid",
                chunk,
            )
            for r in rows:
                ids = _identifiers(r[6], r[7], r[8], r[9])
                for ident in identifiers.identity_keys(ids):
                    found.setdefault(ident, (str(r[1]), r))
    return found


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


def _group_authors(
    rows: Iterable[Params], interned: dict[int, Author]
) -> dict[int, tuple[Author, ...]]:
    """``_AUTHORS_SQL`` rows -> each paper's ordered authors; ``interned`` shares objects."""
    grouped: dict[int, list[Author]] = {}
    for paper, author_id, last, first, key in rows:
        author = interned.get(author_id)
        if author is None or author.last != last or author.first != first:
            author = Author(display=f"{first} {last}".strip(), last=last, first=first, key=key)
            interned[author_id] = author
        authors = grouped.get(paper)
        if authors is None:
            grouped[paper] = [author]
        else:
            authors.append(author)
    return {paper: tuple(authors) for paper, authors in grouped.items()}


async def _write_chunks(
    tx: Transaction,
    sql: str,
    rows: Iterable[Params],
    progress: ProgressFn | None,
    done: int,
    total: int,
) -> int:
    """``executemany`` in chunks, reporting ("write", done, total) after each; returns done."""
    it = iter(rows)
    while chunk := list(itertools.islice(it, _WRITE_CHUNK)):
        await tx.executemany(sql, chunk)
        done += len(chunk)
        if progress is not None:
            progress("write", done, total)
    return done
