"""Tokenized documents in bulk: a batch of papers as a few compact arrays (:class:`DocBatch`).

A :class:`DocBatch` holds what the index keeps of a batch of papers: the per-document fields
(id, title, venue; authors and title words as batch-local tables, :class:`Names`) and every
document's BM25 token list (:func:`~bot.core.text.document_stream`) as local term ids into
the batch's own vocabulary, with position steps. It is what
:class:`~bot.core.index.builder.ArrayBuilder` eats, and it is small and quick to pickle, so
batches can be tokenized in worker processes (:func:`tokenize`: a plain function of plain
data) while the builder takes them in order: the per-string work (analysing chunks, name
words, distinct authors and title words) is done here, the builder maps each distinct string
once.

Each field is tokenized once and its copies made by list repetition, which is the token list
of :func:`~bot.core.text.document_stream`, term for term and step for step. The chunks of the
ASCII titles and abstracts are found in bulk (:func:`_bulk_ids`: numpy keys of up to 16
bytes, each distinct chunk looked up once).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from bot.core.index.arrays import I32, I64, U8, AnyArray, Bool, ragged_index
from bot.core.index.models import IndexDoc
from bot.core.models import Paper
from bot.core.query import name_words
from bot.core.text import FIELD_WEIGHTS, FieldWeights, chunk_terms, nfc, surface_words

# What a worker needs of one paper: (docno, paper id, title, abstract, authors as
# (key, display) pairs, venue): plain data, quick to pickle.
Source = tuple[int, str, str, str, tuple[tuple[str, str], ...], str]


@dataclass(slots=True)
class DocBatch:
    """A batch of tokenized documents (see the module doc)."""

    docnos: list[int]
    paper_ids: list[str]
    titles: list[str]
    venues: list[str]
    names: Names  # the documents' authors and title words
    vocab: list[str]  # the batch's distinct terms; a local term id indexes it
    ids: I32  # local term id of every token, document after document
    steps: AnyArray  # position steps of every token (running sum within a doc = positions)
    sizes: I64  # tokens of each document
    spans: I64  # (n, 3): each document's FieldSpans (title_end, abstract_start, abstract_end)

    def __len__(self) -> int:
        return len(self.docnos)


@dataclass(slots=True)
class Names:
    """A batch's authors and title words as batch-local tables (each distinct one once, in
    order of first occurrence) and each document's, in order, as ids into them: what the
    builder maps to its vocabularies with one lookup per distinct value."""

    author_keys: list[str]
    author_names: list[str]  # display name where the author is first met
    author_words: list[tuple[str, ...]]  # its name words (sorted)
    doc_authors: I32  # each document's distinct authors, flat
    author_n: I32  # how many each document has
    title_words: list[str]
    doc_twords: I32  # each document's title words, flat
    tword_n: I32

    def authors_of(self, i: int) -> list[str]:
        """Document ``i``'s author keys (distinct, in order)."""
        return self._of(i, self.author_n, self.doc_authors, self.author_keys)

    def title_words_of(self, i: int) -> list[str]:
        return self._of(i, self.tword_n, self.doc_twords, self.title_words)

    @staticmethod
    def _of(i: int, counts: I32, flat: I32, table: list[str]) -> list[str]:
        start = int(counts[:i].sum())
        return [table[j] for j in flat[start : start + int(counts[i])].tolist()]


