"""Scoring candidates with rank-bm25's arithmetic and selecting the top k.

A document's score is the sequential sum of its terms' contributions in query order
(:mod:`bot.core.index.bm25`); ties rank the lower docno first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from bot.core.index import bm25, tuning
from bot.core.index.arrays import (
    F64,
    I32,
    I64,
    AnyArray,
    in_sorted,
    ragged_index,
    stable_order,
    unique_sorted,
)
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
    from the few postings that can place, without a pass over a docno-sized array.

    The lists' postings are sorted once; a document in two lists or more (a few hundred of
    the thousands: most hold one key term) is found in every list by one search of
    (term, docno) keys, and its contributions added in query order from 0.0 (a missing term
    adds 0.0, which changes no sum): what ``bincount`` adds. The ``want``-th best of those
    sums is a floor: a document in one list scores that list's contribution alone, at most
    ``idf x tf_part(the list's highest tf, the smallest norm)``, so only the lists whose bound
    reaches the floor are weighed posting by posting (often none: their terms are rare).
    With fewer than ``want`` documents in several lists, or few postings in all
    (``tuning.SIMILAR_WEIGH_ALL``), every posting is weighed (:func:`_top_or_every`)."""
    if want <= 0 or not tids:
        return ()
    ptr = ix.ptr
    ids = np.asarray(tids, dtype=np.int64)
    starts = ptr.take(ids)
    lengths = ptr.take(ids + 1) - starts
    if not np.any(lengths):
        return ()
    at = ragged_index(starts, lengths)
    all_docs = ix.docs.take(at)
    idf = np.array([ix.idf(t) for t in tids], dtype=np.float64)
    if len(at) <= tuning.SIMILAR_WEIGH_ALL:
        return _top_or_every(ix, at, all_docs, idf, lengths, want)
    ordered = np.sort(all_docs)
    repeats = ordered[1:][ordered[1:] == ordered[:-1]]
    if len(repeats) == 0:
        return _top_or_every(ix, at, all_docs, idf, lengths, want)
    keep = np.empty(len(repeats), dtype=np.bool_)
    keep[0] = True
    np.not_equal(repeats[1:], repeats[:-1], out=keep[1:])
    multi = repeats[keep].astype(np.int64)  # ascending
    if len(multi) < want:
        return _top_or_every(ix, at, all_docs, idf, lengths, want)
    # the (term index, docno) keys of the postings ascend: each list is sorted, in query order
    n = len(tids)
    term_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys = term_of << 32
    keys |= all_docs
    wanted = ((np.arange(n, dtype=np.int64) << 32)[:, None] | multi[None, :]).ravel()
    pos = np.searchsorted(keys, wanted)
    np.minimum(pos, len(keys) - 1, out=pos)
    hit = np.flatnonzero(keys.take(pos) == wanted)
    p = pos.take(hit)
    tf = ix.tfs.take(at.take(p)).astype(np.float64)
    contrib = np.zeros(len(wanted), dtype=np.float64)
    contrib[hit] = idf.take(term_of.take(p)) * bm25.tf_part(tf, ix.norm.take(all_docs.take(p)))
    scores = np.zeros(len(multi), dtype=np.float64)
    for row in contrib.reshape(n, len(multi)):  # query order, from 0.0
        scores += row
    floor = float(np.partition(scores, len(scores) - want)[len(scores) - want])
    cands: list[AnyArray] = [multi]
    sums: list[F64] = [scores]
    lowest = ix.min_norm()
    ends = np.cumsum(lengths).tolist()
    for i, (lo, hi) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
        if hi == lo or idf[i] * (bm25.K1 + 1) < floor * _MARGIN:
            continue  # (tf_part < k1 + 1)
        s = int(starts[i])
        bound = float(idf[i]) * bm25.tf_part(int(ix.tfs[s : s + hi - lo].max()), lowest)
        if bound < floor * _MARGIN:
            continue
        docs = all_docs[lo:hi]
        single = np.flatnonzero(~in_sorted(multi, docs))
        docs = docs.take(single)
        tf = ix.tfs[s : s + hi - lo].take(single).astype(np.float64)
        cands.append(docs)
        sums.append(idf[i] * bm25.tf_part(tf, ix.norm.take(docs)))
    return top(ix, np.concatenate(cands), np.concatenate(sums), want)


# a bound is compared with the floor less this share: rounding can never cross it
_MARGIN = 1 - 1e-9


def _top_or_every(
    ix: IndexData, at: I64, all_docs: AnyArray, idf: F64, lengths: I64, want: int
) -> tuple[IndexHit, ...]:
    """:func:`top_or` weighing every posting. The postings are put in (docno, query) order
    (one sort); a document's first contribution is its sum so far (0.0 + w is w), then its
    second ones are added, its third ones, ... (a document has at most one posting per
    term): in query order, as ``bincount`` adds them."""
    order = stable_order(all_docs)
    docs = all_docs.take(order)
    tf = ix.tfs.take(at.take(order)).astype(np.float64)
    weights = np.repeat(idf, lengths).take(order) * bm25.tf_part(tf, ix.norm.take(docs))
    first = np.empty(len(docs), dtype=np.bool_)
    first[0] = True
    np.not_equal(docs[1:], docs[:-1], out=first[1:])
    heads = np.flatnonzero(first)
    scores = weights.take(heads)
    later = np.flatnonzero(~first)
    if len(later):
        doc_of = (np.cumsum(first) - 1).take(later)
        nth = later - heads.take(doc_of)
        added = weights.take(later)
        for k in range(1, int(nth.max()) + 1):
            sel = np.flatnonzero(nth == k)
            scores[doc_of.take(sel)] += added.take(sel)  # one posting per document each time
    return top(ix, docs.take(heads), scores, want)


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


def best(scores: AnyArray, n: int) -> I64:
    """Indices (ascending) of the ``n`` best ``scores`` and of every score tied with the
    ``n``-th: all of them when there are at most ``n``."""
    if n >= len(scores):
        return np.arange(len(scores), dtype=np.int64)
    kth = np.partition(scores, len(scores) - n)[len(scores) - n]
    return np.flatnonzero(scores >= kth)


def top(ix: IndexData, cand: AnyArray, scores: F64, want: int) -> tuple[IndexHit, ...]:
    """The best ``want`` candidates, best first (ties: lower docno first)."""
    if want <= 0 or len(cand) == 0:
        return ()
    if len(cand) > want:
        sel = best(scores, want)
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
    rows = [
        (word, s)
        for word, s in zip(words, ix.term_stats(words), strict=True)
        if s is not None and s[1] >= 2
    ]
    if not rows:
        return []
    denom_part = bm25.norm(len(terms), ix.avgdl)
    kept = [s[0] for _, s in rows]
    idf = np.array([s[2] for _, s in rows], dtype=np.float64)
    tf = np.array([counts[word] for word, _ in rows], dtype=np.float64)
    # the float operations of tf_part on one value each: the same weights as one by one
    weights = idf * bm25.tf_part(tf, np.full(len(tf), denom_part))
    chosen = np.flatnonzero(weights > 0)
    if len(chosen) > n:  # only those weighing at least the n-th most (ties kept) are sorted
        kth = np.partition(weights.take(chosen), len(chosen) - n)[len(chosen) - n]
        chosen = np.flatnonzero(weights >= kth)
    values = weights.tolist()
    scored = [(-values[i], rows[i][0], kept[i]) for i in chosen.tolist()]
    scored.sort()
    return [t for _, _, t in scored[:n]]
