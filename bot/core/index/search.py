"""Answering queries: plan, champions or candidates, phrases, scores, top k.

Only candidate documents are scored: required terms are intersected starting from the rarest
(AND), filters and exclusions shrink the set (:mod:`bot.core.index.plan`), then the
survivors are scored and the top k selected (:mod:`bot.core.index.scoring`). Queries made only
of common terms try the champion lists first (:mod:`bot.core.index.champions`); a phrase over
very many candidates is verified best score first (:func:`~bot.core.index.phrases.lazy_phrases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from bot.core.index import tuning
from bot.core.index.arrays import AnyArray
from bot.core.index.champions import try_champions
from bot.core.index.data import IndexData
from bot.core.index.models import IndexHit, IndexResult
from bot.core.index.phrases import lazy_phrases
from bot.core.index.plan import Filters, Plan
from bot.core.index.scoring import key_term_ids, score_and, score_or, top, top_or
from bot.core.query import ParsedQuery

Mode = Literal["and", "or"]
SALIENT_SHARE = 100  # a similar-papers key term is in at most 1 / this of the papers


class Searcher:
    """The query side of one index."""

    def __init__(self, data: IndexData, filters: Filters) -> None:
        self._ix = data
        self._filters = filters

    def _plan(self, query: ParsedQuery) -> tuple[Plan, list[int]] | None:
        """The query's plan and required term ids; None when nothing can match."""
        ix = self._ix
        ids = ix.term_ids(query.required_terms)
        if any(t is None for t in ids) or ix.n_docs == 0:
            return None
        tids = [t for t in ids if t is not None]
        plan = Plan(ix, self._filters, query, tids)
        return None if plan.empty else (plan, tids)

    def matches(self, query: ParsedQuery) -> AnyArray:
        """Every docno that satisfies ``query`` (ascending), unscored: for counting."""
        planned = self._plan(query)
        if planned is None:
            return np.empty(0, dtype=np.int32)
        plan, _ = planned
        cand, cols = plan.candidates(phrases=False)
        if query.phrases and len(cand):
            cand = cand[plan.phrase_mask(cand, cols)]
        return cand

    def search(self, query: ParsedQuery, k: int = 10, offset: int = 0) -> IndexResult:
        """Hits of ``query`` (every clause must hold), best first, from ``offset``."""
        ix = self._ix
        want = max(0, k) + max(0, offset)
        planned = self._plan(query)
        if planned is None:
            return IndexResult((), 0)
        plan, tids = planned
        if tids and want > 0 and not query.phrases and not query.exclude_phrases:
            fast = try_champions(ix, plan, tids, want)
            if fast is not None:
                hits, total, pruned = fast
                return IndexResult(hits[offset:], total, pruned=pruned)
        cand, cols = plan.candidates(phrases=False)
        if query.phrases and len(cand):
            if tids and len(cand) > tuning.PHRASE_LAZY and want <= tuning.PHRASE_CHUNK // 4:
                return lazy_phrases(ix, query, cand, cols, tids, want, offset)
            keep = np.flatnonzero(plan.phrase_mask(cand, cols))
            cand = cand.take(keep)
            cols = {t: c.take(keep) for t, c in cols.items()}
        if len(cand) == 0:
            return IndexResult((), 0)
        total = len(cand)
        if not tids:  # filters only: newest first
            newest = cand[::-1][:want]
            hits = tuple(IndexHit(int(d), ix.paper_id(int(d)), 0.0) for d in newest)
            return IndexResult(hits[offset:], total)
        scores = score_and(ix, cand, tids, cols)
        return IndexResult(top(ix, cand, scores, want)[offset:], total)

    def search_terms(
        self, terms: Sequence[str], k: int = 10, *, mode: Mode = "and", offset: int = 0
    ) -> IndexResult:
        """Rank documents for a raw term list (repeats count, as in rank-bm25).

        ``mode="or"``: every document containing any term, scored like ``get_scores``;
        ``mode="and"``: only documents containing every term.
        """
        ix = self._ix
        want = max(0, k) + max(0, offset)
        if ix.n_docs == 0 or not terms:
            return IndexResult((), 0)
        ids = ix.term_ids(terms)
        if mode == "and":
            if any(t is None for t in ids):
                return IndexResult((), 0)
            if len(set(terms)) == len(terms):
                return self.search(ParsedQuery(text=" ".join(terms), terms=tuple(terms)), k, offset)
            return self._and_with_repeats([t for t in ids if t is not None], want, offset)
        if not any(t is not None for t in ids):
            return IndexResult((), 0)
        cand, scores = score_or(ix, ids)
        return IndexResult(top(ix, cand, scores, want)[offset:], len(cand))

    def _and_with_repeats(self, tids: list[int], want: int, offset: int) -> IndexResult:
        ix = self._ix
        plan = Plan(ix, self._filters, ParsedQuery(text=""), list(dict.fromkeys(tids)))
        cand, cols = plan.candidates()
        if len(cand) == 0:
            return IndexResult((), 0)
        scores = score_and(ix, cand, tids, cols)
        return IndexResult(top(ix, cand, scores, want)[offset:], len(cand))

    def similar(self, docno: int, terms: Sequence[str], k: int = 5) -> list[IndexHit]:
        """Papers like the one with ``terms`` (its token list): an OR query of its key terms,
        those in at most 1% of the papers (all of them when none is that rare): a common
        term says little of what a paper is about, and its postings would be most of the
        query's (at 1M papers, p95 5.6 -> 1.8 ms)."""
        ix = self._ix
        if ix.n_docs == 0:
            return []
        key = key_term_ids(ix, terms)
        cap = max(ix.n_docs // SALIENT_SHARE, 50)
        key = [t for t in key if ix.df(t) <= cap] or key
        if not key:
            return []
        hits = top_or(ix, key, k + 1)
        return [h for h in hits if h.docno != docno][:k]
