"""Identifier lines in digest entries, and the links they give (pure).

An entry may end with identifier lines (``docs/digest-format.md``): a block made only of
them, or lines at the end of its last block. Each line is exactly one of

* a URL (``https://…`` / ``http://…``, no spaces). An arXiv abs/pdf URL also yields the
  arXiv id, a ``https://doi.org/…`` (or ``dx.doi.org``) URL the DOI;
* ``arXiv:2412.01234``, ``arXiv:2412.01234v2`` or old-style ``arXiv:hep-th/9901001``;
* ``doi:10.…`` / ``DOI: 10.…``.

A line holding anything else (a URL inside a sentence) is not an identifier line.
Also here: the links a paper's identifiers give (abstract page, PDF, doi.org), and a search
for a title when no identifier is known.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from bot.core.models import NO_IDENTIFIERS, Identifiers

ARXIV_ABS = "https://arxiv.org/abs/"
ARXIV_PDF = "https://arxiv.org/pdf/"
DOI_RESOLVER = "https://doi.org/"

# New-style (0704 onwards) and old-style (archive[.SUBJECT]/YYMMNNN) arXiv ids.
_ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[A-Za-z][A-Za-z-]*(?:\.[A-Za-z]{2})?/\d{7})"
_ARXIV_PREFIXED = re.compile(rf"arxiv:\s*(?P<id>{_ARXIV_ID})(?:v\d+)?", re.IGNORECASE)
_ARXIV_PATH = re.compile(rf"/(?:abs|pdf)/(?P<id>{_ARXIV_ID})(?:v\d+)?(?:\.pdf)?/?")
_ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
_DOI = r"10\.\d{4,9}/\S+"
_DOI_PREFIXED = re.compile(rf"doi:\s*(?P<doi>{_DOI})", re.IGNORECASE)
_DOI_PATH = re.compile(rf"/(?P<doi>{_DOI})")
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org"})
# scheme://[userinfo@]host[:port][/path][?query][#fragment], no spaces anywhere
_URL = re.compile(
    r"https?://(?:[^\s/?#@]*@)?(?P<host>[^\s/?#:@]+)(?::\d*)?(?P<path>/[^\s?#]*)?(?:[?#]\S*)?",
    re.IGNORECASE,
)

# A URL that goes into Markdown or a button: at most this long (Discord: 512 for buttons).
URL_MAX = 512


@dataclass(frozen=True, slots=True)
class LineIdentifier:
    """What one identifier line says: a URL (any), an arXiv id, a DOI (one or two of them)."""

    url: str | None = None
    arxiv_id: str | None = None
    doi: str | None = None


def parse_line(line: str) -> LineIdentifier | None:
    """The identifier a line holds, or None when the line is anything else."""
    text = line.strip()
    head = text[:6].lower()
    if head.startswith("arxiv:"):
        match = _ARXIV_PREFIXED.fullmatch(text)
        return None if match is None else LineIdentifier(arxiv_id=match["id"])
    if head.startswith("doi:"):
        match = _DOI_PREFIXED.fullmatch(text)
        return None if match is None else LineIdentifier(doi=match["doi"])
    if not head.startswith("http"):
        return None  # most lines: prose, cheaply
    url = _URL.fullmatch(text)
    if url is None:
        return None
    host = url["host"].lower()
    path = url["path"] or ""
    if host in _ARXIV_HOSTS:
        found = _ARXIV_PATH.fullmatch(path)
        if found is not None:
            return LineIdentifier(url=text, arxiv_id=found["id"])
    if host in _DOI_HOSTS:
        found = _DOI_PATH.fullmatch(unquote(path))
        if found is not None:
            return LineIdentifier(url=text, doi=found["doi"])
    return LineIdentifier(url=text)


_BARE_ARXIV = re.compile(rf"(?P<id>{_ARXIV_ID})(?:v\d+)?")
_BARE_DOI = re.compile(_DOI)


def parse_reference(text: str) -> LineIdentifier | None:
    """What someone typed to name a paper: an identifier line, or a bare arXiv id
    ("2412.01234v2", "hep-th/9901001") or DOI ("10.1000/xyz")."""
    found = parse_line(text)
    if found is not None:
        return found
    text = text.strip()
    match = _BARE_ARXIV.fullmatch(text)
    if match is not None:
        return LineIdentifier(arxiv_id=match["id"])
    if _BARE_DOI.fullmatch(text) is not None:
        return LineIdentifier(doi=text)
    return None


def trailing(lines: Sequence[str]) -> list[LineIdentifier]:
    """The identifiers of the last lines that are identifier lines, in order (empty: the
    block ends with prose)."""
    found: list[LineIdentifier] = []
    for line in reversed(lines):
        parsed = parse_line(line)
        if parsed is None:
            break
        found.append(parsed)
    found.reverse()
    return found


def trailing_count(lines: Sequence[str]) -> int:
    """How many of the last lines are identifier lines (0: the block ends with prose)."""
    return len(trailing(lines))


def is_identifier_block(lines: Sequence[str]) -> bool:
    return bool(lines) and trailing_count(lines) == len(lines)


def _is_special(found: LineIdentifier) -> bool:
    """An arXiv or doi.org link: it gives an id, it is not the paper's own URL."""
    return found.arxiv_id is not None or found.doi is not None


