"""Champion lists: exact top k for queries made only of very common terms.

A common term (in at least ``tuning.COMMON_MIN_DF`` documents and ``COMMON_MIN_SHARE`` of
them) gets, at build time, a *champion list* (the postings with the best term-frequency part
at the current average length), the *bound* every other posting's part stays at or below,
and a *bitset* of its documents. A query of common terms then scores only the champions,
proves no other document can beat the k-th (the sum of idf x bound, computed with the same
monotone float operations, is strictly below it), and counts its hits with a bitset AND
instead of scoring most of the corpus. When the proof fails the plain path runs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bot.core.index import bm25, tuning
from bot.core.index.arrays import F64, I64, Alloc, AnyArray, prefault, unique_sorted
from bot.core.index.data import U64, IndexData, set_bits
from bot.core.index.models import IndexHit
from bot.core.index.plan import Plan
from bot.core.index.scoring import score_and, top


def champion_count(df: Any) -> Any:
    """How many champions a term with ``df`` postings gets (scalar or array)."""
    return np.minimum(tuning.CHAMPIONS, np.maximum(tuning.CHAMPIONS_MIN, np.asarray(df) // 16))


# The meta key counting the documents added, replaced or removed since the champions were
# last computed from every posting (absent: 0).
CHANGED = "champions_changed"
# Added to a carried bound: far above the rounding of a term-frequency part (at most k1 + 1).
_MARGIN = 1e-9


def _common_terms(arrays: dict[str, AnyArray], n_docs: int) -> AnyArray:
    df = np.diff(arrays["ptr"])
    threshold = max(tuning.COMMON_MIN_DF, math.ceil(n_docs * tuning.COMMON_MIN_SHARE))
    out: AnyArray = np.flatnonzero(df > np.maximum(threshold, champion_count(df)))
    return out.astype(np.int32)


def _term_champions(docs: AnyArray, part: F64) -> tuple[AnyArray, float]:
    """A term's champions (of its ``docs``, by term-frequency ``part``) and the bound."""
    cut = len(part) - int(champion_count(np.int64(len(part))))
    kth = np.partition(part, cut)[cut]
    # champions: strictly above the cut value, so every other posting is <= bound
    champs = np.flatnonzero(part > kth)
    if len(champs) == 0:
        champs = np.flatnonzero(part >= kth)
    rest = np.ones(len(part), dtype=np.bool_)
    rest[champs] = False
    return docs[champs], float(part[rest].max()) if rest.any() else 0.0


def add_champions(arrays: dict[str, AnyArray], meta: dict[str, Any]) -> None:
    """Champion lists, their bounds and bitsets for the common terms, into ``arrays``."""
    n_docs = int(meta["n_docs"])
    ptr, docs, tfs = arrays["ptr"], arrays["docs"], arrays["tfs"]
    common = _common_terms(arrays, n_docs)
    size = len(arrays["doc_len"])
    nbytes = (size + 7) // 8
    champ_ptr = np.zeros(len(common) + 1, dtype=np.int64)
    champ_docs: list[AnyArray] = []
    bounds = np.zeros(len(common), dtype=np.float64)
    bitsets = np.zeros((len(common), nbytes), dtype=np.uint8)
    if len(common):
        avgdl = int(meta["total_len"]) / n_docs
        norm = bm25.norms(arrays["doc_len"], avgdl)
        for i, t in enumerate(common.tolist()):
            lo, hi = int(ptr[t]), int(ptr[t + 1])
            d = docs[lo:hi]
            part = bm25.tf_part(tfs[lo:hi].astype(np.float64), norm[d])
            champs, bounds[i] = _term_champions(d, part)
            champ_docs.append(champs)
            champ_ptr[i + 1] = champ_ptr[i] + len(champs)
            fill_bits(bitsets[i], d)
    _store(arrays, common, champ_ptr, champ_docs, bounds, bitsets)
    meta.pop(CHANGED, None)


def _store(
    arrays: dict[str, AnyArray],
    common: AnyArray,
    champ_ptr: I64,
    champ_docs: list[AnyArray],
    bounds: F64,
    bitsets: AnyArray,
) -> None:
    arrays["common_terms"] = common
    arrays["champ_ptr"] = champ_ptr
    arrays["champ_docs"] = (
        np.concatenate(champ_docs).astype(np.int32) if champ_docs else np.zeros(0, np.int32)
    )
    arrays["champ_bound"] = bounds
    arrays["bitsets"] = bitsets


