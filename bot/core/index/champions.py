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
from bot.core.index.arrays import I64, AnyArray, unique_sorted
from bot.core.index.data import IndexData
from bot.core.index.models import IndexHit
from bot.core.index.plan import Plan
from bot.core.index.scoring import score_and, top


def champion_count(df: Any) -> Any:
    """How many champions a term with ``df`` postings gets (scalar or array)."""
    return np.minimum(tuning.CHAMPIONS, np.maximum(tuning.CHAMPIONS_MIN, np.asarray(df) // 16))


def add_champions(arrays: dict[str, AnyArray], meta: dict[str, Any]) -> None:
    """Champion lists, their bounds and bitsets for the common terms, into ``arrays``."""
    n_docs = int(meta["n_docs"])
    ptr, docs, tfs = arrays["ptr"], arrays["docs"], arrays["tfs"]
    df = np.diff(ptr)
    threshold = max(tuning.COMMON_MIN_DF, math.ceil(n_docs * tuning.COMMON_MIN_SHARE))
    common = np.flatnonzero(df > np.maximum(threshold, champion_count(df))).astype(np.int32)
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
            tf = tfs[lo:hi].astype(np.float64)
            part = bm25.tf_part(tf, norm[d])
            cut = len(part) - int(champion_count(np.int64(len(part))))
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
            set_bits(bitsets[i], d)
    arrays["common_terms"] = common
    arrays["champ_ptr"] = champ_ptr
    arrays["champ_docs"] = (
        np.concatenate(champ_docs).astype(np.int32) if champ_docs else np.zeros(0, np.int32)
    )
    arrays["champ_bound"] = bounds
    arrays["bitsets"] = bitsets


def set_bits(row: AnyArray, docs: AnyArray) -> None:
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
) -> tuple[tuple[IndexHit, ...], int] | None:
    """Exact top ``want`` scoring only champion postings, or None when not provable."""
    slots = ix.common_slot
    if not slots or any(t not in slots for t in tids):
        return None
    a = ix.arrays
    champ_ptr, champ_docs, bound = a["champ_ptr"], a["champ_docs"], a["champ_bound"]
    if want * 4 > min(int(champ_ptr[slots[t] + 1] - champ_ptr[slots[t]]) for t in tids):
        return None
    if plan.driver_size() < tuning.COMMON_MIN_DF:  # a selective filter: the plain path is cheap
        return None
    idfs = [ix.idf(t) for t in tids]
    if any(v <= 0 for v in idfs):
        return None
    q = plan.query
    if len(tids) == 1 and not (q.venues or q.has_exclusions or q.authors):
        # one term, no filter: its champions (ascending docnos) all match, total = df
        slot = slots[tids[0]]
        pool = champ_docs[champ_ptr[slot] : champ_ptr[slot + 1]]
        total = ix.df(tids[0])
    else:
        bits = plan.bitset()
        if bits is None:
            return None
        total = int(np.bitwise_count(bits).sum())
        if total == 0:
            return (), 0
        pool = unique_sorted(
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
        cols[t] = ix.locate(t, pool)[1]  # every pool doc has every term
    scores = score_and(ix, pool, tids, cols)
    hits = top(ix, pool, scores, want)
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
