"""Citations: a paper as a BibTeX entry (pure).

The key is the paper id; ``title`` with its capitals protected by braces; ``author`` as
"Last, First and Last, First"; ``year`` (the digest's, when known); ``journal`` (for a venue
that names a journal) or ``howpublished`` = the venue; ``url``, ``doi``, and ``eprint`` +
``archivePrefix = {arXiv}`` when known. Text fields escape LaTeX's special characters, and
braces in digest text become ``\\textbraceleft{}``/``\\textbraceright{}`` (BibTeX counts every
brace, escaped or not, so an escaped lone brace would still unbalance the entry); URL-like
fields are written as they are, with only braces, backslashes and spaces percent-encoded.
bibtexparser and biber read every entry back (tests/core/test_bibtex.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.identifiers import arxiv_abs_url
from bot.core.models import Author, Paper

_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "`": r"\textasciigrave{}",  # also keeps "```" out of a Discord code block
}
_SPECIAL = re.compile("|".join(re.escape(c) for c in _ESCAPES))
_JOURNAL = re.compile(r"\b(journal|transactions|letters|review|magazine|annals)\b", re.I)
_VERBATIM = {"{": "%7B", "}": "%7D", "\\": "%5C", " ": "%20", "`": "%60"}
_AND = re.compile(r"\band\b", re.I)


def escape(text: str) -> str:
    """Digest text as a BibTeX field value: spaces collapsed, LaTeX specials escaped."""
    return _SPECIAL.sub(lambda m: _ESCAPES[m.group(0)], " ".join(text.split()))


def protect_capitals(escaped_title: str) -> str:
    """Brace every word holding a capital, so no style lowercases "SUPERChem" or "Gaussian"."""
    words = escaped_title.split(" ")
    return " ".join(f"{{{w}}}" if any(c.isupper() for c in w) else w for w in words)


def verbatim(value: str) -> str:
    """A URL, DOI or eprint as a field value: as given, minus what would break the entry."""
    return "".join(_VERBATIM.get(c, c) for c in value.strip())


def _name_part(part: str) -> str:
    escaped = escape(part)
    # A comma or the word "and" inside a name would split it: keep such a part whole.
    if "," in escaped or _AND.search(escaped):
        return "{" + escaped + "}"
    return escaped


def name(author: Author) -> str:
    """ "Last, First" (or "Last" alone) as BibTeX reads it."""
    last, first = author.last.strip(), author.first.strip()
    if not last:
        return _name_part(first)
    return f"{_name_part(last)}, {_name_part(first)}" if first else _name_part(last)


def entry_type(venue: str) -> str:
    return "article" if _JOURNAL.search(venue) else "misc"


def fields(
    paper: Paper, year: int | None = None, max_authors: int | None = None
) -> list[tuple[str, str]]:
    """The (name, value) pairs of the entry, values already escaped; with ``max_authors``,
    a longer author list ends with BibTeX's ``and others``."""
    ids = paper.identifiers
    out: list[tuple[str, str]] = [("title", protect_capitals(escape(paper.title or paper.id)))]
    names = [name(a) for a in paper.authors if a.last.strip() or a.first.strip()]
    if max_authors is not None and len(names) > max_authors:
        names = [*names[: max(max_authors, 1)], "others"]
    if names:
        out.append(("author", " and ".join(names)))
    if year is not None:
        out.append(("year", str(year)))
    venue = escape(paper.venue)
    if venue:
        out.append(("journal" if entry_type(paper.venue) == "article" else "howpublished", venue))
    url = ids.url or (arxiv_abs_url(ids.arxiv_id) if ids.arxiv_id else None)
    if url:
        out.append(("url", verbatim(url)))
    if ids.doi:
        out.append(("doi", verbatim(ids.doi)))
    if ids.arxiv_id:
        out += [("eprint", verbatim(ids.arxiv_id)), ("archivePrefix", "arXiv")]
    return out


def entry(paper: Paper, year: int | None = None, max_authors: int | None = None) -> str:
    """One BibTeX entry, ``@misc{id,`` ... ``}``, ending without a newline."""
    pairs = fields(paper, year, max_authors)
    width = max(len(k) for k, _ in pairs)
    body = ",\n".join(f"  {k.ljust(width)} = {{{v}}}" for k, v in pairs)
    return f"@{entry_type(paper.venue)}{{{paper.id},\n{body}\n}}"


def entries(items: Iterable[tuple[Paper, int | None]]) -> Iterable[str]:
    """Entries for (paper, year) pairs, each followed by a blank line."""
    for paper, year in items:
        yield entry(paper, year) + "\n\n"