def carry_champions(
    base: IndexData,
    arrays: dict[str, AnyArray],
    meta: dict[str, Any],
    new: tuple[AnyArray, AnyArray],
    dead: AnyArray | None,
    changed: int,
    alloc: Alloc | None = None,
) -> bool:
    """The champions of an update carried over from ``base`` instead of recomputed from
    every posting; False (nothing done) when too much changed since they were last computed
    (``tuning.CHAMPION_REFRESH`` of the documents): then :func:`add_champions` must run.

    ``new`` holds the update's postings as (term ids, docs), sorted by term; ``dead`` marks
    the base's documents removed or replaced; ``changed`` counts the documents added,
    replaced or removed; ``alloc`` makes the bitsets. A carried term keeps its live
    champions and gains every new document holding it; the other postings are the base's
    non-champions, whose parts stay at or below the base's bound times
    ``max(1, new avgdl / old avgdl)`` (a part grows by at most that factor with the average
    length; plus a margin for rounding): the proof of :func:`try_champions` stays exact.
    Terms common only now are computed in full.
    """
    n_docs = int(meta["n_docs"])
    total = int(base.meta.get(CHANGED, 0)) + changed
    if not n_docs or not base.n_docs or total > n_docs * tuning.CHAMPION_REFRESH:
        return False
    old = base.arrays
    slots = base.common_slot
    common = _common_terms(arrays, n_docs)
    ptr, docs, tfs = arrays["ptr"], arrays["docs"], arrays["tfs"]
    size = len(arrays["doc_len"])
    old_ptr, old_docs, old_bound = old["champ_ptr"], old["champ_docs"], old["champ_bound"]
    old_bits = old["bitsets"]
    prefault(old_bits)  # nearly every row is copied
    avgdl = int(meta["total_len"]) / n_docs
    scale = max(1.0, avgdl / base.avgdl)
    keys, new_docs = new
    gone = np.zeros(0, dtype=np.int64) if dead is None else np.flatnonzero(dead)
    gone_bit = np.left_shift(1, gone & 7).astype(np.uint8)
    champ_ptr = np.zeros(len(common) + 1, dtype=np.int64)
    champ_docs: list[AnyArray] = []
    bounds = np.zeros(len(common), dtype=np.float64)
    shape = (len(common), (size + 7) // 8)
    bitsets = np.zeros(shape, np.uint8) if alloc is None else alloc("bitsets", shape, np.uint8)
    norm: F64 | None = None
    # each term's run of new postings (keys sorted), found for every term at once
    runs = np.searchsorted(keys, np.stack([common, common + 1])).tolist()
    for i, t in enumerate(common.tolist()):
        slot = slots.get(t)
        if slot is None:  # common only now: computed in full
            if norm is None:
                norm = bm25.norms(arrays["doc_len"], avgdl)
            lo, hi = int(ptr[t]), int(ptr[t + 1])
            d = docs[lo:hi]
            part = bm25.tf_part(tfs[lo:hi].astype(np.float64), norm[d])
            champs, bounds[i] = _term_champions(d, part)
            fill_bits(bitsets[i], d)
        else:
            kept = np.asarray(old_docs[old_ptr[slot] : old_ptr[slot + 1]])
            if dead is not None:
                kept = kept[~dead[kept]]
            lo, hi = runs[0][i], runs[1][i]
            added = np.asarray(new_docs[lo:hi])
            if hi == lo:
                champs = kept
            elif len(kept) == 0 or int(added[0]) > int(kept[-1]):  # appended: still sorted
                champs = np.concatenate([kept, added])
            else:
                champs = unique_sorted(np.concatenate([kept, added]))
            bounds[i] = float(old_bound[slot]) * scale + _MARGIN
            row = bitsets[i]
            row[: old_bits.shape[1]] = old_bits[slot]
            if len(gone):
                np.bitwise_and.at(row, gone >> 3, ~gone_bit)
            fill_bits(row, added)
        champ_docs.append(np.asarray(champs, dtype=np.int32))
        champ_ptr[i + 1] = champ_ptr[i] + len(champs)
    _store(arrays, common, champ_ptr, champ_docs, bounds, bitsets)
    meta[CHANGED] = total
    return True


def fill_bits(row: AnyArray, docs: AnyArray) -> None:
    """Set the bits of ``docs`` (ascending, distinct) in a little-endian bitset ``row``: one
    pass over the docs (a mask of every docno packed would cost the corpus size per term)."""
    if len(docs) == 0:
        return
    docs = np.asarray(docs, dtype=np.int64)
    byte = docs >> 3
    bit = np.left_shift(1, docs & 7).astype(np.uint8)
    starts = np.flatnonzero(np.concatenate([[True], byte[1:] != byte[:-1]]))
    row[byte[starts]] |= np.add.reduceat(bit, starts, dtype=np.uint8)


def try_champions(
    ix: IndexData, plan: Plan, tids: list[int], want: int
) -> tuple[tuple[IndexHit, ...], int, bool] | None:
    """Exact top ``want``, the total and whether pruned: scoring only champion postings, or
    (when the bitsets' AND leaves fewer documents than the champions, or the champions
    cannot prove their top) every document of the AND; None when there are no bitsets."""
    slots = ix.common_slot
    if not slots or any(t not in slots for t in tids):
        return None
    a = ix.arrays
    champ_ptr, champ_docs = a["champ_ptr"], a["champ_docs"]
    if want * 4 > min(int(champ_ptr[slots[t] + 1] - champ_ptr[slots[t]]) for t in tids):
        return None
    if plan.driver_size() < tuning.COMMON_MIN_DF:  # a selective filter: the plain path is cheap
        return None
    idfs = [ix.idf(t) for t in tids]
    if any(v <= 0 for v in idfs):
        return None
    q = plan.query
    if len(tids) == 1 and not (q.venues or q.has_exclusions or q.authors):
        # one term, no filter: its champions (ascending docnos) all match, total = df; their
        # term-frequency parts are made once per index (score_and's arithmetic)
        return _one_term(ix, tids, idfs, want, None)
    bits = plan.bitset()
    if bits is None:
        return None
    total = int(np.bitwise_count(bits).sum())
    if total == 0:
        return (), 0, False
    if total > sum(int(champ_ptr[slots[t] + 1] - champ_ptr[slots[t]]) for t in tids):
        if len(tids) == 1:  # one term and filters: its champions inside the filters' bits
            found = _one_term(ix, tids, idfs, want, bits, total)
            if found is not None:
                return found
        else:
            pool = unique_sorted(
                np.concatenate(
                    [champ_docs[champ_ptr[slots[t]] : champ_ptr[slots[t] + 1]] for t in tids]
                )
            ).astype(np.int32)
            pool = pool.take(np.flatnonzero(_inside(bits, pool)))
            if len(pool) >= want:
                cols: dict[int, I64] = {}
                for t in dict.fromkeys(tids):
                    cols[t] = ix.locate(t, pool)[1]  # every pool doc has every term
                hits = top(ix, pool, score_and(ix, pool, tids, cols), want)
                proved = _proved(ix, tids, idfs, hits, want)
                if proved is not None:
                    return proved, total, True
    # fewer matches than champions, or the champions prove nothing: score every match, its
    # documents read off the bits (a pass over n / 8 bytes, less than the shortest list)
    cand = set_bits(bits)
    every = {t: ix.locate(t, cand)[1] for t in dict.fromkeys(tids)}
    return top(ix, cand, score_and(ix, cand, tids, every), want), total, False


def _inside(bits: U64, docs: AnyArray) -> AnyArray:
    """Bit ``d`` of the word bitset ``bits`` for each of ``docs`` (1 or 0)."""
    out: AnyArray = (bits[docs >> 6] >> (docs & 63).astype(np.uint64)) & np.uint64(1)
    return out


def _one_term(
    ix: IndexData,
    tids: list[int],
    idfs: list[float],
    want: int,
    bits: U64 | None,
    total: int = 0,
) -> tuple[tuple[IndexHit, ...], int, bool] | None:
    """One common term: its champions (inside ``bits`` when filtered) scored from their
    term-frequency parts, made once per index with :func:`score_and`'s arithmetic."""
    tid = tids[0]
    pool, part = ix.memo(
        ("champion parts", tid),
        lambda: _champion_parts(ix, tid, ix.common_slot[tid]),
        tuning.RANKED_BITSETS,
    )
    if bits is None:
        total = ix.df(tid)
    else:
        keep = np.flatnonzero(_inside(bits, pool))
        pool, part = pool.take(keep), part.take(keep)
    if len(pool) < want:
        return None
    hits = top(ix, pool, idfs[0] * part, want)
    proved = _proved(ix, tids, idfs, hits, want)
    return None if proved is None else (proved, total, True)


def _champion_parts(ix: IndexData, tid: int, slot: int) -> tuple[AnyArray, F64]:
    """A common term's champions and their term-frequency parts (as :func:`score_and`)."""
    a = ix.arrays
    pool = np.asarray(a["champ_docs"][a["champ_ptr"][slot] : a["champ_ptr"][slot + 1]])
    g = ix.locate(tid, pool)[1]
    return pool, bm25.tf_part(ix.tfs[g].astype(np.float64), ix.norm[pool])


def _proved(
    ix: IndexData, tids: list[int], idfs: list[float], hits: tuple[IndexHit, ...], want: int
) -> tuple[IndexHit, ...] | None:
    """``hits`` when no document outside the champion lists can beat the last one."""
    slots, bound = ix.common_slot, ix.arrays["champ_bound"]
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
    return hits
