"""Parsed feed -> digest text (pure: no network, no files).

:func:`feed_entries` reads what :func:`feedparser.parse` returned (a mapping; feedparser
itself is not imported here) for any of the three shapes the importer knows:

* an **arXiv API** Atom response (``entry/id`` = ``http://arxiv.org/abs/<id>v<n>``, one
  ``author/name`` per author, ``arxiv:doi``, ``arxiv:primary_category``);
* an **arXiv RSS** listing (``rss.arxiv.org``: ``dc:creator`` = "First Last, First Last",
  description = "arXiv:<id>v<n> Announce Type: <type> Abstract: ...", ``arxiv:announce_type``);
* any other **RSS 2.0 / Atom** feed (title, link, description or content, authors).

:func:`digest_text` / :func:`merge_digest` write the entries in the digest format the parser
reads (``docs/feeds.md``; identifier lines as in the identifier contract)::

    \\u00a0<heading>                      (a page heading: lines before the first entry)


    <title>

    <Last, First, Last, First, ...>

    <venue>

    <abstract paragraph>

    <link>
    arXiv:<id>
    doi:<doi>

Every choice here is made so that :func:`bot.core.parser.parse_text` reads the entry back
as written: authors as "Last, First" pairs (";" between authors when one has a single name),
a venue line that is short and does not end in a full stop, an abstract whose first paragraph
cannot be taken for a venue when the authors are missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

from nameparser import HumanName

from bot.core.parser import paper_key, parse_authors, parse_text
from bot.core.text import normalise_space

NBSP = "\u00a0"
VENUE_MAX = 200  # the parser takes a block this short, not ending in ".", for a venue
HEADING_MAX = 200

# arXiv identifiers: new style (2412.01234, v-suffix optional) and old style (hep-th/9901001).
_ARXIV_ID = r"(?:\d{4}\.\d{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_ABS = re.compile(rf"arxiv\.org/(?:abs|pdf)/({_ARXIV_ID})", re.IGNORECASE)
_OAI_ID = re.compile(rf"^oai:arXiv\.org:({_ARXIV_ID})$", re.IGNORECASE)
_ANNOUNCE = re.compile(
    rf"^\s*arXiv:(?P<id>{_ARXIV_ID})\s+Announce Type:\s*(?P<type>[\w-]+)\s*(?:Abstract:\s*)?",
    re.IGNORECASE,
)
_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_EMAIL_NAME = re.compile(r"^\s*\S+@\S+\s*\((?P<name>[^)]+)\)\s*$")
_AND = re.compile(r"\s*(?:,\s*and\s+|\s+and\s+|&)\s*", re.IGNORECASE)
# A capitalised word without dots or commas; two of them make a plain "First Last" name.
_PLAIN_WORD = re.compile(r"^[^\W\d_][^\s.,;()]*$")
# Two-word names nameparser should see: titles, suffixes, particles.
_NOT_PLAIN = frozenset(
    {
        "dr", "prof", "mr", "mrs", "ms", "sir", "jr", "sr", "ii", "iii", "iv", "phd", "md",
        "van", "von", "de", "del", "della", "di", "da", "du", "le", "la", "dos", "das", "ter",
        "ten", "bin", "al", "el",
    }
)  # fmt: skip
_LEADING_AND = re.compile(r"^(?:and|&)\s+", re.IGNORECASE)
_GROUP = re.compile(r"\b(?:collaboration|consortium|team|group|collective|project)\b", re.I)

# What --exclude NAME drops from an arXiv RSS listing.
EXCLUDE_CHOICES: dict[str, frozenset[str]] = {
    "replace": frozenset({"replace", "replace-cross"}),
    "cross": frozenset({"cross", "replace-cross"}),
}


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One feed entry, ready to be written as a digest entry."""

    title: str
    authors: tuple[tuple[str, str], ...]  # (last, first); first may be "" (single name)
    venue: str
    abstract: tuple[str, ...]  # paragraphs, one line each
    link: str | None = None
    arxiv_id: str | None = None  # with its version when the feed gives one
    doi: str | None = None
    announce_type: str | None = None  # arXiv RSS: new, cross, replace, replace-cross

    @property
    def authors_line(self) -> str:
        return authors_line(self.authors)

    @property
    def key(self) -> str:
        """The paper key the parser will give this entry (title + first author)."""
        return paper_key(self.title, parse_authors(self.authors_line))

    def identifier_lines(self) -> list[str]:
        lines = []
        if self.link:
            lines.append(self.link)
        if self.arxiv_id:
            lines.append(f"arXiv:{self.arxiv_id}")
        if self.doi:
            lines.append(f"doi:{self.doi}")
        return lines


