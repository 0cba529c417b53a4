"""One index version's arrays, what is derived from them, and the postings primitives.

The postings are a CSR list set (:mod:`bot.core.index.arrays`) over term ids: term ``t``'s
documents are ``docs[ptr[t]:ptr[t + 1]]`` (ascending docnos) with their term frequencies in
``tfs``. Documents are numbered by the store's rowid (docno); per-docno arrays cover every
docno up to the largest (``alive`` says which are live). Every module of the package reads the
arrays through an :class:`IndexData`; nothing here changes once built.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from bot.core.index import bm25, tuning
from bot.core.index.arrays import I32, I64, AnyArray, Bool
from bot.core.index.vocab import WordTable

T = TypeVar("T")
U64 = npt.NDArray[np.uint64]


def words64(bits: AnyArray) -> U64:
    """A packed little-endian bitset (bytes) as 64-bit words, zero-padded: bit ``d`` of the
    set is bit ``d & 63`` of word ``d >> 6``."""
    padded = np.zeros(-(-len(bits) // 8) * 8, dtype=np.uint8)
    padded[: len(bits)] = bits
    return padded.view("<u8")


# byte value -> the positions of its set bits (ascending, then zeros) and their count
_BYTE_BITS = np.array(
    [[b for b in range(8) if v >> b & 1] + [0] * (8 - bin(v).count("1")) for v in range(256)],
    dtype=np.int64,
)
_BYTE_COUNT = np.array([bin(v).count("1") for v in range(256)], dtype=np.int64)


def set_bits(words: U64) -> I32:
    """The set bits of a :func:`words64` bitset (docnos), ascending: one pass over its
    bytes, then work per set bit only."""
    octets = words.view(np.uint8)
    at = np.flatnonzero(octets)
    values = octets.take(at)
    counts = _BYTE_COUNT.take(values)
    ends = np.cumsum(counts)
    nth = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
    nth -= np.repeat(ends - counts, counts)
    out: I32 = (np.repeat(at * 8, counts) + _BYTE_BITS[np.repeat(values, counts), nth]).astype(
        np.int32
    )
    return out


_UNKNOWN: Any = object()  # not asked yet (None: not in the vocabulary)


class IndexData:
    """The arrays and meta of one index (see the module doc) with their derived values."""

    def __init__(self, arrays: Mapping[str, AnyArray], meta: Mapping[str, Any]) -> None:
        self.arrays = arrays
        self.meta = meta
        self.version = int(meta.get("version", 0))
        self.ptr: I64 = arrays["ptr"]
        self.docs: I32 = arrays["docs"]
        self.tfs: AnyArray = arrays["tfs"]
        self.alive: Bool = arrays["alive"]
        self.n_docs = int(meta["n_docs"])  # live documents (rank-bm25's corpus size)
        self.total_len = int(meta["total_len"])
        self.avgdl = self.total_len / self.n_docs if self.n_docs else 0.0
        doc_len = arrays["doc_len"]
        # rank-bm25's denominator part, per docno
        self.norm = (
            bm25.norms(doc_len, self.avgdl)
            if self.n_docs
            else np.zeros(len(doc_len), dtype=np.float64)
        )
        self.terms = WordTable(arrays, "term")
        # term id -> its row in the champion arrays (common terms only)
        self.common_slot: dict[int, int] = {
            int(t): i for i, t in enumerate(arrays["common_terms"].tolist())
        }
        self._idf: dict[int, float] = {}
        self._ranked: dict[int, tuple[U64, I32]] = {}
        self._memo: dict[Hashable, Any] = {}
        self._average_idf: float | None = None
        self._min_norm: float | None = None
        self._term_stats: dict[str, tuple[int, int, float] | None] = {}
        self._lock = threading.Lock()
        self._local = threading.local()

    # ---- documents ------------------------------------------------------------------------

    def docnos(self) -> I64:
        """Live docnos, ascending."""
        return np.flatnonzero(self.alive).astype(np.int64)

    def is_live(self, docno: int) -> bool:
        return 0 <= docno < len(self.alive) and bool(self.alive[docno])

    def paper_id(self, docno: int) -> str:
        return bytes(self.arrays["paper_ids"][docno]).decode()

    def title(self, docno: int) -> str:
        a = self.arrays
        s, e = int(a["title_start"][docno]), int(a["title_end"][docno])
        return bytes(a["title_data"][s:e]).decode()

    def nbytes(self) -> int:
        """Bytes held by the arrays (memory-mapped ones included) and the derived norms."""
        return int(sum(arr.nbytes for arr in self.arrays.values())) + int(self.norm.nbytes)

    # ---- terms and postings ---------------------------------------------------------------

    def term_id(self, term: str) -> int | None:
        """The id of a search term (None: no document holds it), from :meth:`term_stats`'s
        cache: queries ask for the same terms again and again (plan, phrases, known-item)."""
        stats = self._term_stats.get(term, _UNKNOWN)
        if stats is _UNKNOWN:
            stats = self._remember({term: self._stats(self.terms.id(term))})[term]
        return None if stats is None else int(stats[0])

    def term_ids(self, terms: Iterable[str]) -> list[int | None]:
        return [self.term_id(t) for t in terms]

    def term_stats(self, words: Sequence[str]) -> list[tuple[int, int, float] | None]:
        """Each word's (term id, df, :meth:`idf`), None when the vocabulary lacks it: cached
        for the words asked before (at most ``tuning.TERM_STATS``, then the cache starts
        again), so a paper's words are mostly not hashed and searched again."""
        cache = self._term_stats
        found = list(map(cache.get, words, repeat(_UNKNOWN, len(words))))
        if _UNKNOWN in found:
            missing = list(
                dict.fromkeys(w for w, f in zip(words, found, strict=True) if f is _UNKNOWN)
            )
            made = self._remember(
                {w: self._stats(t) for w, t in zip(missing, self.terms.ids(missing), strict=True)}
            )
            found = [made[w] if f is _UNKNOWN else f for w, f in zip(words, found, strict=True)]
        return found

    def _stats(self, tid: int | None) -> tuple[int, int, float] | None:
        return None if tid is None else (tid, self.df(tid), self.idf(tid))

    def _remember(
        self, made: dict[str, tuple[int, int, float] | None]
    ) -> dict[str, tuple[int, int, float] | None]:
        """Add ``made`` to the term stats cache (emptied first when it would be too large)."""
        cache = self._term_stats
        if len(cache) + len(made) > tuning.TERM_STATS:
            cache.clear()
        cache.update(made)
        return made

    def df(self, tid: int) -> int:
        """How many live documents hold term ``tid``."""
        return int(self.ptr[tid + 1] - self.ptr[tid])

    def doc_freq(self, term: str) -> int:
        tid = self.term_id(term)
        return 0 if tid is None else self.df(tid)

    def postings(self, tid: int) -> tuple[int, int]:
        """The range of term ``tid``'s postings in ``docs`` / ``tfs``."""
        return int(self.ptr[tid]), int(self.ptr[tid + 1])

    def locate(self, tid: int, cand: AnyArray) -> tuple[Bool, I64]:
        """For sorted docnos ``cand``: which contain term ``tid``, and their posting indices.

        Binary search when the candidates are few; otherwise scatter the postings' slots into
        a per-thread scratch array (one pass over the list, no allocation per query).
        """
        lo, hi = int(self.ptr[tid]), int(self.ptr[tid + 1])
        seg = self.docs[lo:hi]
        if len(seg) == 0 or len(cand) == 0:
            return np.zeros(len(cand), dtype=np.bool_), np.zeros(0, dtype=np.int64)
        slot = self.common_slot.get(tid)
        if slot is not None and len(cand) > 64:
            return self._locate_by_rank(slot, lo, cand)
        pos: AnyArray
        if len(cand) * 24 < len(seg):
            pos = np.searchsorted(seg, cand)
        else:
            scratch, ramp = self._scratch()
            scratch[seg] = ramp[: len(seg)]
            pos = scratch[cand]  # stale slots from other lists are caught by the check below
        np.minimum(pos, len(seg) - 1, out=pos)
        hit: Bool = seg[pos] == cand
        # (an index array and take(): much faster than a boolean index on a mixed mask)
        g: I64 = pos.take(np.flatnonzero(hit)).astype(np.int64)
        g += lo
        return hit, g

    def _locate_by_rank(self, slot: int, lo: int, cand: AnyArray) -> tuple[Bool, I64]:
        """:meth:`locate` for a common term: its bitset says which candidates hold it, and a
        posting's index is the number of bits before its own (a count per 64-bit word plus
        the bits below it in the word): no pass over the postings."""
        words, rank = self.ranked_bitset(slot)
        wi = cand >> 6
        w = words[wi]
        b = (cand & 63).astype(np.uint64)
        hit: Bool = ((w >> b) & np.uint64(1)).astype(np.bool_)
        idx = np.flatnonzero(hit)
        w, b, wi = w.take(idx), b.take(idx), wi.take(idx)
        below = np.bitwise_count(w & ((np.uint64(1) << b) - np.uint64(1)))
        g: I64 = rank.take(wi).astype(np.int64)
        g += below
        g += lo
        return hit, g

    def memo(self, key: Hashable, make: Callable[[], T], limit: int) -> T:
        """A value derived from the (immutable) arrays, made once per index and ``key``; the
        oldest is dropped beyond ``limit`` values."""
        cache = self._memo
        if key in cache:
            found: T = cache[key]
            return found
        value = make()
        with self._lock:
            while len(cache) >= limit:
                cache.pop(next(iter(cache)))
            cache[key] = value
        return value

    def ranked_bitset(self, slot: int) -> tuple[U64, I32]:
        """A common term's bitset as 64-bit words (:func:`words64`) and the bits set before
        each word (cached for the most recently used ``tuning.RANKED_BITSETS`` terms)."""
        cache = self._ranked
        found = cache.get(slot)
        if found is not None:
            return found
        words = words64(self.arrays["bitsets"][slot])
        rank = np.zeros(len(words), dtype=np.int32)
        np.cumsum(np.bitwise_count(words[:-1]), dtype=np.int32, out=rank[1:])
        with self._lock:
            while len(cache) >= tuning.RANKED_BITSETS:
                cache.pop(next(iter(cache)))
            cache[slot] = (words, rank)
        return words, rank

    def _scratch(self) -> tuple[I32, I32]:
        """Per thread: a docno -> slot array and 0, 1, 2, ... (both as long as ``alive``)."""
        local = self._local
        arr: I32 | None = getattr(local, "scratch", None)
        if arr is None:
            arr = np.zeros(len(self.alive), dtype=np.int32)
            local.scratch = arr
            local.ramp = np.arange(len(self.alive), dtype=np.int32)
        return arr, local.ramp

    def marks(self, size: int) -> Bool:
        """A per-thread array of at least ``size`` False flags, for a caller that sets some and
        sets them back to False before it returns (grown on demand, never shrunk)."""
        local = self._local
        arr: Bool | None = getattr(local, "marks", None)
        if arr is None or len(arr) < size:
            arr = np.zeros(max(size, 1 << 16), dtype=np.bool_)
            local.marks = arr
        return arr

    # ---- idf ----------------------------------------------------------------------------

    def idf(self, tid: int) -> float:
        """rank-bm25's idf of term ``tid`` (cached)."""
        cache = self._idf
        value = cache.get(tid)
        if value is None:
            df = self.df(tid)
            if df == 0:
                value = 0.0
            else:
                value = bm25.raw_idf(self.n_docs, df)
                if value < 0:
                    value = bm25.EPSILON * self.average_idf()
            cache[tid] = value
        return value

    def min_norm(self) -> float:
        """The smallest :attr:`norm` of a live document (the postings' documents; computed
        once): with the highest tf of a list, a bound on its contributions."""
        if self._min_norm is None:
            self._min_norm = float(self.norm[self.alive].min()) if self.n_docs else bm25.K1
        return self._min_norm

    def average_idf(self) -> float:
        """rank-bm25's ``average_idf`` (see :func:`bm25.average_idf`; computed once)."""
        if self._average_idf is None:
            with self._lock:
                if self._average_idf is None:
                    df = np.diff(self.ptr)
                    order: AnyArray = self.arrays["term_order"]
                    self._average_idf = bm25.average_idf(
                        self.n_docs, df[order] if len(order) else df
                    )
        return self._average_idf
