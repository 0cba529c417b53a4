"""Building the arrays: tokenized documents in, the saved form of an index out.

One path for a fresh build and an incremental update: :class:`ArrayBuilder` turns the new
documents into posting chunks as they come, then :meth:`ArrayBuilder.finish` lays them over
the base index's arrays when there is one (an update: replaced and removed documents' old
postings dropped, the new ones merged into the sorted lists, no re-tokenizing of the rest) and
over nothing otherwise (the merges then reduce to plain builds, at the same cost as before).
"""

from __future__ import annotations

import itertools
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.index import tuning
from bot.core.index.arrays import (
    I32,
    I64,
    U8,
    Additions,
    Alloc,
    AnyArray,
    Bool,
    blob,
    fitting_dtype,
    merge_lists,
    pairs,
    pairs_from_flat,
    pick_dtype,
    prefault,
    ragged_index,
    splice,
    stable_order,
    unique_sorted,
    widened_dtype,
)
from bot.core.index.champions import add_champions, carry_champions
from bot.core.index.data import IndexData
from bot.core.index.models import IndexDoc
from bot.core.index.phrases import checkpoints, n_checkpoints, posting_starts_any
from bot.core.index.tokens import DocBatch, Names, from_docs
from bot.core.index.vocab import GrowingVocab

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


