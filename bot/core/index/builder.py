"""Building the arrays: tokenized documents in, the saved form of an index out.

One path for a fresh build and an incremental update: :class:`ArrayBuilder` turns the new
documents into posting chunks as they come, then :meth:`ArrayBuilder.finish` lays them over
the base index's arrays when there is one (an update: replaced and removed documents' old
postings dropped, the new ones merged into the sorted lists, no re-tokenizing of the rest) and
over nothing otherwise (the merges then reduce to plain builds, at the same cost as before).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from bot.core.index import tuning
from bot.core.index.arrays import (
    I32,
    Additions,
    AnyArray,
    Bool,
    blob,
    fitting_dtype,
    merge_lists,
    pairs,
    pairs_from_lists,
    ragged_index,
    unique_sorted,
)
from bot.core.index.champions import add_champions
from bot.core.index.data import IndexData
from bot.core.index.models import IndexDoc
from bot.core.index.phrases import checkpoints, posting_starts_any
from bot.core.index.vocab import GrowingVocab
from bot.core.query import name_words

Arrays = dict[str, AnyArray]
# Per-docno FieldSpans (bot.core.text): the first title copy and the abstract, in positions.
SPAN_ARRAYS = ("span_title_end", "span_abstract_start", "span_abstract_end")


@dataclass(slots=True)
class Chunk:
    """Postings of a batch of documents, sorted by (term, doc)."""

    keys: I32
    docs: I32
    tfs: AnyArray
    pos: AnyArray  # positions, grouped by posting in (term, doc) order


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the documents go: the per-docno size and the old postings that die."""

    size: int  # per-docno arrays' length
    old_size: int  # the base's (0: no base)
    dead: Bool | None  # base docnos whose postings go (removed or replaced); None: none do


