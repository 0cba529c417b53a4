"""Digest text -> papers, with diagnostics that name the file and line.

The format (see ``seeds/``): optional page-header lines, then entries separated by two or
more blank lines. Inside an entry, blocks are separated by one blank line: title, authors
("Last, First, Last, First, ..."; may be missing), venue, then one or more abstract
paragraphs. Lines of one block are joined with a space. An entry may end with identifier
lines (a URL, ``arXiv:…``, ``doi:…``; see :mod:`bot.core.identifiers`), which become the
paper's :class:`~bot.core.models.Identifiers` and are not part of its abstract.

Parsing never raises on bad content: a malformed entry becomes a :class:`Diagnostic` and
the rest of the file still parses; a file that is not UTF-8 text is rejected whole.

Entries are bounded (:class:`EntryLimits`): a title, author list, venue, abstract or heading
longer than its limit is cut (at a word, or an author, boundary) with a warning naming its
line, and the entry is kept. No line or block is held beyond ``EntryLimits.line`` characters
while parsing, so one enormous line costs neither time nor memory downstream.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.core import identifiers
from bot.core.models import Author, Diagnostic, Paper, ParseReport
from bot.core.text import cut_text, fold, identity_form, normalise_space, strip_format

NBSP = "\u00a0"
ID_LENGTH = 8
# Crockford's base32 alphabet: no i, l, o, u, so ids are easy to read out and type.
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

# A block this short, not ending in a full stop, can be a venue line.
_VENUE_MAX = 200
# A one-block "entry" this long is a stray abstract paragraph, not a title.
_TITLE_MAX = 400


@dataclass(frozen=True, slots=True)
class EntryLimits:
    """The most characters each part of an entry may have (documented in the README).

    Real papers stay far below (the seed: titles ~100 characters, author lists ~400,
    abstracts ~2,000). A longer part is cut with a warning and its entry kept; ``line``
    bounds every line and block of lines while reading, wherever it is in the file.
    """

    title: int = 1_000  # also the digest heading
    authors: int = 20_000  # the author line, cut at an author boundary
    venue: int = 1_000
    abstract: int = 100_000  # every paragraph, together
    line: int = 100_000


LIMITS = EntryLimits()


@dataclass(frozen=True, slots=True)
class _Block:
    line: int  # 1-based line of the block's first line
    text: str  # the block's lines joined by single spaces
    raw_first: str  # the block's first line as written (to spot the no-break-space heading)
    size: int  # characters the block has in the file (its lines joined), before any cut
    cut: bool  # the block was longer than EntryLimits.line and was cut while reading
    raw: tuple[str, ...] = ()  # the block's lines as written (to find identifier lines)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def paper_key(title: str, authors: tuple[Author, ...]) -> str:
    """The stable identity of a paper: normalised title + first author's folded last name."""
    first = identity_form(authors[0].last or authors[0].display) if authors else ""
    material = identity_form(title) + "\x1f" + first
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def short_id(key: str, length: int = ID_LENGTH) -> str:
    """A short, typeable id from a paper key (Crockford base32 of the key's leading bits)."""
    number = int(key, 16)
    bits = len(key) * 4
    out = []
    for i in range(length):
        shift = bits - 5 * (i + 1)
        out.append(_ID_ALPHABET[(number >> shift) & 31])
    return "".join(out)


def _make_author(last: str, first: str) -> Author:
    last = normalise_space(last)
    first = normalise_space(first)
    display = f"{first} {last}".strip()
    return Author(display=display, last=last, first=first, key=normalise_space(fold(display)))


def parse_authors(raw: str) -> tuple[Author, ...]:
    """Parse "Last, First, Last, First, ..." into authors.

    Also accepts "Last, First; Last, First" lists. Single-word names ("Plato") and an odd
    number of parts never crash: a part left without a partner becomes a one-word author.
    """
    raw = normalise_space(raw)
    if not raw:
        return ()
    authors: list[Author] = []
    if ";" in raw:
        for part in (p.strip() for p in raw.split(";")):
            if not part:
                continue
            if "," in part:
                last, _, first = part.partition(",")
                authors.append(_make_author(last, first))
            else:
                authors.append(_make_author(part, ""))
        return tuple(authors)
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    for i in range(0, len(parts) - 1, 2):
        authors.append(_make_author(parts[i], parts[i + 1]))
    if len(parts) % 2 == 1:
        authors.append(_make_author(parts[-1], ""))
    return tuple(authors)


