"""Subscription matching: indexed matching equals the every-pair predicate, exactly."""

from __future__ import annotations

import random

import pytest

from bot.core.alerts import (
    Frequencies,
    Subscription,
    SubscriptionIndex,
    batch_frequencies,
    match,
    match_batch,
    match_naive,
    prepare,
    subscription_key,
)
from bot.core.models import Author, Paper
from bot.core.query import QueryError, parse_query

_WORD_TEXT = (
    "scaling laws neural networks feature learning kernel regime gradient descent "
    "diffusion models transformer attention sparse mixture experts random matrix "
    "spectrum bayesian inference variational mean field dynamics chaos phase transition "
    "graph reinforcement policy optimal transport multi-layer perceptron replica "
    "statistical physics spin glass memorisation generalisation"
)
WORDS = tuple(_WORD_TEXT.split())
LAST = [
    "Barbier",
    "Müller",
    "O'Brien",
    "García-López",
    "van der Berg",
    "Zdeborová",
    "Krzakala",
    "Mézard",
    "Smith",
    "Yao",
]
FIRST = ["Jean", "Anna", "Liam", "Ana", "Pieter", "Lenka", "Florent", "Marc", "John", "Zihan"]
VENUES = [
    "arXiv.org Machine Learning",
    "Neural Information Processing Systems",
    "International Conference on Machine Learning",
    "Physical Review Letters",
    "Journal of Statistical Mechanics",
]


def make_papers(n: int, seed: int) -> list[Paper]:
    rng = random.Random(seed)
    papers = []
    for i in range(n):
        title = " ".join(rng.choices(WORDS, k=rng.randint(3, 7)))
        abstract = " ".join(rng.choices(WORDS, k=rng.randint(10, 40)))
        authors = tuple(
            Author(display=f"{f} {last}", last=last, first=f, key=f"{f} {last}".lower())
            for last, f in ((rng.choice(LAST), rng.choice(FIRST)) for _ in range(rng.randint(0, 3)))
        )
        papers.append(
            Paper(
                id=f"p{i:05d}",
                key=f"k{i}",
                title=title,
                authors=authors,
                authors_raw=", ".join(f"{a.last}, {a.first}" for a in authors),
                venue=rng.choice(VENUES),
                abstract=abstract,
            )
        )
    return papers


def make_query(rng: random.Random) -> str:
    kind = rng.random()
    parts: list[str] = []
    if kind < 0.45:
        parts += rng.sample(WORDS, rng.randint(1, 3))
    elif kind < 0.6:
        start = rng.randrange(len(WORDS) - 2)
        parts.append('"' + " ".join(WORDS[start : start + 2]) + '"')
        if rng.random() < 0.5:
            parts.append(rng.choice(WORDS))
    elif kind < 0.75:
        last = rng.choice(LAST)
        parts.append(f'author:"{last}"' if " " in last else f"author:{last}")
        if rng.random() < 0.3:
            parts.append(f'author:"{rng.choice(FIRST)[0]}. {rng.choice(LAST)}"')
    elif kind < 0.9:
        parts.append(
            rng.choice(
                [
                    "venue:neurips",
                    "venue:icml",
                    "venue:arxiv",
                    "venue:prl",
                    'venue:"statistical mechanics"',
                    "venue:jsm",
                ]
            )
        )
    else:
        parts.append(rng.choice(WORDS))
        parts.append(f"author:{rng.choice(['yao', 'smith', 'barbier'])}")
    if rng.random() < 0.3:
        parts.append("-" + rng.choice(WORDS))
    if rng.random() < 0.1:
        parts.append("-venue:" + rng.choice(["neurips", "arxiv"]))
    if rng.random() < 0.1:
        parts.append("-author:" + rng.choice(["müller", "mezard"]))
    if rng.random() < 0.05:
        start = rng.randrange(len(WORDS) - 2)
        parts.append('-"' + " ".join(WORDS[start : start + 2]) + '"')
    return " ".join(parts)


