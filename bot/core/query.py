"""The query language, one for ``/search`` and for subscriptions (DESIGN.md §3).

``scaling laws``            every term is required; hits are ranked by BM25
``"feature learning"``      a phrase: its words consecutive (common words are skipped)
``author:barbier``          an author; accent-, case- and order-insensitive, initials allowed:
                            ``author:"jean barbier"``, ``author:"J. Barbier"``
``venue:neurips``           a venue: words of its name, its acronym or a known alias
                            ("neurips" finds "Neural Information Processing Systems")
``-chemistry``              exclusion; also ``-"phrase"``, ``-author:x``, ``-venue:x``

What it does not have is refused with a message that says what it has: other fields
(``title:x``, ``year:2020``: a word, letters only, then a colon and a value) and the
operators ``OR`` and ``NOT`` in capitals (``and``, ``or``, ``not`` in lower case are common
words; ``AND`` is what the language does anyway).

Several ``author:`` filters must all hold (co-authors); several ``venue:`` filters are
alternatives (a paper has one venue). :func:`parse_query` turns text into a frozen
:class:`ParsedQuery` or raises :class:`QueryError` whose message says what to fix.

:func:`matches` decides whether ONE paper (a :class:`MatchDoc`) satisfies a query. The search
index evaluates the same clause predicates (:func:`has_phrase`, :func:`author_matches`,
:func:`venue_matches`) over its postings, so ``/search`` is the preview of a subscription.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.core.models import Paper
from bot.core.text import (
    STOPWORDS,
    document_terms,
    fold,
    phrase_terms,
    query_terms,
)

MAX_QUERY_LENGTH = 300

ErrorCode = Literal[
    "empty",
    "too_long",
    "unbalanced_quote",
    "empty_phrase",
    "empty_field",
    "initials_only",
    "stopwords_only",
    "exclusions_only",
    "unknown_field",
    "operator",
]

# Said whenever a query asks for something the language does not have.
LANGUAGE = (
    'The query language has words (all required), "phrases", author:name, venue:name and '
    "-exclusions (-word)."
)


class QueryError(ValueError):
    """A query that cannot be understood; ``str(error)`` says what to fix."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code


# --------------------------------------------------------------------------------------------
# Names and venues
# --------------------------------------------------------------------------------------------

_NAME_SPLIT = re.compile(r"[^\w'’‘ʼ\-‐‑–]+|_")
_NAME_LINK = re.compile(r"['’‘ʼ\-‐‑–]+")


def name_words(name: str) -> frozenset[str]:
    """The folded words of a person's name, for order-insensitive matching.

    "García-López, Ana" -> {garcia, lopez, garcialopez, ana}; "O'Brien" -> {o, brien, obrien}.
    """
    out: set[str] = set()
    for chunk in _NAME_SPLIT.split(name.lower() if name.isascii() else fold(name)):
        pieces = [p for p in _NAME_LINK.split(chunk) if p]
        out.update(pieces)
        if len(pieces) > 1:
            out.add("".join(pieces))
    return frozenset(out)


def author_query_words(value: str) -> tuple[str, ...]:
    """Words of an ``author:`` value; chained names are joined ("o'brien" -> "obrien")."""
    words: list[str] = []
    for chunk in _NAME_SPLIT.split(fold(value)):
        pieces = [p for p in _NAME_LINK.split(chunk) if p]
        if pieces:
            words.append("".join(pieces))
    return tuple(dict.fromkeys(words))


def author_matches(words: Sequence[str], author_words: frozenset[str]) -> bool:
    """Whether one author (their :func:`name_words`) has every filter word.

    A one-letter filter word is an initial: it matches any name word starting with it.
    """
    for word in words:
        if len(word) == 1:
            if not any(w.startswith(word) for w in author_words):
                return False
        elif word not in author_words:
            return False
    return True


def venue_words(venue: str) -> tuple[str, ...]:
    """The folded words of a venue name ("arXiv.org Machine Learning" -> arxiv org machine...)."""
    return tuple(w for w in re.split(r"[\W_]+", fold(venue)) if w)