def name_tables(
    authors: Iterable[tuple[tuple[str, str], ...]], title_words: Iterable[tuple[str, ...]]
) -> Names:
    """The :class:`Names` of documents' ``(key, display)`` authors and title words."""
    keys: dict[str, int] = {}
    shown: list[str] = []
    doc_authors: list[int] = []
    author_n: list[int] = []
    for doc in authors:
        mine: list[int] = []
        for key, display in doc:
            j = keys.get(key)
            if j is None:
                j = keys[key] = len(shown)
                shown.append(display)
            if j not in mine:
                mine.append(j)
        doc_authors.extend(mine)
        author_n.append(len(mine))
    words: dict[str, int] = {}
    doc_twords: list[int] = []
    tword_n: list[int] = []
    for doc_words in title_words:
        doc_twords.extend([words.setdefault(w, len(words)) for w in doc_words])
        tword_n.append(len(doc_words))
    return Names(
        author_keys=list(keys),
        author_names=shown,
        author_words=[tuple(sorted(name_words(d))) for d in shown],
        doc_authors=np.asarray(doc_authors, dtype=np.int32),
        author_n=np.asarray(author_n, dtype=np.int32),
        title_words=list(words),
        doc_twords=np.asarray(doc_twords, dtype=np.int32),
        tword_n=np.asarray(tword_n, dtype=np.int32),
    )


def source(docno: int, paper: Paper) -> Source:
    """What :func:`tokenize` needs of a paper."""
    authors = tuple((a.key, a.display) for a in paper.authors)
    return docno, paper.id, paper.title, paper.abstract, authors, paper.venue


class _Analyser:
    """Every whitespace-free chunk of text met -> its terms (ids into a term table) and
    position steps, kept as flat arrays so a batch's token lists are gathered with numpy.
    Forgets everything past ``CHUNK_LIMIT`` chunks (between batches: memory stays bounded).
    """

    def __init__(self) -> None:
        self.chunk_ids: dict[str, int] = {}
        self.off = array("q", [0])  # chunk i's tokens: tok[off[i]:off[i + 1]]
        self.tok = array("i")
        self.step = array("b")
        self.term_ids: dict[str, int] = {}
        self.words: list[str] = []

    def ids(self, text: str) -> list[int]:
        """The chunk ids of ``text`` (analysing the chunks not met yet, in order)."""
        chunks = nfc(text).split()
        found = list(map(self.chunk_ids.get, chunks))
        if None in found:
            return [self.chunk(c) if i is None else i for i, c in zip(found, chunks, strict=True)]
        return cast(list[int], found)

    def chunk(self, chunk: str) -> int:
        """The chunk id of one whitespace-free ``chunk`` (analysed if not met yet)."""
        cid = self.chunk_ids.get(chunk)
        if cid is not None:
            return cid
        terms, steps = chunk_terms(chunk)
        for term in terms:
            tid = self.term_ids.get(term)
            if tid is None:
                tid = self.term_ids[term] = len(self.words)
                self.words.append(term)
            self.tok.append(tid)
        self.step.extend(steps)
        self.off.append(len(self.tok))
        cid = self.chunk_ids[chunk] = len(self.chunk_ids)
        return cid


CHUNK_LIMIT = 1_000_000
_analyser = _Analyser()

# The bytes str.split() splits ASCII text at; chunks of at most _WIDTH bytes are looked up in
# bulk (as two 64-bit keys), longer ones one by one.
_SPACE = np.array([chr(i).isspace() for i in range(256)], dtype=np.bool_)
_WIDTH = 16
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))


def _bulk_ids(an: _Analyser, texts: Sequence[str]) -> list[list[int]]:
    """``an.ids(text)`` of each of ``texts``: the ASCII texts' chunks found with numpy (each
    distinct chunk looked up once), the others' one by one."""
    out = [[] if t.isascii() else an.ids(t) for t in texts]
    at = [i for i, t in enumerate(texts) if t.isascii()]
    data = "\n".join([texts[i] for i in at]).encode("ascii")
    raw = np.frombuffer(data, dtype=np.uint8)
    if not len(raw) or not raw.all():  # nothing, or a NUL byte (the keys pad with NULs)
        for i in at:
            out[i] = an.ids(texts[i])
        return out
    rim = np.zeros(1, dtype=np.int8)
    edges = np.diff(np.concatenate((rim, (~_SPACE[raw]).view(np.int8), rim)))
    starts = np.flatnonzero(edges == 1)
    lens = np.flatnonzero(edges == -1) - starts
    del edges
    cids = np.empty(len(starts), dtype=np.int64)
    short = lens <= _WIDTH
    if short.any():
        cids[short] = _short_ids(an, data, raw, starts[short], lens[short])
    for k in np.flatnonzero(~short).tolist():
        cids[k] = an.chunk(data[starts[k] : starts[k] + lens[k]].decode("ascii"))
    # each text's chunks: the texts are joined by a newline, which no chunk spans
    bounds = np.cumsum([0] + [len(texts[i]) + 1 for i in at])
    per_text = np.searchsorted(starts, bounds)
    flat = cids.tolist()
    for n, i in enumerate(at):
        out[i] = flat[per_text[n] : per_text[n + 1]]
    return out


