"""Typo-tolerant lookups: titles, authors, autocomplete, did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.index import Index, index_doc
from bot.core.lookup import (
    CHOICE_MAX_LEN,
    MAX_CHOICES,
    correct_word,
    did_you_mean,
    find_authors,
    find_titles,
    letter_set,
    normalise_id,
    suggest_authors,
    suggest_papers,
)
from bot.core.models import Paper
from bot.core.parser import parse_digest, parse_text
from bot.core.query import parse_query

EXTRA = """Header


Scaling Laws for Müller Networks

Müller, Thomas, O'Brien, Seán, García-López, Ana

Neural Information Processing Systems

We revisit scaling laws for networks with many layers and report stable training.
"""


@pytest.fixture(scope="module")
def papers(seed_path: Path) -> list[Paper]:
    seed = parse_digest(seed_path.read_bytes(), "seed.txt").papers
    extra = parse_text(EXTRA, "extra.txt").papers
    return [*seed, *extra]


@pytest.fixture(scope="module")
def index(papers: list[Paper]) -> Index:
    return Index.build([index_doc(i + 1, p) for i, p in enumerate(papers)])


@pytest.fixture(scope="module")
def seed_path() -> Path:
    return Path(__file__).resolve().parents[2] / "seeds" / "000_3fb66f32c462d8d6.txt"


def test_title_with_typos_finds_the_first_seed_paper(index: Index, papers: list[Paper]) -> None:
    found = find_titles(index, "scalling laws feature learnig dynamics")
    assert found and found[0].paper_id == papers[0].id
    assert found[0].title.startswith("Understanding Scaling Laws")


def test_title_exact_ranks_first(index: Index, papers: list[Paper]) -> None:
    found = find_titles(index, "SUPERChem: A Multimodal Reasoning Benchmark in Chemistry")
    assert found[0].paper_id == papers[3].id and found[0].score > 90
    assert find_titles(index, "the of and") == []


@pytest.mark.parametrize("name", ["zihan yao", "Yao, Zihan", "Z. Yao", "ZIHAN YAO", "yao z"])
def test_author_any_order_case_initials(index: Index, name: str) -> None:
    found = find_authors(index, name)
    assert found and found[0].display == "Zihan Yao" and found[0].exact


def test_author_accents_and_particles(index: Index) -> None:
    assert find_authors(index, "Muller")[0].display == "Thomas Müller"
    assert find_authors(index, "garcia-lopez")[0].display == "Ana García-López"
    assert find_authors(index, "obrien")[0].display == "Seán O'Brien"
    assert find_authors(index, "Sean O'Brien")[0].display == "Seán O'Brien"


def test_author_typo_falls_back_to_spelling(index: Index) -> None:
    found = find_authors(index, "Barbeir")
    assert found and found[0].display == "Jean Barbier" and not found[0].exact
    assert find_authors(index, "Qwxyzzz") == []
    assert find_authors(index, "J.") == []


def test_several_people_share_a_name(index: Index) -> None:
    zhous = find_authors(index, "zhou")
    assert {m.display for m in zhous} >= {"Junting Zhou", "Kun Zhou", "Zhanchao Zhou"}


def test_did_you_mean(index: Index) -> None:
    assert did_you_mean(index, parse_query("scalling lwas")) == "scaling laws"
    assert did_you_mean(index, parse_query("feature learnig author:barbier")) == (
        "feature learning author:barbier"
    )
    assert did_you_mean(index, parse_query("feature learning")) is None
    assert correct_word(index, "perceptorn") == "perceptron"


def test_suggest_papers_prefix_and_limits(index: Index, papers: list[Paper]) -> None:
    choices = suggest_papers(index, "scal")
    assert {c.value for c in choices} >= {papers[0].id, papers[-1].id}
    assert all(1 <= len(c.name) <= CHOICE_MAX_LEN for c in choices)
    deep = suggest_papers(index, "deep lea")
    assert [c.value for c in deep] == [papers[1].id, papers[0].id]  # newest first
    by_id = suggest_papers(index, papers[2].id[:4].upper())
    assert by_id[0].value == papers[2].id
    assert len(suggest_papers(index, "")) <= MAX_CHOICES
    assert suggest_papers(index, "zzzzqq") == []


def test_suggest_authors(index: Index) -> None:
    choices = suggest_authors(index, "zh")
    assert choices and all(1 <= len(c.name) <= CHOICE_MAX_LEN for c in choices)
    assert "Zihan Yao" not in {c.value for c in suggest_authors(index, "zhou")}
    assert "Ana García-López" in {c.value for c in suggest_authors(index, "garc")}
    assert len(choices) <= MAX_CHOICES


def test_similar_papers(index: Index, papers: list[Paper]) -> None:
    from bot.core.text import document_stream

    p = papers[0]
    terms, _ = document_stream(p.title, p.abstract, [a.display for a in p.authors])
    similar = index.similar(1, terms, 3)
    assert similar and 1 not in {h.docno for h in similar}


def test_normalise_id() -> None:
    assert normalise_id(" 8T72ZH2V ") == "8t72zh2v"
    assert normalise_id("O1IL") == "0111"


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("scalng laws", "Understanding Scaling Laws"),  # a typo in a complete word
        ("scalng la", "Understanding Scaling Laws"),  # ... and the last word still typed
        ("superchme", "SUPERChem"),  # a transposition in the last word
        ("supercem", "SUPERChem"),  # a letter missing in the prefix being typed
        ("multimodl reas", "SUPERChem"),
    ],
)
def test_suggest_papers_tolerates_typos(index: Index, typed: str, title: str) -> None:
    names = [c.name for c in suggest_papers(index, typed)]
    assert any(n.startswith(title) for n in names[:3]), names


@pytest.mark.parametrize("typed", ["camili", "camilo", "camili fr", "francesco camili", "camil"])
def test_suggest_authors_tolerates_typos(index: Index, typed: str) -> None:
    names = [c.value for c in suggest_authors(index, typed)]
    assert names and names[0] == "Francesco Camilli", names


def test_typo_tolerance_does_not_invent_matches(index: Index) -> None:
    assert suggest_papers(index, "qqqqqq zzzzzz") == []
    assert suggest_authors(index, "xzqvw") == []
    # an exact prefix wins over corrections: no fuzzy extras when the prefix exists
    assert all("Scaling" in c.name for c in suggest_papers(index, "scaling la"))


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("kin zhou", "Kun Zhou"),  # a typo in a 3-letter word: the other word narrows it
        ("kun zhu", "Kun Zhou"),  # a typo making another person's name word ("Zhu")
        ("jaen barbeir", "Jean Barbier"),  # a typo in every word
        ("orit davidovihc", "Orit Davidovich"),
    ],
)
def test_author_typos_in_any_word(index: Index, typed: str, name: str) -> None:
    found = find_authors(index, typed)
    assert found and found[0].display == name and not found[0].exact, found


def test_suggest_authors_typos_and_initials(index: Index) -> None:
    assert [c.value for c in suggest_authors(index, "kun zhu")] == ["Kun Zhou"]
    assert [c.value for c in suggest_authors(index, "kin zho")] == ["Kun Zhou"]
    # an initial keeps only the people it may stand for
    assert [c.value for c in suggest_authors(index, "y. wan")] == ["Yaxuan Wang"]


@pytest.mark.parametrize(
    "typed",
    [
        # a word no title has: the titles most like the text instead
        "superchem multimodal reasoning benchmark zzqx chemistry",
        # a typo in most words, a 3-letter one ("dep") beyond correction
        "scaling lwas in dep neural netwroks via featur learnin dynamics",
    ],
)
def test_suggest_papers_falls_back_to_the_most_similar_titles(
    index: Index, papers: list[Paper], typed: str
) -> None:
    meant = papers[3] if typed.startswith("superchem") else papers[0]
    assert suggest_papers(index, typed)[0].value == meant.id


def test_letter_sets_bound_the_edit_distance() -> None:
    """The prefilter of the spelling search drops only words too many edits away."""
    import random

    from rapidfuzz.distance import OSA

    rng = random.Random(5)
    for _ in range(3000):
        a = "".join(rng.choice("abcdeéxyz-") for _ in range(rng.randint(1, 9)))
        b = "".join(rng.choice("abcdeéxyz-") for _ in range(rng.randint(1, 9)))
        if rng.random() < 0.5:  # a near miss of a
            b = a[: len(a) // 2] + rng.choice("abz") + a[len(a) // 2 + 1 :]
        differ = bin(letter_set(a) ^ letter_set(b)).count("1")
        assert differ <= 2 * OSA.distance(a, b), (a, b)


def test_suggest_authors_fills_the_choices_with_prefixes_a_few_edits_away() -> None:
    """A typo in the name being typed ("ivet" for "Ivest...") still offers the meant person
    when another's name starts with what was typed: exact prefixes first, then the rest."""
    text = "Header\n\n\n" + "\n\n\n".join(
        f"Paper {i} on graphs\n\n{name}\n\nVenue\n\nAn abstract about graphs."
        for i, name in enumerate(["Ivetina, Li", "Ivestto, Li", "Ivestto, Li", "Zhou, Kun"])
    )
    papers = parse_text(text, "x.txt").papers
    small = Index.build([index_doc(i + 1, p) for i, p in enumerate(papers)])
    assert [c.value for c in suggest_authors(small, "li ivet")] == ["Li Ivetina", "Li Ivestto"]
    assert [c.value for c in suggest_authors(small, "li ivest")][:1] == ["Li Ivestto"]
    assert [c.value for c in suggest_authors(small, "li ivetina")][:1] == ["Li Ivetina"]
    assert [c.value for c in suggest_authors(small, "kun zho")] == ["Kun Zhou"]