class Blob:
    """Strings kept as one growing UTF-8 byte buffer and offsets (the saved form of
    :func:`~bot.core.index.arrays.blob`): no Python object per string."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.off = array("q", [0])

    def extend(self, strings: Iterable[str]) -> None:
        encoded = [s.encode() for s in strings]
        ends = itertools.accumulate(map(len, encoded), initial=self.off[-1])
        next(ends)  # the start: already the last offset
        self.off.extend(ends)
        self.data += b"".join(encoded)

    def longest(self) -> int:
        if len(self.off) < 2:
            return 0
        return int(np.diff(np.frombuffer(self.off, dtype=np.int64)).max())

    def arrays(self) -> tuple[U8, I64]:
        """The data and offsets (copies)."""
        data: U8 = np.frombuffer(self.data, dtype=np.uint8).copy()
        return data, np.frombuffer(self.off, dtype=np.int64).copy()

    def fixed(self, width: int) -> AnyArray:
        """The strings as a fixed-width bytes array (``S{width}``)."""
        off = np.frombuffer(self.off, dtype=np.int64)
        lengths = np.diff(off)
        out = np.zeros((len(lengths), max(width, 1)), dtype=np.uint8)
        rows = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        cols = np.arange(int(off[-1]), dtype=np.int64) - np.repeat(off[:-1], lengths)
        out[rows, cols] = np.frombuffer(self.data, dtype=np.uint8)
        return out.view(f"S{max(width, 1)}").reshape(-1)


class DocFields:
    """The per-document fields of the documents added, in the order they came (compact:
    flat arrays, not a Python object per document). A new per-document value is one more
    array here, filled in :meth:`add` and laid out in :meth:`ArrayBuilder._doc_arrays`."""

    def __init__(self) -> None:
        self.docnos = array("q")
        self.paper_ids = Blob()  # UTF-8, cut by offsets
        self.titles = Blob()
        self.doc_len = array("q")
        self.venue_of = array("i")
        self.author_ids = array("i")  # each document's distinct author ids, flat
        self.author_n = array("i")  # how many of them each document has
        self.tword_ids = array("i")  # each document's title word ids, flat
        self.tword_n = array("i")
        self.spans = array("q")  # each document's FieldSpans, 3 values (see SPAN_ARRAYS)


class ArrayBuilder:
    """Tokenized documents -> the arrays of an index, fed in batches (``add`` /
    ``add_batch``), then ``finish``-ed once (it lets go of the documents' fields as it
    finishes). ``base``: the index being updated (its vocabularies are extended).

    Documents are turned into compact posting chunks as they come, so a large build never
    holds every token list at once; past ``tuning.SPILL_BYTES`` of chunks they are written to
    a temporary folder and read back one at a time when the postings are laid out.
    """

    def __init__(self, base: IndexData | None = None) -> None:
        if base is not None and _empty(base):
            base = None  # nothing to lay the documents over: a fresh build
        self.base = base
        arrays = None if base is None else base.arrays
        self.terms = GrowingVocab(arrays, "term")
        self.authors = GrowingVocab(arrays, "author_key")
        self.awords = GrowingVocab(arrays, "aword")
        self.twords = GrowingVocab(arrays, "tword")
        self.venues = GrowingVocab(arrays, "venue")
        self.author_disp: list[str] = []  # display names of the authors new in this build
        self.fields = DocFields()
        self.new_author_words: list[tuple[int, int]] = []  # (word id, author id)
        self.chunks = ChunkStore()
        # per-chunk token buffers: (global term ids, position steps, doc sizes, docnos)
        self._pending: list[tuple[I32, AnyArray, I64, I64]] = []
        self._pending_docs = 0
        self._last_docno = -1
        self._ascending = True  # every docno came after the previous one
        self._filled: Callable[[str], None] = _nothing  # see finish

    @property
    def docnos(self) -> array[int]:
        return self.fields.docnos

    # ---- feeding ----------------------------------------------------------------------------

    def add(self, docs: Iterable[IndexDoc]) -> None:
        it = iter(docs)
        while batch := from_docs(itertools.islice(it, tuning.BUILD_CHUNK)):
            self.add_batch(batch)

    def add_batch(self, batch: DocBatch) -> None:
        """Add a batch of tokenized documents (:func:`~bot.core.index.tokens.tokenize`)."""
        f = self.fields
        docnos = np.asarray(batch.docnos, dtype=np.int64)
        if len(docnos):
            if docnos[0] <= self._last_docno or bool(np.any(docnos[1:] <= docnos[:-1])):
                self._ascending = False
            self._last_docno = int(docnos[-1])
        f.docnos.extend(batch.docnos)
        f.paper_ids.extend(batch.paper_ids)
        f.titles.extend(batch.titles)
        f.doc_len.frombytes(batch.sizes.astype(np.int64).tobytes())
        f.spans.frombytes(batch.spans.astype(np.int64).tobytes())
        venue_id = self.venues.id
        f.venue_of.extend([venue_id(v) if v else -1 for v in batch.venues])
        names = batch.names
        authors = self._author_ids(names)
        f.author_ids.frombytes(authors[names.doc_authors].tobytes())
        f.author_n.frombytes(names.author_n.astype(np.int32).tobytes())
        twords = self.twords.ids_of(names.title_words)
        f.tword_ids.frombytes(twords[names.doc_twords].tobytes())
        f.tword_n.frombytes(names.tword_n.astype(np.int32).tobytes())
        lut = self.terms.ids_of(batch.vocab)
        ids = lut[batch.ids] if len(batch.ids) else np.zeros(0, dtype=np.int32)
        docnos = np.asarray(batch.docnos, dtype=np.int64)
        self._pending.append((ids, batch.steps, batch.sizes, docnos))
        self._pending_docs += len(batch)
        if self._pending_docs >= tuning.BUILD_CHUNK:
            self._flush()

    def _author_ids(self, names: Names) -> I32:
        """The ids of a batch's distinct authors (new ones added, with their name words)."""
        out = np.empty(len(names.author_keys), dtype=np.int32)
        known = self.authors.ids.get
        for j, key in enumerate(names.author_keys):
            aid = known(key)
            if aid is None:
                before = len(self.authors)
                aid = self.authors.id(key)
                if aid == before:  # a new author: its name words
                    self.author_disp.append(names.author_names[j])
                    for w in names.author_words[j]:
                        self.new_author_words.append((self.awords.id(w), aid))
            out[j] = aid
        return out

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending, self._pending_docs = self._pending, [], 0
        ids = np.concatenate([p[0] for p in pending]).astype(np.int32, copy=False)
        steps = np.concatenate([p[1] for p in pending]).astype(np.int64)
        sizes = np.concatenate([p[2] for p in pending])
        docnos = np.concatenate([p[3] for p in pending]).astype(np.int32)
        del pending
        doc_of_tok = np.repeat(docnos, sizes)
        # positions: running sum of steps within each document
        csum = np.cumsum(steps)
        del steps
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        base = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0)
        pos = (csum - np.repeat(base, sizes)).astype(np.uint32)
        del csum
        if len(unique_sorted(docnos)) != len(docnos) or np.any(np.diff(docnos) < 0):
            order = np.lexsort((pos, doc_of_tok, ids))
        else:
            order = stable_order(ids)
        ids, doc_of_tok, pos = ids[order], doc_of_tok[order], pos[order]
        del order
        if len(ids):
            new = np.empty(len(ids), dtype=np.bool_)
            new[0] = True
            new[1:] = (ids[1:] != ids[:-1]) | (doc_of_tok[1:] != doc_of_tok[:-1])
            first = np.flatnonzero(new)
            tfs = np.diff(np.concatenate([first, [len(ids)]]))
        else:
            first = np.zeros(0, dtype=np.int64)
            tfs = np.zeros(0, dtype=np.int64)
        self.chunks.add(
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
        chunks = list(self.chunks)
        self.chunks.close()
        if not chunks:
            return Chunk(
                np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.uint8),
                np.zeros(0, np.uint8),
            )  # fmt: skip
        if len(chunks) == 1:
            return chunks[0]
        keys = np.concatenate([c.keys for c in chunks])
        ascending = all(
            int(a.docs.max()) < int(b.docs.min())
            for a, b in itertools.pairwise(chunks)
            if len(a.docs) and len(b.docs)
        )
        # chunks of ascending docnos are runs sorted by (term, doc): a stable sort by term
        # merges them (timsort: runs) into (term, doc) order
        if ascending:
            order = stable_order(keys)
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

    def _laid_out(self) -> Arrays:
        """A fresh build's postings (no base, docnos ascending): each chunk's postings
        written straight to their place in the final arrays, sized from the per-term counts
        gathered as the chunks were made. Holds the final arrays and one chunk at a time."""
        store = self.chunks
        n_terms = len(self.terms)
        df, npos = store.counts(n_terms)
        ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        pos_ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(npos, out=pos_ptr[1:])
        del df, npos
        docs = np.empty(int(ptr[-1]), dtype=np.int32)
        tfs = np.empty(int(ptr[-1]), dtype=pick_dtype(store.max_tf))
        pos = np.empty(int(pos_ptr[-1]), dtype=pick_dtype(store.max_pos))
        cursor = ptr[:-1].copy()
        pos_cursor = pos_ptr[:-1]
        del pos_ptr
        for c in store:
            n = len(c.keys)
            if n == 0:
                continue
            run_start = np.flatnonzero(np.diff(c.keys)) + 1
            run_start = np.concatenate([np.zeros(1, dtype=np.int64), run_start])
            run_key = c.keys[run_start]
            run_len = np.diff(np.concatenate([run_start, [n]]))
            dest = np.repeat(cursor[run_key] - run_start, run_len) + np.arange(n)
            docs[dest] = c.docs
            tfs[dest] = c.tfs
            del dest
            run_pos = np.add.reduceat(c.tfs, run_start, dtype=np.int64)
            pos[ragged_index(pos_cursor[run_key], run_pos)] = c.pos
            cursor[run_key] += run_len
            pos_cursor[run_key] += run_pos
        store.close()
        return {"ptr": ptr, "docs": docs, "tfs": tfs, "pos": pos, "pos_ckpt": checkpoints(tfs)}

    # ---- finishing ------------------------------------------------------------------------

    def finish(
        self,
        version: int,
        removed: Iterable[int] = (),
        alloc: Alloc | None = None,
        filled: Callable[[str], None] | None = None,
    ) -> tuple[Arrays, dict[str, Any]]:
        """The arrays and meta of the index: the base's documents (if any) without
        ``removed`` ones, with this builder's added or replacing (same docno). ``alloc``
        makes an update's merged postings, term frequencies and positions (the largest
        arrays: in the files of the index being saved); ``filled`` is told the name of each
        array made by ``alloc`` once it holds its final values (its file can be checksummed
        then, while the rest is made)."""
        self._filled = filled or _nothing
        self._flush()
        removed = list(removed)
        layout = self._layout(removed)
        changed = len(self.docnos) + len(removed)
        in_order = self._in_order(layout)
        post: Chunk | None = None
        posting_alloc = alloc
        if self.base is not None and alloc is not None and layout.dead is None:
            # an update adding papers: its posting files made first, so that their pages
            # are mapped in the background while the rest is made (see _made_ahead)
            post = self._postings()
            posting_alloc = _made_ahead(alloc, self._posting_shapes(post))
        # what the per-document fields give first: they are then let go before the postings
        # are laid out (the largest arrays: the build's peak of memory)
        others = self._doc_arrays(layout, alloc) | self._vocab_arrays() | self._name_lists(layout)
        self.fields = DocFields()
        self.author_disp, self.new_author_words = [], []
        if self.base is None and self._ascending:
            arrays = self._laid_out()
        else:
            if post is None:
                post = self._postings()
            arrays = self._posting_arrays(post, layout, posting_alloc)
        arrays.update(others)
        del others
        arrays["term_order"] = (
            np.zeros(0, dtype=np.int32) if in_order else _first_occurrence_order(arrays)
        )
        alive, doc_len = arrays["alive"], arrays["doc_len"]
        meta: dict[str, Any] = {
            "version": version,
            "n_docs": int(alive.sum()),
            "total_len": int(doc_len[alive].sum(dtype=np.int64)),
        }
        if (
            self.base is None
            or post is None
            or not carry_champions(
                self.base, arrays, meta, (post.keys, post.docs), layout.dead, changed, alloc
            )
        ):
            add_champions(arrays, meta)
        self._filled("bitsets")
        return arrays, meta

    def _old(self, name: str, empty: AnyArray) -> AnyArray:
        """The base's array ``name``, or ``empty`` when there is no base."""
        return empty if self.base is None else np.asarray(self.base.arrays[name])

    def _layout(self, removed: Iterable[int]) -> Layout:
        old_size = 0 if self.base is None else len(self.base.arrays["doc_len"])
        size = max(old_size, 1, max(self.docnos, default=-1) + 1)
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

    def _doc_arrays(self, layout: Layout, alloc: Alloc | None) -> Arrays:
        """Per-docno arrays: the base's, dead ones cleared, this builder's written over
        (made by ``alloc`` when given, ``filled`` told when they are done)."""
        size, old = layout.size, layout.old_size

        def new(name: str, dtype: Any, length: int = size) -> AnyArray:
            if alloc is None:
                return np.zeros(length, dtype=dtype)
            return alloc(name, (length,), dtype)

        old_ids = self._old("paper_ids", np.zeros(0, dtype="S8"))
        f = self.fields
        width = max(f.paper_ids.longest(), old_ids.dtype.itemsize)
        doc_len = new("doc_len", np.int32)
        alive = new("alive", np.bool_)
        venue_of = new("venue_of", np.int32)
        paper_ids = new("paper_ids", np.dtype(f"S{width}"))
        title_start = new("title_start", np.int64)
        title_end = new("title_end", np.int64)
        spans = {name: new(name, np.int32) for name in SPAN_ARRAYS}
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
        venue_of[old:] = -1
        if layout.dead is not None:
            alive[layout.dead] = False
            doc_len[layout.dead] = 0
        old_titles = self._old("title_data", np.zeros(0, dtype=np.uint8))
        docnos = np.asarray(self.docnos, dtype=np.int64)
        title_data = old_titles
        if len(docnos):
            doc_len[docnos] = f.doc_len
            alive[docnos] = True
            venue_of[docnos] = f.venue_of
            paper_ids[docnos] = f.paper_ids.fixed(width)
            new_titles, new_off = f.titles.arrays()
            base_len = len(old_titles)
            title_data = new_titles
            if base_len:
                title_data = new("title_data", np.uint8, base_len + len(new_titles))
                title_data[:base_len] = old_titles
                title_data[base_len:] = new_titles
            title_start[docnos] = new_off[:-1] + base_len
            title_end[docnos] = new_off[1:] + base_len
            new_spans = np.asarray(f.spans, dtype=np.int32).reshape(-1, len(SPAN_ARRAYS))
            for i, arr in enumerate(spans.values()):
                arr[docnos] = new_spans[:, i]
        out = spans | {
            "doc_len": doc_len, "alive": alive, "venue_of": venue_of, "paper_ids": paper_ids,
            "title_data": title_data, "title_start": title_start, "title_end": title_end,
        }  # fmt: skip
        for name in out:
            self._filled(name)
        return out

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

    def _posting_arrays(self, post: Chunk, layout: Layout, alloc: Alloc | None) -> Arrays:
        """Postings with their term frequencies and positions, merged into the base's."""
        tfs_old = self._old("tfs", np.zeros(0, dtype=np.uint8))
        for name in ("docs", "tfs", "pos"):  # read whole below: mapped in one call each
            prefault(self._old(name, tfs_old))
        add = Additions(post.keys.astype(np.int32), post.docs.astype(np.int32), (post.tfs,))
        ptr, docs, (tfs,), keep, where = merge_lists(
            self._old("ptr", np.zeros(1, dtype=np.int64)),
            self._old("docs", np.zeros(0, dtype=np.int32)),
            (tfs_old.astype(widened_dtype(tfs_old, post.tfs), copy=False),),
            add, len(self.terms), layout.dead, alloc, ("docs", "tfs"),
        )  # fmt: skip
        self._filled("docs")
        self._filled("tfs")
        pos = self._positions(post, tfs_old, keep, where, alloc)
        self._filled("pos")
        n_ckpt = n_checkpoints(len(tfs))
        ckpt = checkpoints(tfs, None if alloc is None else alloc("pos_ckpt", (n_ckpt,), np.int64))
        self._filled("pos_ckpt")
        return {"ptr": ptr, "docs": docs, "tfs": tfs, "pos": pos, "pos_ckpt": ckpt}

    def _posting_shapes(self, post: Chunk) -> list[tuple[str, int, Any]]:
        """(name, length, dtype) of the merged posting arrays when no old posting dies, in
        the reverse of the order they are filled."""
        tfs_old = self._old("tfs", np.zeros(0, dtype=np.uint8))
        n_post = len(tfs_old) + len(post.tfs)
        pos_old = self._old("pos", np.zeros(0, dtype=np.uint8))
        return [
            ("pos_ckpt", n_checkpoints(n_post), np.dtype(np.int64)),
            ("pos", len(pos_old) + len(post.pos), np.dtype(widened_dtype(pos_old, post.pos))),
            ("tfs", n_post, np.dtype(widened_dtype(tfs_old, post.tfs))),
            ("docs", n_post, np.dtype(np.int32)),
        ]

    def _positions(
        self,
        post: Chunk,
        tfs_old: AnyArray,
        keep: Bool | None,
        where: AnyArray,
        alloc: Alloc | None,
    ) -> AnyArray:
        """The base's positions (of kept postings) with the new postings' inserted where
        :func:`~bot.core.index.arrays.merge_lists` put those postings (``where``)."""
        pos_old = self._old("pos", np.zeros(0, dtype=np.uint8))
        if keep is not None:
            pos_old = pos_old[np.repeat(keep, tfs_old.astype(np.int64))]
            tfs_kept = tfs_old[keep]
        else:
            tfs_kept = tfs_old
        pos_dtype = widened_dtype(pos_old, post.pos)
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
        total = len(pos_old) + len(post.pos)
        out = None if alloc is None else alloc("pos", (total,), pos_dtype)
        return splice(pos_old.astype(pos_dtype, copy=False), pos_where, post.pos, out)

    def _in_order(self, layout: Layout) -> bool:
        """Whether the term ids are in first-occurrence order (the index then saves an empty
        ``term_order``): they were given in that order if every document came in docno order,
        after the base's."""
        old_order = self._old("term_order", np.zeros(0, dtype=np.int32))
        old_alive = self._old("alive", np.zeros(0, dtype=np.bool_))
        return (
            layout.dead is None
            and len(old_order) == 0
            and self._ascending
            and _after(self.docnos, old_alive)
        )

    def _name_lists(self, layout: Layout) -> Arrays:
        """Author -> docs, name word -> authors and title word -> docs lists."""
        out: Arrays = {}
        f = self.fields
        lists: Sequence[tuple[str, str, Additions, int, Bool | None]] = (
            ("author_ptr", "author_docs", pairs_from_flat(f.author_ids, f.author_n, f.docnos),
             len(self.authors), layout.dead),
            ("aword_ptr", "aword_authors", pairs(self.new_author_words), len(self.awords), None),
            ("tword_ptr", "tword_docs", pairs_from_flat(f.tword_ids, f.tword_n, f.docnos),
             len(self.twords), layout.dead),
        )  # fmt: skip
        for ptr_name, docs_name, add, n_keys, dead in lists:
            out[ptr_name], out[docs_name], *_ = merge_lists(
                self._old(ptr_name, np.zeros(1, dtype=np.int64)),
                self._old(docs_name, np.zeros(0, dtype=np.int32)),
                (), add, n_keys, dead,
            )  # fmt: skip
        return out