def _is_pdf(url: str) -> bool:
    match = _URL.fullmatch(url)
    return match is not None and (match["path"] or "").lower().endswith(".pdf")


def collect(lines: Sequence[str | LineIdentifier]) -> tuple[Identifiers, list[str]]:
    """The identifiers of an entry's identifier lines (as text, or already parsed), and
    warnings (conflicting ids).

    The first of each kind wins: ``url`` is the first URL that is not an arXiv or doi.org
    link; ``pdf_url`` the arXiv PDF when the arXiv id is known, else the first PDF link.
    """
    url = arxiv_id = doi = pdf = None
    warnings: list[str] = []
    for line in lines:
        found = parse_line(line) if isinstance(line, str) else line
        if found is None:
            continue
        if found.arxiv_id is not None:
            if arxiv_id is None:
                arxiv_id = found.arxiv_id
            elif found.arxiv_id != arxiv_id:
                warnings.append(f"second arXiv id {found.arxiv_id} ignored (kept {arxiv_id})")
        if found.doi is not None:
            if doi is None:
                doi = found.doi
            elif found.doi.lower() != doi.lower():
                warnings.append(f"second DOI {found.doi} ignored (kept {doi})")
        if found.url is not None and not _is_special(found):
            if url is None:
                url = found.url
            if pdf is None and _is_pdf(found.url):
                pdf = found.url
    if arxiv_id is not None:
        pdf = arxiv_pdf_url(arxiv_id)
    if url is None and arxiv_id is None and doi is None and pdf is None:
        return NO_IDENTIFIERS, warnings
    return Identifiers(url=url, arxiv_id=arxiv_id, doi=doi, pdf_url=pdf), warnings


def merge(old: Identifiers, new: Identifiers) -> Identifiers:
    """What a paper knows after ``new`` arrives: each field given in ``new`` wins, a field
    ``new`` leaves unknown keeps its old value (a paper never loses an identifier)."""
    if not new:
        return old
    if not old:
        return new
    arxiv_id = new.arxiv_id or old.arxiv_id
    merged = Identifiers(
        url=new.url or old.url,
        arxiv_id=arxiv_id,
        doi=new.doi or old.doi,
        pdf_url=arxiv_pdf_url(arxiv_id) if arxiv_id else (new.pdf_url or old.pdf_url),
    )
    return old if merged == old else merged


def identity_keys(ids: Identifiers) -> list[str]:
    """Keys under which two entries are one paper: ``arxiv:<id>`` and ``doi:<lower-case>``."""
    keys = []
    if ids.arxiv_id:
        keys.append("arxiv:" + ids.arxiv_id.lower())
    if ids.doi:
        keys.append("doi:" + ids.doi.lower())
    return keys


# ---- links ----------------------------------------------------------------------------------


def arxiv_abs_url(arxiv_id: str) -> str:
    return ARXIV_ABS + arxiv_id


def arxiv_pdf_url(arxiv_id: str) -> str:
    return ARXIV_PDF + arxiv_id


def doi_url(doi: str) -> str:
    """The doi.org link of a DOI (characters a URL cannot hold are percent-encoded)."""
    return DOI_RESOLVER + quote(doi, safe="/:;._-")


def abstract_url(ids: Identifiers) -> str | None:
    """The paper's page: the arXiv abstract page, else its own URL unless that is its PDF."""
    if ids.arxiv_id:
        return arxiv_abs_url(ids.arxiv_id)
    if ids.url and ids.url != ids.pdf_url:
        return ids.url
    return None


def title_url(ids: Identifiers) -> str | None:
    """Where a paper's title links: its URL, else the arXiv abstract page, else doi.org."""
    if ids.url:
        return ids.url
    if ids.arxiv_id:
        return arxiv_abs_url(ids.arxiv_id)
    if ids.doi:
        return doi_url(ids.doi)
    return None


@dataclass(frozen=True, slots=True)
class TitleSearch:
    """A search for a paper's exact title (for a paper without identifiers)."""

    site: str  # "arXiv" or "Semantic Scholar"
    url: str


def title_search(title: str, venue: str = "", limit: int = URL_MAX) -> TitleSearch | None:
    """Search the exact title on arXiv (venue says arXiv) or Semantic Scholar; the URL fits
    in ``limit`` (a long title is cut at a word); None for an empty title."""
    words = title.split()
    if not words:
        return None
    on_arxiv = "arxiv" in venue.lower()
    while words:
        phrase = quote('"' + " ".join(words) + '"', safe="")
        if on_arxiv:
            url = f"https://arxiv.org/search/?query={phrase}&searchtype=title"
        else:
            url = f"https://www.semanticscholar.org/search?q={phrase}"
        if len(url) <= limit:
            return TitleSearch("arXiv" if on_arxiv else "Semantic Scholar", url)
        words = words[:-1]
    return None