# What people type -> names the venue may carry. Each alternative is matched as consecutive
# words of the venue name; acronyms of the venue's own words also match (see venue_matches).
VENUE_ALIASES: Mapping[str, tuple[str, ...]] = {
    "neurips": ("neurips", "nips", "neural information processing systems"),
    "nips": ("neurips", "nips", "neural information processing systems"),
    "icml": ("icml", "international conference on machine learning"),
    "iclr": ("iclr", "international conference on learning representations"),
    "colt": ("colt", "conference on learning theory"),
    "aistats": ("aistats", "artificial intelligence and statistics"),
    "uai": ("uai", "uncertainty in artificial intelligence"),
    "aaai": ("aaai", "aaai conference on artificial intelligence"),
    "ijcai": ("ijcai", "international joint conference on artificial intelligence"),
    "cvpr": ("cvpr", "computer vision and pattern recognition"),
    "iccv": ("iccv", "international conference on computer vision"),
    "eccv": ("eccv", "european conference on computer vision"),
    "acl": ("acl", "association for computational linguistics"),
    "emnlp": ("emnlp", "empirical methods in natural language processing"),
    "naacl": ("naacl", "north american chapter of the association for computational linguistics"),
    "kdd": ("kdd", "knowledge discovery and data mining"),
    "jmlr": ("jmlr", "journal of machine learning research"),
    "tmlr": ("tmlr", "transactions on machine learning research"),
    "pami": ("pami", "pattern analysis and machine intelligence"),
    "prl": ("prl", "physical review letters"),
    "arxiv": ("arxiv",),
}

_VENUE_STOPWORDS = STOPWORDS | {"proceedings", "annual", "th"}


def _acronym(words: Sequence[str]) -> str:
    return "".join(w[0] for w in words if w not in _VENUE_STOPWORDS and not w.isdigit())


def _contains_run(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0 or n > len(haystack):
        return False
    first = needle[0]
    return any(
        haystack[i] == first and tuple(haystack[i : i + n]) == tuple(needle)
        for i in range(len(haystack) - n + 1)
    )


def venue_matches(alternatives: Sequence[tuple[str, ...]], words: Sequence[str]) -> bool:
    """Whether a venue (its :func:`venue_words`) matches one of a filter's alternatives.

    An alternative matches when its words appear consecutively in the venue's name, or when
    it is one word (3+ letters, or 2 covering the whole name) spelling the initials of
    consecutive significant words of the name ("nips", "icml", "cvpr", "ml").
    """
    if not words:
        return False
    initials = _acronym(words)
    for alt in alternatives:
        if _contains_run(words, alt):
            return True
        if len(alt) == 1 and alt[0].isalpha():
            word = alt[0]
            if (len(word) >= 3 and word in initials) or (len(word) == 2 and word == initials):
                return True
    return False


def _venue_alternatives(value: str) -> tuple[tuple[str, ...], ...]:
    words = venue_words(value)
    if not words:
        return ()
    alts: dict[tuple[str, ...], None] = {words: None}
    joined = "".join(words)
    for name in VENUE_ALIASES.get(joined, ()):
        alts[venue_words(name)] = None
    return tuple(alts)


# --------------------------------------------------------------------------------------------
# The parsed query
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words that must appear consecutively; ``terms`` are their indexed forms."""

    text: str
    terms: tuple[str, ...]

    def __str__(self) -> str:
        return f'"{self.text}"'


@dataclass(frozen=True, slots=True)
class AuthorFilter:
    """``author:`` — ``words`` are folded name words, one-letter words are initials."""

    text: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f'author:"{self.text}"' if " " in self.text else f"author:{self.text}"


@dataclass(frozen=True, slots=True)
class VenueFilter:
    """``venue:`` — alternatives of consecutive folded words (aliases expanded)."""

    text: str
    alternatives: tuple[tuple[str, ...], ...]

    def __str__(self) -> str:
        return f'venue:"{self.text}"' if " " in self.text else f"venue:{self.text}"


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query, understood. Every clause must hold (``venues``: any one of them).

    ``terms`` are the words' indexed forms (stemmed, stopwords gone) in query order, without
    repeats; :attr:`required_terms` adds the phrases' terms: the terms every hit contains,
    which the index ranks by BM25 (and a subscription index may key on the rarest of).
    """

    text: str
    terms: tuple[str, ...] = ()
    words: tuple[str, ...] = ()  # the plain words as typed (for display and suggestions)
    phrases: tuple[Phrase, ...] = ()
    authors: tuple[AuthorFilter, ...] = ()
    venues: tuple[VenueFilter, ...] = ()
    exclude_terms: tuple[str, ...] = ()
    exclude_phrases: tuple[Phrase, ...] = ()
    exclude_authors: tuple[AuthorFilter, ...] = ()
    exclude_venues: tuple[VenueFilter, ...] = ()

    @property
    def required_terms(self) -> tuple[str, ...]:
        out = dict.fromkeys(self.terms)
        for phrase in self.phrases:
            out.update(dict.fromkeys(phrase.terms))
        return tuple(out)

    @property
    def has_exclusions(self) -> bool:
        return bool(
            self.exclude_terms
            or self.exclude_phrases
            or self.exclude_authors
            or self.exclude_venues
        )

    def __str__(self) -> str:
        """A canonical spelling of the query (what a subscription shows)."""
        parts: list[str] = list(self.words)
        parts += [str(p) for p in self.phrases]
        parts += [str(a) for a in self.authors]
        parts += [str(v) for v in self.venues]
        parts += [f"-{t}" for t in self.exclude_terms]
        parts += [f"-{p}" for p in self.exclude_phrases]
        parts += [f"-{a}" for a in self.exclude_authors]
        parts += [f"-{v}" for v in self.exclude_venues]
        return " ".join(parts)


_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "＂": '"'})
_FIELD_RE = re.compile(r"(author|venue):", re.IGNORECASE)
_OTHER_FIELD_RE = re.compile(r"([^\W\d_]+):(?=[^\s:])")  # title:x, year:2020 (not "Note: x")


