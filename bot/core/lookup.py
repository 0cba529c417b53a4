"""Typo-tolerant lookups over a search index's names (its
:class:`~bot.core.index.LookupVocabulary`, ``index.vocabulary``).

* :func:`find_titles` — a paper by (part of) its title, typos allowed: each word is matched
  exactly or corrected against the title vocabulary (rapidfuzz, edit distance), candidates are
  the papers holding the rarest words, re-ranked by fuzzy similarity of the whole title.
* :func:`find_authors` — people by name in any order, case, accents or initials ("zihan yao",
  "Yao, Zihan", "Z. Yao", "Muller" for Müller), with spelling correction as a fallback.
* :func:`did_you_mean` — a respelling of a query's words when it finds nothing.
* :func:`suggest_papers` / :func:`suggest_authors` — prefix suggestions for autocomplete
  (at most 25 choices, names of 1-100 characters).
"""

from __future__ import annotations

import math
import re
import threading
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.core.identity import normalise_paper_id
from bot.core.index import LookupVocabulary, SearchEngine
from bot.core.index import in_sorted as _member
from bot.core.index import unique_sorted as _unique
from bot.core.models import Suggestion
from bot.core.per_index import per_vocabulary
from bot.core.query import ParsedQuery, author_matches, author_query_words, name_words
from bot.core.text import STOPWORDS, identity_form, query_terms, stem, surface_words
from bot.core.title_bits import title_bits

MAX_CHOICES = 25
CHOICE_MAX_LEN = 100
_ID_RE = re.compile(r"^[0-9a-z]{3,12}$")


@dataclass(frozen=True, slots=True)
class TitleMatch:
    docno: int
    paper_id: str
    title: str
    score: float  # 0-100 similarity of the whole title


@dataclass(frozen=True, slots=True)
class AuthorMatch:
    author: int  # the index's author id
    key: str
    display: str
    papers: int
    exact: bool  # every word of the name matched (not only through spelling correction)


Choice = Suggestion  # one autocomplete choice: ``name`` shown (1-100 chars), ``value`` sent


def clamp_choice(text: str) -> str:
    text = " ".join(text.split()) or "?"
    return text if len(text) <= CHOICE_MAX_LEN else text[: CHOICE_MAX_LEN - 1] + "…"


def normalise_id(text: str) -> str:
    """A typed paper id in canonical form (Crockford: case-free, o->0, i/l->1)."""
    return normalise_paper_id(text)


# --------------------------------------------------------------------------------------------
# Spelling correction
# --------------------------------------------------------------------------------------------


def letter_set(word: str) -> int:
    """The set of letters in ``word`` as bits (a-z one each; anything else shares 6 more)."""
    mask = 0
    for c in word:
        k = ord(c) - 97
        mask |= 1 << (k if 0 <= k < 26 else 26 + ord(c) % 6)
    return mask


class _Words:
    """Words of one length (or prefixes), with their letter sets, for edit-distance search.

    An edit changes the set of letters a word has by at most two (a substitution drops one,
    adds another), so a word within ``d`` edits differs in at most ``2 d`` letters: a numpy
    pass over the letter sets leaves rapidfuzz a few of the words to compare.
    """

    def __init__(self, words: list[str], masks: np.ndarray | None = None) -> None:
        self.words = words
        if masks is None:
            masks = np.fromiter(map(letter_set, words), dtype=np.uint32, count=len(words))
        self.masks = masks

    def extended(self, words: list[str]) -> _Words:
        """These words and then ``words``."""
        masks = np.fromiter(map(letter_set, words), dtype=np.uint32, count=len(words))
        return _Words([*self.words, *words], np.concatenate([self.masks, masks]))

    def near(self, word: str, max_dist: int, limit: int) -> list[tuple[str, int]]:
        """Up to ``limit`` of the words within ``max_dist`` edits (OSA) of ``word``."""
        close = np.bitwise_count(self.masks ^ np.uint32(letter_set(word))) <= 2 * max_dist
        picked = np.flatnonzero(close)
        if not len(picked):
            return []
        words = self.words
        choices = words if len(picked) == len(words) else [words[i] for i in picked.tolist()]
        return [
            (cand, int(dist))
            for cand, dist, _ in process.extract(
                word, choices, scorer=OSA.distance, score_cutoff=max_dist, limit=limit
            )
        ]


