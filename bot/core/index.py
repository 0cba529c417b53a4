"""The BM25 search index: rank-bm25's exact scores over numpy postings.

Scores equal ``rank_bm25.BM25Okapi(corpus).get_scores(tokens)`` bit for bit, where ``corpus`` is
the live documents' token lists (:func:`bot.core.text.document_stream`) in docno order:
k1 = 1.5, b = 0.75, epsilon = 0.25; idf = log(N - df + 0.5) - log(df + 0.5) computed with
``math.log``; a negative idf is replaced by epsilon x the average idf over every term of the
corpus, summed in rank-bm25's order (first occurrence); a doc's score is the sequential sum of
its terms' contributions in query order, each computed with rank-bm25's float64 operations.

Only candidate documents are scored: required terms are intersected starting from the rarest
(AND), filters and exclusions shrink the set, then the survivors are scored and the top k
selected (ties: lower docno first). Very common terms have *champion lists* (the postings with
the best term-frequency part at the current average length) and *bitsets*, so a query made only
of common terms scores a few thousand champions, proves no other document can beat the k-th
(upper bounds computed with the same monotone float operations), and counts its hits with a
bitset AND instead of scoring most of the corpus.

The index is immutable: :meth:`Index.updated` returns a new index with papers added, replaced or
removed (merging the sorted postings, no re-tokenizing of the rest); :meth:`Index.save` writes
numpy files to a directory that :meth:`Index.load` memory-maps, so a start never re-tokenizes.
Documents are numbered by the store's rowid (docno); the index maps docno -> paper id and keeps
titles (for lookups), not abstracts.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from bot.core import saved_index
from bot.core.models import Paper
from bot.core.query import (
    AuthorFilter,
    ParsedQuery,
    Phrase,
    VenueFilter,
    author_matches,
    name_words,
    venue_matches,
    venue_words,
)
from bot.core.text import document_stream, surface_words

K1 = 1.5
B = 0.75
EPSILON = 0.25
FORMAT_VERSION = 1

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]
AnyArray = npt.NDArray[Any]

# Champion lists and bitsets for terms in at least this many documents (and this share).
COMMON_MIN_DF = 8192
COMMON_MIN_SHARE = 1 / 64
CHAMPIONS = 8192  # at most this many champions per common term ...
CHAMPIONS_MIN = 1024  # ... at least this many, and about df / 16 in between
_BUILD_CHUNK = 32_768
_CKPT_SHIFT = 4  # positions checkpoint every 16 postings
# A phrase over more candidates than this is verified best-first (see Index._lazy_phrases).
PHRASE_LAZY = 8_000
PHRASE_CHUNK = 2048
PHRASE_SAMPLE = 1024


def term_hash(term: str) -> int:
    """A stable 64-bit hash of a term (the vocabulary is a sorted array of these)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexHit:
    docno: int
    paper_id: str
    score: float


@dataclass(frozen=True, slots=True)
class IndexResult:
    """One page of hits (best first) and how many documents match in all."""

    hits: tuple[IndexHit, ...]
    total: int
    pruned: bool = False  # the top k came from champion lists (exact, fewer docs scored)
    exact: bool = True  # False: ``total`` is an estimate (a phrase over very many candidates)


# --------------------------------------------------------------------------------------------
# Input documents
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What the index keeps of one paper (tokenized once, when it is added)."""

    docno: int
    paper_id: str
    title: str
    terms: list[str]
    steps: list[int]  # position steps (running sum = positions), see document_stream
    authors: tuple[tuple[str, str], ...]  # (key, display)
    venue: str
    title_words: tuple[str, ...]


def index_doc(docno: int, paper: Paper) -> IndexDoc:
    displays = [a.display for a in paper.authors]
    toks, steps = document_stream(paper.title, paper.abstract, displays)
    return IndexDoc(
        docno=docno,
        paper_id=paper.id,
        title=paper.title,
        terms=toks,
        steps=steps,
        authors=tuple((a.key, a.display) for a in paper.authors),
        venue=paper.venue,
        title_words=tuple(dict.fromkeys(surface_words(paper.title))),
    )


# --------------------------------------------------------------------------------------------
# Small array helpers
# --------------------------------------------------------------------------------------------


def _ragged_index(starts: I64, lengths: AnyArray) -> I64:
    """Indices covering [starts[i], starts[i] + lengths[i]) for every i, concatenated."""
    lengths = lengths.astype(np.int64, copy=False)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    offsets = np.repeat(starts - (ends - lengths), lengths)
    out: I64 = np.arange(total, dtype=np.int64) + offsets
    return out


def _unique(values: AnyArray) -> AnyArray:
    """Sorted distinct values (sort-based; faster here than np.unique's hashing)."""
    if len(values) < 2:
        return np.sort(values)
    arr = np.sort(values)
    keep = np.empty(len(arr), dtype=np.bool_)
    keep[0] = True
    np.not_equal(arr[1:], arr[:-1], out=keep[1:])
    out: AnyArray = arr[keep]
    return out


def _member(sorted_arr: AnyArray, values: AnyArray) -> Bool:
    """Whether each of ``values`` is in the sorted ``sorted_arr``."""
    if len(sorted_arr) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=np.bool_)
    pos = np.searchsorted(sorted_arr, values)
    pos[pos == len(sorted_arr)] = len(sorted_arr) - 1
    found: Bool = sorted_arr[pos] == values
    return found


# Public names for the other core modules (bot.core.lookup).
unique_sorted = _unique
in_sorted = _member


def _blob(strings: Sequence[str]) -> tuple[npt.NDArray[np.uint8], I64]:
    encoded = [s.encode() for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    if encoded:
        offsets[1:] = np.cumsum([len(e) for e in encoded])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    return data, offsets


def _unblob(data: AnyArray, offsets: AnyArray) -> list[str]:
    raw = bytes(data)
    offs = offsets.tolist()
    return [raw[offs[i] : offs[i + 1]].decode() for i in range(len(offs) - 1)]


def _pick_dtype(max_value: int) -> type[np.unsignedinteger[Any]]:
    if max_value < 256:
        return np.uint8
    if max_value < 65536:
        return np.uint16
    return np.uint32


# --------------------------------------------------------------------------------------------
# CSR lists: key -> sorted docnos (+ aligned payload), merged on update
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Additions:
    """New (key, doc) pairs, sorted by key then doc, with aligned payloads."""

    keys: I32
    docs: I32
    payload: tuple[AnyArray, ...] = ()


def _pairs_from_lists(lists: Sequence[Sequence[int]], docs: Sequence[int]) -> _Additions:
    """(key, doc) pairs from per-doc key lists (each key once per doc), sorted by key, doc."""
    lengths = np.array([len(x) for x in lists], dtype=np.int64)
    keys = np.fromiter((k for x in lists for k in x), dtype=np.int32, count=int(lengths.sum()))
    dd = np.repeat(np.asarray(docs, dtype=np.int32), lengths)
    order = np.lexsort((dd, keys))
    return _Additions(keys[order], dd[order])


def _merge(
    ptr: I64,
    docs: I32,
    payload: tuple[AnyArray, ...],
    add: _Additions,
    n_keys: int,
    dead: Bool | None,
) -> tuple[I64, I32, tuple[AnyArray, ...], Bool | None, I64]:
    """Merge sorted additions into CSR lists, dropping docs marked ``dead``.

    Returns the new (ptr, docs, payload), the keep-mask applied to the old postings (or None)
    and, for each addition, the index in the *kept* old postings before which it was inserted.
    """
    old_keys = len(ptr) - 1
    if n_keys > old_keys:
        ptr = np.concatenate([ptr, np.full(n_keys - old_keys, ptr[-1], dtype=np.int64)])
    keep: Bool | None = None
    if dead is not None and len(docs):
        dead_of = dead[docs] if len(dead) > int(docs.max()) else np.zeros(len(docs), np.bool_)
        if dead_of.any():
            keep = ~dead_of
            kept_cum = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
            ptr = kept_cum[ptr]
            docs = docs[keep]
            payload = tuple(p[keep] for p in payload)
    if len(add.keys) == 0:
        return ptr, docs, payload, keep, np.zeros(0, dtype=np.int64)
    # Where each addition goes among the kept old postings.
    if len(docs) == 0 or int(add.docs.min()) > int(docs.max()):
        where = ptr[1:][add.keys]  # appended docs go to the end of their key's list
    else:
        where = np.empty(len(add.keys), dtype=np.int64)
        bounds = np.flatnonzero(np.diff(add.keys)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(add.keys)]])
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            k = int(add.keys[s])
            lo, hi = int(ptr[k]), int(ptr[k + 1])
            where[s:e] = lo + np.searchsorted(docs[lo:hi], add.docs[s:e])
    new_docs = np.insert(docs, where, add.docs)
    new_payload = tuple(
        np.insert(p, where, q.astype(p.dtype, copy=False))
        for p, q in zip(payload, add.payload, strict=True)
    )
    counts = np.bincount(add.keys, minlength=n_keys).astype(np.int64)
    new_ptr = ptr + np.concatenate([[0], np.cumsum(counts)])
    return new_ptr, new_docs.astype(np.int32, copy=False), new_payload, keep, where


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------

Mode = Literal["and", "or"]


