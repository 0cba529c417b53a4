"""Text normalisation shared by parsing, indexing, queries and subscriptions.

Everything that compares text compares ``fold``-ed text: NFKC, case-folded, accents removed,
so "Mézard", "MEZARD" and "Mezard" meet.

Invisible format characters (Unicode category Cf: zero-width space, joiner and non-joiner,
LRM/RLM, bidi embeddings, overrides and isolates, soft hyphen, word joiner, BOM, ...) are
removed by :func:`strip_format`: the parser drops them from every digest field, and ``fold``
and the tokenizer drop them too, so "Zero<U+200B>Width" is the word "ZeroWidth" everywhere.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, chain, compress, islice
from operator import not_

import Stemmer  # PyStemmer

# Letters that NFKD does not decompose into base letter + combining mark.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ß": "ss",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
    }
)


# Unicode general category Cf (format characters) as of Unicode 15.1; tests/core/test_text.py
# checks it against the running Python's unicodedata. A zero-width joiner inside an emoji
# sequence and the tag characters of subdivision flags go too: harmless in paper metadata.
# Two classes: the re module tests a class of BMP characters with one table lookup, while
# each range beyond the BMP costs a comparison per character (3x slower on a digest file).
_FORMAT_BMP_RE = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_FORMAT_ASTRAL_RE = re.compile(
    "[\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def strip_format(text: str) -> str:
    """Remove invisible format characters (category Cf): zero-width, bidi controls, ..."""
    if text.isascii():
        return text
    if _FORMAT_BMP_RE.search(text) is not None:
        text = _FORMAT_BMP_RE.sub("", text)
    if len(text.encode("utf-16-le", "surrogatepass")) > 2 * len(text):  # beyond the BMP
        text = _FORMAT_ASTRAL_RE.sub("", text)
    return text


def normalise_space(text: str) -> str:
    """Collapse every run of Unicode white space (no-break spaces included) to one space."""
    # str.split() splits on every Unicode white space, no-break spaces included.
    return " ".join(text.split())


def fold(text: str) -> str:
    """NFKC, case-fold and strip accents: the comparison form of any text."""
    if text.isascii():  # the common case: nothing to decompose, casefold == lower
        return text.lower()
    text = unicodedata.normalize("NFKC", strip_format(text)).casefold().translate(_SPECIAL_FOLDS)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


_NON_WORD_RE = re.compile(r"[\W_]+")


# ASCII bytes: a letter lower-cased, a digit kept, anything else a space (what _NON_WORD_RE
# matches); a bytes table (one C loop) rather than str.translate's mapping (a lookup a char)
_ASCII_IDENTITY = bytes(
    (ord(chr(c).lower()) if chr(c).isalnum() else 32) if c < 128 else c for c in range(256)
)


def identity_form(text: str) -> str:
    """Fold and keep only letters and digits, single-spaced: the form used for paper identity."""
    if text.isascii():  # the same, in C-level steps
        return " ".join(text.encode().translate(_ASCII_IDENTITY).decode().split())
    return _NON_WORD_RE.sub(" ", fold(text)).strip()


# --------------------------------------------------------------------------------------------
# The search pipeline: one tokenizer for documents, queries, subscriptions and snippets.
#
# 1. Words are found in the NFC text as runs of letters/digits, possibly chained by hyphens or
#    apostrophes ("multi-layer", "O'Brien", "depth-muP") and with decimals kept ("40.3").
# 2. Each word is folded (NFKC, case-fold, accents removed).
# 3. A chained word yields its *compound* (the parts joined: "multilayer", "obrien") and its
#    parts ("multi", "layer"); a trailing possessive "'s" is dropped ("model's" -> "model").
# 4. English stopwords and single letters are dropped; alphabetic tokens are Snowball-stemmed
#    (PyStemmer, "english"), so "scaling" meets "scale"; tokens with digits ("16m", "2d",
#    "gpt5") are kept as they are.
#
# Documents index the compound *and* the parts; a query word asks for the compound only (which
# both "multi-layer" and "multilayer" in a paper produce); a phrase uses the parts. Positions
# count kept tokens only, a compound sharing the position of its first part.
# --------------------------------------------------------------------------------------------

# NLTK's English list plus a few words every abstract uses.
STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "ain",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "couldn",
        "couldn't",
        "d",
        "did",
        "didn",
        "didn't",
        "do",
        "does",
        "doesn",
        "doesn't",
        "doing",
        "don",
        "don't",
        "down",
        "during",
        "each",
        "et",
        "al",
        "few",
        "for",
        "from",
        "further",
        "had",
        "hadn",
        "hadn't",
        "has",
        "hasn",
        "hasn't",
        "have",
        "haven",
        "haven't",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "isn",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "ll",
        "m",
        "ma",
        "me",
        "mightn",
        "mightn't",
        "more",
        "most",
        "mustn",
        "mustn't",
        "my",
        "myself",
        "needn",
        "needn't",
        "no",
        "nor",
        "not",
        "now",
        "o",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "re",
        "s",
        "same",
        "shan",
        "shan't",
        "she",
        "she's",
        "should",
        "should've",
        "shouldn",
        "shouldn't",
        "so",
        "some",
        "such",
        "t",
        "than",
        "that",
        "that'll",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "ve",
        "very",
        "was",
        "wasn",
        "wasn't",
        "we",
        "were",
        "weren",
        "weren't",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "won",
        "won't",
        "wouldn",
        "wouldn't",
        "y",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)

# A word in NFC text: letter/digit runs chained by hyphens or apostrophes, decimals kept.
_WORD_RE = re.compile(r"[^\W_]+(?:\.\d+)*(?:[-'’‘ʼ‐‑–][^\W_]+(?:\.\d+)*)*")
_LINK_RE = re.compile(r"[-'’‘ʼ‐‑–]")
_STEM_CACHE_MAX = 500_000
_stemmer = Stemmer.Stemmer("english")
_stem_cache: dict[str, str] = {}


def stem(word: str) -> str:
    """Snowball-stem one folded word; words holding digits are kept as they are (cached)."""
    cached = _stem_cache.get(word)
    if cached is not None:
        return cached
    result = _stemmer.stemWord(word) if word.isalpha() else word
    if len(_stem_cache) >= _STEM_CACHE_MAX:
        _stem_cache.clear()
    _stem_cache[word] = result
    return result


def _keep(word: str) -> bool:
    return word not in STOPWORDS and (len(word) > 1 or word.isdigit())


def _fold_word(word: str) -> str:
    return word.lower() if word.isascii() else fold(word)


def nfc(text: str) -> str:
    """NFC-normalised text without format characters (ASCII returned as is): the text word
    offsets refer to."""
    return text if text.isascii() else unicodedata.normalize("NFC", strip_format(text))


_nfc = nfc


def _parts(folded: str) -> list[str]:
    """The parts of a folded (possibly chained) word, possessive "'s" dropped."""
    if folded.isalnum():
        return [folded]
    pieces = [p for p in _LINK_RE.split(folded) if p]
    if len(pieces) > 1 and pieces[-1] == "s" and folded[-2] in "'’‘ʼ":
        pieces.pop()
    out: list[str] = []
    for piece in pieces:
        if piece.replace(".", "").isalnum():
            out.append(piece)
        else:
            # Folding can introduce separators ("½" -> "1⁄2"): split on non-word characters.
            out.extend(w for w in _NON_WORD_RE.split(piece) if w)
    return out


_CACHE_MAX = 1_000_000
_word_cache: dict[str, tuple[str | None, tuple[str, ...]]] = {}


def _word_tokens(word: str) -> tuple[str | None, tuple[str, ...]]:
    """(compound or None, kept stemmed parts) of one word as found in the text (cached)."""
    cached = _word_cache.get(word)
    if cached is not None:
        return cached
    parts = _parts(_fold_word(word))
    kept = tuple(stem(p) for p in parts if _keep(p))
    compound: str | None = None
    if len(parts) > 1:
        joined = "".join(parts)
        if _keep(joined):
            compound = stem(joined)
    result = (compound, kept)
    if len(_word_cache) >= _CACHE_MAX:
        _word_cache.clear()
    _word_cache[word] = result
    return result


def chunk_terms(chunk: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The document-side terms of one whitespace-free chunk and their position steps.

    Positions count kept tokens: each word's first term steps one position past the previous
    term, a compound and its first part share a position, later parts step by one. So the
    running sum of the steps over a text is each term's position.
    """
    out: list[str] = []
    steps: list[int] = []
    for word in _WORD_RE.findall(chunk):
        compound, kept = _word_tokens(word)
        step = 1
        if compound is not None and compound not in kept:
            out.append(compound)
            steps.append(1)
            step = 0
        for term in kept:
            out.append(term)
            steps.append(step)
            step = 1
    return tuple(out), tuple(steps)


