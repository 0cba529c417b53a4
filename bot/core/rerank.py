"""Known-item order: the papers whose title *is* what was typed come first.

The index ranks by rank-bm25's arithmetic on the field-weighted token lists
(:class:`~bot.core.text.FieldWeights`). A user who types words of a title wants that paper;
BM25 can still put a paper that repeats one of the words often in its abstract above it. So
the top :data:`WINDOW` hits of BM25 are ordered in tiers, each kept in BM25 order:

0. the title is the query (folded, punctuation aside);
1. the title holds the query's words as adjacent words, in the query's order;
2. the title holds every query word;
3. the others.

Within tiers 0-2, a paper whose abstract uses the query's words as adjacent words more often
comes first (a proximity signal: the paper is *about* the phrase, not only titled with it);
then BM25 order. Hits beyond the window keep BM25 order, so pages stay consistent: the
window is the same set, ordered the same way, whichever page is asked for. Scores are left as
BM25 computed them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from bot.core.query import ParsedQuery
from bot.core.text import identity_form, positioned_terms

WINDOW = 50

H = TypeVar("H")


def _positions(text: str) -> dict[str, set[int]]:
    toks, positions, _ = positioned_terms(text)
    at: dict[str, set[int]] = {}
    for t, p in zip(toks, positions, strict=True):
        at.setdefault(t, set()).add(p)
    return at


def _adjacent(at: dict[str, set[int]], terms: Sequence[str]) -> int:
    """How often ``terms`` occur at consecutive positions (``at``: each term's positions)."""
    if any(t not in at for t in terms):
        return 0
    return sum(all(p + i in at[t] for i, t in enumerate(terms)) for p in at[terms[0]])


def tier(query: ParsedQuery, title: str) -> int:
    """The known-item tier (0 best) of a paper with ``title`` for ``query``."""
    terms = query.terms
    if not terms:
        return 3
    if query.words and identity_form(title) == identity_form(" ".join(query.words)):
        return 0
    at = _positions(title)
    if any(t not in at for t in terms):
        return 3
    return 1 if len(terms) > 1 and _adjacent(at, terms) else 2


def wants_abstract(query: ParsedQuery, tier_of: int) -> bool:
    """Whether :func:`known_item_order` reads the abstract of a hit in this tier."""
    return tier_of < 3 and len(query.terms) > 1


def known_item_order(
    query: ParsedQuery,
    hits: Sequence[H],
    tiers: Sequence[int],
    abstract_of: Callable[[H], str],
) -> list[H]:
    """``hits`` (BM25 order) with the first ``len(tiers)`` (at most :data:`WINDOW`, their
    :func:`tier`-s) ordered as the module says. ``abstract_of`` is asked only for the hits
    :func:`wants_abstract` names."""
    head = list(hits[: len(tiers)])
    terms = query.terms

    def key(i: int) -> tuple[int, int]:
        if not wants_abstract(query, tiers[i]):
            return (tiers[i], 0)
        return (tiers[i], -_adjacent(_positions(abstract_of(head[i])), terms))

    order = sorted(range(len(head)), key=key)  # stable: BM25 order within equal keys
    return [head[i] for i in order] + list(hits[len(tiers) :])
