"""What goes into the index (:class:`IndexDoc`) and what comes out (:class:`IndexResult`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.models import Paper
from bot.core.text import FIELD_WEIGHTS, FieldSpans, FieldWeights, document_fields, surface_words


@dataclass(frozen=True, slots=True)
class IndexHit:
    docno: int
    paper_id: str
    score: float


@dataclass(frozen=True, slots=True)
class IndexResult:
    """One page of hits (best first) and how many documents match in all."""

    hits: tuple[IndexHit, ...]
    total: int
    pruned: bool = False  # the top k came from champion lists (exact, fewer docs scored)
    exact: bool = True  # False: ``total`` is an estimate (a phrase over very many candidates)


NO_SPANS = FieldSpans()


@dataclass(frozen=True, slots=True)
class IndexDoc:
    """What the index keeps of one paper (tokenized once, when it is added)."""

    docno: int
    paper_id: str
    title: str
    terms: list[str]
    steps: list[int]  # position steps (running sum = positions), see document_stream
    authors: tuple[tuple[str, str], ...]  # (key, display)
    venue: str
    title_words: tuple[str, ...]
    spans: FieldSpans = NO_SPANS  # where the title and the abstract are, in positions


def index_doc(docno: int, paper: Paper, weights: FieldWeights = FIELD_WEIGHTS) -> IndexDoc:
    """What the index keeps of ``paper``: its field-weighted token list (see
    :class:`~bot.core.text.FieldWeights`), title, authors and venue."""
    displays = [a.display for a in paper.authors]
    toks, steps, spans = document_fields(
        paper.title, paper.abstract, displays, paper.venue, weights
    )
    return IndexDoc(
        docno=docno,
        paper_id=paper.id,
        title=paper.title,
        terms=toks,
        steps=steps,
        authors=tuple((a.key, a.display) for a in paper.authors),
        venue=paper.venue,
        title_words=tuple(dict.fromkeys(surface_words(paper.title))),
        spans=spans,
    )