class _TermCache(dict[str, tuple[str, ...]]):
    """chunk -> its terms; a miss analyses the chunk (and fills the steps cache too)."""

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        found, steps = chunk_terms(chunk)
        self[chunk] = found
        _steps_cache[chunk] = steps
        return found


class _StepsCache(dict[str, tuple[int, ...]]):
    def __missing__(self, chunk: str) -> tuple[int, ...]:
        found, steps = chunk_terms(chunk)
        _terms_cache[chunk] = found
        self[chunk] = steps
        return steps


_terms_cache = _TermCache()
_steps_cache = _StepsCache()


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """Every word of ``text`` (NFC-normalised first) as (start, end, word)."""
    text = _nfc(text)
    return [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(text)]


def term_spans(text: str, wanted: frozenset[str]) -> list[tuple[int, int, frozenset[str]]]:
    """The words of ``text`` that yield any of ``wanted`` (document-side terms), as (start,
    end, the wanted terms the word yields), in order. ``text`` is single-spaced NFC text
    (``nfc(normalise_space(...))``).

    ASCII text is searched in C for the places a wanted term can come from
    (:func:`_term_starts`), and only the space-separated chunks around them are looked up in
    the term cache. Other text is split into its chunks, all looked up in the cache in C-level
    loops, so only the few chunks holding a wanted term are split into words. Either way a
    snippet of a long abstract costs little more than reading it."""
    if not wanted or not text:
        return []
    if len(_terms_cache) >= _CACHE_MAX:
        _terms_cache.clear()
        _steps_cache.clear()
    if text.isascii():
        return _ascii_term_spans(text, wanted)
    chunks = text.split(" ")
    misses = map(wanted.isdisjoint, map(_terms_cache.__getitem__, chunks))
    found = list(compress(range(len(chunks)), map(not_, misses)))
    if not found:
        return []
    ends = list(accumulate(map(len, islice(chunks, found[-1] + 1))))
    out: list[tuple[int, int, frozenset[str]]] = []
    for i in found:
        _chunk_spans(chunks[i], ends[i] - len(chunks[i]) + i, wanted, out)
    return out