class _Vocabulary:
    """A word list bucketed by length for fast edit-distance candidates (per index)."""

    def __init__(self, words: Sequence[str], before: _Vocabulary | None = None) -> None:
        """``before``: the vocabulary of a prefix of ``words`` (its buckets are extended by
        the words after it, in order: the same buckets as built from scratch)."""
        start = 0 if before is None else len(before.words)
        by_len: dict[int, list[str]] = {}
        for w in words[start:]:
            by_len.setdefault(len(w), []).append(w)
        self.words: Sequence[str] = words
        self.by_len: dict[int, _Words] = {} if before is None else dict(before.by_len)
        for n, ws in by_len.items():
            old = self.by_len.get(n)
            self.by_len[n] = _Words(ws) if old is None else old.extended(ws)

    @classmethod
    def extended(cls, before: _Vocabulary, words: Sequence[str]) -> _Vocabulary | None:
        """The vocabulary of ``words`` from ``before``'s, when its words are their first
        ones (else None)."""
        n = len(before.words)
        if n > len(words) or list(words[:n]) != list(before.words):
            return None
        return cls(words, before)

    def near(self, word: str, max_dist: int, limit: int = 8) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        for n in range(len(word) - max_dist, len(word) + max_dist + 1):
            bucket = self.by_len.get(n)
            if bucket is not None:
                out += bucket.near(word, max_dist, limit)
        out.sort(key=lambda x: x[1])
        return out[:limit]


_title_vocab = per_vocabulary(lambda known: _Vocabulary(known.title_words_sorted()[0]))
_author_vocab = per_vocabulary(
    lambda known: _Vocabulary(known.author_words()),
    lambda before, known: _Vocabulary.extended(before, known.author_words()),
)


def _vocab(known: LookupVocabulary, kind: str) -> _Vocabulary:
    return _title_vocab(known) if kind == "title" else _author_vocab(known)


def _max_edits(word: str) -> int:
    return 0 if len(word) <= 3 else 1 if len(word) <= 5 else 2


class _Prefixes:
    """The distinct prefixes of a sorted word list, by length (built per length on demand):
    a word being typed with a typo is matched against prefixes of about its length."""

    def __init__(self, sorted_words: Sequence[str]) -> None:
        self.words = sorted_words
        self.by_len: dict[int, _Words] = {}
        self.lock = threading.Lock()

    def _of_len(self, n: int) -> _Words:
        found = self.by_len.get(n)
        if found is None:
            with self.lock:
                found = self.by_len.get(n)
                if found is None:
                    found = _Words(list(dict.fromkeys(w[:n] for w in self.words if len(w) >= n)))
                    self.by_len[n] = found
        return found

    def near(self, typed: str, max_dist: int, limit: int = 8, *, every: bool = False) -> list[str]:
        """Prefixes (of the words) within ``max_dist`` edits of ``typed``, fewest first; only
        those at the smallest distance found, unless ``every`` (then of any length
        ``max_dist`` away from the typed one's, not only one)."""
        found: list[tuple[int, str]] = []
        reach = max_dist if every else 1
        for n in range(max(len(typed) - reach, 1), len(typed) + reach + 1):
            found += [(d, c) for c, d in self._of_len(n).near(typed, max_dist, limit)]
        if not found:
            return []
        if every:
            return [c for _, c in sorted(found)[:limit]]
        best = min(d for d, _ in found)
        return sorted({c for d, c in found if d == best})[:limit]

    def ranges(self, prefixes: Sequence[str]) -> list[tuple[int, int]]:
        """Where the words starting with each prefix are in the sorted list."""
        return [
            (bisect_left(self.words, p), bisect_left(self.words, p + "\U0010ffff"))
            for p in prefixes
        ]


_title_prefixes = per_vocabulary(lambda known: _Prefixes(known.title_words_sorted()[0]))
_author_prefixes = per_vocabulary(lambda known: _Prefixes(known.author_words_sorted()))


def _prefixes(known: LookupVocabulary, kind: str) -> _Prefixes:
    return _title_prefixes(known) if kind == "title" else _author_prefixes(known)


