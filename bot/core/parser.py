"""Digest text -> papers, with diagnostics that name the file and line.

The format (see ``seeds/``): optional page-header lines, then entries separated by two or
more blank lines. Inside an entry, blocks are separated by one blank line: title, authors
("Last, First, Last, First, ..."; may be missing), venue, then one or more abstract
paragraphs. Lines of one block are joined with a space. An entry may end with identifier
lines (a URL, ``arXiv:…``, ``doi:…``; see :mod:`bot.core.identifiers`), which become the
paper's :class:`~bot.core.models.Identifiers` and are not part of its abstract.

Parsing never raises on bad content: a malformed entry becomes a :class:`Diagnostic` and
the rest of the file still parses; a file that is not UTF-8 text is rejected whole.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from bot.core import identifiers
from bot.core.models import Author, Diagnostic, Paper, ParseReport
from bot.core.text import fold, identity_form, normalise_space

NBSP = "\u00a0"
ID_LENGTH = 8
# Crockford's base32 alphabet: no i, l, o, u, so ids are easy to read out and type.
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"

# A block this short, not ending in a full stop, can be a venue line.
_VENUE_MAX = 200
# A one-block "entry" this long is a stray abstract paragraph, not a title.
_TITLE_MAX = 400


@dataclass(frozen=True, slots=True)
class _Block:
    line: int  # 1-based line of the block's first line
    text: str  # the block's lines joined by single spaces
    raw_first: str  # the block's first line as written (to spot the no-break-space heading)
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


def _groups(text: str) -> list[list[_Block]]:
    """Split text into entries (2+ blank lines) made of blocks (1 blank line)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    groups: list[list[_Block]] = []
    blocks: list[_Block] = []
    current: list[str] = []
    start = 0
    blank_run = 0

    def close_block() -> None:
        nonlocal current
        if current:
            joined = normalise_space(" ".join(current))
            blocks.append(_Block(line=start, text=joined, raw_first=current[0],
                                 raw=tuple(current)))
            current = []

    def close_group() -> None:
        nonlocal blocks
        close_block()
        if blocks:
            groups.append(blocks)
            blocks = []

    for number, line in enumerate(lines, start=1):
        if not line.strip():  # str.strip() also strips no-break spaces
            blank_run += 1
            continue
        if blank_run >= 2:
            close_group()
        elif blank_run == 1:
            close_block()
        blank_run = 0
        if not current:
            start = number
        current.append(line)
    close_group()
    return groups


def _is_heading_line(block: _Block) -> bool:
    return block.raw_first.startswith(NBSP)


def _looks_like_entry(blocks: list[_Block]) -> bool:
    """An entry has 3+ blocks and either an abstract-length block or an author list."""
    if len(blocks) < 3:
        return False
    return any(len(b.text) > _VENUE_MAX for b in blocks[1:]) or "," in blocks[1].text


def _split_header(groups: list[list[_Block]]) -> tuple[str | None, list[list[_Block]]]:
    """Remove the page header (navigation lines and heading) before the first entry."""
    if not groups:
        return None, groups
    first = groups[0]
    for i, block in enumerate(first):
        if _is_heading_line(block):
            heading = block.text or None
            rest = first[i + 1 :]
            return heading, ([rest] if rest else []) + groups[1:]
    if _looks_like_entry(first):
        return None, groups
    return first[-1].text or None, groups[1:]


def _venue_like(block: _Block) -> bool:
    return len(block.text) <= _VENUE_MAX and not block.text.endswith(".")


def _build_paper(
    title: _Block, authors_block: _Block | None, venue: _Block, abstract: list[_Block]
) -> Paper:
    authors_raw = authors_block.text if authors_block else ""
    authors = parse_authors(authors_raw)
    key = paper_key(title.text, authors)
    return Paper(
        id=short_id(key),
        key=key,
        title=title.text,
        authors=authors,
        authors_raw=authors_raw,
        venue=venue.text,
        abstract="\n\n".join(b.text for b in abstract),
        line=title.line,
    )


def _parse_entry(blocks: list[_Block], path: str) -> tuple[Paper | None, list[Diagnostic]]:
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
            paper = _build_paper(title, second, third, [])
            return paper, [
                Diagnostic(path, title.line, "entry has no abstract (cut short?)", "warning")
            ]
        return _build_paper(title, None, second, [third]), []
    if _venue_like(blocks[2]):
        return _build_paper(title, blocks[1], blocks[2], blocks[3:]), []
    return _build_paper(title, None, blocks[1], blocks[2:]), []


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
    trimmed = _Block(
        line=last.line, text=normalise_space(" ".join(kept)), raw_first=kept[0], raw=kept
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
    blocks: list[_Block], path: str
) -> tuple[Paper | None, list[Diagnostic]]:
    body, lines = _split_identifiers(blocks)
    paper, diagnostics = _parse_entry(body, path)
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
        "identifier lines separated from their entry by two blank lines; "
        "kept with the paper above",
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


def parse_text(text: str, path: str, digest_hash: str = "") -> ParseReport:
    """Parse decoded digest text. Never raises on bad content."""
    heading, groups = _split_header(_groups(text))
    kept = _Kept()
    papers = kept.papers
    seen = kept.by_key
    diagnostics: list[Diagnostic] = []
    for blocks in groups:
        if len(blocks) == 1 and len(blocks[0].text) > _TITLE_MAX and papers:
            # Two blank lines inside an abstract: keep the paragraph with its paper.
            prev = papers[-1]
            kept.put(replace(prev, abstract=(prev.abstract + "\n\n" + blocks[0].text).strip()))
            diagnostics.append(
                Diagnostic(
                    path,
                    blocks[0].line,
                    "paragraph separated from its abstract by two blank lines; "
                    "kept with the paper above",
                    "warning",
                )
            )
            continue
        if papers and _identifiers_only(blocks):
            merged, found = _attach_identifiers(papers[-1], blocks, path)
            kept.put(merged)
            diagnostics.extend(found)
            continue
        paper, found = _parse_entry_with_identifiers(blocks, path)
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


def parse_digest(data: bytes, path: str) -> ParseReport:
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
    return parse_text(text, path, digest_hash)
