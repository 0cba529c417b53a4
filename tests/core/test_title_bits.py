"""Title-word bitsets: the same memberships, hence the same title lookups, as binary search."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.bench.lookups import typo
from bot.core import title_bits
from bot.core.index import Index, in_sorted, index_doc
from bot.core.lookup import find_titles
from bot.core.models import Paper

WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "model",
    "learning",
    "neural",
    "graph",
    "scaling",
    "laws",
    "deep",
    "sparse",
]


def _papers(n: int) -> list[Paper]:
    rng = random.Random(3)
    out = []
    for i in range(n):
        common = rng.sample(WORDS, 3)
        title = " ".join([*common, f"topic{i % 97}", f"rare{i}"])
        out.append(Paper(f"p{i:06d}", f"k{i}", title, (), "", "", ""))
    return out


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    return _papers(3000)


def _index(papers: list[Paper]) -> Index:
    return Index.build([index_doc(i + 1, p) for i, p in enumerate(papers)])


def test_member_is_in_sorted(monkeypatch: pytest.MonkeyPatch, papers: list[Paper]) -> None:
    monkeypatch.setattr(title_bits, "MIN_DF", 1)
    monkeypatch.setattr(title_bits, "COMMON_SHARE", 0.0)
    index = _index(papers)
    known = index.vocabulary
    bits = title_bits.TitleBits(known)
    assert len(bits.sets) == title_bits.MAX_SETS or len(bits.sets) > len(WORDS)
    rng = np.random.default_rng(0)
    for wid in list(bits.sets)[:40]:
        docs = known.title_word_docs(wid)
        values = np.unique(rng.integers(0, len(papers) + 50, 500)).astype(np.int32)
        assert (bits.member(wid, docs, values) == in_sorted(docs, values)).all()


def test_title_lookups_are_the_same_with_bitsets(
    monkeypatch: pytest.MonkeyPatch, papers: list[Paper]
) -> None:
    rng = random.Random(5)
    queries = []
    for p in papers[::37]:
        words = p.title.split()
        queries.append(" ".join(typo(rng, w) if len(w) > 4 and rng.random() < 0.4 else w
                                for w in words))  # fmt: skip
    queries += ["alpha beta", "model learning neural graph", "scaling laws deep"]
    monkeypatch.setattr(title_bits, "MAX_SETS", 0)
    plain = _index(papers)
    expected = [find_titles(plain, q, limit=6) for q in queries]
    monkeypatch.setattr(title_bits, "MAX_SETS", 256)
    monkeypatch.setattr(title_bits, "MIN_DF", 1)
    monkeypatch.setattr(title_bits, "COMMON_SHARE", 0.0)
    monkeypatch.setattr(title_bits, "SMALL", 0)
    with_bits = _index(papers)
    assert len(title_bits.title_bits(with_bits.vocabulary).sets) > len(WORDS)
    assert [find_titles(with_bits, q, limit=6) for q in queries] == expected