def _typed_prefixes(known: LookupVocabulary, kind: str, last: str) -> list[tuple[int, int]]:
    """Ranges of the sorted words (title or author) that the word being typed may begin:
    the words starting with it, or else with a prefix 1-2 edits away (none for 3 letters)."""
    pre = _prefixes(known, kind)
    exact = pre.ranges([last])
    if exact[0][0] < exact[0][1]:
        return exact
    return pre.ranges(pre.near(last, _max_edits(last)))


def _corrected(known: LookupVocabulary, kind: str, word: str) -> list[str]:
    """The known words nearest to an unknown complete word (1-2 edits), fewest edits only."""
    near = _vocab(known, kind).near(word, _max_edits(word), limit=8)
    if not near:
        return []
    best = near[0][1]
    return [w for w, d in near if d == best and w not in STOPWORDS]


def _title_word_id(known: LookupVocabulary, word: str) -> int | None:
    words, ids = known.title_words_sorted()
    i = bisect_left(words, word)
    return int(ids[i]) if i < len(words) and words[i] == word else None


def correct_word(index: SearchEngine, word: str) -> str | None:
    """The closest title word whose term is in the index (fewest edits, then most papers)."""
    known = index.vocabulary
    best: tuple[int, int, str] | None = None
    for cand, dist in _vocab(known, "title").near(word, _max_edits(word), limit=16):
        if cand == word or cand in STOPWORDS:
            continue
        wid = _title_word_id(known, cand)
        if wid is None:
            continue
        terms = query_terms(cand)
        if not terms or any(known.doc_freq(t) == 0 for t in terms):
            continue
        key = (dist, -known.title_word_df(wid), cand)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def did_you_mean(index: SearchEngine, query: ParsedQuery) -> str | None:
    """A respelled query when some of its words are unknown to the index, else None."""
    known = index.vocabulary
    if not query.words:
        return None
    changed = False
    out: list[str] = []
    for word in query.words:
        terms = query_terms(word)
        if terms and all(known.doc_freq(t) > 0 for t in terms):
            out.append(word)
            continue
        fixed = [
            (w if known.doc_freq(stem(w)) > 0 else correct_word(index, w) or w)
            for w in surface_words(word)
        ]
        respelled = " ".join(fixed)
        changed = changed or respelled != " ".join(surface_words(word))
        out.append(respelled)
    if not changed:
        return None
    rest = str(query)
    for word in query.words:  # keep the phrases, filters and exclusions as they were
        rest = rest.replace(word, "", 1)
    return " ".join([*out, rest.strip()]).strip()


# --------------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------------


_TITLE_POOL = 50  # candidates (most weight first) whose whole titles are compared
_UNION_MAX = 8_000  # the two rarest words' papers, united when at most this many


def _title_options(
    known: LookupVocabulary, words: Sequence[str], respelled: dict[str, str]
) -> list[tuple[int, list[int]]]:
    """Per typed word: (papers, title-word ids) of the word or of its nearest spellings (a
    typo -> its nearest word goes in ``respelled``); rarest first."""
    out: list[tuple[int, list[int]]] = []
    for word in dict.fromkeys(words):
        wid = _title_word_id(known, word)
        options: list[int] = []
        if wid is not None:
            options.append(wid)
        else:
            for cand, _ in _vocab(known, "title").near(word, _max_edits(word), limit=3):
                cid = _title_word_id(known, cand)
                if cid is not None:
                    options.append(cid)
                    respelled.setdefault(word, cand)
        options = [w for w in options if known.title_word_df(w) > 0]
        if options:
            out.append((sum(known.title_word_df(w) for w in options), options))
    out.sort()
    return out


def _word_docs(known: LookupVocabulary, wids: Sequence[int]) -> np.ndarray:
    lists = [known.title_word_docs(w) for w in wids]
    return lists[0] if len(lists) == 1 else _unique(np.concatenate(lists))