def make_subscriptions(n: int, seed: int) -> list[Subscription]:
    rng = random.Random(seed)
    subs: list[Subscription] = []
    while len(subs) < n:
        try:
            query = parse_query(make_query(rng))
        except QueryError:  # pragma: no cover - the generator makes valid queries
            continue
        subs.append(
            Subscription(id=len(subs) + 1, channel_id=rng.randint(1, 20), guild_id=1, query=query)
        )
    return subs


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_indexed_matching_equals_every_pair(seed: int) -> None:
    papers = make_papers(150, seed)
    subs = make_subscriptions(400, seed + 100)
    expected = match_naive(papers, subs)
    assert expected, "the generated data should produce matches"
    assert len(expected) < len(papers) * len(subs)  # and not everything matches
    got = match_batch(papers, subs)
    assert got == expected
    assert [(a.paper_id, a.subscription_id, a.channel_id) for a in got] == [
        (a.paper_id, a.subscription_id, a.channel_id) for a in expected
    ]
    # Any rarity source gives the same answer: only the work done differs.
    for freq in (Frequencies(), Frequencies({w: i for i, w in enumerate(WORDS)})):
        assert match(papers, SubscriptionIndex.build(subs, freq)) == expected


def test_every_filter_kind_is_covered_by_the_generated_set() -> None:
    subs = make_subscriptions(400, 101)
    index = SubscriptionIndex.build(subs, batch_frequencies(prepare(make_papers(150, 1))))
    buckets = index.buckets()
    assert buckets["term"] and buckets["author"] and buckets["venue"]
    assert buckets["certain"] and buckets["terms"] and buckets["full"]
    assert buckets["term"] + buckets["author"] + buckets["venue"] == len(subs) == index.size
    assert buckets["certain"] + buckets["terms"] + buckets["full"] == len(subs)


def test_rarest_required_term_is_the_key() -> None:
    papers = make_papers(200, 5)
    freq = batch_frequencies(prepare(papers))
    query = parse_query('scaling "spin glass" -chaos')
    key = subscription_key(query, freq)
    assert key is not None and key[0] == "t"
    rarest = min(query.required_terms, key=lambda t: freq.terms.get(t, 0))
    assert freq.terms.get(key[1], 0) == freq.terms.get(rarest, 0)
    # A term the batch never has wins outright: the subscription cannot match this batch.
    unseen = parse_query("scaling zygomorphic")
    assert subscription_key(unseen, freq) == ("t", "zygomorph")
    index = SubscriptionIndex.build([Subscription(1, 1, 1, unseen)], freq)
    assert index.key_of(1) == ("t", "zygomorph")
    assert match(papers, index) == []


def test_author_only_and_venue_only_subscriptions() -> None:
    paper = Paper(
        id="abc",
        key="k",
        title="Sparse attention",
        authors=(
            Author("Jean Barbier", "Barbier", "Jean", "jean barbier"),
            Author("Ana García-López", "García-López", "Ana", "ana garcia-lopez"),
        ),
        authors_raw="Barbier, Jean, García-López, Ana",
        venue="Neural Information Processing Systems",
        abstract="We study attention.",
    )
    other = Paper(
        id="def",
        key="k2",
        title="Chemistry",
        authors=(),
        authors_raw="",
        venue="Journal of Chemistry",
        abstract="Molecules.",
    )
    queries = {
        1: 'author:"j barbier"',  # initial + last name: filed under "barbier"
        2: "author:garcia-lopez",
        3: "venue:neurips",  # alias + acronym matching
        4: "venue:nips -author:barbier",
        5: "venue:chemistry",
        6: "author:barbier author:müller",  # both must hold: no match
    }
    subs = [Subscription(i, 10 + i, 1, parse_query(q)) for i, q in queries.items()]
    index = SubscriptionIndex.build(subs, batch_frequencies(prepare([paper, other])))
    assert index.key_of(1) == ("a", "barbier")
    assert index.key_of(2) == ("a", "garcialopez")
    key3 = index.key_of(3)
    assert key3 is not None and key3[0] == "v"
    got = {(a.paper_id, a.subscription_id) for a in match([paper, other], index)}
    assert got == {("abc", 1), ("abc", 2), ("abc", 3), ("def", 5)}
    assert sorted(got) == sorted(
        (a.paper_id, a.subscription_id) for a in match_naive([paper, other], subs)
    )


def test_no_subscriptions_or_no_papers() -> None:
    assert match_batch(make_papers(5, 1), []) == []
    assert match_batch([], make_subscriptions(5, 1)) == []
