"""What the known-item order reads of a few hits, from the index's positions alone.

For some documents and a query's terms (:mod:`bot.core.rerank` says what the order does with
them): whether the first copy of the title holds every term, whether it holds them as
adjacent words in the query's order, and how often the abstract does. The terms' positions
come from the postings (as a phrase's do, :mod:`~bot.core.index.phrases`); where the title and
the abstract lie comes from the per-docno field spans (:class:`~bot.core.text.FieldSpans`,
saved with the index). No text is read or tokenized, so ordering a page costs a few numpy
calls, whatever the papers' length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.index.arrays import I64, AnyArray, Bool, in_sorted, ragged_index
from bot.core.index.data import IndexData
from bot.core.index.phrases import posting_starts

_STRIDE = np.int64(1 << 32)  # key = document slot * stride + position


@dataclass(frozen=True, slots=True)
class KnownItemFeatures:
    """Per document, in the order asked (see the module doc)."""

    in_title: tuple[bool, ...]  # the title holds every term
    title_adjacent: tuple[bool, ...]  # ... as adjacent words in the query's order
    abstract_adjacent: tuple[int, ...]  # how often the abstract has them so


def known_item_features(
    ix: IndexData, docnos: Sequence[int], terms: Sequence[str]
) -> KnownItemFeatures:
    """The :class:`KnownItemFeatures` of ``docnos`` (distinct) for ``terms`` (query order)."""
    n = len(docnos)
    ids = ix.term_ids(terms)
    if n == 0 or not terms or any(t is None for t in ids):
        return KnownItemFeatures((False,) * n, (False,) * n, (0,) * n)
    asked = np.asarray(docnos, dtype=np.int64)
    order = np.argsort(asked, kind="stable")
    cand = asked[order]  # ascending, as the postings are
    a = ix.arrays
    title_end = a["span_title_end"][cand].astype(np.int64)
    abs_start = a["span_abstract_start"][cand].astype(np.int64)
    abs_end = a["span_abstract_end"][cand].astype(np.int64)
    in_title = np.ones(n, dtype=np.bool_)
    title_keys: AnyArray | None = None
    abs_keys: AnyArray | None = None
    for i, tid in enumerate(ids):
        assert tid is not None
        ok, g = ix.locate(tid, cand)
        slot = np.flatnonzero(ok).astype(np.int64)
        lengths = ix.tfs[g].astype(np.int64)
        at = ix.arrays["pos"][ragged_index(posting_starts(ix.tfs, a["pos_ckpt"], g), lengths)]
        pos = at.astype(np.int64) - 1  # stored from 1 (a running sum of steps); spans from 0
        owner = np.repeat(slot, lengths)  # ascending; positions ascend within each owner
        titled = pos < title_end[owner]
        has: Bool = np.zeros(n, dtype=np.bool_)
        has[owner[titled]] = True
        in_title &= has
        # keys of "term i at p" as "term 0 at p - i": adjacency = the same key for every term
        tk = owner[titled] * _STRIDE + (pos[titled] - i)
        inside = (pos >= abs_start[owner]) & (pos < abs_end[owner])
        ak = owner[inside] * _STRIDE + (pos[inside] - i)
        title_keys = tk if title_keys is None else title_keys[in_sorted(tk, title_keys)]
        abs_keys = ak if abs_keys is None else abs_keys[in_sorted(ak, abs_keys)]
    assert title_keys is not None and abs_keys is not None
    adjacent: Bool = np.zeros(n, dtype=np.bool_)
    if len(terms) > 1:
        adjacent[(title_keys // _STRIDE)] = True
    counts: I64 = np.bincount(abs_keys // _STRIDE, minlength=n).astype(np.int64)
    back = np.empty(n, dtype=np.int64)
    back[order] = np.arange(n, dtype=np.int64)  # asked[k] is cand[back[k]]
    return KnownItemFeatures(
        tuple(in_title[back].tolist()),
        tuple((adjacent & in_title)[back].tolist()),
        tuple(counts[back].tolist()),
    )