def _title_candidates(known: LookupVocabulary, groups: list[tuple[int, list[int]]]) -> np.ndarray:
    """The papers holding the rarest typed word or the next rarest; when that is many papers,
    those holding two of the three rarest (one of them may be a wrong correction)."""
    first = _word_docs(known, groups[0][1])
    if len(groups) == 1:
        return first
    second = _word_docs(known, groups[1][1])
    if len(first) + len(second) <= _UNION_MAX:
        return _unique(np.concatenate([first, second]))
    bits = title_bits(known)

    def holding(wids: list[int], docs: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` in ``docs``, the papers of ``wids`` (one word: its bitset if common)."""
        found = bits.member(wids[0], docs, values) if len(wids) == 1 else _member(docs, values)
        return values[found]

    pairs = [holding(groups[1][1], second, first)]
    if len(groups) > 2:
        third = _word_docs(known, groups[2][1])
        pairs += [holding(groups[2][1], third, first), holding(groups[2][1], third, second)]
    both = _unique(np.concatenate(pairs))
    return both if len(both) else first


def _similarity(query: str, choices: list[str], scorer: Callable[..., float]) -> np.ndarray:
    """``scorer(query, c)`` for every choice, as doubles."""
    out: np.ndarray = process.cdist([query], choices, scorer=scorer, dtype=np.float64)[0]
    return out


def find_titles(index: SearchEngine, text: str, limit: int = 5) -> list[TitleMatch]:
    """Papers whose title looks like ``text`` (typos allowed), best first.

    Candidates are the papers holding the rarest typed words (:func:`_title_candidates`),
    weighted by the idf of every typed word they hold (very common words left out of long
    queries); the heaviest :data:`_TITLE_POOL` are ranked by fuzzy similarity of the whole
    title.
    """
    known = index.vocabulary
    words = [w for w in surface_words(text) if w not in STOPWORDS]
    if not words or known.n_docs == 0:
        return []
    n = max(known.n_docs, 1)
    respelled: dict[str, str] = {}  # a typo -> its nearest title word (for the similarity)
    groups = _title_options(known, words, respelled)
    if len(words) > 2:  # very common title words do not pick candidates
        groups = [g for g in groups if g[0] <= max(n // 5, 1000)] or groups[:1]
    if not groups:
        return []
    cand = _title_candidates(known, groups)
    cand = cand[known.alive_mask(cand)]
    if not len(cand):
        return []
    weight = np.zeros(len(cand), dtype=np.float64)
    bits = title_bits(known)
    for _, wids in groups:
        for wid in wids:
            docs = known.title_word_docs(wid)
            idf = math.log(1 + n / max(len(docs), 1))
            if len(docs) < len(cand):  # find the (fewer) docs in the candidates
                pos = np.searchsorted(cand, docs)
                pos[pos == len(cand)] = len(cand) - 1
                weight[pos[cand[pos] == docs]] += idf
            else:
                weight[bits.member(wid, docs, cand)] += idf
    if len(cand) > _TITLE_POOL:
        top = np.argpartition(-weight, _TITLE_POOL - 1)[:_TITLE_POOL]
        top = top[np.lexsort((cand[top], -weight[top]))]
    else:
        top = np.lexsort((cand, -weight))
    query = " ".join(respelled.get(w, w) for w in surface_words(text))
    docnos = cand.take(top).tolist()
    titles = [known.title(d) for d in docnos]
    plains = [identity_form(t) for t in titles]  # their surface words, single-spaced
    # each scorer over the pool in one call (the query processed once; the same doubles as
    # one call a title), the two added then halved as one by one
    both = _similarity(query, plains, fuzz.token_set_ratio) + _similarity(query, plains, fuzz.ratio)
    scores = (both / 2).tolist()
    scored = sorted(zip(scores, docnos, titles, strict=True), key=lambda m: (-m[0], -m[1]))
    # only the matches returned have their paper id read
    return [TitleMatch(d, known.paper_id(d), title, score) for score, d, title in scored[:limit]]


# --------------------------------------------------------------------------------------------
# Authors
# --------------------------------------------------------------------------------------------


def _name_edits(word: str) -> int:
    """Edits forgiven in a typed name word: one in 3-4 letters, two from 5 (more than in
    titles: the other words of the name narrow the people down)."""
    return 0 if len(word) < 3 else 1 if len(word) <= 4 else 2


def _spelled_authors(
    known: LookupVocabulary, words: Sequence[str], limit: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """The authors whose name has, for every word of ``words``, that word or a spelling of
    it (:func:`_name_edits` away), and the fewest edits that takes in all (ids ascending)."""
    vocab = _vocab(known, "author")
    per_word: list[list[tuple[np.ndarray, int]]] = []
    for w in words:
        options = [(known.authors_with_word(w), 0)]
        options += [
            (known.authors_with_word(c), d)
            for c, d in vocab.near(w, _name_edits(w), limit=limit)
            if c != w and d > 0
        ]
        options = [(ids, d) for ids, d in options if len(ids)]
        if not options:
            return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
        per_word.append(options)
    per_word.sort(key=lambda opts: sum(len(ids) for ids, _ in opts))
    first = per_word[0]
    cand = _unique(np.concatenate([ids for ids, _ in first]))
    total = np.zeros(len(cand), dtype=np.int64)
    for options in per_word:
        best = np.full(len(cand), 99, dtype=np.int64)
        for ids, d in options:
            best[_member(ids, cand) & (best > d)] = d
        keep = best < 99
        cand, total = cand[keep], total[keep] + best[keep]
    return cand, total


def find_authors(index: SearchEngine, name: str, limit: int = 10) -> list[AuthorMatch]:
    """People whose name matches ``name`` (any order, case, accents, initials), best first.

    When no one has every word, each word may be a misspelling (:func:`_spelled_authors`):
    the people with the fewest edits in all come first.
    """
    known = index.vocabulary
    words = author_query_words(name)
    if not any(len(w) > 1 for w in words):
        return []
    exact = True
    ids = known.matching_authors(words)
    edits: dict[int, int] = {}
    if not ids:
        exact = False
        full = [w for w in words if len(w) > 1]
        cand, total = _spelled_authors(known, full)
        initials = [w for w in words if len(w) == 1]
        names = known.author_names()
        for aid, d in zip(cand.tolist(), total.tolist(), strict=True):
            if not initials or author_matches(initials, name_words(names[aid])):
                edits[aid] = d
        ids = list(edits)
    if not ids:
        return []
    names = known.author_names()
    wanted = set(words)
    out = []
    for aid in ids:
        display = names[aid]
        out.append(
            AuthorMatch(
                author=aid,
                key=known.author_key(aid),
                display=display,
                papers=known.author_paper_count(aid),
                exact=exact,
            )
        )
    # the fewest edits, the whole name (no extra words), then the most papers
    out.sort(
        key=lambda m: (
            edits.get(m.author, 0),
            name_words(m.display) - wanted != set(),
            -m.papers,
            m.display,
        )
    )
    return out[:limit]


class _AuthorRanking:
    """Per index: every author ranked by (most papers, then name), for autocomplete.

    ``rank[author]`` is the author's place in that order, ``by_rank`` its inverse; picking
    the best of any set of authors is then a numpy sort of small integers.
    """

    def __init__(self, known: LookupVocabulary) -> None:
        n = known.n_authors
        names = known.author_names()
        self.counts = known.author_paper_counts()[:n]
        # sorted by (-papers, name): names ordered (Python's string order; kept by the
        # vocabulary, extended from the previous index's), then a numpy sort of (papers,
        # name place) pairs (stable: equal names keep id order)
        by_name = known.authors_by_name()
        if len(by_name) != n:
            by_name = by_name[by_name < n]
        name_place = np.empty(n, dtype=np.int64)
        name_place[by_name] = np.arange(n, dtype=np.int64)
        self.by_rank = np.lexsort((name_place, -self.counts)).astype(np.int64)
        self.rank = np.empty(n, dtype=np.int64)
        self.rank[self.by_rank] = np.arange(n, dtype=np.int64)
        self.names = names


_author_ranking = per_vocabulary(_AuthorRanking)


def warm(index: SearchEngine) -> None:
    """Build the lazily computed structures lookups and searches use, now.

    Call it in a worker thread right after an index is loaded, built or updated, before it is
    swapped in: otherwise the first lookup after each swap builds them on the event loop.
    """
    index.warm()
    known = index.vocabulary
    _vocab(known, "title")
    title_bits(known)
    _vocab(known, "author")
    _author_ranking(known)
    _authors_by_word(known)


class _AuthorsByWord:
    """Per index: the authors of every name word, in the words' sorted order (one array cut
    by ``ptr``): the authors of all the words a prefix begins are then one slice."""

    def __init__(self, known: LookupVocabulary) -> None:
        self.ptr, self.authors = known.authors_by_sorted_word()

    def begun(self, ranges: Sequence[tuple[int, int]], cap: int) -> np.ndarray:
        """The authors with a word in ``ranges`` (of the sorted words), ascending; at most
        about ``cap`` (word, author) pairs are read from each range."""
        ptr = self.ptr
        parts = [self.authors[ptr[lo] : min(ptr[hi], ptr[lo] + cap)] for lo, hi in ranges]
        return _unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int32)


_PREFIX_PAIRS = 200_000  # (word, author) pairs read for a short prefix with no other word


_authors_by_word = per_vocabulary(_AuthorsByWord)


def _named(
    known: LookupVocabulary,
    complete: Sequence[str],
    cand: np.ndarray,
    spellings: dict[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Those of ``cand`` whose name has every word of ``complete``, or else spellings of
    them (:func:`_spelled_authors`, kept in ``spellings`` for another call); with the edits
    that took (ids ascending)."""
    if not complete or not len(cand):
        return cand, np.zeros(len(cand), dtype=np.int64)
    exact = cand
    for w in complete:
        exact = exact[_member(known.authors_with_word(w), exact)]
    if len(exact):
        return exact, np.zeros(len(exact), dtype=np.int64)
    if "" not in spellings:
        spellings[""] = _spelled_authors(known, complete)
    spelled, total = spellings[""]
    keep = _member(cand, spelled)
    return spelled[keep], total[keep]


def suggest_authors(index: SearchEngine, prefix: str, limit: int = MAX_CHOICES) -> list[Choice]:
    """People whose name words start with what was typed (most papers first).

    The last word is a prefix; when fewer people than choices have a name word starting
    with it, prefixes a few edits away fill the rest; when no one also has every other word,
    spellings of them are tried (:func:`_spelled_authors`): the fewest edits first.
    """
    known = index.vocabulary
    limit = min(limit, MAX_CHOICES)
    words = author_query_words(prefix)
    if not words:
        return []
    *typed, last = words
    complete = [w for w in typed if len(w) > 1]
    initials = [w for w in typed if len(w) == 1]
    by_word = _authors_by_word(known)
    pre = _prefixes(known, "author")
    ranges = pre.ranges([last])
    cap = len(by_word.authors) if complete else _PREFIX_PAIRS
    spellings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    cand, cost = _named(known, complete, by_word.begun(ranges, cap), spellings)
    if len(cand) < limit and (complete or ranges[0][0] == ranges[0][1]):
        # fewer people than choices (or none) have a name word starting with the last word
        # and the other words: people with a prefix a few edits away follow them, one edit
        # more (more edits when other words, or initials, narrow the people down)
        edits = _name_edits(last) if complete or initials else _max_edits(last)
        near = pre.near(last, edits, limit=32 if complete else 8, every=bool(complete))
        near = [p for p in near if p != last]
        if near:
            more = by_word.begun(pre.ranges(near), cap)
            more, more_cost = _named(known, complete, more, spellings)
            cand = np.concatenate((cand, more))
            cost = np.concatenate((cost, more_cost + 1))
    if not len(cand):
        return []
    ranking = _author_ranking(known)
    key = cost * max(known.n_authors, 1) + ranking.rank[cand.astype(np.int64)]
    room = 8 * limit * (8 if initials else 1)  # enough for the names skipped
    if len(key) > room:  # the first few only
        head = np.argpartition(key, room)[:room]
        key, cand = key[head], cand[head]
    seen: set[str] = set()
    out: list[Choice] = []
    for author in cand[np.argsort(key)].tolist():
        count = int(ranking.counts[author])
        if count == 0:
            continue  # no paper: nothing to show
        display = ranking.names[author]
        if display in seen or (initials and not author_matches(initials, name_words(display))):
            continue
        seen.add(display)
        label = f"{display} ({count} paper{'s' if count != 1 else ''})"
        out.append(Choice(clamp_choice(label), clamp_choice(display)))
        if len(out) >= limit:
            break
    return out


# --------------------------------------------------------------------------------------------
# Paper autocomplete
# --------------------------------------------------------------------------------------------


def suggest_papers(index: SearchEngine, prefix: str, limit: int = MAX_CHOICES) -> list[Choice]:
    """Papers whose title has the typed words (the last one as a prefix), newest first.

    An id prefix ("8t72") also suggests the papers whose id starts with it. When no title
    has every word (nor a spelling of it), the titles most like what was typed
    (:func:`find_titles`, typos allowed in any word) are suggested instead.
    """
    known = index.vocabulary
    limit = min(limit, MAX_CHOICES)
    out: list[Choice] = []
    seen: set[str] = set()

    def add(docno: int) -> bool:
        pid = known.paper_id(docno)
        if pid not in seen:
            seen.add(pid)
            room = CHOICE_MAX_LEN - len(pid) - 3
            out.append(Choice(f"{clamp_choice(known.title(docno))[:room]} · {pid}", pid))
        return len(out) >= limit

    typed = prefix.strip()
    if _ID_RE.match(normalise_id(typed)):
        for _, docno in known.paper_ids_with_prefix(normalise_id(typed), limit):
            if add(docno):
                return out
    words = surface_words(typed)
    if not words:
        for docno in known.docnos()[::-1][: limit * 2].tolist():
            if add(int(docno)):
                break
        return out
    _title_word_choices(known, typed, words, limit, add)
    if not out and len(words) > 1:  # no title has them all: the titles most like the text
        for m in find_titles(index, typed, limit):
            if m.score >= _FUZZY_CHOICE and add(m.docno):
                break
    return out


_FUZZY_CHOICE = 50  # the least similarity of a title suggested by find_titles


def _title_word_choices(
    known: LookupVocabulary,
    typed: str,
    words: Sequence[str],
    limit: int,
    add: Callable[[int], bool],
) -> None:
    """Add (``add``, until it says enough) the papers whose title has every typed word or a
    spelling of it, the last one as a prefix, newest first."""
    complete = [w for w in (words if typed.endswith(" ") else words[:-1]) if w not in STOPWORDS]
    last = None if typed.endswith(" ") else words[-1]
    sorted_words, sorted_ids = known.title_words_sorted()
    driver: np.ndarray | None = None
    for w in complete:
        wid = _title_word_id(known, w)
        if wid is not None:
            docs = known.title_word_docs(wid)
        else:  # a typo in a complete word: the papers with its nearest spellings
            ids = [_title_word_id(known, c) for c in _corrected(known, "title", w)]
            found = [known.title_word_docs(i) for i in ids if i is not None]
            if not found:
                return
            docs = _unique(np.concatenate(found))
        driver = docs if driver is None else driver[_member(docs, driver)]
    ranges = [] if last is None else _typed_prefixes(known, "title", last)
    if driver is None:
        if last is None:
            return
        tails = [
            known.title_word_docs(int(w))[-limit * 4 :]
            for lo, hi in ranges
            for w in sorted_ids[lo:hi][:500]
        ]
        if not tails:
            return
        driver = _unique(np.concatenate(tails))
        last = None  # every driver doc has a word with the prefix
    elif last is not None:
        begun = [int(w) for lo, hi in ranges for w in sorted_ids[lo:hi][:500]]
        if sum(known.title_word_df(w) for w in begun) <= 20 * len(driver) + 50_000:
            # cheaper than reading titles: keep the driver docs with a word the prefix begins
            lists = [known.title_word_docs(w) for w in begun]
            if not lists:
                return
            driver = driver[_member(_unique(np.concatenate(lists)), driver)]
            last = None
    scanned = 0
    for docno in driver[::-1].tolist():
        if not known.is_live(int(docno)):
            continue
        scanned += 1
        if scanned > 3000:
            break
        if last is not None and not any(
            _begins(w, last, ranges, sorted_words) for w in surface_words(known.title(int(docno)))
        ):
            continue
        if add(int(docno)):
            break


def _begins(word: str, typed: str, ranges: Sequence[tuple[int, int]], words: Sequence[str]) -> bool:
    """Whether ``word`` is one the typed prefix may begin (``ranges`` of ``words``)."""
    if word.startswith(typed):
        return True
    i = bisect_left(words, word)
    return any(lo <= i < hi for lo, hi in ranges) and i < len(words) and words[i] == word
