"""The known-item order of the catalogue's search (bot.core.rerank) and what it reads of the
index (bot.core.index.known_item): checked against the titles' and abstracts' own text."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.bench.generate import digest_text
from bot.core.index import Index, index_doc
from bot.core.models import Paper
from bot.core.parser import parse_authors, parse_digest
from bot.core.query import QueryError, parse_query
from bot.core.rerank import known_item_order, tiers
from bot.core.text import positioned_terms, surface_words

TITLES = {
    1: "Scaling Graph Laws",  # every word, not adjacent
    2: "Attention Is All You Need",  # neither word
    3: "Scaling Laws: A Survey",  # adjacent
    4: "scaling laws",  # the query itself
    5: "Laws of Scaling",  # every word, the other order
}
ABSTRACTS = {
    1: "Scaling laws predict gains; scaling laws fail at depth. Graph laws too.",
    2: "We study attention, and scaling laws once.",
    3: "Scaling laws matter.",
    4: "We study models.",
    5: "Laws, scaling and more scaling.",
}


def _paper(i: int, title: str, abstract: str) -> Paper:
    authors = parse_authors("Jean Barbier")
    return Paper(f"p{i}", f"k{i}", title, authors, "Jean Barbier", "ICML", abstract)


@pytest.fixture(scope="module")
def small() -> Index:
    return Index.from_papers((d, _paper(d, TITLES[d], ABSTRACTS[d])) for d in TITLES)


def _ranked(index: Index, query: str, docnos: Sequence[int]) -> list[int]:
    q = parse_query(query)
    features = index.known_item_features(docnos, q.terms)
    order = tiers(q, features, lambda i: index.title(docnos[i]))
    return known_item_order(q, list(docnos), order, features.abstract_adjacent)


def test_tiers(small: Index) -> None:
    q = parse_query("Scaling Laws")
    docnos = [4, 3, 1, 5, 2]
    features = small.known_item_features(docnos, q.terms)
    assert tiers(q, features, lambda i: small.title(docnos[i])) == [0, 1, 2, 2, 3]
    one = parse_query("scaling")
    f1 = small.known_item_features([3, 2], one.terms)
    assert tiers(one, f1, lambda i: small.title([3, 2][i])) == [2, 3]
    quoted = parse_query('"scaling laws"')  # no free words: no tiers
    f2 = small.known_item_features([3], quoted.terms)
    assert tiers(quoted, f2, lambda i: small.title(3)) == [3]


def test_order_keeps_bm25_within_tiers_and_beyond_the_window(small: Index) -> None:
    q = parse_query("scaling laws")
    hits = [2, 1, 3, 5, 4, 1000, 1001]  # BM25 order; the last two beyond a window of 5
    features = small.known_item_features(hits[:5], q.terms)
    order = tiers(q, features, lambda i: small.title(hits[i]))
    assert known_item_order(q, hits, order, features.abstract_adjacent) == [
        4, 3, 1, 5, 2, 1000, 1001,
    ]  # fmt: skip


def test_an_abstract_using_the_phrase_more_comes_first_within_a_tier() -> None:
    abstracts = {
        10: "We study models.",
        11: "Scaling laws predict gains; scaling laws fail at depth.",
        12: "Scaling laws matter.",
    }
    index = Index.from_papers(
        (d, _paper(d, "Scaling Laws Revisited", a)) for d, a in abstracts.items()
    )
    assert index.known_item_features([10, 12, 11], ("scale", "law")).abstract_adjacent == (0, 1, 2)
    assert _ranked(index, "scaling laws", [10, 12, 11]) == [11, 12, 10]


def _adjacent(text: str, terms: Sequence[str]) -> int:
    """How often ``terms`` occur at consecutive positions of ``text`` (the reference)."""
    toks, positions, _ = positioned_terms(text)
    at: dict[str, set[int]] = {}
    for t, p in zip(toks, positions, strict=True):
        at.setdefault(t, set()).add(p)
    if any(t not in at for t in terms):
        return 0
    return sum(all(p + i in at[t] for i, t in enumerate(terms)) for p in at[terms[0]])


def test_features_read_from_positions_agree_with_the_text() -> None:
    """Every feature, for many generated papers and queries of their own title words (and
    words of other titles), equals what the title's and abstract's text say."""
    papers = list(parse_digest(digest_text(7, 0, 400).encode(), "f0").papers)
    papers[5] = _paper(6, "Deep deep learning of deep nets", "deep deep learning deep deep.")
    docnos = [2 * i + 1 for i in range(len(papers))]  # sparse, as rowids can be
    index = Index.from_papers(zip(docnos, papers, strict=True))
    rng = random.Random(5)
    checked = 0
    for _ in range(150):
        words = [w for w in surface_words(rng.choice(papers).title) if w.isalpha()]
        if len(words) < 2:
            continue
        start = rng.randrange(len(words) - 1)
        typed = " ".join(words[start : start + rng.choice((1, 2, 2, 3))])
        if rng.random() < 0.2:
            typed += " " + rng.choice(words)  # out of order
        try:
            q = parse_query(typed)
        except QueryError:
            continue
        picked = rng.sample(range(len(papers)), 30)
        features = index.known_item_features([docnos[i] for i in picked], q.terms)
        for k, i in enumerate(picked):
            p = papers[i]
            title_terms = set(positioned_terms(p.title)[0])
            whole = all(t in title_terms for t in q.terms)
            assert features.in_title[k] == whole, (typed, p.title)
            assert features.title_adjacent[k] == (
                whole and len(q.terms) > 1 and _adjacent(p.title, q.terms) > 0
            ), (typed, p.title)
            assert features.abstract_adjacent[k] == _adjacent(p.abstract, q.terms), typed
            checked += 1
    assert checked > 1500
    repeated = index.known_item_features([docnos[5]], ("deep", "deep"))
    assert repeated.title_adjacent == (True,)
    assert repeated.abstract_adjacent == (2,)  # (0, 1) and (3, 4)


def test_unknown_term_or_no_documents() -> None:
    index = Index.from_papers([(1, _paper(1, "Scaling Laws", "About scaling laws."))])
    assert index.known_item_features([1], ("scale", "zzzunknown")).in_title == (False,)
    assert index.known_item_features([], ("scale",)).abstract_adjacent == ()


def test_features_survive_an_incremental_update_and_a_save(tmp_path: Path) -> None:
    base = Index.from_papers([(1, _paper(1, "Graph Networks", "Scaling laws of graphs."))])
    updated = base.updated(
        [index_doc(4, _paper(4, "Scaling Laws Again", "Scaling laws; scaling laws."))]
    )
    updated.save(tmp_path, stamp="s")
    loaded = Index.load(tmp_path, stamp="s")
    f = loaded.known_item_features([4, 1], ("scale", "law"))
    assert f.in_title == (True, False) and f.abstract_adjacent == (2, 1)