@dataclass(slots=True)
class _Derived:
    """Per-version values computed from the arrays (at load, build or update)."""

    n_docs: int
    total_len: int
    avgdl: float
    norm: F64  # k1 * (1 - b + b * doc_len / avgdl), rank-bm25's denominator part, per docno
    average_idf: float | None = None
    idf_cache: dict[int, float] = field(default_factory=dict)
    venue_words: list[tuple[str, ...]] = field(default_factory=list)
    venue_filter_cache: dict[tuple[tuple[str, ...], ...], Bool] = field(default_factory=dict)
    venue_bits_cache: dict[tuple[bool, tuple[tuple[str, ...], ...]], npt.NDArray[np.uint8]] = field(
        default_factory=dict
    )
    author_names: list[str] | None = None
    author_word_ids: dict[str, int] | None = None
    title_sorted: tuple[list[str], I32] | None = None
    author_words_sorted: list[str] | None = None
    paper_id_sorted: tuple[AnyArray, I32] | None = None
    terms_list: list[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    local: threading.local = field(default_factory=threading.local)


class Index:
    """An immutable BM25 index (see the module doc). Build with :meth:`build`."""

    # Array names persisted by save() and memory-mapped by load().
    _ARRAYS = (
        "term_data", "term_off", "term_hash", "term_hash_ids", "term_order",
        "author_key_hash", "author_key_hash_ids", "aword_hash", "aword_hash_ids",
        "tword_hash", "tword_hash_ids", "venue_hash", "venue_hash_ids",
        "ptr", "docs", "tfs", "pos_ckpt", "pos",
        "doc_len", "alive", "venue_of", "paper_ids", "title_data", "title_start", "title_end",
        "venue_data", "venue_off",
        "author_key_data", "author_key_off", "author_disp_data", "author_disp_off",
        "author_ptr", "author_docs",
        "aword_data", "aword_off", "aword_ptr", "aword_authors",
        "tword_data", "tword_off", "tword_ptr", "tword_docs",
        "common_terms", "champ_ptr", "champ_docs", "champ_bound", "bitsets",
    )  # fmt: skip

    def __init__(self, arrays: dict[str, AnyArray], meta: dict[str, Any]) -> None:
        self._a = arrays
        self._meta = meta
        self.version: int = int(meta.get("version", 0))
        a = arrays
        self._ptr: I64 = a["ptr"]
        self._docs: I32 = a["docs"]
        self._tfs: AnyArray = a["tfs"]
        doc_len = a["doc_len"]
        alive = a["alive"]
        n_docs = int(meta["n_docs"])
        total_len = int(meta["total_len"])
        avgdl = total_len / n_docs if n_docs else 0.0
        if n_docs:
            norm = K1 * ((1 - B) + B * doc_len.astype(np.float64) / avgdl)
        else:
            norm = np.zeros(len(doc_len), dtype=np.float64)
        self._d = _Derived(n_docs=n_docs, total_len=total_len, avgdl=avgdl, norm=norm)
        self._alive: Bool = alive
        self._d.venue_words = [venue_words(v) for v in _unblob(a["venue_data"], a["venue_off"])]
        self._common_slot: dict[int, int] = {
            int(t): i for i, t in enumerate(a["common_terms"].tolist())
        }

    # ---- size and identity ---------------------------------------------------------------

    @property
    def n_docs(self) -> int:
        """Live documents (rank-bm25's corpus size)."""
        return self._d.n_docs

    @property
    def avgdl(self) -> float:
        return self._d.avgdl

    @property
    def n_terms(self) -> int:
        return len(self._a["term_off"]) - 1

    @property
    def max_docno(self) -> int:
        return len(self._a["doc_len"]) - 1

    def nbytes(self) -> int:
        """Bytes held by the index arrays (memory-mapped ones included)."""
        return int(sum(arr.nbytes for arr in self._a.values())) + int(self._d.norm.nbytes)

    def docnos(self) -> I64:
        """Live docnos, ascending."""
        return np.flatnonzero(self._alive).astype(np.int64)

    def is_live(self, docno: int) -> bool:
        return 0 <= docno < len(self._alive) and bool(self._alive[docno])

    def paper_id(self, docno: int) -> str:
        return bytes(self._a["paper_ids"][docno]).decode()

    def docno_of(self, paper_id: str) -> int | None:
        """The docno of a paper id (live or not), or None."""
        d = self._d
        if d.paper_id_sorted is None:
            with d.lock:
                if d.paper_id_sorted is None:
                    ids = self._a["paper_ids"]
                    order = np.argsort(ids, kind="stable").astype(np.int32)
                    d.paper_id_sorted = (ids[order], order)
        ids_sorted, order = d.paper_id_sorted
        key = np.array([paper_id.encode()], dtype=ids_sorted.dtype)
        i = int(np.searchsorted(ids_sorted, key[0]))
        if i < len(ids_sorted) and ids_sorted[i] == key[0] and paper_id:
            return int(order[i])
        return None

    def paper_ids_with_prefix(self, prefix: str, limit: int) -> list[tuple[str, int]]:
        """(paper id, docno) of live papers whose id starts with ``prefix`` (sorted by id)."""
        self.docno_of("")  # builds the sorted ids
        assert self._d.paper_id_sorted is not None
        ids_sorted, order = self._d.paper_id_sorted
        lo = int(np.searchsorted(ids_sorted, prefix.encode()))
        out: list[tuple[str, int]] = []
        for i in range(lo, len(ids_sorted)):
            pid = bytes(ids_sorted[i]).decode()
            if not pid.startswith(prefix):
                break
            docno = int(order[i])
            if self._alive[docno]:
                out.append((pid, docno))
                if len(out) >= limit:
                    break
        return out

    def title(self, docno: int) -> str:
        a = self._a
        s, e = int(a["title_start"][docno]), int(a["title_end"][docno])
        return bytes(a["title_data"][s:e]).decode()

    def doc_length(self, docno: int) -> int:
        return int(self._a["doc_len"][docno])

    # ---- vocabulary -----------------------------------------------------------------------

    def term_id(self, term: str) -> int | None:
        return self._word_id("term", term)

    def term(self, tid: int) -> str:
        a = self._a
        s, e = int(a["term_off"][tid]), int(a["term_off"][tid + 1])
        return bytes(a["term_data"][s:e]).decode()

    def doc_freq(self, term: str) -> int:
        """How many live documents contain ``term`` (a pipeline term, e.g. "scale")."""
        tid = self.term_id(term)
        return 0 if tid is None else int(self._ptr[tid + 1] - self._ptr[tid])

    def doc_freqs(self) -> I64:
        """The document frequency of every term, by term id (see :meth:`term`)."""
        return np.diff(self._ptr)

    def idf(self, term: str) -> float:
        """rank-bm25's idf of a term (0 for unknown terms, as its ``idf.get(q) or 0``)."""
        tid = self.term_id(term)
        return 0.0 if tid is None else self._idf(tid)

    def _df(self, tid: int) -> int:
        return int(self._ptr[tid + 1] - self._ptr[tid])

    def _locate(self, tid: int, cand: AnyArray) -> tuple[Bool, I64]:
        """For sorted docnos ``cand``: which contain term ``tid``, and their posting indices.

        Binary search when the candidates are few; otherwise scatter the postings' slots into
        a per-thread scratch array (one pass over the list, no allocation per query).
        """
        lo, hi = int(self._ptr[tid]), int(self._ptr[tid + 1])
        seg = self._docs[lo:hi]
        if len(seg) == 0 or len(cand) == 0:
            return np.zeros(len(cand), dtype=np.bool_), np.zeros(0, dtype=np.int64)
        pos: AnyArray
        if len(cand) * 24 < len(seg):
            pos = np.searchsorted(seg, cand)
            pos[pos == len(seg)] = len(seg) - 1
        else:
            scratch = self._scratch()
            scratch[seg] = np.arange(len(seg), dtype=np.int32)
            pos = scratch[cand]
            np.clip(pos, 0, len(seg) - 1, out=pos)
        hit: Bool = seg[pos] == cand
        return hit, lo + pos[hit].astype(np.int64)

    def _scratch(self) -> I32:
        local = self._d.local
        arr: I32 | None = getattr(local, "scratch", None)
        if arr is None:
            arr = np.zeros(len(self._alive), dtype=np.int32)
            local.scratch = arr
        return arr

    def _idf(self, tid: int) -> float:
        cache = self._d.idf_cache
        value = cache.get(tid)
        if value is None:
            n, df = self._d.n_docs, self._df(tid)
            if df == 0:
                value = 0.0
            else:
                value = math.log(n - df + 0.5) - math.log(df + 0.5)
                if value < 0:
                    value = EPSILON * self.average_idf()
            cache[tid] = value
        return value

    def average_idf(self) -> float:
        """rank-bm25's ``average_idf``: mean raw idf over the corpus's terms, summed in order."""
        d = self._d
        if d.average_idf is None:
            with d.lock:
                if d.average_idf is None:
                    d.average_idf = self._compute_average_idf()
        return d.average_idf

    def _compute_average_idf(self) -> float:
        n = self._d.n_docs
        df = np.diff(self._ptr)
        order: AnyArray = self._a["term_order"]
        df_ordered = df[order] if len(order) else df
        df_ordered = df_ordered[df_ordered > 0]
        if len(df_ordered) == 0:
            return 0.0
        uniq = _unique(df_ordered)
        inverse = np.searchsorted(uniq, df_ordered)
        table = np.array(
            [math.log(n - int(f) + 0.5) - math.log(int(f) + 0.5) for f in uniq.tolist()],
            dtype=np.float64,
        )
        idfs = table[inverse]
        # Sequential left-to-right sum, as rank-bm25's loop does (np.sum would be pairwise).
        total = float(np.add.accumulate(idfs)[-1])
        return total / len(idfs)

    def _ids(self, terms: Iterable[str]) -> list[int | None]:
        return [self.term_id(t) for t in terms]

    # ---- building -------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> Index:
        return cls.build([])

    @classmethod
    def build(cls, docs: Iterable[IndexDoc], *, version: int = 0) -> Index:
        """Build from documents (any docno order; each docno once)."""
        builder = IndexBuilder()
        builder.add(docs)
        return builder.finish(version)

    @classmethod
    def from_papers(cls, papers: Iterable[tuple[int, Paper]], *, version: int = 0) -> Index:
        return cls.build((index_doc(docno, p) for docno, p in papers), version=version)

    def updated(
        self,
        docs: Iterable[IndexDoc],
        *,
        removed: Iterable[int] = (),
        version: int | None = None,
    ) -> Index:
        """A new index with ``docs`` added or replaced (same docno) and ``removed`` dropped."""
        builder = IndexBuilder(base=self)
        builder.add(docs)
        return builder.finish_update(
            self, list(removed), self.version if version is None else version
        )

    # ---- persistence ----------------------------------------------------------------------

    def save(self, directory: str | Path, *, stamp: str = "") -> None:
        """Write the index into ``directory``, a folder digest-bot owns (or is refused:
        :class:`~bot.core.saved_index.IndexDirError`), as a new generation switched to
        atomically (see :mod:`bot.core.saved_index`). ``stamp`` names the catalogue state the
        index reflects; :meth:`load` can insist on it."""
        meta = dict(self._meta)
        meta["format"] = FORMAT_VERSION
        meta["stamp"] = stamp
        saved_index.write(Path(directory), {name: self._a[name] for name in self._ARRAYS}, meta)

    @staticmethod
    def saved_info(directory: str | Path) -> saved_index.SavedInfo | None:
        """Catalogue version and stamp of the saved index, or None if there is none."""
        found = saved_index.info(Path(directory))
        return found if found is not None and found.format == FORMAT_VERSION else None

    @staticmethod
    def saved_version(directory: str | Path) -> int | None:
        """The catalogue version a saved index was built for, or None if there is none."""
        found = Index.saved_info(directory)
        return None if found is None else found.version

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        mmap: bool = True,
        stamp: str | None = None,
        verify: bool = True,
    ) -> Index:
        """Load the saved index; arrays are memory-mapped (pages read on first use).

        Raises :class:`~bot.core.saved_index.SavedIndexError` (a ValueError) when there is
        none, it was built for another ``stamp`` (when given), or it is damaged: ``verify``
        compares every file with its checksum; the structural checks always run.
        """
        arrays, meta = saved_index.read(
            Path(directory), cls._ARRAYS, format_version=FORMAT_VERSION, stamp=stamp,
            mmap=mmap, verify=verify,
        )  # fmt: skip
        try:
            return cls(arrays, meta)
        except (ValueError, IndexError, KeyError, TypeError, OverflowError) as exc:
            raise saved_index.SavedIndexError(f"damaged index: {exc}") from exc

    # ---- searching --------------------------------------------------------------------------

    def search(self, query: ParsedQuery, k: int = 10, offset: int = 0) -> IndexResult:
        """Hits of ``query`` (every clause must hold), best first, from ``offset``."""
        want = max(0, k) + max(0, offset)
        required = query.required_terms
        ids = self._ids(required)
        if any(t is None for t in ids) or self._d.n_docs == 0:
            return IndexResult((), 0)
        tids = [t for t in ids if t is not None]
        plan = _Plan(self, query, tids)
        if plan.empty:
            return IndexResult((), 0)
        if tids and want > 0 and not query.phrases and not query.exclude_phrases:
            fast = self._try_champions(plan, tids, want)
            if fast is not None:
                hits, total = fast
                return IndexResult(hits[offset:], total, pruned=True)
        cand, cols = plan.candidates(phrases=False)
        if query.phrases and len(cand):
            if tids and len(cand) > PHRASE_LAZY and want <= PHRASE_CHUNK // 4:
                return self._lazy_phrases(query, cand, cols, tids, want, offset)
            keep = plan.phrase_mask(cand, cols)
            cand = cand[keep]
            cols = {t: c[keep] for t, c in cols.items()}
        if len(cand) == 0:
            return IndexResult((), 0)
        total = len(cand)
        if not tids:  # filters only: newest first
            top = cand[::-1][:want]
            hits = tuple(IndexHit(int(d), self.paper_id(int(d)), 0.0) for d in top)
            return IndexResult(hits[offset:], total)
        scores = self._score_and(cand, tids, cols)
        return IndexResult(self._top(cand, scores, want)[offset:], total)

    def _lazy_phrases(
        self,
        query: ParsedQuery,
        cand: I32,
        cols: dict[int, I64],
        tids: list[int],
        want: int,
        offset: int,
    ) -> IndexResult:
        """Many candidates for a phrase: verify them best score first, estimate the total.

        Candidates are verified in chunks of the best remaining scores (ties included), so the
        top ``want`` are exact: an unverified candidate scores strictly below every verified
        one. The total is the matches found plus an estimate for the unverified rest from an
        evenly spread sample of it.
        """
        scores = self._score_and(cand, tids, cols)
        remaining = np.ones(len(cand), dtype=np.bool_)
        found: list[AnyArray] = []
        n_found = 0

        def verify(idx: AnyArray) -> Bool:
            sub = {t: c[idx] for t, c in cols.items()}
            ok = np.ones(len(idx), dtype=np.bool_)
            for phrase in query.phrases:
                ok &= _phrase_on(self, cand[idx], ok.copy(), phrase, sub, want=True)
            return ok

        while n_found < want:
            rest = np.flatnonzero(remaining)
            if len(rest) == 0:
                break
            if len(rest) > PHRASE_CHUNK:
                s = scores[rest]
                kth = np.partition(s, len(s) - PHRASE_CHUNK)[len(s) - PHRASE_CHUNK]
                pick = rest[s >= kth]
            else:
                pick = rest
            ok = verify(pick)
            found.append(pick[ok])
            n_found += int(ok.sum())
            remaining[pick] = False
        matched = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
        rest = np.flatnonzero(remaining)
        total, exact = len(matched), True
        if len(rest):
            step = max(1, len(rest) // PHRASE_SAMPLE)
            sample = rest[::step]
            rate = float(verify(sample).mean()) if len(sample) else 0.0
            total += round(rate * len(rest))
            exact = False
        hits = self._top(cand[matched], scores[matched], want) if len(matched) else ()
        return IndexResult(hits[offset:], total, exact=exact)

    def search_terms(
        self, terms: Sequence[str], k: int = 10, *, mode: Mode = "and", offset: int = 0
    ) -> IndexResult:
        """Rank documents for a raw term list (repeats count, as in rank-bm25).

        ``mode="or"``: every document containing any term, scored like ``get_scores``;
        ``mode="and"``: only documents containing every term.
        """
        want = max(0, k) + max(0, offset)
        if self._d.n_docs == 0 or not terms:
            return IndexResult((), 0)
        ids = self._ids(terms)
        if mode == "and":
            if any(t is None for t in ids):
                return IndexResult((), 0)
            return (
                self.search(_terms_query(terms), k, offset)
                if len(set(terms)) == len(terms)
                else self._and_with_repeats([t for t in ids if t is not None], want, offset)
            )
        known = [t for t in ids if t is not None]
        if not known:
            return IndexResult((), 0)
        cand, scores = self._score_or(ids)
        return IndexResult(self._top(cand, scores, want)[offset:], len(cand))

    def _and_with_repeats(self, tids: list[int], want: int, offset: int) -> IndexResult:
        plan = _Plan(self, ParsedQuery(text=""), list(dict.fromkeys(tids)))
        cand, cols = plan.candidates()
        if len(cand) == 0:
            return IndexResult((), 0)
        scores = self._score_and(cand, tids, cols)
        return IndexResult(self._top(cand, scores, want)[offset:], len(cand))

    def scores_for(self, terms: Sequence[str], docnos: Sequence[int]) -> F64:
        """rank-bm25 scores of ``terms`` for given docnos (like ``get_batch_scores``)."""
        cand = np.asarray(docnos, dtype=np.int32)
        ids = self._ids(terms)
        out = np.zeros(len(cand), dtype=np.float64)
        norm = self._d.norm[cand]
        order = np.argsort(cand, kind="stable")
        sorted_cand = cand[order]
        for tid in ids:
            if tid is None:
                continue
            hit, g = self._locate(tid, sorted_cand)
            tf_sorted = np.zeros(len(cand), dtype=np.float64)
            tf_sorted[hit] = self._tfs[g]
            tf = np.empty(len(cand), dtype=np.float64)
            tf[order] = tf_sorted
            out = out + self._idf(tid) * (tf * (K1 + 1) / (tf + norm))
        return out

    def _score_and(self, cand: I32, tids: Sequence[int], cols: dict[int, I64]) -> F64:
        """rank-bm25's scores of candidates; ``cols[t]``: each one's posting index for t."""
        norm = self._d.norm[cand]
        scores: F64 | None = None
        tfs = self._tfs
        for tid in tids:
            tf = tfs[cols[tid]].astype(np.float64)
            contrib = self._idf(tid) * (tf * (K1 + 1) / (tf + norm))
            scores = contrib if scores is None else scores + contrib
        assert scores is not None
        return scores

    def _score_or(self, ids: Sequence[int | None]) -> tuple[I32, F64]:
        parts_docs: list[AnyArray] = []
        parts_w: list[F64] = []
        norm = self._d.norm
        for tid in ids:
            if tid is None:
                continue
            lo, hi = int(self._ptr[tid]), int(self._ptr[tid + 1])
            docs = self._docs[lo:hi]
            tf = self._tfs[lo:hi].astype(np.float64)
            parts_docs.append(docs)
            parts_w.append(self._idf(tid) * (tf * (K1 + 1) / (tf + norm[docs])))
        all_docs = np.concatenate(parts_docs)
        cand = _unique(all_docs).astype(np.int32)
        local = np.searchsorted(cand, all_docs)
        # bincount adds each bin's weights sequentially in input (= query) order, from 0.0.
        scores = np.bincount(local, weights=np.concatenate(parts_w), minlength=len(cand))
        return cand, scores.astype(np.float64, copy=False)

    def _top(self, cand: AnyArray, scores: F64, want: int) -> tuple[IndexHit, ...]:
        if want <= 0 or len(cand) == 0:
            return ()
        if len(cand) > want:
            kth = np.partition(scores, len(scores) - want)[len(scores) - want]
            sel = np.flatnonzero(scores >= kth)
            cand, scores = cand[sel], scores[sel]
        order = np.lexsort((cand, -scores))[:want]
        pids = self._a["paper_ids"]
        return tuple(
            IndexHit(int(cand[i]), bytes(pids[int(cand[i])]).decode(), float(scores[i]))
            for i in order.tolist()
        )

    # ---- champion lists (pruning for common terms) ------------------------------------------

    def _try_champions(
        self, plan: _Plan, tids: list[int], want: int
    ) -> tuple[tuple[IndexHit, ...], int] | None:
        """Exact top ``want`` scoring only champion postings, or None when not provable."""
        slots = self._common_slot
        if not slots or any(t not in slots for t in tids):
            return None
        champ_ptr = self._a["champ_ptr"]
        if want * 4 > min(int(champ_ptr[slots[t] + 1] - champ_ptr[slots[t]]) for t in tids):
            return None
        if plan.driver_size() < COMMON_MIN_DF:  # a selective filter: the plain path is cheap
            return None
        idfs = [self._idf(t) for t in tids]
        if any(v <= 0 for v in idfs):
            return None
        a = self._a
        champ_ptr, champ_docs, bound = a["champ_ptr"], a["champ_docs"], a["champ_bound"]
        q = plan.query
        if len(tids) == 1 and not (q.venues or q.has_exclusions or q.authors):
            # one term, no filter: its champions (ascending docnos) all match, total = df
            slot = slots[tids[0]]
            pool = champ_docs[champ_ptr[slot] : champ_ptr[slot + 1]]
            total = self._df(tids[0])
        else:
            bits = plan.bitset()
            if bits is None:
                return None
            total = int(np.bitwise_count(bits).sum())
            if total == 0:
                return (), 0
            pool = _unique(
                np.concatenate(
                    [champ_docs[champ_ptr[slots[t]] : champ_ptr[slots[t] + 1]] for t in tids]
                )
            ).astype(np.int32)
            inside = (bits[pool >> 3] >> (pool & 7).astype(np.uint8)) & 1
            pool = pool[inside.astype(np.bool_)]
        if len(pool) < want:
            return None
        cols: dict[int, I64] = {}
        for t in dict.fromkeys(tids):
            cols[t] = self._locate(t, pool)[1]  # every pool doc has every term
        scores = self._score_and(pool, tids, cols)
        hits = self._top(pool, scores, want)
        # Any document outside every champion list scores at most the sum of the bounds; one
        # inside some list was scored exactly. Float ops are monotone, so this bound holds for
        # the computed scores too; strictly below the k-th score means no tie can be missed.
        limit: float | None = None
        for t, v in zip(tids, idfs, strict=True):
            part = v * float(bound[slots[t]])
            limit = part if limit is None else limit + part
        assert limit is not None
        if len(hits) < want or not hits[-1].score > limit:
            return None
        return hits, total

    # ---- phrases ----------------------------------------------------------------------------

    def _posting_starts(self, g: I64) -> I64:
        """Where the positions of global postings ``g`` (ascending) start in ``pos``.

        From the checkpoint before the first one, a running sum of term frequencies over the
        range they span; for a few postings spread over a long range, a per-block sum.
        """
        tfs = self._tfs
        ckpt = self._a["pos_ckpt"]
        if len(g) == 0:
            return np.zeros(0, dtype=np.int64)
        lo = (int(g[0]) >> _CKPT_SHIFT) << _CKPT_SHIFT
        hi = int(g[-1])
        if (hi - lo) < 100 * len(g):
            run = np.zeros(hi - lo + 1, dtype=np.int64)
            np.cumsum(tfs[lo:hi], dtype=np.int64, out=run[1:])
            out: I64 = int(ckpt[lo >> _CKPT_SHIFT]) + run[g - lo]
            return out
        block = g >> _CKPT_SHIFT
        base = block << _CKPT_SHIFT
        width = 1 << _CKPT_SHIFT
        idx = base[:, None] + np.arange(width, dtype=np.int64)[None, :]
        np.minimum(idx, len(tfs) - 1, out=idx)
        before = np.arange(width, dtype=np.int64)[None, :] < (g - base)[:, None]
        partial = (tfs[idx].astype(np.int64) * before).sum(axis=1)
        out = ckpt[block] + partial
        return out

    def _posting_starts_any(self, g: I64) -> I64:
        """Like :meth:`_posting_starts` for any order of postings (per-block sums)."""
        if len(g) == 0:
            return np.zeros(0, dtype=np.int64)
        tfs = self._tfs
        block = g >> _CKPT_SHIFT
        base = block << _CKPT_SHIFT
        width = 1 << _CKPT_SHIFT
        idx = base[:, None] + np.arange(width, dtype=np.int64)[None, :]
        np.minimum(idx, len(tfs) - 1, out=idx)
        before = np.arange(width, dtype=np.int64)[None, :] < (g - base)[:, None]
        out: I64 = self._a["pos_ckpt"][block] + (tfs[idx].astype(np.int64) * before).sum(axis=1)
        return out

    def _phrase_mask(
        self, cand: AnyArray, terms: Sequence[str], cols: dict[int, I64] | None = None
    ) -> Bool:
        """Which candidates contain ``terms`` at consecutive positions.

        ``cols`` may give, per term id, each candidate's global posting index (else searched).
        """
        ids = self._ids(terms)
        if any(t is None for t in ids) or len(cand) == 0:
            return np.zeros(len(cand), dtype=np.bool_)
        tids = [t for t in ids if t is not None]
        pos_arr = self._a["pos"]
        stride = np.int64(1 << 32)
        # rarest term first: its (candidate, position - offset) keys are checked against the
        # others'; keys come out sorted (candidates ascending, positions ascending per posting)
        order = sorted(range(len(tids)), key=lambda i: self._df(tids[i]))
        sel = np.arange(len(cand), dtype=np.int64)  # candidates still possible
        keys: I64 | None = None
        for i in order:
            tid = tids[i]
            sub = cand[sel]
            if cols is not None and tid in cols:
                g = cols[tid][sel]
            else:
                ok, g = self._locate(tid, sub)
                sel = sel[ok]
                if keys is not None:
                    keys = keys[_member(sel, keys // stride)]
            if len(sel) == 0:
                return np.zeros(len(cand), dtype=np.bool_)
            lengths = self._tfs[g].astype(np.int64)
            where = _ragged_index(self._posting_starts(g), lengths)
            k = np.repeat(sel, lengths) * stride + (pos_arr[where].astype(np.int64) - i)
            keys = k if keys is None else keys[_member(k, keys)]
            if len(keys) == 0:
                return np.zeros(len(cand), dtype=np.bool_)
            sel = _unique(keys // stride)
        mask = np.zeros(len(cand), dtype=np.bool_)
        mask[sel] = True
        return mask

    # ---- similar papers ---------------------------------------------------------------------

    def key_terms(self, terms: Sequence[str], n: int = 12) -> list[str]:
        """The ``n`` terms of a token list with the highest BM25 weight in it (df >= 2)."""
        counts: dict[str, int] = {}
        for t in terms:
            counts[t] = counts.get(t, 0) + 1
        dl = len(terms)
        denom_part = K1 * ((1 - B) + B * dl / self._d.avgdl) if self._d.avgdl else K1
        scored: list[tuple[float, str]] = []
        for term, tf in counts.items():
            tid = self.term_id(term)
            if tid is None or self._df(tid) < 2:
                continue
            w = self._idf(tid) * (tf * (K1 + 1) / (tf + denom_part))
            if w > 0:
                scored.append((w, term))
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [t for _, t in scored[:n]]

    def similar(self, docno: int, terms: Sequence[str], k: int = 5) -> list[IndexHit]:
        """Papers like the one with ``terms`` (its token list): an OR query of its key terms."""
        key = self.key_terms(terms)
        if not key:
            return []
        result = self.search_terms(key, k + 1, mode="or")
        return [h for h in result.hits if h.docno != docno][:k]

    # ---- authors, venues, title words (for filters and lookups) -----------------------------

    def author_names(self) -> list[str]:
        d = self._d
        if d.author_names is None:
            with d.lock:
                if d.author_names is None:
                    d.author_names = _unblob(
                        self._a["author_disp_data"], self._a["author_disp_off"]
                    )
        return d.author_names

    def author_name(self, author: int) -> str:
        a = self._a
        s, e = int(a["author_disp_off"][author]), int(a["author_disp_off"][author + 1])
        return bytes(a["author_disp_data"][s:e]).decode()

    def author_keys(self) -> list[str]:
        return _unblob(self._a["author_key_data"], self._a["author_key_off"])

    def author_key(self, author: int) -> str:
        a = self._a
        s, e = int(a["author_key_off"][author]), int(a["author_key_off"][author + 1])
        return bytes(a["author_key_data"][s:e]).decode()

    def author_docs(self, author: int) -> I32:
        return self._row("author_docs", "author_ptr", author)

    def _row(self, data: str, ptr: str, i: int) -> I32:
        """Row ``i`` of a compressed-sparse-row pair of arrays (``data`` cut by ``ptr``)."""
        p = self._a[ptr]
        row: I32 = self._a[data][p[i] : p[i + 1]]
        return row

    def author_paper_count(self, author: int) -> int:
        ptr = self._a["author_ptr"]
        return int(ptr[author + 1] - ptr[author])

    @property
    def n_authors(self) -> int:
        return len(self._a["author_key_off"]) - 1

    def _author_word_ids(self) -> dict[str, int]:
        d = self._d
        if d.author_word_ids is None:
            with d.lock:
                if d.author_word_ids is None:
                    words = _unblob(self._a["aword_data"], self._a["aword_off"])
                    d.author_word_ids = {w: i for i, w in enumerate(words)}
        return d.author_word_ids

    def author_words(self) -> list[str]:
        return list(self._author_word_ids())

    def author_words_sorted(self) -> list[str]:
        """The author name-word vocabulary, sorted (for prefix ranges; cached)."""
        d = self._d
        if d.author_words_sorted is None:
            words = sorted(self._author_word_ids())
            with d.lock:
                d.author_words_sorted = words
        return d.author_words_sorted

    def _word_id(self, prefix: str, word: str) -> int | None:
        """The id of ``word`` in a saved vocabulary (terms, authors, name or title words)."""
        a = self._a
        hashes = a[f"{prefix}_hash"]
        if len(hashes) == 0:
            return None
        h = np.uint64(term_hash(word))
        i = int(np.searchsorted(hashes, h))
        off, data, ids = a[f"{prefix}_off"], a[f"{prefix}_data"], a[f"{prefix}_hash_ids"]
        while i < len(hashes) and hashes[i] == h:
            wid = int(ids[i])
            if bytes(data[int(off[wid]) : int(off[wid + 1])]).decode() == word:
                return wid
            i += 1
        return None

    def authors_with_word(self, word: str) -> I32:
        """Author ids whose name has ``word`` (a folded name word)."""
        wid = self._word_id("aword", word)
        if wid is None:
            return np.zeros(0, dtype=np.int32)
        return self._row("aword_authors", "aword_ptr", wid)

    def matching_authors(self, words: Sequence[str]) -> list[int]:
        """Author ids satisfying :func:`author_matches` for these filter words."""
        full = [w for w in words if len(w) > 1]
        if not full:
            return []
        lists = sorted((self.authors_with_word(w) for w in full), key=len)
        cand = lists[0]
        for other in lists[1:]:
            cand = cand[_member(other, cand)]
        if len(full) == len(words):
            # every word was matched through the name-word lists: author_matches holds
            return [int(x) for x in cand.tolist()]
        return [
            int(x)
            for x in cand.tolist()
            if author_matches(words, name_words(self.author_name(int(x))))
        ]

    def _author_filter_docs(self, flt: AuthorFilter) -> I32:
        ids = self.matching_authors(flt.words)
        if not ids:
            return np.zeros(0, dtype=np.int32)
        ptr = self._a["author_ptr"]
        sel = np.asarray(ids, dtype=np.int64)
        docs = _unique(self._a["author_docs"][_ragged_index(ptr[sel], ptr[sel + 1] - ptr[sel])])
        live = docs[self._alive[docs]] if len(docs) else docs
        return live.astype(np.int32)

    def venue_names(self) -> list[str]:
        return _unblob(self._a["venue_data"], self._a["venue_off"])

    def venue_of(self, docno: int) -> int:
        return int(self._a["venue_of"][docno])

    def _venue_allowed(self, filters: Sequence[VenueFilter]) -> Bool:
        key = tuple(alt for f in filters for alt in f.alternatives)
        cache = self._d.venue_filter_cache
        allowed = cache.get(key)
        if allowed is None:
            words = self._d.venue_words
            allowed = np.zeros(len(words) + 1, dtype=np.bool_)  # last slot: "no venue" (-1)
            for i, vw in enumerate(words):
                allowed[i] = any(venue_matches(f.alternatives, vw) for f in filters)
            if len(cache) > 256:
                cache.clear()
            cache[key] = allowed
        return allowed

    def _venue_bits(
        self, filters: Sequence[VenueFilter], *, exclude: bool
    ) -> npt.NDArray[np.uint8]:
        """Packed bitset over docnos of the venue filters (or their complement; cached)."""
        key = (exclude, tuple(alt for f in filters for alt in f.alternatives))
        cache = self._d.venue_bits_cache
        bits = cache.get(key)
        if bits is None:
            mask = self._venue_allowed(filters)[self._a["venue_of"]]
            bits = np.packbits(~mask if exclude else mask, bitorder="little")
            if len(cache) > 32:
                cache.clear()
            cache[key] = bits
        return bits

    def title_words_sorted(self) -> tuple[list[str], I32]:
        """The title-word vocabulary, sorted, with each word's id (for prefix ranges)."""
        d = self._d
        if d.title_sorted is None:
            with d.lock:
                if d.title_sorted is None:
                    words = _unblob(self._a["tword_data"], self._a["tword_off"])
                    order = sorted(range(len(words)), key=words.__getitem__)
                    d.title_sorted = (
                        [words[i] for i in order],
                        np.asarray(order, dtype=np.int32),
                    )
        return d.title_sorted

    def title_word_docs(self, wid: int) -> I32:
        return self._row("tword_docs", "tword_ptr", wid)

    def title_word_df(self, wid: int) -> int:
        ptr = self._a["tword_ptr"]
        return int(ptr[wid + 1] - ptr[wid])

    def alive_mask(self, docnos: AnyArray) -> Bool:
        out: Bool = self._alive[docnos]
        return out


def _terms_query(terms: Sequence[str]) -> ParsedQuery:
    return ParsedQuery(text=" ".join(terms), terms=tuple(terms))


# --------------------------------------------------------------------------------------------
# Query plans
# --------------------------------------------------------------------------------------------


class _Plan:
    """The candidate documents of a query: intersections, filters and exclusions."""

    def __init__(self, index: Index, query: ParsedQuery, tids: list[int]) -> None:
        self.ix = index
        self.query = query
        self.tids = list(dict.fromkeys(tids))
        self.empty = False
        self.author_sets = [index._author_filter_docs(a) for a in query.authors]
        if any(len(s) == 0 for s in self.author_sets):
            self.empty = True
        self.allowed_venues: Bool | None = None
        if query.venues:
            self.allowed_venues = index._venue_allowed(query.venues)
            if not self.allowed_venues.any():
                self.empty = True

    def driver_size(self) -> int:
        sizes = [self.ix._df(t) for t in self.tids] + [len(s) for s in self.author_sets]
        return min(sizes) if sizes else self.ix.n_docs

    def candidates(self, phrases: bool = True) -> tuple[I32, dict[int, I64]]:
        """Sorted candidate docnos and, per required term, their global posting indices."""
        ix = self.ix
        ptr, docs_all, _tfs_all = ix._ptr, ix._docs, ix._tfs
        # Required sets, smallest first: term postings and author-filter doc sets.
        sets: list[tuple[int, int, int]] = []  # (size, kind 0=term 1=author, ref)
        for t in self.tids:
            sets.append((int(ptr[t + 1] - ptr[t]), 0, t))
        for i, s in enumerate(self.author_sets):
            sets.append((len(s), 1, i))
        sets.sort()
        cols: dict[int, I64] = {}
        cand: AnyArray
        if not sets:
            cand = ix.docnos().astype(np.int32)
        else:
            _, kind, ref = sets[0]
            if kind == 0:
                lo, hi = int(ptr[ref]), int(ptr[ref + 1])
                cand = docs_all[lo:hi]
                cols[ref] = np.arange(lo, hi, dtype=np.int64)
            else:
                cand = self.author_sets[ref]
            for _, kind, ref in sets[1:]:
                if len(cand) == 0:
                    break
                if kind == 0:
                    hit, g = ix._locate(ref, cand)
                    cand = cand[hit]
                    for key in cols:
                        cols[key] = cols[key][hit]
                    cols[ref] = g
                else:
                    hit = _member(self.author_sets[ref], cand)
                    cand = cand[hit]
                    for key in cols:
                        cols[key] = cols[key][hit]
        keep = self._filter_mask(cand, cols, phrases)
        if keep is not None:
            cand = cand[keep]
            for key in cols:
                cols[key] = cols[key][keep]
        return cand, cols

    def phrase_mask(self, cand: AnyArray, cols: dict[int, I64]) -> Bool:
        """Which candidates hold every (positive) phrase of the query."""
        keep = np.ones(len(cand), dtype=np.bool_)
        for phrase in self.query.phrases:
            keep &= _phrase_on(self.ix, cand, keep.copy(), phrase, cols, want=True)
        return keep

    def _filter_mask(
        self, cand: AnyArray, cols: dict[int, I64], phrases: bool = True
    ) -> Bool | None:
        """Venue filters, exclusions and phrases over candidates (None: keep all)."""
        ix, q = self.ix, self.query
        if len(cand) == 0:
            return None
        keep: Bool | None = None

        def narrow(mask: Bool) -> None:
            nonlocal keep
            keep = mask if keep is None else keep & mask

        if self.allowed_venues is not None:
            narrow(self.allowed_venues[ix._a["venue_of"][cand]])
        for term in q.exclude_terms:
            tid = ix.term_id(term)
            if tid is not None:
                narrow(~ix._locate(tid, cand)[0])
        for flt in q.exclude_authors:
            narrow(~_member(ix._author_filter_docs(flt), cand))
        if q.exclude_venues:
            narrow(~ix._venue_allowed(q.exclude_venues)[ix._a["venue_of"][cand]])
        for phrase in q.phrases if phrases else ():
            narrow(_phrase_on(ix, cand, keep, phrase, cols, want=True))
        for phrase in q.exclude_phrases:
            narrow(_phrase_on(ix, cand, keep, phrase, None, want=False))
        return keep

    def bitset(self) -> npt.NDArray[np.uint8] | None:
        """The candidates as a bitset over docnos, when every required term has one."""
        ix, q = self.ix, self.query
        slots = ix._common_slot
        bitsets = ix._a["bitsets"]
        if self.author_sets or q.exclude_authors:
            return None
        acc: npt.NDArray[np.uint8] | None = None
        for t in self.tids:
            b = bitsets[slots[t]]
            acc = b.copy() if acc is None else np.bitwise_and(acc, b, out=acc)
        if acc is None:
            return None
        if q.venues:
            acc &= ix._venue_bits(q.venues, exclude=False)[: len(acc)]
        if q.exclude_venues:
            acc &= ix._venue_bits(q.exclude_venues, exclude=True)[: len(acc)]
        if q.exclude_terms:
            mask = np.ones(len(ix._alive), dtype=np.bool_)
            for term in q.exclude_terms:
                tid = ix.term_id(term)
                if tid is not None:
                    mask[ix._docs[ix._ptr[tid] : ix._ptr[tid + 1]]] = False
            acc &= np.packbits(mask, bitorder="little")[: len(acc)]
        return acc


def _phrase_on(
    ix: Index,
    cand: AnyArray,
    keep: Bool | None,
    phrase: Phrase,
    cols: dict[int, I64] | None,
    *,
    want: bool,
) -> Bool:
    """Phrase test on the candidates still kept (the others are left as they are)."""
    if keep is None:
        found = ix._phrase_mask(cand, phrase.terms, cols)
        return found if want else ~found
    idx = np.flatnonzero(keep)
    sub_cols = None if cols is None else {t: c[idx] for t, c in cols.items()}
    found = ix._phrase_mask(cand[idx], phrase.terms, sub_cols)
    out = np.ones(len(cand), dtype=np.bool_)
    out[idx] = found if want else ~found
    return out


# --------------------------------------------------------------------------------------------
# Building and updating
# --------------------------------------------------------------------------------------------


class _Vocab:
    """A string -> id table that grows (ids in first-seen order).

    Over an existing index it starts from the saved words without decoding them: a word is
    looked up by its stable hash in the sorted hash array (and checked against the blob);
    only the words of the new documents are ever held in Python.
    """

    def __init__(self, arrays: dict[str, AnyArray] | None = None, prefix: str = "") -> None:
        self.prefix = prefix
        self.base: dict[str, AnyArray] | None = None
        self.base_n = 0
        if arrays is not None:
            self.base = {k: arrays[f"{prefix}_{k}"] for k in ("data", "off", "hash", "hash_ids")}
            self.base_n = len(self.base["off"]) - 1
        self.new_words: list[str] = []
        self.ids: dict[str, int] = {}  # every word seen in this build -> id

    def __len__(self) -> int:
        return self.base_n + len(self.new_words)

    def _base_id(self, word: str) -> int | None:
        base = self.base
        if base is None or self.base_n == 0:
            return None
        h = np.uint64(term_hash(word))
        hashes = base["hash"]
        i = int(np.searchsorted(hashes, h))
        while i < len(hashes) and hashes[i] == h:
            wid = int(base["hash_ids"][i])
            s, e = int(base["off"][wid]), int(base["off"][wid + 1])
            if bytes(base["data"][s:e]).decode() == word:
                return wid
            i += 1
        return None

    def id(self, word: str) -> int:
        i = self.ids.get(word)
        if i is None:
            i = self._base_id(word)
            if i is None:
                i = self.base_n + len(self.new_words)
                self.new_words.append(word)
            self.ids[word] = i
        return i

    def arrays(self) -> dict[str, AnyArray]:
        """The saved form: blob, offsets, sorted hashes and the id of each hash."""
        p = self.prefix
        data, off = _blob(self.new_words)
        hashes = np.fromiter(
            (term_hash(w) for w in self.new_words), dtype=np.uint64, count=len(self.new_words)
        )
        ids = np.arange(self.base_n, self.base_n + len(self.new_words), dtype=np.int32)
        if self.base is not None and self.base_n:
            old_end = int(self.base["off"][-1])
            data = np.concatenate([self.base["data"], data])
            off = np.concatenate([self.base["off"], off[1:] + old_end])
            hashes = np.concatenate([self.base["hash"], hashes])
            ids = np.concatenate([self.base["hash_ids"], ids])
        order = np.argsort(hashes, kind="stable")
        return {
            f"{p}_data": data,
            f"{p}_off": off.astype(np.int64),
            f"{p}_hash": hashes[order],
            f"{p}_hash_ids": ids[order].astype(np.int32),
        }


@dataclass(slots=True)
class _Chunk:
    """Postings of a batch of documents, sorted by (term, doc)."""

    keys: I32
    docs: I32
    tfs: AnyArray
    pos: AnyArray  # positions, grouped by posting in (term, doc) order


class IndexBuilder:
    """Tokenized documents -> arrays, fed in batches (``add``) then ``finish``-ed.

    Documents are turned into compact posting chunks as they come, so a large build never
    holds every token list at once. For updates, ``base`` supplies the vocabularies.
    """

    def __init__(self, base: Index | None = None) -> None:
        arrays = None if base is None else base._a
        self.terms = _Vocab(arrays, "term")
        self.authors = _Vocab(arrays, "author_key")
        self.awords = _Vocab(arrays, "aword")
        self.twords = _Vocab(arrays, "tword")
        self.venues = _Vocab(arrays, "venue")
        self.author_disp: list[str] = []  # display names of the authors new in this build
        self.chunks: list[_Chunk] = []
        self.docnos: list[int] = []
        self.paper_ids: list[str] = []
        self.titles: list[str] = []
        self.doc_len: list[int] = []
        self.venue_of: list[int] = []
        self.doc_authors: list[list[int]] = []
        self.doc_twords: list[list[int]] = []
        self.new_author_words: list[tuple[int, int]] = []  # (word id, author id)
        # per-chunk token buffers
        self._tok_ids: list[int] = []
        self._tok_steps: list[int] = []
        self._doc_sizes: list[int] = []
        self._chunk_docnos: list[int] = []

    def add(self, docs: Iterable[IndexDoc]) -> None:
        term_id = self.terms.id
        term_get = self.terms.ids.get
        for doc in docs:
            self.docnos.append(doc.docno)
            self.paper_ids.append(doc.paper_id)
            self.titles.append(doc.title)
            self.doc_len.append(len(doc.terms))
            self.venue_of.append(self.venues.id(doc.venue) if doc.venue else -1)
            aids: list[int] = []
            for key, display in doc.authors:
                before = len(self.authors)
                aid = self.authors.id(key)
                if aid == before:
                    self.author_disp.append(display)
                    for w in sorted(name_words(display)):
                        self.new_author_words.append((self.awords.id(w), aid))
                if aid not in aids:
                    aids.append(aid)
            self.doc_authors.append(aids)
            self.doc_twords.append([self.twords.id(w) for w in doc.title_words])
            found = list(map(term_get, doc.terms))
            if None in found:
                ids = [
                    term_id(t) if i is None else i for i, t in zip(found, doc.terms, strict=True)
                ]
                self._tok_ids.extend(ids)
            else:
                self._tok_ids.extend(cast(list[int], found))
            self._tok_steps.extend(doc.steps)
            self._doc_sizes.append(len(doc.terms))
            self._chunk_docnos.append(doc.docno)
            if len(self._chunk_docnos) >= _BUILD_CHUNK:
                self._flush()

    def _flush(self) -> None:
        if not self._chunk_docnos:
            return
        ids = np.asarray(self._tok_ids, dtype=np.int32)
        steps = np.asarray(self._tok_steps, dtype=np.int64)
        sizes = np.asarray(self._doc_sizes, dtype=np.int64)
        docnos = np.asarray(self._chunk_docnos, dtype=np.int32)
        self._tok_ids, self._tok_steps, self._doc_sizes, self._chunk_docnos = [], [], [], []
        doc_of_tok = np.repeat(docnos, sizes)
        # positions: running sum of steps within each document
        csum = np.cumsum(steps)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        base = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0)
        pos = (csum - np.repeat(base, sizes)).astype(np.uint32)
        if len(_unique(docnos)) != len(docnos) or np.any(np.diff(docnos) < 0):
            order = np.lexsort((pos, doc_of_tok, ids))
        else:
            order = np.argsort(ids, kind="stable")
        ids, doc_of_tok, pos = ids[order], doc_of_tok[order], pos[order]
        if len(ids):
            new = np.empty(len(ids), dtype=np.bool_)
            new[0] = True
            new[1:] = (ids[1:] != ids[:-1]) | (doc_of_tok[1:] != doc_of_tok[:-1])
            first = np.flatnonzero(new)
            tfs = np.diff(np.concatenate([first, [len(ids)]]))
        else:
            first = np.zeros(0, dtype=np.int64)
            tfs = np.zeros(0, dtype=np.int64)
        self.chunks.append(
            _Chunk(
                keys=ids[first],
                docs=doc_of_tok[first],
                tfs=tfs.astype(_pick_dtype(int(tfs.max()) if len(tfs) else 0)),
                pos=pos.astype(_pick_dtype(int(pos.max()) if len(pos) else 0)),
            )
        )

    def _postings(self) -> _Chunk:
        """All chunks merged into one (term, doc)-sorted posting set.

        Memory-lean: 32-bit permutation indices, and the positions copied chunk by chunk to
        their final place instead of through one index array over every position.
        """
        if not self.chunks:
            return _Chunk(
                np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.uint8),
                np.zeros(0, np.uint8),
            )  # fmt: skip
        if len(self.chunks) == 1:
            return self.chunks[0]
        chunks, self.chunks = self.chunks, []
        keys = np.concatenate([c.keys for c in chunks])
        ascending = all(
            int(a.docs.max()) < int(b.docs.min())
            for a, b in itertools.pairwise(chunks)
            if len(a.docs) and len(b.docs)
        )
        # chunks of ascending docnos are runs sorted by (term, doc): a stable sort by term
        # merges them (timsort: runs) into (term, doc) order
        if ascending:
            order = np.argsort(keys, kind="stable")
        else:
            order = np.lexsort((np.concatenate([c.docs for c in chunks]), keys))
        idx_type = np.int32 if len(keys) < 2**31 else np.int64
        order = order.astype(idx_type)
        keys = keys[order]
        docs = np.concatenate([c.docs for c in chunks])[order]
        tfs = np.concatenate([c.tfs for c in chunks])[order]
        for c in chunks:  # only their term frequencies and positions are needed from here
            c.keys = c.docs = np.zeros(0, dtype=np.int32)
        inverse = np.empty(len(order), dtype=idx_type)
        inverse[order] = np.arange(len(order), dtype=idx_type)
        del order
        total = int(sum(len(c.pos) for c in chunks))
        start_type = np.int32 if total < 2**31 else np.int64
        starts = np.zeros(len(tfs) + 1, dtype=start_type)
        np.cumsum(tfs, dtype=start_type, out=starts[1:])
        pos = np.empty(total, dtype=np.result_type(*[c.pos.dtype for c in chunks]))
        offset = 0
        for c in chunks:
            final = inverse[offset : offset + len(c.tfs)]
            offset += len(c.tfs)
            pos[_ragged_index(starts[final].astype(np.int64), c.tfs)] = c.pos
        return _Chunk(keys, docs, tfs, pos)

    def _doc_arrays(self, size: int) -> dict[str, AnyArray]:
        docnos = np.asarray(self.docnos, dtype=np.int64)
        doc_len = np.zeros(size, dtype=np.int32)
        alive = np.zeros(size, dtype=np.bool_)
        venue_of = np.full(size, -1, dtype=np.int32)
        width = max([len(p) for p in self.paper_ids] + [8])
        paper_ids = np.zeros(size, dtype=f"S{width}")
        doc_len[docnos] = self.doc_len
        alive[docnos] = True
        venue_of[docnos] = self.venue_of
        paper_ids[docnos] = [p.encode() for p in self.paper_ids]
        title_data, title_off = _blob(self.titles)
        title_start = np.zeros(size, dtype=np.int64)
        title_end = np.zeros(size, dtype=np.int64)
        title_start[docnos] = title_off[:-1]
        title_end[docnos] = title_off[1:]
        return {
            "doc_len": doc_len,
            "alive": alive,
            "venue_of": venue_of,
            "paper_ids": paper_ids,
            "title_data": title_data,
            "title_start": title_start,
            "title_end": title_end,
        }

    def _vocab_arrays(self, base: Index | None = None) -> dict[str, AnyArray]:
        out: dict[str, AnyArray] = {}
        for vocab in (self.terms, self.authors, self.awords, self.twords, self.venues):
            out.update(vocab.arrays())
        disp_data, disp_off = _blob(self.author_disp)
        if base is not None and len(base._a["author_disp_off"]) > 1:
            old = base._a
            end = int(old["author_disp_off"][-1])
            disp_data = np.concatenate([old["author_disp_data"], disp_data])
            disp_off = np.concatenate([old["author_disp_off"], disp_off[1:] + end])
        out["author_disp_data"], out["author_disp_off"] = disp_data, disp_off
        return out

    def finish(self, version: int) -> Index:
        self._flush()
        post = self._postings()
        n_terms = len(self.terms)
        size = (max(self.docnos) + 1) if self.docnos else 1
        arrays = self._doc_arrays(size)
        arrays.update(self._vocab_arrays())
        counts = np.bincount(post.keys, minlength=n_terms).astype(np.int64)
        arrays["ptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        arrays["docs"] = post.docs.astype(np.int32)
        arrays["tfs"] = post.tfs.astype(_pick_dtype(int(post.tfs.max()) if len(post.tfs) else 0))
        arrays["pos_ckpt"] = _checkpoints(arrays["tfs"])
        arrays["pos"] = post.pos.astype(_pick_dtype(int(post.pos.max()) if len(post.pos) else 0))
        # Term ids were given in first-occurrence order only if docs came in docno order.
        in_order = all(x < y for x, y in zip(self.docnos, self.docnos[1:], strict=False))
        arrays["term_order"] = (
            np.zeros(0, dtype=np.int32) if in_order else _first_occurrence_order(arrays)
        )
        lists = _pairs_from_lists(self.doc_authors, self.docnos)
        arrays["author_ptr"], arrays["author_docs"] = _csr(lists, len(self.authors))
        aw = self._author_word_pairs()
        arrays["aword_ptr"], arrays["aword_authors"] = _csr(aw, len(self.awords))
        tw = _pairs_from_lists(self.doc_twords, self.docnos)
        arrays["tword_ptr"], arrays["tword_docs"] = _csr(tw, len(self.twords))
        meta = {
            "version": version,
            "n_docs": len(self.docnos),
            "total_len": int(sum(self.doc_len)),
        }
        _add_champions(arrays, meta)
        return Index(arrays, meta)

    def _author_word_pairs(self) -> _Additions:
        if not self.new_author_words:
            return _Additions(np.zeros(0, np.int32), np.zeros(0, np.int32))
        pairs = np.array(self.new_author_words, dtype=np.int32)
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))
        return _Additions(pairs[order, 0].copy(), pairs[order, 1].copy())

    def finish_update(self, base: Index, removed: list[int], version: int) -> Index:
        self._flush()
        post = self._postings()
        a = base._a
        n_terms = len(self.terms)
        old_size = len(a["doc_len"])
        size = max([old_size, *(d + 1 for d in self.docnos)])
        # Documents that disappear from the postings: removed ones and replaced ones.
        dead = np.zeros(size, dtype=np.bool_)
        for d in removed:
            if 0 <= d < old_size:
                dead[d] = True
        replaced = [d for d in self.docnos if d < old_size and a["alive"][d]]
        dead[replaced] = True
        appended_only = not dead.any()
        # per-doc arrays
        arrays: dict[str, AnyArray] = {}
        doc_len = np.zeros(size, dtype=np.int32)
        doc_len[:old_size] = a["doc_len"]
        alive = np.zeros(size, dtype=np.bool_)
        alive[:old_size] = a["alive"]
        venue_of = np.full(size, -1, dtype=np.int32)
        venue_of[:old_size] = a["venue_of"]
        width = max([len(p) for p in self.paper_ids] + [a["paper_ids"].dtype.itemsize])
        paper_ids = np.zeros(size, dtype=f"S{width}")
        paper_ids[:old_size] = a["paper_ids"]
        title_start = np.zeros(size, dtype=np.int64)
        title_start[:old_size] = a["title_start"]
        title_end = np.zeros(size, dtype=np.int64)
        title_end[:old_size] = a["title_end"]
        alive[dead] = False
        doc_len[dead] = 0
        docnos = np.asarray(self.docnos, dtype=np.int64)
        if len(docnos):
            doc_len[docnos] = self.doc_len
            alive[docnos] = True
            venue_of[docnos] = self.venue_of
            paper_ids[docnos] = [p.encode() for p in self.paper_ids]
            new_titles, new_off = _blob(self.titles)
            base_len = len(a["title_data"])
            title_data = np.concatenate([a["title_data"], new_titles])
            title_start[docnos] = new_off[:-1] + base_len
            title_end[docnos] = new_off[1:] + base_len
        else:
            title_data = np.asarray(a["title_data"])
        arrays.update(
            doc_len=doc_len, alive=alive, venue_of=venue_of, paper_ids=paper_ids,
            title_data=title_data, title_start=title_start, title_end=title_end,
        )  # fmt: skip
        arrays.update(self._vocab_arrays(base))
        # postings with positions
        dead_arg = None if appended_only else dead
        tfs_old = np.asarray(a["tfs"])
        add = _Additions(post.keys.astype(np.int32), post.docs.astype(np.int32), (post.tfs,))
        max_tf = max(
            int(tfs_old.max()) if len(tfs_old) else 0, int(post.tfs.max()) if len(post.tfs) else 0
        )
        tf_dtype = _pick_dtype(max_tf)
        ptr, docs, (tfs,), keep, where = _merge(
            np.asarray(a["ptr"]), np.asarray(a["docs"]), (tfs_old.astype(tf_dtype, copy=False),),
            add, n_terms, dead_arg,
        )  # fmt: skip
        pos_old = np.asarray(a["pos"])
        if keep is not None:
            pos_old = pos_old[np.repeat(keep, tfs_old.astype(np.int64))]
            tfs_kept = tfs_old[keep]
        else:
            tfs_kept = tfs_old
        if keep is None and len(tfs_kept):
            # where the positions of each inserted posting go: from the old checkpoints
            at = np.minimum(where, len(tfs_kept) - 1)
            starts = base._posting_starts_any(at)
            starts = np.where(where >= len(tfs_kept), len(pos_old), starts)
        else:
            kept_cum = np.concatenate([[0], np.cumsum(tfs_kept, dtype=np.int64)])
            starts = kept_cum[where]
        pos_where = np.repeat(starts, post.tfs.astype(np.int64))
        max_pos = max(
            int(pos_old.max()) if len(pos_old) else 0, int(post.pos.max()) if len(post.pos) else 0
        )
        pos_dtype = _pick_dtype(max_pos)
        pos = np.insert(
            pos_old.astype(pos_dtype, copy=False), pos_where, post.pos.astype(pos_dtype)
        )
        arrays["ptr"], arrays["docs"], arrays["tfs"], arrays["pos"] = ptr, docs, tfs, pos
        arrays["pos_ckpt"] = _checkpoints(tfs)
        old_order = np.asarray(a["term_order"])
        if appended_only and len(old_order) == 0 and _ascending(self.docnos, old_size, a["alive"]):
            arrays["term_order"] = np.zeros(0, dtype=np.int32)
        else:
            arrays["term_order"] = _first_occurrence_order(arrays)
        # authors, author words, title words
        lists = _pairs_from_lists(self.doc_authors, self.docnos)
        arrays["author_ptr"], arrays["author_docs"], *_ = _merge(
            np.asarray(a["author_ptr"]), np.asarray(a["author_docs"]), (), lists,
            len(self.authors), dead_arg,
        )  # fmt: skip
        aw = self._author_word_pairs()
        arrays["aword_ptr"], arrays["aword_authors"], *_ = _merge(
            np.asarray(a["aword_ptr"]), np.asarray(a["aword_authors"]), (), aw,
            len(self.awords), None,
        )  # fmt: skip
        tw = _pairs_from_lists(self.doc_twords, self.docnos)
        arrays["tword_ptr"], arrays["tword_docs"], *_ = _merge(
            np.asarray(a["tword_ptr"]), np.asarray(a["tword_docs"]), (), tw,
            len(self.twords), dead_arg,
        )  # fmt: skip
        meta = {
            "version": version,
            "n_docs": int(alive.sum()),
            "total_len": int(doc_len[alive].sum(dtype=np.int64)),
        }
        _add_champions(arrays, meta)
        return Index(arrays, meta)


def _ascending(new_docnos: list[int], old_size: int, old_alive: AnyArray) -> bool:
    """Whether the new docnos all come after every old live doc, in increasing order."""
    if not new_docnos:
        return True
    live = np.flatnonzero(old_alive)
    last = int(live[-1]) if len(live) else -1
    return new_docnos[0] > last and all(x < y for x, y in pairwise(new_docnos))


def _checkpoints(tfs: AnyArray) -> I64:
    """Start of the positions of every 16th posting (see Index._posting_starts)."""
    if len(tfs) == 0:
        return np.zeros(0, dtype=np.int64)
    blocks = np.add.reduceat(tfs, np.arange(0, len(tfs), 1 << _CKPT_SHIFT), dtype=np.int64)
    out: I64 = np.zeros(len(blocks), dtype=np.int64)
    np.cumsum(blocks[:-1], out=out[1:])
    return out


def _csr(add: _Additions, n_keys: int) -> tuple[I64, I32]:
    counts = np.bincount(add.keys, minlength=n_keys).astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ptr, add.docs.astype(np.int32)


def _first_occurrence_order(arrays: dict[str, AnyArray]) -> I32:
    """Term ids in rank-bm25's first-occurrence order over the live corpus (docno order).

    A term's first occurrence is (first live doc containing it, its first position there);
    a compound and the part sharing its position are ordered compound first, as the token
    list has them: at equal (doc, position) the longer term comes first, then the term id.
    """
    ptr, docs, tfs, pos = arrays["ptr"], arrays["docs"], arrays["tfs"], arrays["pos"]
    df = np.diff(ptr)
    present = np.flatnonzero(df > 0)
    first_doc = docs[ptr[present]]
    # the first position of each term's first posting (positions ascend within a posting)
    starts = np.zeros(len(tfs) + 1, dtype=np.int64)
    np.cumsum(tfs, dtype=np.int64, out=starts[1:])
    first_pos = pos[starts[ptr[present]]].astype(np.int64)
    off = arrays["term_off"]
    lengths = (off[1:] - off[:-1])[present]
    order = np.lexsort((present, -lengths, first_pos, first_doc))
    out: I32 = present[order].astype(np.int32)
    return out


def _champion_count(df: Any) -> Any:
    """How many champions a term with ``df`` postings gets (scalar or array)."""
    return np.minimum(CHAMPIONS, np.maximum(CHAMPIONS_MIN, np.asarray(df) // 16))


def _add_champions(arrays: dict[str, AnyArray], meta: dict[str, Any]) -> None:
    """Champion lists, their bounds and bitsets for the common terms (see module doc)."""
    n_docs = int(meta["n_docs"])
    ptr, docs, tfs = arrays["ptr"], arrays["docs"], arrays["tfs"]
    df = np.diff(ptr)
    threshold = max(COMMON_MIN_DF, math.ceil(n_docs * COMMON_MIN_SHARE))
    common = np.flatnonzero(df > np.maximum(threshold, _champion_count(df))).astype(np.int32)
    size = len(arrays["doc_len"])
    nbytes = (size + 7) // 8
    champ_ptr = np.zeros(len(common) + 1, dtype=np.int64)
    champ_docs: list[AnyArray] = []
    bounds = np.zeros(len(common), dtype=np.float64)
    bitsets = np.zeros((len(common), nbytes), dtype=np.uint8)
    if len(common):
        avgdl = int(meta["total_len"]) / n_docs
        norm = K1 * ((1 - B) + B * arrays["doc_len"].astype(np.float64) / avgdl)
        for i, t in enumerate(common.tolist()):
            lo, hi = int(ptr[t]), int(ptr[t + 1])
            d = docs[lo:hi]
            tf = tfs[lo:hi].astype(np.float64)
            part = tf * (K1 + 1) / (tf + norm[d])  # the tf part of rank-bm25's contribution
            cut = len(part) - int(_champion_count(np.int64(len(part))))
            kth = np.partition(part, cut)[cut]
            # champions: strictly above the cut value, so every other posting is <= bound
            champs = np.flatnonzero(part > kth)
            if len(champs) == 0:
                champs = np.flatnonzero(part >= kth)
            rest = np.ones(len(part), dtype=np.bool_)
            rest[champs] = False
            bounds[i] = float(part[rest].max()) if rest.any() else 0.0
            champ_docs.append(d[champs])
            champ_ptr[i + 1] = champ_ptr[i] + len(champs)
            mask = np.zeros(size, dtype=np.bool_)
            mask[d] = True
            bitsets[i] = np.packbits(mask, bitorder="little")[:nbytes]
    arrays["common_terms"] = common
    arrays["champ_ptr"] = champ_ptr
    arrays["champ_docs"] = (
        np.concatenate(champ_docs).astype(np.int32) if champ_docs else np.zeros(0, np.int32)
    )
    arrays["champ_bound"] = bounds
    arrays["bitsets"] = bitsets