def _nothing(name: str) -> None:
    """A ``filled`` that does nothing (see :meth:`ArrayBuilder.finish`)."""


def _made_ahead(alloc: Alloc, shapes: Sequence[tuple[str, int, Any]]) -> Alloc:
    """``alloc`` with the arrays of ``shapes`` made now, in that order (the pages of arrays
    made in the saved generation are mapped in the background in the order they are made:
    made in the reverse of the order they are filled, the last ones are mapped while the
    first are filled). An array asked for with another shape or type is made in memory (its
    file is the one made ahead: never made twice, so never cut while it is mapped)."""
    made = {name: alloc(name, (length,), dtype) for name, length, dtype in shapes}

    def ahead(name: str, shape: tuple[int, ...], dtype: Any) -> AnyArray:
        if name not in made:
            return alloc(name, shape, dtype)
        found = made.pop(name)
        if found.shape == shape and found.dtype == np.dtype(dtype):
            return found
        return np.zeros(shape, dtype=dtype)

    return ahead


def _empty(data: IndexData) -> bool:
    """Whether an index holds nothing at all (no term, no document, live or not)."""
    a = data.arrays
    return len(a["term_off"]) <= 1 and len(a["doc_len"]) <= 1 and not np.asarray(a["alive"]).any()


def _after(new_docnos: Sequence[int], old_alive: AnyArray) -> bool:
    """Whether the new docnos (ascending) all come after every old live doc."""
    if not new_docnos:
        return True
    live = np.flatnonzero(old_alive)
    last = int(live[-1]) if len(live) else -1
    return new_docnos[0] > last


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