def _decode(data: bytes, path: str) -> tuple[str | None, Diagnostic | None]:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        return None, Diagnostic(path, line, "not a text file (contains NUL bytes); file skipped")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Diagnostic(
            path, line, f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x}); file skipped"
        )
    return text, None


def _groups(text: str, cap: int) -> list[list[_Block]]:
    """Split text into entries (2+ blank lines) made of blocks (1 blank line).

    A block holds at most ``cap`` characters (about): a longer line is cut and the lines
    after the cap are skipped, their length counted in the block's ``size``.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    groups: list[list[_Block]] = []
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    blank_run = 0
    kept = 0  # characters held in current
    size = 0  # characters of the block in the file
    truncated = False

    def close_block() -> None:
        nonlocal current, kept, size, truncated
        if current:
            joined = normalise_space(" ".join(current))
            if len(joined) > cap:
                joined, truncated = cut_text(joined, cap), True
            blocks.append(_Block(start, joined, current[0], size, truncated, tuple(current)))
            current, kept, size, truncated = [], 0, 0, False

    def close_group() -> None:
        nonlocal blocks
        close_block()
        if blocks:
            groups.append(blocks)
            blocks = []

    for number, line in enumerate(lines, start=1):
        if not line or line.isspace():  # no-break spaces are white space too
            blank_run += 1
            continue
        if blank_run >= 2:
            close_group()
        elif blank_run == 1:
            close_block()
        blank_run = 0
        if not current:
            start = number
        size += len(line) + (1 if current else 0)
        if kept > cap:
            truncated = True
            continue
        piece = line
        if len(line) > cap - kept:
            piece, truncated = cut_text(line, cap - kept + 1), True
        current.append(piece)
        kept += len(piece) + 1
    close_group()
    return groups


def _is_heading_line(block: _Block) -> bool:
    return block.raw_first.startswith(NBSP)


def _looks_like_entry(blocks: list[_Block]) -> bool:
    """An entry has 3+ blocks and either an abstract-length block or an author list."""
    if len(blocks) < 3:
        return False
    return any(len(b.text) > _VENUE_MAX for b in blocks[1:]) or "," in blocks[1].text


def _split_header(groups: list[list[_Block]]) -> tuple[_Block | None, list[list[_Block]]]:
    """Remove the page header (navigation lines and heading) before the first entry."""
    if not groups:
        return None, groups
    first = groups[0]
    for i, block in enumerate(first):
        if _is_heading_line(block):
            rest = first[i + 1 :]
            return block, ([rest] if rest else []) + groups[1:]
    if _looks_like_entry(first):
        return None, groups
    return first[-1], groups[1:]


def _venue_like(block: _Block) -> bool:
    return len(block.text) <= _VENUE_MAX and not block.text.endswith(".")


def _too_long(
    path: str, line: int, what: str, size: int, limit: int, kept: int, whole: str = "entry"
) -> Diagnostic:
    return Diagnostic(
        path,
        line,
        f"{what} has {size:,} characters, more than the {limit:,} allowed; "
        f"cut to {kept:,} ({whole} kept)",
        "warning",
    )


def _cut_authors(raw: str, limit: int) -> str:
    """At most ``limit`` characters of an author line, cut after a whole author."""
    if len(raw) <= limit:
        return raw
    head = raw[: limit + 1]
    sep = ";" if ";" in head else ","
    parts = head.split(sep)[:-1]  # the last part may be cut inside a name
    if sep == "," and len(parts) % 2:
        parts.pop()  # keep whole "Last, First" pairs
    kept = sep.join(parts).strip()
    return kept or cut_text(raw, limit)


def _join_abstract(blocks: list[_Block], limit: int) -> tuple[str, int, bool]:
    """The abstract's paragraphs joined, at most ``limit`` characters; (text, characters in
    the file, whether it was cut)."""
    size = sum(b.size for b in blocks) + 2 * max(len(blocks) - 1, 0)
    parts: list[str] = []
    used = 0
    for block in blocks:
        if used > limit:
            break
        parts.append(block.text)
        used += len(block.text) + 2
    text = "\n\n".join(parts)
    cut = len(parts) < len(blocks) or any(b.cut for b in blocks) or len(text) > limit
    return cut_text(text, limit), size, cut


def _build_paper(
    title: _Block,
    authors_block: _Block | None,
    venue: _Block,
    abstract: list[_Block],
    path: str,
    limits: EntryLimits,
) -> tuple[Paper, list[Diagnostic]]:
    """The paper of an entry's blocks; a part over its limit is cut with a warning."""
    problems: list[Diagnostic] = []

    def bounded(what: str, block: _Block, limit: int, cut: Callable[[str, int], str]) -> str:
        text = cut(block.text, limit)
        if block.cut or len(text) < len(block.text):
            problems.append(_too_long(path, block.line, what, block.size, limit, len(text)))
        return text

    title_text = bounded("title", title, limits.title, cut_text)
    authors_raw = (
        bounded("author list", authors_block, limits.authors, _cut_authors) if authors_block else ""
    )
    venue_text = bounded("venue", venue, limits.venue, cut_text)
    abstract_text, size, cut = _join_abstract(abstract, limits.abstract)
    if cut:
        problems.append(
            _too_long(path, abstract[0].line, "abstract", size, limits.abstract, len(abstract_text))
        )
    authors = parse_authors(authors_raw)
    key = paper_key(title_text, authors)
    paper = Paper(
        id=short_id(key),
        key=key,
        title=title_text,
        authors=authors,
        authors_raw=authors_raw,
        venue=venue_text,
        abstract=abstract_text,
        line=title.line,
    )
    return paper, problems


