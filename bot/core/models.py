"""Frozen value types shared by the core, the store, the CLI and the Discord layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
# A progress callback: ``progress(stage, done, total)``, e.g. ("parse", 120, 1000) while the
# reindex reads files, ("write", 20000, 50000) while it writes papers.
ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Author:
    """One author of a paper.

    ``display`` is how people read the name ("Zihan Yao"); ``key`` is the accent- and
    case-folded identity used to group the same person across papers ("zihan yao").
    """

    display: str
    last: str
    first: str
    key: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something wrong in a digest file, located by file and 1-based line."""

    file: str
    line: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class Identifiers:
    """What a digest says about where a paper lives (see ``docs/digest-format.md``).

    ``url``: the first link given that is neither an arXiv nor a doi.org link; ``arxiv_id``
    without its version ("2412.01234", "hep-th/9901001"); ``doi`` as written (compare it
    case-insensitively); ``pdf_url``: the arXiv PDF when the arXiv id is known, else a PDF link
    given. Every field is None when unknown.
    """

    url: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    pdf_url: str | None = None

    def __bool__(self) -> bool:
        return bool(self.url or self.arxiv_id or self.doi or self.pdf_url)


NO_IDENTIFIERS = Identifiers()


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper entry as parsed from a digest.

    ``id`` is a short typeable id derived from ``key``; ``key`` is the stable identity
    (hash of the normalised title and the first author's folded last name), identical
    across reindexes and across digests that repeat the paper.
    """

    id: str
    key: str
    title: str
    authors: tuple[Author, ...]
    authors_raw: str
    venue: str
    abstract: str
    line: int = 0
    identifiers: Identifiers = NO_IDENTIFIERS  # url / arXiv id / DOI / PDF, when given


@dataclass(frozen=True, slots=True)
class ParseReport:
    """The result of parsing one digest file.

    ``ok`` is False when the whole file was rejected (not UTF-8 text, unreadable); its
    papers are then empty and the reason is in ``diagnostics``.
    """

    path: str
    content_hash: str
    heading: str | None
    papers: tuple[Paper, ...]
    diagnostics: tuple[Diagnostic, ...]
    ok: bool = True


@dataclass(frozen=True, slots=True)
class DigestInfo:
    """A digest file as the catalogue remembers it."""

    path: str
    heading: str | None
    content_hash: str
    indexed_at: str  # ISO-8601 UTC
    paper_count: int = 0
    present: bool = True  # False once the file is gone from the digest folder
    date: str | None = None  # YYYY-MM-DD: from the file name, else its modification date
    title: str | None = None  # a feed's title, for digests made from a feed


@dataclass(frozen=True, slots=True)
class StoredPaper:
    """A paper with what the catalogue knows about its history."""

    paper: Paper
    first_seen: str  # ISO-8601 UTC
    digests: tuple[DigestInfo, ...] = ()
    removed: bool = False  # every digest it appeared in is gone from the folder

    @property
    def id(self) -> str:
        return self.paper.id


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What a reindex did with one digest file."""

    path: str
    status: Literal["indexed", "unchanged", "rejected", "removed"]
    papers: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class ReindexReport:
    """The summary of one reindex, shared by the CLI, ``/reindex`` and the logs."""

    added: int
    updated: int
    unchanged: int
    removed: int
    total: int
    files: tuple[FileOutcome, ...]
    diagnostics: tuple[Diagnostic, ...]
    new_paper_ids: tuple[str, ...] = ()
    alerts_queued: int = 0
    applied: bool = True
    duration_s: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)
    removed_paper_ids: tuple[str, ...] = ()  # the papers counted in ``removed`` ("gone")


@dataclass(frozen=True, slots=True)
class AuthorSummary:
    """An author as the catalogue knows them: identity key, display name, paper count."""

    key: str
    display: str
    paper_count: int


@dataclass(frozen=True, slots=True)
class CatalogueState:
    """Which catalogue a saved search index was built from: the version, and a random stamp
    renewed with every version (so a recreated or restored database never matches an index
    built for another one at the same version number)."""

    version: int
    stamp: str


@dataclass(frozen=True, slots=True)
class CatalogueStats:
    papers: int
    authors: int
    digests: int
    removed_papers: int
    last_indexed_at: str | None  # ISO-8601 UTC of the last applied reindex
    version: int  # bumped by every applied change to the catalogue


# ---- search results (the Catalogue's answers) -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a snippet: plain text, or a word that matched the query (to mark)."""

    text: str
    match: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result: the paper, its BM25 score and a snippet of its abstract."""

    paper: StoredPaper
    score: float
    snippet: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class SearchTimings:
    """Where a search's time went, in seconds (``digest-bot bench`` reports each part):
    parsing the query, the index (search and known-item order, with the trip to the worker
    thread all that follows runs in), reading the page's papers from the store, and making
    the snippets (with the trip back)."""

    parse: float = 0.0
    index: float = 0.0
    fetch: float = 0.0
    snippets: float = 0.0


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results.

    ``total`` counts every matching paper; ``suggestion`` is a respelled query ("did you
    mean") when nothing matched and a respelling exists.
    """

    query: str  # as typed
    canonical: str  # the query as understood (e.g. what a subscription shows)
    total: int
    offset: int
    limit: int
    hits: tuple[Hit, ...]
    suggestion: str | None = None
    total_exact: bool = True  # False: ``total`` is an estimate ("about N"), see Index.search
    timings: SearchTimings | None = None

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


@dataclass(frozen=True, slots=True)
class PaperDetail:
    """A paper looked up by id or title, with papers like it.

    ``matched_by`` says how it was found (id, title, or arXiv id / DOI / URL); for a title
    lookup, ``candidates`` are the other
    close titles (best first) when the match was not clear-cut.
    """

    paper: StoredPaper
    matched_by: Literal["id", "title", "identifier"]
    similar: tuple[StoredPaper, ...] = ()
    candidates: tuple[StoredPaper, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorProfile:
    """An author's papers (newest first, possibly one page), frequent co-authors and venues
    with counts."""

    key: str
    name: str
    papers: tuple[StoredPaper, ...]
    coauthors: tuple[tuple[str, int], ...] = ()
    venues: tuple[tuple[str, int], ...] = ()
    other_matches: tuple[AuthorSummary, ...] = ()  # other people the name could mean
    # ``papers`` may be one page of them: the ``total`` count, and where the page starts
    total: int | None = None  # None: ``papers`` holds every paper
    offset: int = 0

    @property
    def paper_count(self) -> int:
        """How many papers the author has (``papers`` may hold only a page of them)."""
        return len(self.papers) if self.total is None else self.total


@dataclass(frozen=True, slots=True)
class LatestPage:
    """Papers of the latest digest, in file order, one page of them."""

    digest: DigestInfo | None
    papers: tuple[StoredPaper, ...]
    total: int
    offset: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An autocomplete choice: ``name`` shown (1-100 chars), ``value`` sent back."""

    name: str
    value: str