@dataclass(frozen=True, slots=True)
class Converted:
    """The entries of one feed, and what was left out (with why)."""

    kind: str  # "arxiv-api", "arxiv-rss" or "feed"
    title: str  # the feed's title, as plain text ("" when it has none)
    entries: tuple[FeedEntry, ...]
    excluded: int = 0  # left out by announce type (--exclude)
    skipped: tuple[str, ...] = field(default_factory=tuple)  # "entry N: reason"


class NotAFeed(ValueError):
    """The document parsed, but is an error report rather than a list of papers."""


# ---- text ---------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip


class _TextExtractor(HTMLParser):
    """HTML -> paragraphs: block-level tags end a paragraph; script/style are dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skip = 0

    def _flush(self) -> None:
        text = normalise_space("".join(self._current))
        if text:
            self.paragraphs.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def html_paragraphs(markup: str) -> list[str]:
    """The text of an HTML fragment, as paragraphs (one line each, entities decoded)."""
    extractor = _TextExtractor()
    extractor.feed(markup)
    extractor.close()
    return extractor.paragraphs


def text_paragraphs(text: str) -> list[str]:
    """Plain text -> paragraphs: blank lines separate them, other line breaks are spaces."""
    return [p for p in (normalise_space(b) for b in re.split(r"\n\s*\n", text)) if p]


def _detail_paragraphs(value: str, detail: Mapping[str, Any] | None) -> list[str]:
    kind = str((detail or {}).get("type") or "text/html")
    if "html" in kind:
        return html_paragraphs(value)
    return text_paragraphs(value)


def _plain(value: object, detail: object = None) -> str:
    """A one-line plain text of a title-like field (HTML decoded when typed as HTML)."""
    if not isinstance(value, str):
        return ""
    mapping = detail if isinstance(detail, Mapping) else None
    return normalise_space(" ".join(_detail_paragraphs(value, mapping)))


# ---- names --------------------------------------------------------------------------------


def _clean_part(text: str) -> str:
    # A comma or semicolon inside a name part would split it when the line is read back.
    return normalise_space(text.replace(",", " ").replace(";", " "))


@lru_cache(maxsize=65536)
def name_parts(name: str) -> tuple[str, str]:
    """A display name ("Vincent van der Berg") -> (last, first) ("van der Berg", "Vincent").

    nameparser knows particles (van der, de la, von), suffixes (Jr., III) and "Last, First"
    input. A single name ("Plato") and a group ("H1 Collaboration") have no first name.
    """
    name = normalise_space(name)
    if not name:
        return "", ""
    if _GROUP.search(name) or " " not in name.strip(",; "):
        return _clean_part(name), ""
    words = name.split(" ")
    if (
        len(words) == 2
        and all(_PLAIN_WORD.match(w) for w in words)
        and not ({w.lower() for w in words} & _NOT_PLAIN)
    ):
        # "Zihan Yao": most names, and nameparser costs ~0.2 ms each.
        return words[1], words[0]
    parsed = HumanName(name)
    first = " ".join(p for p in (parsed.first, parsed.middle) if p)
    last = parsed.last
    if not last:  # "Smith Jr": nameparser sees a first name and a suffix
        last, first = first, ""
    last = " ".join(p for p in (last, parsed.suffix) if p)
    if not last:
        return _clean_part(name), ""
    return _clean_part(last), _clean_part(first)


def split_names(raw: str, *, comma_list: bool = False) -> list[str]:
    """One author field -> display names.

    "Ada Lovelace, Alan Turing and Grace Hopper" (arXiv RSS ``dc:creator``; ``comma_list``)
    gives three names; "editor@x.org (Jane Doe)" gives "Jane Doe"; elsewhere a comma splits
    only a list of full names ("Smith, John" stays one inverted name).
    """
    raw = normalise_space(raw)
    match = _EMAIL_NAME.match(raw)
    if match:
        raw = normalise_space(match.group("name"))
    if not raw:
        return []
    if ";" in raw:
        parts = raw.split(";")
    elif "," in raw:
        pieces = [p for p in (x.strip() for x in raw.split(",")) if p]
        full = sum(1 for p in pieces if " " in p.strip())
        # "Smith, John" is one inverted name; "Ada Lovelace, Alan Turing" is a list.
        parts = pieces if comma_list or len(pieces) > 2 or full >= 2 else [raw]
    else:
        parts = [raw]
    names: list[str] = []
    for part in parts:
        part = _LEADING_AND.sub("", part.strip())  # "A, B, and C": the last piece
        names.extend(n for n in (normalise_space(x) for x in _AND.split(part)) if n)
    return names


def authors_line(authors: Sequence[tuple[str, str]]) -> str:
    """(last, first) pairs -> the digest's author line, read back by ``parse_authors``.

    "Last, First, Last, First" when every author has a first name; otherwise "; " between
    authors ("Yao, Zihan; Plato"), which the parser also reads.
    """
    if all(first for _, first in authors):
        return ", ".join(f"{last}, {first}" for last, first in authors)
    return "; ".join(f"{last}, {first}" if first else last for last, first in authors)


# ---- entries ------------------------------------------------------------------------------


def _feed_kind(parsed: Mapping[str, Any]) -> str:
    feed = parsed.get("feed") or {}
    entries = parsed.get("entries") or []
    if any(e.get("arxiv_announce_type") for e in entries):
        return "arxiv-rss"
    if str(feed.get("id", "")).startswith(("http://arxiv.org/api/", "https://arxiv.org/api/")):
        return "arxiv-api"
    if any(e.get("arxiv_primary_category") for e in entries):
        return "arxiv-api"
    return "feed"


def _arxiv_id(*candidates: object) -> str | None:
    for value in candidates:
        if not isinstance(value, str):
            continue
        text = value.strip()
        found = _ARXIV_ABS.search(text) or _OAI_ID.match(text)
        if found:
            return found.group(1)
    return None


def _doi(entry: Mapping[str, Any]) -> str | None:
    candidates: list[object] = [
        entry.get("arxiv_doi"),
        entry.get("prism_doi"),
        entry.get("dc_identifier"),
    ]
    candidates += [
        link.get("href")
        for link in entry.get("links") or []
        if str(link.get("title", "")).lower() == "doi"
    ]
    for value in candidates:
        if not isinstance(value, str):
            continue
        doi = _DOI_PREFIX.sub("", value.strip())
        if _DOI.match(doi):
            return doi
    return None


def _link(entry: Mapping[str, Any]) -> str | None:
    link = entry.get("link")
    if not isinstance(link, str):
        for candidate in entry.get("links") or []:
            if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                link = candidate["href"]
                break
    if not isinstance(link, str):
        guid = entry.get("id")
        link = guid if isinstance(guid, str) and entry.get("guidislink") else None
    if not link:
        return None
    link = link.strip().replace(" ", "%20")
    return link if re.match(r"^https?://\S+$", link, re.IGNORECASE) else None


def _names(entry: Mapping[str, Any], comma_list: bool) -> list[str]:
    raw: list[str] = [
        str(a["name"])
        for a in entry.get("authors") or []
        if isinstance(a, Mapping) and a.get("name")
    ]
    if not raw and isinstance(entry.get("author"), str):
        raw = [entry["author"]]
    names: list[str] = []
    for value in raw:
        names.extend(split_names(value, comma_list=comma_list))
    return names


def _summary(entry: Mapping[str, Any]) -> list[str]:
    summary = entry.get("summary")
    if isinstance(summary, str) and summary.strip():
        return _detail_paragraphs(summary, entry.get("summary_detail"))
    for content in entry.get("content") or []:
        value = content.get("value")
        if isinstance(value, str) and value.strip():
            return _detail_paragraphs(value, content)
    return []


def _venue(kind: str, entry: Mapping[str, Any], feed_title: str, fallback: str) -> str:
    venue = ""
    if kind == "arxiv-api":
        primary = entry.get("arxiv_primary_category") or {}
        term = primary.get("term") if isinstance(primary, Mapping) else None
        venue = f"arXiv {term}" if term else "arXiv"
    elif kind == "arxiv-rss":
        tags = [t.get("term") for t in entry.get("tags") or [] if t.get("term")]
        venue = f"arXiv {tags[0]}" if tags else "arXiv"
    if not venue:
        venue = feed_title or fallback
    return venue_line(venue)


def venue_line(text: str) -> str:
    """A venue the parser reads as one: one line, at most 200 characters, no final '.'."""
    text = normalise_space(text)
    if len(text) > VENUE_MAX:
        text = text[: VENUE_MAX - 1].rsplit(" ", 1)[0] + "…"
    return text.rstrip(". ") or "feed"


def feed_entries(
    parsed: Mapping[str, Any],
    *,
    fallback_venue: str = "feed",
    exclude: Iterable[str] = (),
) -> Converted:
    """The entries of a parsed feed, in feed order, without repeats.

    ``exclude`` holds arXiv announce types to leave out (``replace``, ``cross``,
    ``replace-cross``); entries without an announce type are always kept. Entries the digest
    format cannot hold (no title; neither authors nor an abstract) are skipped with a reason.
    Raises :class:`NotAFeed` for an arXiv API error response.
    """
    kind = _feed_kind(parsed)
    feed = parsed.get("feed") or {}
    feed_title = _plain(feed.get("title"), feed.get("title_detail"))
    raw_entries: list[Mapping[str, Any]] = list(parsed.get("entries") or [])
    if kind == "arxiv-api" and len(raw_entries) == 1:
        only = raw_entries[0]
        if "arxiv.org/api/errors" in str(only.get("id", "")):
            raise NotAFeed(f"arXiv API error: {_plain(only.get('summary')) or 'unknown'}")
    excluded_types = frozenset(exclude)
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    seen: set[str] = set()
    excluded = 0
    for number, raw in enumerate(raw_entries, start=1):
        paragraphs = _summary(raw)
        announce = raw.get("arxiv_announce_type")
        announce_type = str(announce).strip().lower() if announce else None
        arxiv_id = None
        if paragraphs:
            found = _ANNOUNCE.match(paragraphs[0])
            if found:
                arxiv_id = found.group("id")
                announce_type = announce_type or found.group("type").lower()
                rest = paragraphs[0][found.end() :].strip()
                paragraphs = ([rest] if rest else []) + paragraphs[1:]
        if announce_type and announce_type in excluded_types:
            excluded += 1
            continue
        title = _plain(raw.get("title"), raw.get("title_detail"))
        if not title:
            skipped.append(f"entry {number}: no title; skipped")
            continue
        authors = tuple(
            parts for parts in (name_parts(n) for n in _names(raw, kind == "arxiv-rss")) if parts[0]
        )
        link = _link(raw)
        arxiv_id = arxiv_id or _arxiv_id(raw.get("id"), link, raw.get("guid"))
        entry = FeedEntry(
            title=title,
            authors=authors,
            venue=_venue(kind, raw, feed_title, fallback_venue),
            abstract=tuple(paragraphs),
            link=link,
            arxiv_id=arxiv_id,
            doi=_doi(raw),
            announce_type=announce_type,
        )
        fitted, reason = _fit(entry)
        if fitted is None:
            skipped.append(f"entry {number} ({title[:60]!r}): {reason}; skipped")
            continue
        if fitted.key in seen:
            continue
        seen.add(fitted.key)
        entries.append(fitted)
    return Converted(kind, feed_title, tuple(entries), excluded, tuple(skipped))


def _fit(entry: FeedEntry) -> tuple[FeedEntry | None, str]:
    """Adjust an entry so the parser reads it back as written, or say why it cannot be."""
    abstract = entry.abstract
    if not entry.authors:
        if not abstract:
            return None, "neither authors nor an abstract (the digest format needs one)"
        first = abstract[0]
        if len(first) <= VENUE_MAX and not first.endswith("."):
            # Without an author line, a short first paragraph would be read as the venue.
            abstract = (first + ".", *abstract[1:])
        return _replace(entry, abstract=abstract), ""
    if not abstract and len(authors_block(entry)) > VENUE_MAX:
        return None, "no abstract, and an author list too long to tell from a venue"
    return entry, ""


def _replace(entry: FeedEntry, *, abstract: tuple[str, ...]) -> FeedEntry:
    return FeedEntry(
        entry.title, entry.authors, entry.venue, abstract, entry.link, entry.arxiv_id,
        entry.doi, entry.announce_type,
    )  # fmt: skip


# ---- digest text --------------------------------------------------------------------------


def authors_block(entry: FeedEntry) -> str:
    """The author line as written: :func:`authors_line`, except in an entry without an
    abstract, where the parser reads (title, authors, venue) only when the author line does
    not end in a full stop; there a trailing ";" ends the last author instead."""
    line = entry.authors_line
    if entry.abstract or not line.endswith("."):
        return line
    return "; ".join(f"{last}, {first}" if first else last for last, first in entry.authors) + ";"


def format_entry(entry: FeedEntry) -> str:
    """One digest entry: blocks separated by one blank line, no trailing newline."""
    blocks = [entry.title]
    if entry.authors:
        blocks.append(authors_block(entry))
    blocks.append(entry.venue)
    blocks.extend(entry.abstract)
    ids = entry.identifier_lines()
    if ids:
        blocks.append("\n".join(ids))
    return "\n\n".join(blocks)


def heading_line(text: str) -> str:
    """The page heading: a first line starting with a no-break space (see the parser)."""
    return NBSP + (normalise_space(text)[:HEADING_MAX] or "feed")


def digest_text(entries: Sequence[FeedEntry], heading: str) -> str:
    """A whole digest file: the heading, then the entries, two blank lines apart."""
    parts = [heading_line(heading), *(format_entry(e) for e in entries)]
    return "\n\n\n".join(parts) + "\n"


@dataclass(frozen=True, slots=True)
class Merged:
    text: str | None  # the new file content; None when nothing is new
    added: int
    duplicates: int


def merge_digest(
    existing: str | None, entries: Sequence[FeedEntry], heading: str, path: str = "digest"
) -> Merged:
    """Add ``entries`` to a digest file's text, leaving out the papers it already holds.

    Papers are the same when the parser gives them the same key (title and first author).
    The existing text is kept byte for byte, so a file that gains nothing is not rewritten.
    """
    known: set[str] = set()
    if existing is not None:
        known = {p.key for p in parse_text(existing, path).papers}
    new: list[FeedEntry] = []
    for entry in entries:
        key = entry.key
        if key in known:
            continue
        known.add(key)
        new.append(entry)
    duplicates = len(entries) - len(new)
    if not new:
        return Merged(None, 0, duplicates)
    if existing is None or not existing.strip():
        return Merged(digest_text(new, heading), len(new), duplicates)
    body = "\n\n\n".join(format_entry(e) for e in new)
    return Merged(existing.rstrip() + "\n\n\n" + body + "\n", len(new), duplicates)


def feed_to_digest(parsed: Mapping[str, Any], heading: str, *, exclude: Iterable[str] = ()) -> str:
    """Parsed feed data -> the digest text of its entries (empty string: no entries)."""
    converted = feed_entries(parsed, exclude=exclude)
    return digest_text(converted.entries, heading) if converted.entries else ""