def _shorten(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _refuse_what_the_language_lacks(text: str, i: int) -> None:
    """Raise :class:`QueryError` when the token at ``text[i]`` is a field other than author:
    and venue:, or the operator OR or NOT."""
    other = _OTHER_FIELD_RE.match(text, i)
    if other:
        name = other.group(1).lower()
        raise QueryError(
            "unknown_field",
            f"There is no {name}: field: words are searched in titles, abstracts and author "
            f'names, so write them without "{name}:". {LANGUAGE}',
        )
    word = text[i:].split(maxsplit=2)
    if word[0] == "OR":
        raise QueryError(
            "operator",
            "OR is not supported: every word is required, so run one search for each "
            f"alternative. {LANGUAGE}",
        )
    if word[0] == "NOT":
        after = word[1] if len(word) > 1 else "word"
        raise QueryError(
            "operator",
            f"NOT is not supported: to leave a word out, put - in front of it: -{after}. "
            f"{LANGUAGE}",
        )


def parse_query(text: str) -> ParsedQuery:
    """Parse a query (see the module doc); raise :class:`QueryError` saying what to fix."""
    raw = text
    text = text.translate(_QUOTES).strip()
    if not text:
        raise QueryError("empty", "The query is empty: type a few words, e.g. scaling laws.")
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(
            "too_long",
            f"The query is {len(text)} characters long; shorten it to at most {MAX_QUERY_LENGTH}.",
        )
    if text.count('"') % 2:
        start = text.rindex('"')
        raise QueryError(
            "unbalanced_quote",
            f'Unbalanced quote: the phrase starting at "{_shorten(text[start + 1 :])}" has no '
            'closing ". Add it, or remove the opening one.',
        )

    terms: list[str] = []
    words: list[str] = []
    phrases: list[Phrase] = []
    authors: list[AuthorFilter] = []
    venues: list[VenueFilter] = []
    ex_terms: list[str] = []
    ex_phrases: list[Phrase] = []
    ex_authors: list[AuthorFilter] = []
    ex_venues: list[VenueFilter] = []
    stopwords_seen: list[str] = []

    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        negate = False
        if text[i] == "-" and i + 1 < n and not text[i + 1].isspace():
            negate = True
            i += 1
        field: str | None = None
        match = _FIELD_RE.match(text, i)
        if match:
            field = match.group(1).lower()
            i = match.end()
        else:
            _refuse_what_the_language_lacks(text, i)
        if i < n and text[i] == '"':
            end = text.index('"', i + 1)
            value, quoted = text[i + 1 : end], True
            i = end + 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] != '"':
                end += 1
            value, quoted = text[i:end], False
            i = end
        value = " ".join(value.split())

        if field is not None:
            if not value:
                example = "barbier" if field == "author" else "neurips"
                raise QueryError(
                    "empty_field",
                    f"{field}: needs a value right after the colon, e.g. {field}:{example} or "
                    f'{field}:"two words".',
                )
            if field == "author":
                name = author_query_words(value)
                if not any(len(w) > 1 for w in name):
                    raise QueryError(
                        "initials_only",
                        f"author:{value} has only initials; add the last name, e.g. "
                        'author:"j barbier".',
                    )
                (ex_authors if negate else authors).append(AuthorFilter(value, name))
            else:
                alts = _venue_alternatives(value)
                if not alts:
                    raise QueryError(
                        "empty_field",
                        f"venue:{value} has no letters or digits; write a venue name, "
                        "e.g. venue:neurips.",
                    )
                (ex_venues if negate else venues).append(VenueFilter(value, alts))
            continue

        if quoted:
            if not value:
                raise QueryError(
                    "empty_phrase", 'Empty phrase "": put words between the quotes or remove them.'
                )
            pterms = tuple(phrase_terms(value))
            if not pterms:
                raise QueryError(
                    "stopwords_only",
                    f'The phrase "{_shorten(value)}" has only common words, which are not '
                    "indexed; use more specific words.",
                )
            (ex_phrases if negate else phrases).append(Phrase(value, pterms))
            continue

        found = query_terms(value)
        if not found:
            if any(ch.isalnum() for ch in value):
                stopwords_seen.append(value)
            continue
        if negate:
            ex_terms.extend(t for t in found if t not in ex_terms)
        else:
            words.append(value)
            terms.extend(t for t in found if t not in terms)

    if not (terms or phrases or authors or venues):
        if ex_terms or ex_phrases or ex_authors or ex_venues:
            raise QueryError(
                "exclusions_only",
                "The query only excludes (-word); add a word, phrase, author: or venue: to "
                "search for, e.g. scaling -chemistry.",
            )
        if stopwords_seen:
            listed = ", ".join(f'"{w}"' for w in stopwords_seen[:4])
            raise QueryError(
                "stopwords_only",
                f"The query has only common words ({listed}), which are not indexed; add a "
                "more specific word.",
            )
        raise QueryError(
            "empty", f'"{_shorten(raw)}" has no words to search for; type a few words.'
        )
    return ParsedQuery(
        text=raw,
        terms=tuple(terms),
        words=tuple(words),
        phrases=tuple(phrases),
        authors=tuple(authors),
        venues=tuple(venues),
        exclude_terms=tuple(ex_terms),
        exclude_phrases=tuple(ex_phrases),
        exclude_authors=tuple(ex_authors),
        exclude_venues=tuple(ex_venues),
    )