def _short_ids(an: _Analyser, data: bytes, raw: U8, starts: I64, lens: I64) -> I64:
    """The chunk ids of the chunks at ``starts`` (``lens`` bytes, at most ``_WIDTH``)."""
    padded = np.concatenate((raw, np.zeros(_WIDTH, dtype=np.uint8)))
    keys = [np.zeros(len(starts), dtype=np.uint64) for _ in range(_WIDTH // 8)]
    for j in range(_WIDTH):
        byte = padded[starts + j].astype(np.uint64)
        byte[lens <= j] = 0
        keys[j // 8] |= byte << np.uint64(8 * (j % 8))
    inverse, some = _group(keys)
    out: I64 = _one_by_one(an, data, starts[some], lens[some])[inverse]
    return out


def _group(keys: list[AnyArray]) -> tuple[I64, I64]:
    """Items that are equal when all their ``keys`` are: each item's group and an item of
    each group. One sort of a 40-bit mix of the keys packed with the item's index (checked,
    exactly: on a clash of the mix, a sort by the keys themselves)."""
    n = len(keys[0])
    if n < 2**24:
        low = np.uint64(2**24 - 1)
        packed = (keys[0] * _MIX[0] ^ keys[1] * _MIX[1]) & ~low
        packed |= np.arange(n, dtype=np.uint64)
        packed.sort()
        order = (packed & low).astype(np.int64)
        packed >>= np.uint64(24)
        inverse, some = _runs(packed[1:] != packed[:-1], order)
        if all(np.array_equal(k, k[some][inverse]) for k in keys):
            return inverse, some
    order = np.lexsort(keys[::-1])
    differs = np.zeros(n - 1, dtype=np.bool_)
    for k in keys:
        ordered = k[order]
        differs |= ordered[1:] != ordered[:-1]
    return _runs(differs, order)


def _runs(differs: Bool, order: I64) -> tuple[I64, I64]:
    """Groups from an ``order`` of the items and where each differs from the one before."""
    new = np.concatenate((np.ones(1, dtype=np.bool_), differs))
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    some: I64 = order[new]
    return inverse, some


def _one_by_one(an: _Analyser, data: bytes, starts: I64, lens: I64) -> I64:
    """The chunk ids of the ASCII chunks at ``starts`` (``lens`` bytes), one by one."""
    ends = (starts + lens).tolist()
    chunks = [data[a:b].decode("ascii") for a, b in zip(starts.tolist(), ends, strict=True)]
    return np.asarray([an.chunk(c) for c in chunks], dtype=np.int64)


def tokenize(sources: Sequence[Source], weights: FieldWeights = FIELD_WEIGHTS) -> DocBatch:
    """The :class:`DocBatch` of ``sources`` (their token lists as
    :func:`~bot.core.text.document_stream` makes them: each field's copies, a gap of one
    position before every copy but the first title's)."""
    global _analyser
    if len(_analyser.chunk_ids) > CHUNK_LIMIT:
        _analyser = _Analyser()
    an = _analyser
    seq: list[int] = []  # chunk ids of every token list, in order
    seg_len: list[int] = []  # chunks of each segment (one copy of one field)
    seg_gap: list[int] = []  # the extra step before each segment's first token
    doc_segs: list[int] = []  # segments of each document
    w_title, w_authors, w_venue = weights.title, weights.authors, weights.venue
    title_gaps = [0] + [1] * (w_title - 1) if w_title else []
    titles = _bulk_ids(an, [s[2] for s in sources]) if w_title else []
    abstracts = _bulk_ids(an, [s[3] for s in sources])
    for k, (_docno, _pid, _title, _abstract, authors, venue) in enumerate(sources):
        before = len(seg_len)
        if w_title:
            t = titles[k]
            seq.extend(t * w_title)
            seg_len.extend([len(t)] * w_title)
            seg_gap.extend(title_gaps)
        a = abstracts[k]
        seq.extend(a)
        seg_len.append(len(a))
        seg_gap.append(1)
        if w_authors and authors:
            names: list[int] = []
            lens: list[int] = []
            for _key, display in authors:
                n = an.ids(display)
                names.extend(n)
                lens.append(len(n))
            seq.extend(names * w_authors)
            seg_len.extend(lens * w_authors)
            seg_gap.extend([1] * (len(lens) * w_authors))
        if venue and w_venue:
            v = an.ids(venue)
            seq.extend(v * w_venue)
            seg_len.extend([len(v)] * w_venue)
            seg_gap.extend([1] * w_venue)
        doc_segs.append(len(seg_len) - before)
    ids, steps, sizes, seg_start, seg_tokens = _gather(an, seq, seg_len, seg_gap, doc_segs)
    spans = _spans(steps, sizes, seg_start, seg_tokens, doc_segs, w_title)
    # the batch's own vocabulary, in order of first occurrence (the builder's ids follow it)
    first = np.full(len(an.words), len(ids), dtype=np.int64)
    np.minimum.at(first, ids, np.arange(len(ids), dtype=np.int64))
    present = np.flatnonzero(first < len(ids))
    present = present[np.argsort(first[present])]
    rank = np.empty(len(an.words), dtype=np.int32)
    rank[present] = np.arange(len(present), dtype=np.int32)
    words = an.words
    return DocBatch(
        docnos=[s[0] for s in sources],
        paper_ids=[s[1] for s in sources],
        titles=[s[2] for s in sources],
        venues=[s[5] for s in sources],
        names=name_tables(
            [s[4] for s in sources],
            [tuple(dict.fromkeys(surface_words(s[2]))) for s in sources],
        ),
        vocab=[words[i] for i in present.tolist()],
        ids=rank[ids],
        steps=steps,
        sizes=sizes,
        spans=spans,
    )


def _spans(
    steps: AnyArray,
    sizes: I64,
    seg_start: I64,
    seg_tokens: I64,
    doc_segs: list[int],
    w_title: int,
) -> I64:
    """Each document's :class:`~bot.core.text.FieldSpans` (as ``document_fields`` makes
    them), from the tokens' steps and where each segment (field copy) starts."""
    n = len(sizes)
    out = np.zeros((n, 3), dtype=np.int64)
    if n == 0:
        return out
    cum = np.cumsum(steps, dtype=np.int64)
    doc_start = np.cumsum(sizes) - sizes
    base = np.where(doc_start > 0, cum[np.maximum(doc_start - 1, 0)], 0) if len(cum) else 0
    pos1 = cum - np.repeat(base, sizes)  # 1-based positions (the end of a span from 0)
    first_seg = np.cumsum(np.asarray(doc_segs, dtype=np.int64)) - doc_segs
    if w_title:
        t_tok = seg_tokens[first_seg]
        has = t_tok > 0
        out[has, 0] = pos1[seg_start[first_seg][has] + t_tok[has] - 1]
    a_seg = first_seg + w_title
    a_start, a_tok = seg_start[a_seg], seg_tokens[a_seg]
    has = a_tok > 0
    out[has, 1] = pos1[a_start[has]] - 1
    out[has, 2] = pos1[a_start[has] + a_tok[has] - 1]
    prior = ~has & (a_start > doc_start)  # an empty abstract: where it would have started
    out[prior, 1] = out[prior, 2] = pos1[a_start[prior] - 1]
    return out


def _gather(
    an: _Analyser, seq: list[int], seg_len: list[int], seg_gap: list[int], doc_segs: list[int]
) -> tuple[I32, U8, I64, I64, I64]:
    """Every token's term id and step, and each document's token count, from the chunk ids."""
    off = np.frombuffer(an.off, dtype=np.int64)
    chunks = np.asarray(seq, dtype=np.int64)
    starts = off[chunks]
    counts = off[chunks + 1] - starts
    at = ragged_index(starts, counts)
    ids: I32 = np.frombuffer(an.tok, dtype=np.int32)[at]
    steps = np.frombuffer(an.step, dtype=np.int8)[at].astype(np.uint8)
    del off, at
    n_seg = len(seg_len)
    seg_of_chunk = np.repeat(np.arange(n_seg), np.asarray(seg_len, dtype=np.int64))
    seg_tokens = np.bincount(seg_of_chunk, weights=counts, minlength=n_seg).astype(np.int64)
    seg_start = np.cumsum(seg_tokens) - seg_tokens
    gap = np.asarray(seg_gap, dtype=np.uint8)
    has = (seg_tokens > 0) & (gap > 0)
    steps[seg_start[has]] += gap[has]
    doc_of_seg = np.repeat(np.arange(len(doc_segs)), np.asarray(doc_segs, dtype=np.int64))
    sizes = np.bincount(doc_of_seg, weights=seg_tokens, minlength=len(doc_segs))
    return ids, steps, sizes.astype(np.int64), seg_start.astype(np.int64), seg_tokens


def from_docs(docs: Iterable[IndexDoc]) -> DocBatch:
    """The :class:`DocBatch` of documents tokenized one by one (:func:`~.models.index_doc`)."""
    terms: list[str] = []
    steps: list[int] = []
    sizes: list[int] = []
    sources: list[Source] = []
    title_words: list[tuple[str, ...]] = []
    spans: list[tuple[int, int, int]] = []
    for doc in docs:
        sp = doc.spans
        spans.append((sp.title_end, sp.abstract_start, sp.abstract_end))
        sources.append((doc.docno, doc.paper_id, doc.title, "", doc.authors, doc.venue))
        title_words.append(doc.title_words)
        terms.extend(doc.terms)
        steps.extend(doc.steps)
        sizes.append(len(doc.terms))
    return _batch(sources, terms, steps, sizes, title_words, spans)


def _batch(
    sources: Sequence[Source],
    terms: list[str],
    steps: list[int],
    sizes: list[int],
    title_words: list[tuple[str, ...]],
    spans: list[tuple[int, int, int]],
) -> DocBatch:
    local = dict.fromkeys(terms)
    vocab = list(local)
    index = dict(zip(vocab, range(len(vocab)), strict=True))
    ids = np.fromiter(map(index.__getitem__, terms), dtype=np.int32, count=len(terms))
    step_arr = np.asarray(steps, dtype=np.int32)
    if len(step_arr) and int(step_arr.min()) >= 0 and int(step_arr.max()) < 256:
        step_arr = step_arr.astype(np.uint8)
    return DocBatch(
        docnos=[s[0] for s in sources],
        paper_ids=[s[1] for s in sources],
        titles=[s[2] for s in sources],
        venues=[s[5] for s in sources],
        names=name_tables([s[4] for s in sources], title_words),
        vocab=vocab,
        ids=ids,
        steps=step_arr,
        sizes=np.asarray(sizes, dtype=np.int64),
        spans=np.asarray(spans, dtype=np.int64).reshape(-1, 3),
    )
