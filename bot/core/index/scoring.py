"""Scoring candidates with rank-bm25's arithmetic and selecting the top k.

A document's score is the sequential sum of its terms' contributions in query order
(:mod:`bot.core.index.bm25`); ties rank the lower docno first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from bot.core.index import bm25
from bot.core.index.arrays import F64, I32, I64, AnyArray, ragged_index, unique_sorted
from bot.core.index.data import IndexData
from bot.core.index.models import IndexHit


def score_and(ix: IndexData, cand: I32, tids: Sequence[int], cols: dict[int, I64]) -> F64:
    """rank-bm25's scores of candidates; ``cols[t]``: each one's posting index for t."""
    norm = ix.norm[cand]
    scores: F64 | None = None
    tfs = ix.tfs
    for tid in tids:
        tf = tfs[cols[tid]].astype(np.float64)
        contrib = ix.idf(tid) * bm25.tf_part(tf, norm)
        scores = contrib if scores is None else scores + contrib
    assert scores is not None
    return scores


def score_or(ix: IndexData, ids: Sequence[int | None]) -> tuple[I32, F64]:
    """Every document holding any of the terms, and its score (rank-bm25's ``get_scores``)."""
    parts_docs: list[AnyArray] = []
    parts_w: list[F64] = []
    norm = ix.norm
    for tid in ids:
        if tid is None:
            continue
        lo, hi = ix.postings(tid)
        docs = ix.docs[lo:hi]
        tf = ix.tfs[lo:hi].astype(np.float64)
        parts_docs.append(docs)
        parts_w.append(ix.idf(tid) * bm25.tf_part(tf, norm[docs]))
    all_docs = np.concatenate(parts_docs)
    cand = unique_sorted(all_docs).astype(np.int32)
    local = np.searchsorted(cand, all_docs)
    # bincount adds each bin's weights sequentially in input (= query) order, from 0.0.
    scores = np.bincount(local, weights=np.concatenate(parts_w), minlength=len(cand))
    return cand, scores.astype(np.float64, copy=False)


def top_or(ix: IndexData, tids: Sequence[int], want: int) -> tuple[IndexHit, ...]:
    """:func:`top` of :func:`score_or`'s documents and scores (the same hits, bit for bit)
    without sorting every posting: every term's postings are gathered in one pass (query
    order) and their contributions added with ``np.add.at`` -- in that order, from 0.0, as
    ``bincount`` adds them -- into a per-thread array of sums by docno, read back at every
    posting and set back to 0.0. The postings scoring at least the ``want`` x terms-th best
    hold the best ``want`` documents (a document has at most one posting per term)."""
    if want <= 0 or not tids:
        return ()
    ptr = ix.ptr
    ids = np.asarray(tids, dtype=np.int64)
    starts = ptr.take(ids)
    lengths = ptr.take(ids + 1) - starts
    n_terms = int(np.count_nonzero(lengths))
    if n_terms == 0:
        return ()
    at = ragged_index(starts, lengths)
    all_docs = ix.docs.take(at)
    tf = ix.tfs.take(at).astype(np.float64)
    idf = np.repeat(np.array([ix.idf(t) for t in tids], dtype=np.float64), lengths)
    weights = idf * bm25.tf_part(tf, ix.norm.take(all_docs))
    sums = ix.sums()
    try:
        np.add.at(sums, all_docs, weights)
        scores = sums.take(all_docs)
    finally:
        sums[all_docs] = 0.0
    keep = want * n_terms
    if len(scores) > keep:
        kth = np.partition(scores, len(scores) - keep)[len(scores) - keep]
        sel = np.flatnonzero(scores >= kth)
        all_docs, scores = all_docs.take(sel), scores.take(sel)
    cand, first = np.unique(all_docs, return_index=True)
    return top(ix, cand, scores.take(first), want)


def scores_for(ix: IndexData, terms: Sequence[str], docnos: Sequence[int]) -> F64:
    """rank-bm25 scores of ``terms`` for given docnos (like ``get_batch_scores``)."""
    cand = np.asarray(docnos, dtype=np.int32)
    out = np.zeros(len(cand), dtype=np.float64)
    norm = ix.norm[cand]
    order = np.argsort(cand, kind="stable")
    sorted_cand = cand[order]
    for tid in ix.term_ids(terms):
        if tid is None:
            continue
        hit, g = ix.locate(tid, sorted_cand)
        tf_sorted = np.zeros(len(cand), dtype=np.float64)
        tf_sorted[hit] = ix.tfs[g]
        tf = np.empty(len(cand), dtype=np.float64)
        tf[order] = tf_sorted
        out = out + ix.idf(tid) * bm25.tf_part(tf, norm)
    return out


def top(ix: IndexData, cand: AnyArray, scores: F64, want: int) -> tuple[IndexHit, ...]:
    """The best ``want`` candidates, best first (ties: lower docno first)."""
    if want <= 0 or len(cand) == 0:
        return ()
    if len(cand) > want:
        kth = np.partition(scores, len(scores) - want)[len(scores) - want]
        sel = np.flatnonzero(scores >= kth)
        cand, scores = cand[sel], scores[sel]
    order = np.lexsort((cand, -scores))[:want]
    docs = cand.take(order)
    pids = ix.arrays["paper_ids"].take(docs).tolist()
    return tuple(
        IndexHit(d, p.decode(), s)
        for d, p, s in zip(docs.tolist(), pids, scores.take(order).tolist(), strict=True)
    )


def key_terms(ix: IndexData, terms: Sequence[str], n: int = 12) -> list[str]:
    """The ``n`` terms of a token list with the highest BM25 weight in it (df >= 2)."""
    return [ix.terms.word(t) for t in key_term_ids(ix, terms, n)]


def key_term_ids(ix: IndexData, terms: Sequence[str], n: int = 12) -> list[int]:
    """The term ids of :func:`key_terms` (in its order)."""
    counts = Counter(terms)
    words = list(counts)
    tids = ix.terms.ids(words)
    found = np.array([-1 if t is None else t for t in tids], dtype=np.int64)
    dfs = np.where(found >= 0, ix.ptr[found + 1] - ix.ptr[found], 0)
    keep = np.flatnonzero(dfs >= 2).tolist()
    if not keep:
        return []
    denom_part = bm25.norm(len(terms), ix.avgdl)
    kept = found.take(keep).tolist()
    idf = np.array([ix.idf(t) for t in kept], dtype=np.float64)
    tf = np.array([counts[words[i]] for i in keep], dtype=np.float64)
    # the float operations of tf_part on one value each: the same weights as one by one
    weights = idf * bm25.tf_part(tf, np.full(len(tf), denom_part))
    chosen = np.flatnonzero(weights > 0)
    if len(chosen) > n:  # only those weighing at least the n-th most (ties kept) are sorted
        kth = np.partition(weights.take(chosen), len(chosen) - n)[len(chosen) - n]
        chosen = np.flatnonzero(weights >= kth)
    values = weights.tolist()
    scored = [(-values[i], words[keep[i]], kept[i]) for i in chosen.tolist()]
    scored.sort()
    return [t for _, _, t in scored[:n]]