# --------------------------------------------------------------------------------------------
# Matching ONE paper (subscriptions; and the semantics the index reproduces over postings)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchDoc:
    """What a query is matched against: a paper's terms with positions, authors and venue."""

    positions: Mapping[str, tuple[int, ...]]
    authors: tuple[frozenset[str], ...]
    venue: tuple[str, ...]

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(self.positions)


def match_doc(paper: Paper) -> MatchDoc:
    """The :class:`MatchDoc` of a paper — built by the same pipeline as the index."""
    names = [a.display for a in paper.authors]
    toks, positions = document_terms(paper.title, paper.abstract, names)
    by_term: dict[str, list[int]] = {}
    for term, pos in zip(toks, positions, strict=True):
        by_term.setdefault(term, []).append(pos)
    return MatchDoc(
        positions={t: tuple(p) for t, p in by_term.items()},
        authors=tuple(name_words(n) for n in names),
        venue=venue_words(paper.venue),
    )


def has_phrase(positions: Mapping[str, Iterable[int]], terms: Sequence[str]) -> bool:
    """Whether ``terms`` occur at consecutive positions."""
    if not terms:
        return False
    sets = []
    for term in terms:
        found = positions.get(term)
        if not found:
            return False
        sets.append(set(found))
    return any(all(p + k in sets[k] for k in range(1, len(sets))) for p in sets[0])


def _any_author(flt: AuthorFilter, authors: Iterable[frozenset[str]]) -> bool:
    return any(author_matches(flt.words, a) for a in authors)


def matches(query: ParsedQuery, doc: MatchDoc) -> bool:
    """Whether one paper satisfies every clause of ``query`` (what alerts a subscription)."""
    pos = doc.positions
    if any(t not in pos for t in query.terms):
        return False
    if any(not has_phrase(pos, p.terms) for p in query.phrases):
        return False
    if any(not _any_author(a, doc.authors) for a in query.authors):
        return False
    if query.venues and not any(venue_matches(v.alternatives, doc.venue) for v in query.venues):
        return False
    if any(t in pos for t in query.exclude_terms):
        return False
    if any(has_phrase(pos, p.terms) for p in query.exclude_phrases):
        return False
    if any(_any_author(a, doc.authors) for a in query.exclude_authors):
        return False
    return not any(venue_matches(v.alternatives, doc.venue) for v in query.exclude_venues)