class ChunkStore:
    """The posting chunks of a build, in the order they were made, with per-term totals.

    Chunks are held in memory up to ``tuning.SPILL_BYTES``; past that, every chunk held is
    written to a temporary folder (removed by :meth:`close`) and read back when iterated.
    """

    def __init__(self) -> None:
        self._items: list[Chunk | Path] = []
        self._held = 0
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._df = np.zeros(0, dtype=np.int64)  # postings of each term
        self._npos = np.zeros(0, dtype=np.int64)  # positions of each term
        self.max_tf = 0
        self.max_pos = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, chunk: Chunk) -> None:
        if len(chunk.keys):
            n = int(chunk.keys.max()) + 1
            if n > len(self._df):
                grow = n - len(self._df)
                self._df = np.concatenate([self._df, np.zeros(grow, dtype=np.int64)])
                self._npos = np.concatenate([self._npos, np.zeros(grow, dtype=np.int64)])
            run_start = np.flatnonzero(np.diff(chunk.keys)) + 1
            run_start = np.concatenate([np.zeros(1, dtype=np.int64), run_start])
            run_key = chunk.keys[run_start]
            self._df[run_key] += np.diff(np.concatenate([run_start, [len(chunk.keys)]]))
            self._npos[run_key] += np.add.reduceat(chunk.tfs, run_start, dtype=np.int64)
            self.max_tf = max(self.max_tf, int(chunk.tfs.max()))
            self.max_pos = max(self.max_pos, int(chunk.pos.max()) if len(chunk.pos) else 0)
        self._items.append(chunk)
        self._held += sum(a.nbytes for a in (chunk.keys, chunk.docs, chunk.tfs, chunk.pos))
        if self._held > tuning.SPILL_BYTES:
            self._spill()

    def counts(self, n_terms: int) -> tuple[I64, I64]:
        """Postings and positions of each of ``n_terms`` terms, over every chunk."""
        df = np.zeros(n_terms, dtype=np.int64)
        npos = np.zeros(n_terms, dtype=np.int64)
        df[: len(self._df)] = self._df
        npos[: len(self._npos)] = self._npos
        return df, npos

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="digest-bot-build-")
        folder = Path(self._dir.name)
        for i, item in enumerate(self._items):
            if isinstance(item, Chunk):
                path = folder / f"chunk-{i}.npz"
                np.savez(path, keys=item.keys, docs=item.docs, tfs=item.tfs, pos=item.pos)
                self._items[i] = path
        self._held = 0

    def __iter__(self) -> Iterator[Chunk]:
        for item in self._items:
            if isinstance(item, Chunk):
                yield item
            else:
                with np.load(item) as f:
                    yield Chunk(f["keys"], f["docs"], f["tfs"], f["pos"])

    def close(self) -> None:
        """Forget the chunks and remove the temporary folder."""
        self._items = []
        self._held = 0
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
