"""The bulk load: the first reindex of an empty catalogue, written digest by digest.

A reindex into an empty catalogue (no digest, paper or author yet) has nothing to compare
with, so its papers can be written as the digests are parsed, in path order, without holding
every parsed paper: :class:`BulkWriter` takes one digest at a time (its papers as lean
:data:`PaperRow` tuples, built by the parsing worker) inside the reindex's one transaction.
The rows it writes are exactly the ones :func:`bot.store.reindex_write.write_digests` would
write for the same digests (same rowids, ids, author ids and counts, memberships), as long
as no paper is met twice: a key already seen, or an arXiv id / DOI shared with an earlier
paper, raises :class:`NotBulk`, and the caller rolls the transaction back and takes the
general path (which merges repeated papers, newest digest first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.models import NO_IDENTIFIERS, Author, Identifiers, Paper
from bot.core.parser import ID_LENGTH, short_id
from bot.store.db import Transaction
from bot.store.reindex_write import DigestContent, content_date, entry_hash

# (name key, display, last, first) of one author of a paper
AuthorRow = tuple[str, str, str, str]
# (key, id (of ID_LENGTH), title, authors_raw, venue, abstract, line, entry hash, url,
#  arxiv id, doi, pdf url, authors): a parsed paper as the bulk load writes it
PaperRow = tuple[
    str, str, str, str, str, str, int, str, str | None, str | None, str | None, str | None,
    tuple[AuthorRow, ...],
]  # fmt: skip


def paper_row(p: Paper) -> PaperRow:
    """A parsed paper as a :data:`PaperRow` (built in the parsing worker: the entry hash too)."""
    ids = p.identifiers
    authors = tuple((a.key, a.display, a.last, a.first) for a in p.authors)
    short = short_id(p.key, ID_LENGTH)
    return (p.key, short, p.title, p.authors_raw, p.venue, p.abstract, p.line, entry_hash(p),
            ids.url, ids.arxiv_id, ids.doi, ids.pdf_url, authors)  # fmt: skip


def row_paper(row: PaperRow, paper_id: str) -> Paper:
    """The :class:`Paper` a row was made from, with the id it was given."""
    key, _, title, raw, venue, abstract, line, _, url, arxiv_id, doi, pdf_url, authors = row
    ids = Identifiers(url, arxiv_id, doi, pdf_url)
    return Paper(
        paper_id, key, title, tuple(Author(d, la, f, k) for k, d, la, f in authors), raw,
        venue, abstract, line, ids if ids else NO_IDENTIFIERS,
    )  # fmt: skip


class NotBulk(Exception):
    """The catalogue is not empty, or a paper is met twice: use the general write."""


@dataclass(slots=True)
class BulkChange:
    """What a bulk load wrote: the ids of the papers added (in rowid order, from 1 past the
    highest rowid ever used), and the papers themselves when asked to keep them."""

    added_ids: list[str]
    added: list[tuple[int, Paper]] | None
    total: int
    digests: int


class BulkWriter:
    """Writes digests one by one into an empty catalogue; see the module docstring.

    ``keep_papers``: keep ``(rowid, Paper)`` of every paper added for the caller (the alert
    hook, the index update) while there are at most this many (-1: always); past that, only
    the ids are kept.
    """

    def __init__(self, tx: Transaction, now: str, keep_papers: int) -> None:
        self._tx = tx
        self._now = now
        self._keep = keep_papers
        self._keys: set[str] = set()
        self._identities: set[str] = set()
        self._ids: set[str] = set()
        self._author_ids: dict[str, int] = {}
        self._displays: list[str] = []
        self._counts: list[int] = []
        self._next_rowid = 0
        self._change = BulkChange([], None, 0, 0)
        # (rowid, id, row) of the papers added, while they are to be listed
        self._kept: list[tuple[int, str, PaperRow]] | None = []

    async def start(self) -> None:
        """Check that the catalogue is empty (else :class:`NotBulk`) and where rowids start."""
        tx = self._tx
        for table in ("digests", "papers", "authors", "paper_digests", "paper_authors"):
            if await tx.fetchvalue(f"SELECT 1 FROM {table} LIMIT 1") is not None:
                raise NotBulk(f"the catalogue has {table}")
        self._next_rowid = 1 + int(
            await tx.fetchvalue(
                "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'papers'), 0)"
            )
        )
        # The authors are written at the end (with their counts): their papers' author rows
        # are checked against them at the commit (the pragma ends with the transaction).
        await tx.execute("PRAGMA defer_foreign_keys = ON")

    async def add(self, content: DigestContent, rows: Sequence[PaperRow]) -> None:
        """Write one digest (``content``'s papers are ignored: ``rows`` are its papers)."""
        tx, now = self._tx, self._now
        papers: list[tuple[object, ...]] = []
        authors: list[tuple[int, int, int, str, str]] = []
        members: list[tuple[int, int, int]] = []
        change = self._change
        kept = self._kept
        if kept is not None and 0 <= self._keep < len(kept) + len(rows):
            kept = self._kept = None  # too many to list: only the ids are kept
        digest_id = await self._digest(content, len(rows))
        taken_here: set[str] = set()  # ids of this digest's papers
        rowid = self._next_rowid
        for row in rows:
            (key, paper_id, title, raw, venue, abstract, line, digest, url, arxiv_id, doi,
             pdf_url, names) = row  # fmt: skip
            if key in self._keys:
                raise NotBulk("a paper is in more than one place")
            self._keys.add(key)
            for ident in (
                "arxiv:" + arxiv_id.lower() if arxiv_id else "",
                "doi:" + doi.lower() if doi else "",
            ):
                if ident:
                    if ident in self._identities:
                        raise NotBulk("two entries share an arXiv id or DOI")
                    self._identities.add(ident)
            length = ID_LENGTH
            candidate = paper_id  # short_id(key, ID_LENGTH)
            while candidate in self._ids or candidate in taken_here:
                length += 1
                candidate = short_id(key, length)
            taken_here.add(candidate)
            papers.append((rowid, candidate, key, title, raw, venue, abstract, line, digest,
                           now, now, url, arxiv_id, doi, pdf_url))  # fmt: skip
            seen: set[int] = set()
            for position, (name, display, last, first) in enumerate(names):
                author_id = self._author_ids.get(name)
                if author_id is None:
                    author_id = len(self._displays) + 1
                    self._author_ids[name] = author_id
                    self._displays.append(display)
                    self._counts.append(0)
                if author_id not in seen:
                    seen.add(author_id)
                    self._counts[author_id - 1] += 1
                authors.append((rowid, position, author_id, last, first))
            members.append((rowid, digest_id, line))
            change.added_ids.append(candidate)
            if kept is not None:
                kept.append((rowid, candidate, row))
            rowid += 1
        self._ids |= taken_here
        self._next_rowid = rowid
        await tx.executemany(
            "INSERT INTO papers (rowid, id, key, title, authors_raw, venue, abstract, line, "
            "entry_hash, first_seen, updated_at, url, arxiv_id, doi, pdf_url, removed) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            papers,
        )
        await tx.executemany(
            "INSERT INTO paper_authors (paper, position, author, last, first) "
            "VALUES (?, ?, ?, ?, ?)",
            authors,
        )
        await tx.executemany(
            "INSERT INTO paper_digests (paper, digest, line, present) VALUES (?, ?, ?, 1)",
            members,
        )
        change.total += len(rows)
        change.digests += 1

    @property
    def written(self) -> int:
        """Papers written so far."""
        return self._change.total

    async def _digest(self, c: DigestContent, count: int) -> int:
        executed = await self._tx.execute(
            "INSERT INTO digests (path, content_hash, size, mtime_ns, heading, indexed_at, "
            "paper_count, present, content_mtime_ns, date) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (c.path, c.content_hash, c.size, c.mtime_ns, c.heading, self._now, count,
             c.mtime_ns, content_date(c)),
        )  # fmt: skip
        assert executed.lastrowid is not None
        return int(executed.lastrowid)

    async def finish(self) -> BulkChange:
        """Write the authors (each with the count of papers naming them); returns the change."""
        keys = list(self._author_ids)
        await self._tx.executemany(
            "INSERT INTO authors (id, key, display, paper_count) VALUES (?, ?, ?, ?)",
            (
                (i, key, display, count)
                for i, (key, display, count) in enumerate(
                    zip(keys, self._displays, self._counts, strict=True), start=1
                )
            ),
        )
        if self._kept is not None:
            self._change.added = [(i, row_paper(row, p)) for i, p, row in self._kept]
        return self._change
