"""The reindex write: a reindex's digests -> the catalogue, inside its one transaction.

:mod:`bot.ingest` reads the digest folder and decides which digest gives each paper its text;
it then opens one ``BEGIN IMMEDIATE`` transaction and calls :func:`write_digests` (with
:func:`restamp` and :func:`bump_version`). The write touches only the papers of the digests
that changed and works in bulk (``executemany`` and temporary key tables), so adding a small
digest to a large catalogue costs little. Its steps, in order, are the functions below
:func:`write_digests`; the catalogue reads are :mod:`bot.store.papers`.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.core import identifiers
from bot.core.digests import date_from_name, digest_date
from bot.core.models import Identifiers, Paper, ProgressFn
from bot.core.parser import ID_LENGTH, short_id
from bot.store.db import Params, Transaction
from bot.store.papers import (
    META_LAST_INDEXED,
    META_STAMP,
    META_VERSION,
    DigestStamp,
    chunks,
    identifiers_from,
    placeholders,
    set_meta,
)

_WRITE_CHUNK = 20_000  # rows per executemany chunk


def utc_now() -> str:
    """The stored form of "now": ISO-8601 UTC with microseconds and ``Z`` (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(paper: Paper) -> str:
    """A hash of what a reader sees of an entry; a change means the paper was updated."""
    material = "\x1f".join((paper.title, paper.authors_raw, paper.venue, paper.abstract))
    return hashlib.blake2b(material.encode("utf-8"), digest_size=16).hexdigest()


# -- what ingest hands over and what it gets back -------------------------------------------


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
class CatalogueChange:
    """What :func:`write_digests` changed.

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


def content_date(content: DigestContent) -> str | None:
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


# -- the write ---------------------------------------------------------------------------------


async def write_digests(
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
    await _write_authors(tx, sorted_out.added, sorted_out.updated, sorted_out.restored)
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
                "SELECT a.id, a.key FROM temp.ingest_author_keys k JOIN authors a ON a.key = k.key"
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


async def restamp(tx: Transaction, stamps: Sequence[tuple[str, DigestStamp]]) -> None:
    """Remember the new size / modification time of files whose content did not change."""
    await tx.executemany(
        "UPDATE digests SET size = ?, mtime_ns = ? WHERE path = ? AND content_hash = ?",
        [(s.size, s.mtime_ns, path, s.content_hash) for path, s in stamps],
    )


async def version_in(tx: Transaction) -> int:
    """The catalogue version as the transaction sees it."""
    value = await tx.fetchvalue("SELECT value FROM meta WHERE key = ?", (META_VERSION,))
    return int(value) if value else 0


async def bump_version(tx: Transaction, now: str) -> int:
    """Count one more change to the catalogue and note when; returns the new version.

    The catalogue stamp is renewed with it (see ``0005_catalogue_stamp.sql``).
    """
    version = await version_in(tx) + 1
    await set_meta(tx, META_VERSION, str(version))
    await tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, lower(hex(randomblob(16)))) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (META_STAMP,),
    )
    await set_meta(tx, META_LAST_INDEXED, now)
    return version


# -- the steps of write_digests ---------------------------------------------------------------


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
                c.mtime_ns, content_date(c),
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


def _id_columns(ids: Identifiers) -> tuple[str | None, str | None, str | None, str | None]:
    return ids.url, ids.arxiv_id, ids.doi, ids.pdf_url


_EXISTING_COLUMNS = (
    "p.rowid, p.key, p.id, p.entry_hash, p.removed, p.line, p.url, p.arxiv_id, p.doi, p.pdf_url"
)


def _existing_row(r: Params) -> tuple[int, str, str, bool, int, Identifiers]:
    """An ``_EXISTING_COLUMNS`` row -> (rowid, id, entry hash, removed, line, identifiers)."""
    return (int(r[0]), str(r[2]), str(r[3]), bool(r[4]), int(r[5]),
            identifiers_from(r[6], r[7], r[8], r[9]))  # fmt: skip


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
        for chunk in chunks(values):
            rows = await tx.fetchall(
                f"SELECT {_EXISTING_COLUMNS} FROM papers p "
                f"WHERE {match} IN ({placeholders(len(chunk))}) ORDER BY p.rowid",
                chunk,
            )
            for r in rows:
                ids = identifiers_from(r[6], r[7], r[8], r[9])
                for ident in identifiers.identity_keys(ids):
                    found.setdefault(ident, (str(r[1]), r))
    return found


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