def _parse_entry(
    blocks: list[_Block], path: str, limits: EntryLimits
) -> tuple[Paper | None, list[Diagnostic]]:
    title = blocks[0]
    if len(blocks) == 1:
        return None, [
            Diagnostic(path, title.line, "entry has a title and nothing else; entry skipped")
        ]
    if len(blocks) == 2:
        return None, [
            Diagnostic(
                path,
                title.line,
                "entry has only two blocks (expected title, authors, venue, abstract); "
                "entry skipped",
            )
        ]
    if len(blocks) == 3:
        second, third = blocks[1], blocks[2]
        if _venue_like(third) and _venue_like(second):
            paper, problems = _build_paper(title, second, third, [], path, limits)
            return paper, [
                Diagnostic(path, title.line, "entry has no abstract (cut short?)", "warning"),
                *problems,
            ]
        return _build_paper(title, None, second, [third], path, limits)
    if _venue_like(blocks[2]):
        return _build_paper(title, blocks[1], blocks[2], blocks[3:], path, limits)
    return _build_paper(title, None, blocks[1], blocks[2:], path, limits)


def _merge_paragraph(
    prev: Paper, block: _Block, path: str, limits: EntryLimits, already_cut: bool
) -> tuple[Paper, list[Diagnostic], bool]:
    """``prev`` with a paragraph that two blank lines separated from its abstract; and
    whether its abstract is now cut."""
    if already_cut:
        return (
            prev,
            [
                Diagnostic(
                    path,
                    block.line,
                    "paragraph separated from its abstract by two blank lines; dropped, the "
                    f"abstract above is already cut to the {limits.abstract:,}-character limit",
                    "warning",
                )
            ],
            True,
        )
    problems = [
        Diagnostic(
            path,
            block.line,
            "paragraph separated from its abstract by two blank lines; kept with the paper above",
            "warning",
        )
    ]
    merged = (prev.abstract + "\n\n" + block.text).strip()
    abstract = cut_text(merged, limits.abstract)
    cut = block.cut or len(abstract) < len(merged)
    if cut:
        size = len(prev.abstract) + 2 + block.size
        problems.append(
            _too_long(path, block.line, "abstract", size, limits.abstract, len(abstract))
        )
    return replace(prev, abstract=abstract), problems, cut