def _chunk_spans(
    chunk: str, at: int, wanted: frozenset[str], out: list[tuple[int, int, frozenset[str]]]
) -> None:
    """Append the words of ``chunk`` (starting at offset ``at``) that yield a wanted term."""
    for m in _WORD_RE.finditer(chunk):
        yields = span_terms(m.group()) & wanted
        if yields:
            out.append((at + m.start(), at + m.end(), yields))


def _ascii_term_spans(text: str, wanted: frozenset[str]) -> list[tuple[int, int, frozenset[str]]]:
    out: list[tuple[int, int, frozenset[str]]] = []
    low = text.lower()  # ASCII: the same offsets
    chunks: set[int] = set()
    for start in _term_starts(wanted):
        at = low.find(start)
        while at >= 0:
            if at == 0 or not low[at - 1].isalnum():  # where a part of a word starts
                chunks.add(text.rfind(" ", 0, at) + 1)
            at = low.find(start, at + 1)
    for at in sorted(chunks):
        end = text.find(" ", at)
        chunk = text[at:] if end < 0 else text[at:end]
        if not wanted.isdisjoint(_terms_cache[chunk]):
            _chunk_spans(chunk, at, wanted, out)
    return out


@functools.lru_cache(maxsize=1024)
def _term_starts(wanted: frozenset[str]) -> tuple[str, ...]:
    """What, in lower-cased ASCII text, a word yielding any of ``wanted`` holds where one of
    its parts starts: each term's first two letters (none for a term ASCII cannot yield).

    Snowball's English stemmer keeps a word's first two letters: it rewrites from the third
    on, but for a consonant + "ying" ("dying" -> "die", "vying" -> "vie"); a word it cuts to
    one letter keeps that one. A compound's first two letters may lie on both sides of a
    hyphen or an apostrophe ("x-ray" -> "xray"). tests/core/test_snippet.py checks the rule
    on every word of a large vocabulary, and the result against the chunk-by-chunk scan."""
    starts: set[str] = set()
    for term in wanted:
        if not term.isascii() or not term:
            continue
        if len(term) == 1:
            starts.add(term)
            continue
        first, second = term[0], term[1]
        starts.update((first + second, f"{first}-{second}", f"{first}'{second}"))
        if len(term) == 3 and term.endswith("ie"):
            starts.add(first + "y")
    return tuple(sorted(starts))


