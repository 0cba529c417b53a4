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

from bot.core.index import KnownItemFeatures
from bot.core.query import ParsedQuery
from bot.core.text import identity_form

WINDOW = 50

H = TypeVar("H")


def tiers(
    query: ParsedQuery, features: KnownItemFeatures, title_of: Callable[[int], str]
) -> list[int]:
    """The known-item tier (0 best) of each document ``features`` describe (the index's
    :meth:`~bot.core.index.Index.known_item_features` for ``query.terms``); ``title_of(i)``,
    the title of the i-th, is asked only of those whose title holds every term."""
    if not query.terms:
        return [3] * len(features.in_title)
    typed = identity_form(" ".join(query.words)) if query.words else None
    out = []
    for i, (whole, adjacent) in enumerate(
        zip(features.in_title, features.title_adjacent, strict=True)
    ):
        if not whole:
            out.append(3)
        elif typed is not None and identity_form(title_of(i)) == typed:
            out.append(0)
        else:
            out.append(1 if adjacent else 2)
    return out


def known_item_order(
    query: ParsedQuery,
    hits: Sequence[H],
    tiers_of: Sequence[int],
    abstract_adjacent: Sequence[int],
) -> list[H]:
    """``hits`` (BM25 order) with the first ``len(tiers_of)`` (at most :data:`WINDOW`; their
    :func:`tiers` and how often their abstracts hold the query's words adjacently) ordered
    as the module says."""
    head = list(hits[: len(tiers_of)])
    proximity = len(query.terms) > 1

    def key(i: int) -> tuple[int, int]:
        if tiers_of[i] < 3 and proximity:
            return (tiers_of[i], -abstract_adjacent[i])
        return (tiers_of[i], 0)

    order = sorted(range(len(head)), key=key)  # stable: BM25 order within equal keys
    return [head[i] for i in order] + list(hits[len(tiers_of) :])