# ---- identifier lines (the rules are in bot.core.identifiers) ---------------------------------


def _split_identifiers(
    blocks: list[_Block],
) -> tuple[list[_Block], list[identifiers.LineIdentifier]]:
    """The entry without its trailing identifier lines, and what those lines say.

    They are the last block when it is made only of identifier lines, or the last lines of
    the last block; the title block is never taken apart.
    """
    if len(blocks) < 2:
        return blocks, []
    last = blocks[-1]
    found = identifiers.trailing(last.raw)
    count = len(found)
    if count == 0:
        return blocks, []
    if count == len(last.raw):
        return blocks[:-1], found
    kept = last.raw[:-count]
    text = normalise_space(" ".join(kept))
    trimmed = _Block(
        line=last.line, text=text, raw_first=kept[0], size=len(text), cut=last.cut, raw=kept
    )
    return [*blocks[:-1], trimmed], found


def _with_identifiers(
    paper: Paper,
    lines: list[str] | list[identifiers.LineIdentifier],
    line: int,
    path: str,
) -> tuple[Paper, list[Diagnostic]]:
    found, warnings = identifiers.collect(lines)
    merged = identifiers.merge(paper.identifiers, found)
    notes = [Diagnostic(path, line, warning, "warning") for warning in warnings]
    return (paper if merged is paper.identifiers else replace(paper, identifiers=merged)), notes


def _parse_entry_with_identifiers(
    blocks: list[_Block], path: str, limits: EntryLimits
) -> tuple[Paper | None, list[Diagnostic]]:
    body, lines = _split_identifiers(blocks)
    paper, diagnostics = _parse_entry(body, path, limits)
    if paper is None or not lines:
        return paper, diagnostics
    paper, notes = _with_identifiers(paper, lines, blocks[-1].line, path)
    return paper, diagnostics + notes


def _identifiers_only(blocks: list[_Block]) -> bool:
    return all(identifiers.is_identifier_block(b.raw) for b in blocks)


def _attach_identifiers(
    paper: Paper, blocks: list[_Block], path: str
) -> tuple[Paper, list[Diagnostic]]:
    """Identifier lines set apart from their entry by two blank lines: the paper above's."""
    lines = [line.strip() for b in blocks for line in b.raw]
    merged, notes = _with_identifiers(paper, lines, blocks[0].line, path)
    note = Diagnostic(
        path,
        blocks[0].line,
        "identifier lines separated from their entry by two blank lines; kept with the paper above",
        "warning",
    )
    return merged, [note, *notes]


def _same_identifier(paper: Paper, seen_ids: dict[str, str]) -> str | None:
    """The key of an earlier paper of the file with the same arXiv id or DOI (one paper)."""
    for id_key in identifiers.identity_keys(paper.identifiers):
        twin = seen_ids.get(id_key)
        if twin is not None and twin != paper.key:
            return twin
    return None


class _Kept:
    """The papers of a file so far, by key, and by arXiv id / DOI."""

    def __init__(self) -> None:
        self.papers: list[Paper] = []
        self.by_key: dict[str, Paper] = {}
        self.position: dict[str, int] = {}
        self.by_id: dict[str, str] = {}  # "arxiv:<id>" / "doi:<doi>" -> paper key

    def add(self, paper: Paper) -> None:
        self.position[paper.key] = len(self.papers)
        self.papers.append(paper)
        self.by_key[paper.key] = paper
        for id_key in identifiers.identity_keys(paper.identifiers):
            self.by_id.setdefault(id_key, paper.key)

    def put(self, paper: Paper) -> None:
        """Replace the kept paper with the same key."""
        self.papers[self.position[paper.key]] = paper
        self.by_key[paper.key] = paper
        for id_key in identifiers.identity_keys(paper.identifiers):
            self.by_id.setdefault(id_key, paper.key)

    def gain(self, key: str, found: Paper) -> None:
        """The kept paper ``key`` learns the identifiers of ``found`` (its repeat)."""
        kept = self.by_key[key]
        merged = identifiers.merge(kept.identifiers, found.identifiers)
        if merged is not kept.identifiers:
            self.put(replace(kept, identifiers=merged))


