"""The known-item order of the catalogue's search (bot.core.rerank)."""

from __future__ import annotations

from bot.core.query import parse_query
from bot.core.rerank import known_item_order, tier, wants_abstract

TITLES = {
    1: "Scaling Graph Laws",  # every word, not adjacent
    2: "Attention Is All You Need",  # neither word
    3: "Scaling Laws: A Survey",  # adjacent
    4: "scaling laws",  # the query itself
    5: "Laws of Scaling",  # every word, the other order
}


def test_tiers() -> None:
    q = parse_query("Scaling Laws")
    assert [tier(q, TITLES[d]) for d in (4, 3, 1, 5, 2)] == [0, 1, 2, 2, 3]
    one = parse_query("scaling")
    assert tier(one, "Scaling Up") == 2 and tier(one, "Attention") == 3
    assert tier(parse_query('"scaling laws"'), TITLES[3]) == 3  # no free words: no tiers


def test_order_keeps_bm25_within_tiers_and_beyond_the_window() -> None:
    q = parse_query("scaling laws")
    hits = [2, 1, 3, 5, 4, 1000, 1001]  # BM25 order; the last two beyond a window of 5
    tiers = [tier(q, TITLES[d]) for d in hits[:5]]
    asked: list[int] = []

    def abstract(d: int) -> str:
        asked.append(d)
        return ""

    assert known_item_order(q, hits, tiers, abstract) == [4, 3, 1, 5, 2, 1000, 1001]
    assert sorted(asked) == [1, 3, 4, 5]  # tier 3 never reads its abstract
    assert not wants_abstract(parse_query("scaling"), 1)


def test_an_abstract_using_the_phrase_more_comes_first_within_a_tier() -> None:
    q = parse_query("scaling laws")
    abstracts = {
        10: "We study models.",
        11: "Scaling laws predict gains; scaling laws fail at depth.",
        12: "Scaling laws matter.",
    }
    hits = [10, 12, 11]
    tiers = [1, 1, 1]
    assert known_item_order(q, hits, tiers, abstracts.__getitem__) == [11, 12, 10]
