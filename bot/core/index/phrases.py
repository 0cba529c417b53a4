"""Positions and phrases: which candidates hold words at consecutive positions.

Every posting's positions are stored ascending in ``pos``, postings in the order of ``docs``;
``pos_ckpt`` has where the positions of every 16th posting start (a running sum of term
frequencies), so the positions of any posting are found from the checkpoint before it.
A phrase over very many candidates is verified best score first (:func:`lazy_phrases`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.core.index import tuning
from bot.core.index.arrays import I32, I64, AnyArray, Bool, in_sorted, ragged_index
from bot.core.index.arrays import unique_sorted as unique
from bot.core.index.data import IndexData
from bot.core.index.models import IndexResult
from bot.core.index.scoring import best, score_and, top
from bot.core.query import ParsedQuery, Phrase

CKPT_SHIFT = 4  # positions checkpoint every 16 postings (a saved-format constant)


def n_checkpoints(n_postings: int) -> int:
    """How many checkpoints ``n_postings`` postings have (one every 16, from the first)."""
    return (n_postings + (1 << CKPT_SHIFT) - 1) >> CKPT_SHIFT


def checkpoints(tfs: AnyArray, out: I64 | None = None) -> I64:
    """Start of the positions of every 16th posting (see :func:`posting_starts`); written
    into ``out`` (:func:`n_checkpoints` int64s) when given."""
    n_blocks = n_checkpoints(len(tfs))
    if out is None:
        out = np.zeros(n_blocks, dtype=np.int64)
    if n_blocks == 0:
        return out
    if tfs.dtype == np.uint8:
        return _checkpoints_u8(np.ascontiguousarray(tfs), out)
    step = 1 << CKPT_SHIFT
    full = len(tfs) // step * step
    # whole blocks summed as rows (several times faster than reduceat), then the last one
    blocks = np.asarray(tfs[:full]).reshape(-1, step).sum(axis=1, dtype=np.int64)
    if full < len(tfs):
        blocks = np.append(blocks, np.asarray(tfs[full:]).sum(dtype=np.int64))
    out[0] = 0
    np.cumsum(blocks[:-1], out=out[1:])
    return out


_LOW_BYTES = np.uint64(0x00FF00FF00FF00FF)
_LANES = np.uint64(0x0001000100010001)  # x * _LANES >> 48: the sum of x's four 16-bit lanes
_CKPT_CHUNK = 1 << 16  # blocks summed per pass (buffers of 1 MB, reused)


def _checkpoints_u8(tfs: AnyArray, out: I64) -> I64:
    """:func:`checkpoints` of 8-bit term frequencies: each block of 16 is two 64-bit words,
    summed as packed lanes (bytes to 16-bit lanes, the two words added, the four lanes added
    by one multiplication: at most 16 x 255 per block, so no lane overflows), in chunks
    through small reused buffers; about four times faster than summing rows of 16 bytes."""
    full = len(tfs) >> CKPT_SHIFT
    out[0] = 0
    running = 0
    chunk = min(_CKPT_CHUNK, max(full, 1))
    lanes = np.empty(2 * chunk, dtype=np.uint64)
    high = np.empty(2 * chunk, dtype=np.uint64)
    sums = np.empty(chunk, dtype=np.uint64)
    for b0 in range(0, full, chunk):
        b1 = min(b0 + chunk, full)
        k = b1 - b0
        words = tfs[b0 << CKPT_SHIFT : b1 << CKPT_SHIFT].view(np.uint64)
        lo, hi, s = lanes[: 2 * k], high[: 2 * k], sums[:k]
        np.bitwise_and(words, _LOW_BYTES, out=lo)
        np.right_shift(words, np.uint64(8), out=hi)
        np.bitwise_and(hi, _LOW_BYTES, out=hi)
        lo += hi
        np.add(lo[0::2], lo[1::2], out=s)
        s *= _LANES
        s >>= np.uint64(48)
        run = np.cumsum(s, dtype=np.int64)
        run += running
        end = min(b1 + 1, len(out))
        out[b0 + 1 : end] = run[: end - b0 - 1]
        running = int(run[-1])
    return out


def posting_starts(tfs: AnyArray, ckpt: AnyArray, g: I64) -> I64:
    """Where the positions of global postings ``g`` (ascending) start in ``pos``.

    From the checkpoint before the first one, a running sum of term frequencies over the
    range they span; for a few postings spread over a long range, a per-block sum.
    """
    if len(g) == 0:
        return np.zeros(0, dtype=np.int64)
    lo = (int(g[0]) >> CKPT_SHIFT) << CKPT_SHIFT
    hi = int(g[-1])
    if (hi - lo) < 100 * len(g):
        run = np.zeros(hi - lo + 1, dtype=np.int64)
        np.cumsum(tfs[lo:hi], dtype=np.int64, out=run[1:])
        out: I64 = int(ckpt[lo >> CKPT_SHIFT]) + run[g - lo]
        return out
    return posting_starts_any(tfs, ckpt, g)


def posting_starts_any(tfs: AnyArray, ckpt: AnyArray, g: I64) -> I64:
    """Like :func:`posting_starts` for any order of postings (per-block sums)."""
    if len(g) == 0:
        return np.zeros(0, dtype=np.int64)
    block = g >> CKPT_SHIFT
    base = block << CKPT_SHIFT
    width = 1 << CKPT_SHIFT
    idx = base[:, None] + np.arange(width, dtype=np.int64)[None, :]
    np.minimum(idx, len(tfs) - 1, out=idx)
    before = np.arange(width, dtype=np.int64)[None, :] < (g - base)[:, None]
    out: I64 = ckpt[block] + (tfs[idx].astype(np.int64) * before).sum(axis=1)
    return out


def phrase_mask(
    ix: IndexData, cand: AnyArray, terms: Sequence[str], cols: dict[int, I64] | None = None
) -> Bool:
    """Which candidates contain ``terms`` at consecutive positions.

    ``cols`` may give, per term id, each candidate's global posting index (else searched).
    """
    ids = ix.term_ids(terms)
    if any(t is None for t in ids) or len(cand) == 0:
        return np.zeros(len(cand), dtype=np.bool_)
    tids = [t for t in ids if t is not None]
    found = _dense_phrase(ix, cand, tids, cols)
    return found if found is not None else _sorted_phrase(ix, cand, tids, cols)


def _dense_phrase(
    ix: IndexData, cand: AnyArray, tids: list[int], cols: dict[int, I64] | None
) -> Bool | None:
    """:func:`phrase_mask` with flags instead of sorted-key searches (None: too large).

    Candidate ``c`` gets a slot of ``2 x length + n + 4`` flags (no position of a document
    reaches twice its token count: a step is at most 2), at ``off[c]``; a phrase start ``s``
    of ``c`` is flag ``off[c] + s + n``. The rarest term's starts are flagged; each next term
    keeps the starts it confirms. Every flag set is cleared before returning. A position
    beyond its slot (not expected: checked on each posting's last position) falls back to
    the sorted-key check.
    """
    n_terms = len(tids)
    width = 2 * ix.arrays["doc_len"][cand].astype(np.int64) + (n_terms + 4)
    off = np.cumsum(width) - width
    space = int(off[-1] + width[-1])
    if space > tuning.PHRASE_FLAGS:
        return None
    marks = ix.marks(space)
    tfs, pos_arr, ckpt = ix.tfs, ix.arrays["pos"], ix.arrays["pos_ckpt"]
    order = sorted(range(n_terms), key=lambda i: ix.df(tids[i]))
    sel = np.arange(len(cand), dtype=np.int64)  # candidates still possible
    every = True  # sel is still every candidate (its gathers are then the arrays themselves)
    flagged: I64 | None = None
    for step, i in enumerate(order):
        tid = tids[i]
        if cols is not None and tid in cols:
            g = cols[tid] if every else cols[tid].take(sel)
        else:
            ok, g = ix.locate(tid, cand if every else cand.take(sel))
            if not ok.all():
                sel, every = sel.take(np.flatnonzero(ok)), False
        if len(sel) == 0:
            break
        lengths = tfs[g].astype(np.int64)
        starts = posting_starts(tfs, ckpt, g)
        ends = np.cumsum(lengths)
        base = (off if every else off.take(sel)) + (n_terms - i)  # flag of a start at 0 ...
        # (a last position that would flag beyond its slot: off + width)
        room = (width if every else width.take(sel)) - (n_terms - i)
        if (pos_arr[starts + lengths - 1] >= room).any():
            if flagged is not None:
                marks[flagged] = False
            return None
        # ... plus each position: every posting's positions, read in one ragged gather
        where = np.repeat(starts - (ends - lengths), lengths)
        where += np.arange(len(where), dtype=np.int64)
        keys = np.repeat(base, lengths)
        keys += pos_arr[where]
        if flagged is None and step < len(order) - 1:  # the first of several: flag all
            marks[keys] = True
            flagged = keys
            continue
        if flagged is not None:
            keys = keys.take(np.flatnonzero(marks[keys]))
            marks[flagged] = False
            flagged = None
        if len(keys) == 0:
            sel = sel[:0]
            break
        # the candidates still holding a start: from the flags' slots (few keys survive)
        owners = np.searchsorted(off, keys, side="right") - 1
        if step == len(order) - 1:
            sel = owners
            break
        marks[keys] = True
        flagged = keys
        alive = np.zeros(len(cand), dtype=np.bool_)
        alive[owners] = True
        sel, every = np.flatnonzero(alive), False
    if flagged is not None:
        marks[flagged] = False
    mask = np.zeros(len(cand), dtype=np.bool_)
    mask[sel] = True
    return mask


def _sorted_phrase(
    ix: IndexData, cand: AnyArray, tids: list[int], cols: dict[int, I64] | None
) -> Bool:
    """:func:`phrase_mask` by sorted (candidate, start) keys, for any number of candidates."""
    pos_arr, ckpt = ix.arrays["pos"], ix.arrays["pos_ckpt"]
    stride = np.int64(1 << 32)
    # rarest term first: its (candidate, position - offset) keys are checked against the
    # others'; keys come out sorted (candidates ascending, positions ascending per posting)
    order = sorted(range(len(tids)), key=lambda i: ix.df(tids[i]))
    sel = np.arange(len(cand), dtype=np.int64)  # candidates still possible
    keys: I64 | None = None
    for i in order:
        tid = tids[i]
        sub = cand[sel]
        if cols is not None and tid in cols:
            g = cols[tid][sel]
        else:
            ok, g = ix.locate(tid, sub)
            sel = sel[ok]
            if keys is not None:
                keys = keys[in_sorted(sel, keys // stride)]
        if len(sel) == 0:
            return np.zeros(len(cand), dtype=np.bool_)
        lengths = ix.tfs[g].astype(np.int64)
        where = ragged_index(posting_starts(ix.tfs, ckpt, g), lengths)
        k = np.repeat(sel, lengths) * stride + (pos_arr[where].astype(np.int64) - i)
        keys = k if keys is None else keys[in_sorted(k, keys)]
        if len(keys) == 0:
            return np.zeros(len(cand), dtype=np.bool_)
        sel = unique(keys // stride)
    mask = np.zeros(len(cand), dtype=np.bool_)
    mask[sel] = True
    return mask


def phrase_on(
    ix: IndexData,
    cand: AnyArray,
    keep: Bool | None,
    phrase: Phrase,
    cols: dict[int, I64] | None,
    *,
    want: bool,
) -> Bool:
    """Phrase test on the candidates still kept (the others are left as they are)."""
    if keep is None:
        found = phrase_mask(ix, cand, phrase.terms, cols)
        return found if want else ~found
    idx = np.flatnonzero(keep)
    sub_cols = None if cols is None else {t: c[idx] for t, c in cols.items()}
    found = phrase_mask(ix, cand[idx], phrase.terms, sub_cols)
    out = np.ones(len(cand), dtype=np.bool_)
    out[idx] = found if want else ~found
    return out


def lazy_phrases(
    ix: IndexData,
    query: ParsedQuery,
    cand: I32,
    cols: dict[int, I64],
    tids: list[int],
    want: int,
    offset: int,
) -> IndexResult:
    """Many candidates for a phrase: verify them best score first, estimate the total.

    The best :data:`~bot.core.index.tuning.PHRASE_CHUNK` candidates are put in score order;
    the first :data:`~bot.core.index.tuning.PHRASE_FIRST` of them (or eight times ``want``)
    are verified first -- the best scores hold a phrase far more often than the rest, so a
    page is mostly found there -- then, if too few hold it, the others; past them, the rest
    in chunks of the best remaining scores. A slice or chunk never splits candidates of
    equal score, so the top ``want`` are exact: an unverified candidate scores strictly
    below every verified one. The total is the matches found plus an estimate for the
    unverified rest from an evenly spread sample of it.
    """
    chunk = tuning.PHRASE_CHUNK
    scores = score_and(ix, cand, tids, cols)
    remaining = np.ones(len(cand), dtype=np.bool_)
    found: list[AnyArray] = []
    n_found = 0

    def verify(idx: AnyArray) -> Bool:
        sub = {t: c[idx] for t, c in cols.items()}
        ok = np.ones(len(idx), dtype=np.bool_)
        for phrase in query.phrases:
            ok &= phrase_on(ix, cand[idx], ok.copy(), phrase, sub, want=True)
        return ok

    def check(pick: AnyArray) -> None:  # ``pick`` ascending: candidates in docno order
        nonlocal n_found
        ok = verify(pick)
        found.append(pick[ok])
        n_found += int(ok.sum())
        remaining[pick] = False

    # the best candidates in score order: a first slice, then (if needed) the others
    head = best(scores, chunk)
    ordered = -scores[head]
    by_score = np.argsort(ordered, kind="stable")
    head, ordered = head[by_score], ordered[by_score]  # best first, ties in docno order
    end = min(max(tuning.PHRASE_FIRST, 8 * want), len(head))
    if end < len(head):  # ties with the slice's last score go with it
        end = int(np.searchsorted(ordered, ordered[end - 1], side="right"))
    check(np.sort(head[:end]))
    if n_found < want and end < len(head):
        check(np.sort(head[end:]))
    while n_found < want:
        rest = np.flatnonzero(remaining)
        if len(rest) == 0:
            break
        check(rest.take(best(scores[rest], chunk)))
    matched = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    rest = np.flatnonzero(remaining)
    total, exact = len(matched), True
    if len(rest):
        step = max(1, len(rest) // tuning.PHRASE_SAMPLE)
        sample = rest[::step]
        rate = float(verify(sample).mean()) if len(sample) else 0.0
        total += round(rate * len(rest))
        exact = False
    hits = top(ix, cand[matched], scores[matched], want) if len(matched) else ()
    return IndexResult(hits[offset:], total, exact=exact)
