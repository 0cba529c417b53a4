"""Query plans: the candidate documents of a query, before scoring.

Required sets (term postings and ``author:`` doc sets) are intersected smallest first, then
venue filters, exclusions and phrases shrink the candidates. For the champion path
(:mod:`bot.core.index.champions`) a plan can also give its candidates as a bitset over docnos
when every required term has one. :class:`Filters` holds the per-index parts of filtering:
venue tables (cached per filter) and the documents of an author filter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bot.core.index.arrays import I32, I64, AnyArray, Bool, in_sorted, ragged_index, unblob
from bot.core.index.arrays import unique_sorted as unique
from bot.core.index.data import U64, IndexData, words64
from bot.core.index.phrases import phrase_on
from bot.core.index.vocabularies import Vocabularies
from bot.core.query import AuthorFilter, ParsedQuery, VenueFilter, venue_matches, venue_words


class Filters:
    """Venue and author filtering over one index (venue tables cached per filter)."""

    def __init__(self, data: IndexData, vocabularies: Vocabularies) -> None:
        self._data = data
        self._vocabularies = vocabularies
        a = data.arrays
        self.venue_of: AnyArray = a["venue_of"]  # venue id per docno (-1: none)
        self._venue_words = [venue_words(v) for v in unblob(a["venue_data"], a["venue_off"])]
        self._allowed_cache: dict[tuple[tuple[str, ...], ...], Bool] = {}
        self._bits_cache: dict[tuple[bool, tuple[tuple[str, ...], ...]], U64] = {}

    def author_docs(self, flt: AuthorFilter) -> I32:
        """Live docnos with an author matching ``flt``, ascending."""
        ids = self._vocabularies.matching_authors(flt.words)
        if not ids:
            return np.zeros(0, dtype=np.int32)
        a = self._data.arrays
        ptr = a["author_ptr"]
        sel = np.asarray(ids, dtype=np.int64)
        docs = unique(a["author_docs"][ragged_index(ptr[sel], ptr[sel + 1] - ptr[sel])])
        live = docs[self._data.alive[docs]] if len(docs) else docs
        return live.astype(np.int32)

    def venue_allowed(self, filters: Sequence[VenueFilter]) -> Bool:
        """Per venue id (and a last slot for "no venue"), whether any filter accepts it."""
        key = tuple(alt for f in filters for alt in f.alternatives)
        cache = self._allowed_cache
        allowed = cache.get(key)
        if allowed is None:
            words = self._venue_words
            allowed = np.zeros(len(words) + 1, dtype=np.bool_)  # last slot: "no venue" (-1)
            for i, vw in enumerate(words):
                allowed[i] = any(venue_matches(f.alternatives, vw) for f in filters)
            if len(cache) > 256:
                cache.clear()
            cache[key] = allowed
        return allowed

    def venue_bits(self, filters: Sequence[VenueFilter], *, exclude: bool) -> U64:
        """Bitset over docnos of the venue filters (or their complement) as 64-bit words
        (:func:`~bot.core.index.data.words64`; cached)."""
        key = (exclude, tuple(alt for f in filters for alt in f.alternatives))
        cache = self._bits_cache
        bits = cache.get(key)
        if bits is None:
            mask = self.venue_allowed(filters)[self.venue_of]
            bits = words64(np.packbits(~mask if exclude else mask, bitorder="little"))
            if len(cache) > 32:
                cache.clear()
            cache[key] = bits
        return bits


class Plan:
    """The candidate documents of a query: intersections, filters and exclusions."""

    def __init__(
        self, ix: IndexData, filters: Filters, query: ParsedQuery, tids: list[int]
    ) -> None:
        self.ix = ix
        self.filters = filters
        self.query = query
        self.tids = list(dict.fromkeys(tids))
        self.empty = False
        self.author_sets = [filters.author_docs(a) for a in query.authors]
        if any(len(s) == 0 for s in self.author_sets):
            self.empty = True
        self.allowed_venues: Bool | None = None
        if query.venues:
            self.allowed_venues = filters.venue_allowed(query.venues)
            if not self.allowed_venues.any():
                self.empty = True

    def driver_size(self) -> int:
        """The size of the smallest required set (every document when there is none)."""
        sizes = [self.ix.df(t) for t in self.tids] + [len(s) for s in self.author_sets]
        return min(sizes) if sizes else self.ix.n_docs

    def candidates(self, phrases: bool = True) -> tuple[I32, dict[int, I64]]:
        """Sorted candidate docnos and, per required term, their global posting indices."""
        ix = self.ix
        ptr, docs_all = ix.ptr, ix.docs
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
                    hit, g = ix.locate(ref, cand)
                else:
                    hit = in_sorted(self.author_sets[ref], cand)
                idx = np.flatnonzero(hit)
                cand = cand.take(idx)
                for key in cols:
                    cols[key] = cols[key].take(idx)
                if kind == 0:
                    cols[ref] = g
        keep = self._filter_mask(cand, cols, phrases)
        if keep is not None:
            idx = np.flatnonzero(keep)
            cand = cand.take(idx)
            for key in cols:
                cols[key] = cols[key].take(idx)
        return cand, cols

    def phrase_mask(self, cand: AnyArray, cols: dict[int, I64]) -> Bool:
        """Which candidates hold every (positive) phrase of the query."""
        keep = np.ones(len(cand), dtype=np.bool_)
        for phrase in self.query.phrases:
            keep &= phrase_on(self.ix, cand, keep.copy(), phrase, cols, want=True)
        return keep

    def _filter_mask(
        self, cand: AnyArray, cols: dict[int, I64], with_phrases: bool = True
    ) -> Bool | None:
        """Venue filters, exclusions and phrases over candidates (None: keep all)."""
        ix, q, filters = self.ix, self.query, self.filters
        if len(cand) == 0:
            return None
        keep: Bool | None = None

        def narrow(mask: Bool) -> None:
            nonlocal keep
            keep = mask if keep is None else keep & mask

        if self.allowed_venues is not None:
            narrow(self.allowed_venues[filters.venue_of[cand]])
        for term in q.exclude_terms:
            tid = ix.term_id(term)
            if tid is not None:
                narrow(~ix.locate(tid, cand)[0])
        for flt in q.exclude_authors:
            narrow(~in_sorted(filters.author_docs(flt), cand))
        if q.exclude_venues:
            narrow(~filters.venue_allowed(q.exclude_venues)[filters.venue_of[cand]])
        for phrase in q.phrases if with_phrases else ():
            narrow(phrase_on(ix, cand, keep, phrase, cols, want=True))
        for phrase in q.exclude_phrases:
            narrow(phrase_on(ix, cand, keep, phrase, None, want=False))
        return keep

    def bitset(self) -> U64 | None:
        """The candidates as a bitset over docnos (64-bit words, see
        :func:`~bot.core.index.data.words64`), when every required term has one."""
        ix, q, filters = self.ix, self.query, self.filters
        slots = ix.common_slot
        if self.author_sets or q.exclude_authors:
            return None
        acc: U64 | None = None
        for t in self.tids:
            b = ix.ranked_bitset(slots[t])[0]
            acc = b.copy() if acc is None else np.bitwise_and(acc, b, out=acc)
        if acc is None:
            return None
        if q.venues:
            acc &= filters.venue_bits(q.venues, exclude=False)[: len(acc)]
        if q.exclude_venues:
            acc &= filters.venue_bits(q.exclude_venues, exclude=True)[: len(acc)]
        for term in q.exclude_terms:
            tid = ix.term_id(term)
            if tid is None:
                continue
            slot = slots.get(tid)
            if slot is not None:  # a common term: its own bitset
                acc &= ~ix.ranked_bitset(slot)[0]
            else:  # clear its documents' bits (a word may hold several: ufunc.at)
                docs = ix.docs[ix.ptr[tid] : ix.ptr[tid + 1]]
                keep = ~np.left_shift(np.uint64(1), (docs & 63).astype(np.uint64))
                np.bitwise_and.at(acc, docs >> 6, keep)
        return acc