class ArrayBuilder:
    """Tokenized documents -> the arrays of an index, fed in batches (``add``), then
    ``finish``-ed. ``base``: the index being updated (its vocabularies are extended).

    Documents are turned into compact posting chunks as they come, so a large build never
    holds every token list at once.
    """

    def __init__(self, base: IndexData | None = None) -> None:
        self.base = base
        arrays = None if base is None else base.arrays
        self.terms = GrowingVocab(arrays, "term")
        self.authors = GrowingVocab(arrays, "author_key")
        self.awords = GrowingVocab(arrays, "aword")
        self.twords = GrowingVocab(arrays, "tword")
        self.venues = GrowingVocab(arrays, "venue")
        self.author_disp: list[str] = []  # display names of the authors new in this build
        self.chunks: list[Chunk] = []
        self.docnos: list[int] = []
        self.paper_ids: list[str] = []
        self.titles: list[str] = []
        self.doc_len: list[int] = []
        self.spans: list[tuple[int, int, int]] = []  # FieldSpans, per document
        self.venue_of: list[int] = []
        self.doc_authors: list[list[int]] = []
        self.doc_twords: list[list[int]] = []
        self.new_author_words: list[tuple[int, int]] = []  # (word id, author id)
        # per-chunk token buffers
        self._tok_ids: list[int] = []
        self._tok_steps: list[int] = []
        self._doc_sizes: list[int] = []
        self._chunk_docnos: list[int] = []

    # ---- feeding ----------------------------------------------------------------------------

    def add(self, docs: Iterable[IndexDoc]) -> None:
        term_id = self.terms.id
        term_get = self.terms.ids.get
        for doc in docs:
            self.docnos.append(doc.docno)
            self.paper_ids.append(doc.paper_id)
            self.titles.append(doc.title)
            self.doc_len.append(len(doc.terms))
            sp = doc.spans
            self.spans.append((sp.title_end, sp.abstract_start, sp.abstract_end))
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
            if len(self._chunk_docnos) >= tuning.BUILD_CHUNK:
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
        if len(unique_sorted(docnos)) != len(docnos) or np.any(np.diff(docnos) < 0):
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
            Chunk(
                keys=ids[first],
                docs=doc_of_tok[first],
                tfs=tfs.astype(fitting_dtype(tfs)),
                pos=pos.astype(fitting_dtype(pos)),
            )
        )

    def _postings(self) -> Chunk:
        """All chunks merged into one (term, doc)-sorted posting set.

        Memory-lean: 32-bit permutation indices, and the positions copied chunk by chunk to
        their final place instead of through one index array over every position.
        """
        if not self.chunks:
            return Chunk(
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
            pos[ragged_index(starts[final].astype(np.int64), c.tfs)] = c.pos
        return Chunk(keys, docs, tfs, pos)

    # ---- finishing ------------------------------------------------------------------------

    def finish(self, version: int, removed: Iterable[int] = ()) -> tuple[Arrays, dict[str, Any]]:
        """The arrays and meta of the index: the base's documents (if any) without
        ``removed`` ones, with this builder's added or replacing (same docno)."""
        self._flush()
        post = self._postings()
        layout = self._layout(removed)
        arrays = self._doc_arrays(layout)
        arrays.update(self._vocab_arrays())
        arrays.update(self._posting_arrays(post, layout))
        arrays["term_order"] = self._term_order(arrays, layout)
        arrays.update(self._name_lists(layout))
        alive, doc_len = arrays["alive"], arrays["doc_len"]
        meta: dict[str, Any] = {
            "version": version,
            "n_docs": int(alive.sum()),
            "total_len": int(doc_len[alive].sum(dtype=np.int64)),
        }
        add_champions(arrays, meta)
        return arrays, meta

    def _old(self, name: str, empty: AnyArray) -> AnyArray:
        """The base's array ``name``, or ``empty`` when there is no base."""
        return empty if self.base is None else np.asarray(self.base.arrays[name])

    def _layout(self, removed: Iterable[int]) -> Layout:
        old_size = 0 if self.base is None else len(self.base.arrays["doc_len"])
        size = max([old_size, 1, *(d + 1 for d in self.docnos)])
        if self.base is None:
            return Layout(size, 0, None)
        # Documents that disappear from the postings: removed ones and replaced ones.
        dead = np.zeros(size, dtype=np.bool_)
        for d in removed:
            if 0 <= d < old_size:
                dead[d] = True
        old_alive = self.base.alive
        dead[[d for d in self.docnos if d < old_size and old_alive[d]]] = True
        return Layout(size, old_size, dead if dead.any() else None)

    def _doc_arrays(self, layout: Layout) -> Arrays:
        """Per-docno arrays: the base's, dead ones cleared, this builder's written over."""
        size, old = layout.size, layout.old_size
        doc_len = np.zeros(size, dtype=np.int32)
        alive = np.zeros(size, dtype=np.bool_)
        venue_of = np.full(size, -1, dtype=np.int32)
        old_ids = self._old("paper_ids", np.zeros(0, dtype="S8"))
        width = max([len(p) for p in self.paper_ids] + [old_ids.dtype.itemsize])
        paper_ids = np.zeros(size, dtype=f"S{width}")
        title_start = np.zeros(size, dtype=np.int64)
        title_end = np.zeros(size, dtype=np.int64)
        spans = {name: np.zeros(size, dtype=np.int32) for name in SPAN_ARRAYS}
        if self.base is not None:
            a = self.base.arrays
            doc_len[:old] = a["doc_len"]
            alive[:old] = a["alive"]
            venue_of[:old] = a["venue_of"]
            paper_ids[:old] = a["paper_ids"]
            title_start[:old] = a["title_start"]
            title_end[:old] = a["title_end"]
            for name, arr in spans.items():
                arr[:old] = a[name]
        if layout.dead is not None:
            alive[layout.dead] = False
            doc_len[layout.dead] = 0
        old_titles = self._old("title_data", np.zeros(0, dtype=np.uint8))
        docnos = np.asarray(self.docnos, dtype=np.int64)
        title_data = old_titles
        if len(docnos):
            doc_len[docnos] = self.doc_len
            alive[docnos] = True
            venue_of[docnos] = self.venue_of
            paper_ids[docnos] = [p.encode() for p in self.paper_ids]
            new_titles, new_off = blob(self.titles)
            base_len = len(old_titles)
            title_data = np.concatenate([old_titles, new_titles]) if base_len else new_titles
            title_start[docnos] = new_off[:-1] + base_len
            title_end[docnos] = new_off[1:] + base_len
            new_spans = np.asarray(self.spans, dtype=np.int32).reshape(-1, len(SPAN_ARRAYS))
            for i, arr in enumerate(spans.values()):
                arr[docnos] = new_spans[:, i]
        return spans | {
            "doc_len": doc_len, "alive": alive, "venue_of": venue_of, "paper_ids": paper_ids,
            "title_data": title_data, "title_start": title_start, "title_end": title_end,
        }  # fmt: skip

    def _vocab_arrays(self) -> Arrays:
        out: Arrays = {}
        for vocab in (self.terms, self.authors, self.awords, self.twords, self.venues):
            out.update(vocab.arrays())
        disp_data, disp_off = blob(self.author_disp)
        old_off = self._old("author_disp_off", np.zeros(1, dtype=np.int64))
        if len(old_off) > 1:
            end = int(old_off[-1])
            disp_data = np.concatenate([self._old("author_disp_data", disp_data), disp_data])
            disp_off = np.concatenate([old_off, disp_off[1:] + end])
        out["author_disp_data"], out["author_disp_off"] = disp_data, disp_off
        return out

    def _posting_arrays(self, post: Chunk, layout: Layout) -> Arrays:
        """Postings with their term frequencies and positions, merged into the base's."""
        tfs_old = self._old("tfs", np.zeros(0, dtype=np.uint8))
        add = Additions(post.keys.astype(np.int32), post.docs.astype(np.int32), (post.tfs,))
        ptr, docs, (tfs,), keep, where = merge_lists(
            self._old("ptr", np.zeros(1, dtype=np.int64)),
            self._old("docs", np.zeros(0, dtype=np.int32)),
            (tfs_old.astype(fitting_dtype(tfs_old, post.tfs), copy=False),),
            add, len(self.terms), layout.dead,
        )  # fmt: skip
        pos = self._positions(post, tfs_old, keep, where)
        return {"ptr": ptr, "docs": docs, "tfs": tfs, "pos": pos, "pos_ckpt": checkpoints(tfs)}

    def _positions(
        self, post: Chunk, tfs_old: AnyArray, keep: Bool | None, where: AnyArray
    ) -> AnyArray:
        """The base's positions (of kept postings) with the new postings' inserted where
        :func:`~bot.core.index.arrays.merge_lists` put those postings (``where``)."""
        pos_old = self._old("pos", np.zeros(0, dtype=np.uint8))
        if keep is not None:
            pos_old = pos_old[np.repeat(keep, tfs_old.astype(np.int64))]
            tfs_kept = tfs_old[keep]
        else:
            tfs_kept = tfs_old
        pos_dtype = fitting_dtype(pos_old, post.pos)
        if len(pos_old) == 0:  # nothing to merge into
            return post.pos.astype(pos_dtype)
        if keep is None and len(tfs_kept):
            # where the positions of each inserted posting go: from the old checkpoints
            assert self.base is not None
            at = np.minimum(where, len(tfs_kept) - 1)
            starts = posting_starts_any(tfs_old, self.base.arrays["pos_ckpt"], at)
            starts = np.where(where >= len(tfs_kept), len(pos_old), starts)
        else:
            kept_cum = np.concatenate([[0], np.cumsum(tfs_kept, dtype=np.int64)])
            starts = kept_cum[where]
        pos_where = np.repeat(starts, post.tfs.astype(np.int64))
        return np.insert(
            pos_old.astype(pos_dtype, copy=False), pos_where, post.pos.astype(pos_dtype)
        )

    def _term_order(self, arrays: Arrays, layout: Layout) -> I32:
        """Term ids in first-occurrence order, or empty when the ids already are in it: they
        were given in that order if every document came in docno order, after the base's."""
        old_order = self._old("term_order", np.zeros(0, dtype=np.int32))
        old_alive = self._old("alive", np.zeros(0, dtype=np.bool_))
        if layout.dead is None and len(old_order) == 0 and _ascending(self.docnos, old_alive):
            return np.zeros(0, dtype=np.int32)
        return _first_occurrence_order(arrays)

    def _name_lists(self, layout: Layout) -> Arrays:
        """Author -> docs, name word -> authors and title word -> docs lists."""
        out: Arrays = {}
        lists: Sequence[tuple[str, str, Additions, int, Bool | None]] = (
            ("author_ptr", "author_docs", pairs_from_lists(self.doc_authors, self.docnos),
             len(self.authors), layout.dead),
            ("aword_ptr", "aword_authors", pairs(self.new_author_words), len(self.awords), None),
            ("tword_ptr", "tword_docs", pairs_from_lists(self.doc_twords, self.docnos),
             len(self.twords), layout.dead),
        )  # fmt: skip
        for ptr_name, docs_name, add, n_keys, dead in lists:
            out[ptr_name], out[docs_name], *_ = merge_lists(
                self._old(ptr_name, np.zeros(1, dtype=np.int64)),
                self._old(docs_name, np.zeros(0, dtype=np.int32)),
                (), add, n_keys, dead,
            )  # fmt: skip
        return out


def _ascending(new_docnos: list[int], old_alive: AnyArray) -> bool:
    """Whether the new docnos all come after every old live doc, in increasing order."""
    if not new_docnos:
        return True
    live = np.flatnonzero(old_alive)
    last = int(live[-1]) if len(live) else -1
    return new_docnos[0] > last and all(x < y for x, y in itertools.pairwise(new_docnos))


def _first_occurrence_order(arrays: Mapping[str, AnyArray]) -> I32:
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