def test_an_update_extends_the_warm_author_spelling_table(
    papers: list[Paper], tmp_path: Path
) -> None:
    """An update's table of author name words by length (the spelling search), extended from
    the warm one of the index it updates, is the table built from scratch; the author
    suggestions it gives are the same."""
    from bot.core import lookup

    base = Index.build([index_doc(i + 1, p) for i, p in enumerate(papers[:-2])])
    lookup.warm(base)
    n = len(papers)
    updated = base.updated([index_doc(n - 1, papers[-2]), index_doc(n, papers[-1])], version=2)
    updated.save(tmp_path / "ix")
    loaded = Index.load(tmp_path / "ix", previous=base)
    assert loaded.vocabulary.previous() is base.vocabulary
    lookup.warm(loaded)
    got = lookup._author_vocab(loaded.vocabulary)
    before = lookup._author_vocab(base.vocabulary)
    assert len(got.words) > len(before.words)  # new name words (Müller's co-authors)
    want = lookup._Vocabulary(loaded.vocabulary.author_words())
    assert got.by_len.keys() == want.by_len.keys()
    for length, words in want.by_len.items():
        assert got.by_len[length].words == words.words
        assert got.by_len[length].masks.tolist() == words.masks.tolist()
    plain = Index.load(tmp_path / "ix")  # no previous index: built from scratch
    for typed in ("muler", "garcia lop", "obrien"):
        assert suggest_authors(loaded, typed) == suggest_authors(plain, typed)