def _stream(text: str, out: list[str], steps: list[int], gap: int) -> None:
    """Append the terms and position steps of ``text``; its first term steps ``gap`` more."""
    if len(_terms_cache) >= _CACHE_MAX:
        _terms_cache.clear()
        _steps_cache.clear()
    first = len(steps)
    chunks = _nfc(text).split()
    # C-level loops over cached chunks; a miss analyses the chunk (see _TermCache)
    out.extend(chain.from_iterable(map(_terms_cache.__getitem__, chunks)))
    steps.extend(chain.from_iterable(map(_steps_cache.__getitem__, chunks)))
    if gap and len(steps) > first:
        steps[first] += gap


def positioned_terms(text: str, start: int = 0) -> tuple[list[str], list[int], int]:
    """Document-side terms of ``text`` with positions from ``start``; and the next position.

    A chained word contributes its compound (at the position of its first part) and its parts.
    """
    out: list[str] = []
    steps: list[int] = []
    _stream(text, out, steps, 0)
    positions = list(accumulate(steps, initial=start - 1))[1:]
    return out, positions, (positions[-1] + 1 if positions else start)


def terms(text: str) -> list[str]:
    """Document-side terms of ``text`` in order (compounds and their parts)."""
    return positioned_terms(text)[0]


def query_terms(text: str) -> list[str]:
    """Query-side terms of ``text`` in order: a chained word asks for its compound only."""
    out: list[str] = []
    for word in _WORD_RE.findall(_nfc(text)):
        compound, kept = _word_tokens(word)
        if compound is not None:
            out.append(compound)
        else:
            out.extend(kept)
    return out


def phrase_terms(text: str) -> list[str]:
    """The consecutive terms a phrase asks for: chained words contribute their parts."""
    out: list[str] = []
    for word in _WORD_RE.findall(_nfc(text)):
        out.extend(_word_tokens(word)[1])
    return out


def span_terms(word: str) -> frozenset[str]:
    """Every term one word of text produces (for marking matched words in snippets)."""
    compound, kept = _word_tokens(word)
    return frozenset(kept if compound is None else [compound, *kept])


def surface_words(text: str) -> list[str]:
    """Folded, unstemmed words (stopwords kept): what people type, for spelling and prefixes."""
    return identity_form(text).split()


@dataclass(frozen=True, slots=True)
class FieldWeights:
    """How many times each field's tokens go into a paper's BM25 token list.

    BM25 (rank-bm25's ``BM25Okapi``) has no fields: a field counts ``w`` times by being
    repeated ``w`` times, so term frequencies and document lengths are those of the weighted
    token list, and scores stay rank-bm25's on that list. See docs/search.md.
    """

    title: int = 10
    authors: int = 3
    venue: int = 0


FIELD_WEIGHTS = FieldWeights()  # chosen with `digest-bot bench --only relevance` (docs/search.md)
ONCE_EACH = FieldWeights(title=1, authors=1, venue=0)  # matching: which terms, where


