"""Tokenized documents in bulk: a batch of papers as a few compact arrays (:class:`DocBatch`).

A :class:`DocBatch` holds what the index keeps of a batch of papers: the per-document fields
(id, title, authors, venue, title words) and every document's BM25 token list
(:func:`~bot.core.text.document_stream`) as local term ids into the batch's own vocabulary,
with position steps. It is what :class:`~bot.core.index.builder.ArrayBuilder` eats, and it is
small and quick to pickle, so batches can be tokenized in worker processes
(:func:`tokenize`: a plain function of plain data) while the builder takes them in order.

Each field is tokenized once and its copies made by list repetition, which is the token list
of :func:`~bot.core.text.document_stream`, term for term and step for step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.index.arrays import I32, I64, AnyArray
from bot.core.index.models import IndexDoc
from bot.core.models import Paper
from bot.core.text import FIELD_WEIGHTS, FieldWeights, surface_words, text_stream

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
    authors: list[tuple[tuple[str, str], ...]]  # (key, display) of each document's authors
    title_words: list[tuple[str, ...]]
    vocab: list[str]  # the batch's distinct terms; a local term id indexes it
    ids: I32  # local term id of every token, document after document
    steps: AnyArray  # position steps of every token (running sum within a doc = positions)
    sizes: I64  # tokens of each document

    def __len__(self) -> int:
        return len(self.docnos)


def source(docno: int, paper: Paper) -> Source:
    """What :func:`tokenize` needs of a paper."""
    authors = tuple((a.key, a.display) for a in paper.authors)
    return docno, paper.id, paper.title, paper.abstract, authors, paper.venue


def _copies(steps: list[int], gap: int) -> list[int]:
    """``steps`` with its first step ``gap`` longer (a field copy after another one)."""
    if not steps or not gap:
        return steps
    out = list(steps)
    out[0] += gap
    return out


def tokenize(sources: Sequence[Source], weights: FieldWeights = FIELD_WEIGHTS) -> DocBatch:
    """The :class:`DocBatch` of ``sources`` (their token lists as
    :func:`~bot.core.text.document_stream` makes them)."""
    terms: list[str] = []
    steps: list[int] = []
    sizes: list[int] = []
    for _docno, _pid, title, abstract, authors, venue in sources:
        before = len(terms)
        t_terms, t_steps = text_stream(title)
        if weights.title:
            terms.extend(t_terms * weights.title)
            steps.extend(t_steps)
            steps.extend(_copies(t_steps, 1) * (weights.title - 1))
        a_terms, a_steps = text_stream(abstract)
        terms.extend(a_terms)
        steps.extend(_copies(a_steps, 1))
        if weights.authors and authors:
            n_terms: list[str] = []
            n_steps: list[int] = []
            for _key, display in authors:
                one_terms, one_steps = text_stream(display)
                n_terms.extend(one_terms)
                n_steps.extend(_copies(one_steps, 1))
            terms.extend(n_terms * weights.authors)
            steps.extend(n_steps * weights.authors)
        if venue and weights.venue:
            v_terms, v_steps = text_stream(venue)
            terms.extend(v_terms * weights.venue)
            steps.extend(_copies(v_steps, 1) * weights.venue)
        sizes.append(len(terms) - before)
    return _batch(
        sources,
        terms,
        steps,
        sizes,
        [tuple(dict.fromkeys(surface_words(s[2]))) for s in sources],
    )


def from_docs(docs: Iterable[IndexDoc]) -> DocBatch:
    """The :class:`DocBatch` of documents tokenized one by one (:func:`~.models.index_doc`)."""
    terms: list[str] = []
    steps: list[int] = []
    sizes: list[int] = []
    sources: list[Source] = []
    title_words: list[tuple[str, ...]] = []
    for doc in docs:
        sources.append((doc.docno, doc.paper_id, doc.title, "", doc.authors, doc.venue))
        title_words.append(doc.title_words)
        terms.extend(doc.terms)
        steps.extend(doc.steps)
        sizes.append(len(doc.terms))
    return _batch(sources, terms, steps, sizes, title_words)


def _batch(
    sources: Sequence[Source],
    terms: list[str],
    steps: list[int],
    sizes: list[int],
    title_words: list[tuple[str, ...]],
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
        authors=[s[4] for s in sources],
        title_words=title_words,
        vocab=vocab,
        ids=ids,
        steps=step_arr,
        sizes=np.asarray(sizes, dtype=np.int64),
    )