# ---- the file ----------------------------------------------------------------------------------


def parse_text(
    text: str, path: str, digest_hash: str = "", *, limits: EntryLimits | None = None
) -> ParseReport:
    """Parse decoded digest text. Never raises on bad content.

    ``limits``: the entry bounds (default :data:`LIMITS`, read at call time).
    """
    limits = limits or LIMITS
    cap = max(limits.line, 1)
    # Invisible format characters (zero-width, bidi controls) go before anything else: every
    # field is stored, searched and shown as the text it looks like.
    heading_block, groups = _split_header(_groups(strip_format(text), cap))
    kept = _Kept()
    papers = kept.papers
    seen = kept.by_key
    cut_abstracts: set[str] = set()  # keys of papers whose abstract was cut
    diagnostics: list[Diagnostic] = []
    heading: str | None = None
    if heading_block is not None and heading_block.text:
        heading = cut_text(heading_block.text, limits.title)
        if heading_block.cut or len(heading) < len(heading_block.text):
            diagnostics.append(
                _too_long(
                    path,
                    heading_block.line,
                    "heading",
                    heading_block.size,
                    limits.title,
                    len(heading),
                    whole="digest",
                )
            )
    for blocks in groups:
        if len(blocks) == 1 and len(blocks[0].text) > _TITLE_MAX and papers:
            # Two blank lines inside an abstract: keep the paragraph with its paper.
            prev = papers[-1]
            merged, found, cut = _merge_paragraph(
                prev, blocks[0], path, limits, prev.key in cut_abstracts
            )
            kept.put(merged)
            diagnostics.extend(found)
            if cut:
                cut_abstracts.add(prev.key)
            continue
        if papers and _identifiers_only(blocks):
            merged, found = _attach_identifiers(papers[-1], blocks, path)
            kept.put(merged)
            diagnostics.extend(found)
            continue
        paper, found = _parse_entry_with_identifiers(blocks, path, limits)
        diagnostics.extend(found)
        if paper is None:
            continue
        twin = None if paper.key in seen else _same_identifier(paper, kept.by_id)
        if twin is not None:
            diagnostics.append(
                Diagnostic(
                    path,
                    paper.line,
                    f"has the same arXiv id or DOI as the paper at line {seen[twin].line} "
                    f"({seen[twin].title[:60]!r}): one paper, kept once",
                    "warning",
                )
            )
            kept.gain(twin, paper)
            continue
        if paper.key in seen:
            diagnostics.append(
                Diagnostic(
                    path,
                    paper.line,
                    f"repeats the paper at line {seen[paper.key].line} "
                    f"({paper.title[:60]!r}); kept once",
                    "warning",
                )
            )
            kept.gain(paper.key, paper)
            continue
        if any(d.message.startswith("abstract has ") for d in found):
            cut_abstracts.add(paper.key)
        kept.add(paper)
    if not papers and not any(d.severity == "error" for d in diagnostics):
        diagnostics.append(Diagnostic(path, 1, "no paper entries found", "warning"))
    return ParseReport(
        path=path,
        content_hash=digest_hash,
        heading=heading,
        papers=tuple(papers),
        diagnostics=tuple(diagnostics),
    )


def parse_digest(data: bytes, path: str, *, limits: EntryLimits | None = None) -> ParseReport:
    """Parse one digest file's bytes (UTF-8, with or without BOM; LF, CRLF or CR)."""
    digest_hash = content_hash(data)
    text, problem = _decode(data, path)
    if text is None:
        assert problem is not None
        return ParseReport(
            path=path,
            content_hash=digest_hash,
            heading=None,
            papers=(),
            diagnostics=(problem,),
            ok=False,
        )
    return parse_text(text, path, digest_hash, limits=limits)