@dataclass(frozen=True, slots=True)
class FieldSpans:
    """Where a paper's first title copy and its abstract lie in its token list's positions:
    ``[0, title_end)`` and ``[abstract_start, abstract_end)`` (empty when the field is)."""

    title_end: int = 0
    abstract_start: int = 0
    abstract_end: int = 0


def document_stream(
    title: str,
    abstract: str,
    authors: Sequence[str],
    venue: str = "",
    weights: FieldWeights = FIELD_WEIGHTS,
) -> tuple[list[str], list[int]]:
    """The BM25 token list of a paper and its position steps (running sum = positions).

    The title ``weights.title`` times, then the abstract, then each author's name
    ``weights.authors`` times, then the venue ``weights.venue`` times. A gap of one position
    separates every copy of every field, so a phrase never spans two of them (nor two
    copies of the title).
    """
    out, steps, _ = document_fields(title, abstract, authors, venue, weights)
    return out, steps


def document_fields(
    title: str,
    abstract: str,
    authors: Sequence[str],
    venue: str = "",
    weights: FieldWeights = FIELD_WEIGHTS,
) -> tuple[list[str], list[int], FieldSpans]:
    """:func:`document_stream` and the :class:`FieldSpans` of its positions (what the
    known-item order reads from the index: the title's words and the abstract's phrases)."""
    out: list[str] = []
    steps: list[int] = []
    title_end = 0
    for i in range(weights.title):
        _stream(title, out, steps, 1 if i else 0)
        if i == 0:
            title_end = sum(steps)  # positions start at 0: the first copy is [0, sum)
    before = len(steps)
    at = sum(steps) - 1  # the last position so far
    _stream(abstract, out, steps, 1)
    start = end = at + 1
    if len(steps) > before:
        start = at + steps[before]
        end = at + sum(steps[before:]) + 1
    for _ in range(weights.authors):
        for name in authors:
            _stream(name, out, steps, 1)
    if venue:
        for _ in range(weights.venue):
            _stream(venue, out, steps, 1)
    return out, steps, FieldSpans(title_end, start, end)


def document_terms(
    title: str, abstract: str, authors: Sequence[str]
) -> tuple[list[str], list[int]]:
    """A paper's terms with each one's position: title, abstract and authors once each (what
    a subscription matches against; :func:`document_stream` has the weighted BM25 list)."""
    out, steps = document_stream(title, abstract, authors, weights=ONCE_EACH)
    return out, list(accumulate(steps))


# --------------------------------------------------------------------------------------------
# Cutting long text
# --------------------------------------------------------------------------------------------

_ZWJ = "\u200d"


def _regional(ch: str) -> bool:
    return "\U0001f1e6" <= ch <= "\U0001f1ff"


def _continues(text: str, end: int) -> bool:
    """Whether ``text[end]`` belongs to the symbol of the character before it (so a cut at
    ``end`` would split one symbol): combining marks and variation selectors, emoji skin-tone
    modifiers and tags, either side of a zero-width joiner, the second of a flag's pair."""
    ch = text[end]
    if ch == _ZWJ or text[end - 1] == _ZWJ or "\U0001f3fb" <= ch <= "\U0001f3ff":
        return True
    if unicodedata.category(ch) in ("Mn", "Mc", "Me") or "\U000e0020" <= ch <= "\U000e007f":
        return True
    if _regional(ch):
        run = 0
        while end - run - 1 >= 0 and _regional(text[end - run - 1]):
            run += 1
        return run % 2 == 1
    return False


def cut_text(text: str, limit: int) -> str:
    """At most ``limit`` characters of the start of ``text`` (``text`` itself if it fits).

    The cut falls on the last white space in the final fifth of the room when there is one
    (trailing spaces dropped), else between two symbols: never inside a character sequence
    shown as one symbol (a letter and its accents, an emoji sequence, a flag). Python strings
    hold code points, so a surrogate pair can never be split. Costs O(``limit``), whatever the
    length of ``text``.
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    head = text[:limit]
    space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    if space >= limit * 4 // 5:
        return head[:space].rstrip()
    end = limit
    while end > 0 and _continues(text, end):
        end -= 1
    return text[:end]
