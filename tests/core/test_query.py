"""The query language: parsing, every error, and the one-paper predicate."""

from __future__ import annotations

import pytest

from bot.core.models import Author, Paper
from bot.core.query import (
    MAX_QUERY_LENGTH,
    QueryError,
    author_matches,
    has_phrase,
    match_doc,
    matches,
    name_words,
    parse_query,
    venue_matches,
    venue_words,
)


def _paper(title: str, abstract: str, authors: list[str], venue: str) -> Paper:
    auths = tuple(
        Author(display=a, last=a.split()[-1], first=" ".join(a.split()[:-1]), key=a.lower())
        for a in authors
    )
    return Paper("id", "key", title, auths, "", venue, abstract)


def test_terms_are_required_and_stemmed() -> None:
    q = parse_query("Scaling laws scaling")
    assert q.terms == ("scale", "law")
    assert q.required_terms == ("scale", "law")
    assert q.words == ("Scaling", "laws", "scaling")


def test_phrases_filters_and_exclusions() -> None:
    q = parse_query(
        '"feature learning" author:"Jean Barbier" venue:neurips -chemistry -"curse of detail" '
        "-author:smith -venue:arxiv deep"
    )
    assert [p.terms for p in q.phrases] == [("featur", "learn")]
    assert q.authors[0].words == ("jean", "barbier")
    assert ("neural", "information", "processing", "systems") in q.venues[0].alternatives
    assert q.exclude_terms == ("chemistri",)
    assert q.exclude_phrases[0].terms == ("curs", "detail")
    assert q.exclude_authors[0].words == ("smith",)
    assert q.exclude_venues[0].text == "arxiv"
    assert q.required_terms == ("deep", "featur", "learn")
    assert q.has_exclusions


def test_curly_quotes_and_field_case() -> None:
    q = parse_query("“feature learning” AUTHOR:Barbier")
    assert q.phrases[0].text == "feature learning"
    assert q.authors[0].words == ("barbier",)


def test_author_filter_order_and_initials() -> None:
    q = parse_query('author:"Yao, Zihan"')
    assert q.authors[0].words == ("yao", "zihan")
    assert author_matches(("z", "yao"), name_words("Zihan Yao"))
    assert not author_matches(("x", "yao"), name_words("Zihan Yao"))
    assert author_matches(("muller",), name_words("Thomas Müller"))
    assert author_matches(("garcialopez",), name_words("Ana García-López"))


@pytest.mark.parametrize(
    ("value", "venue", "expected"),
    [
        ("neurips", "Neural Information Processing Systems", True),
        ("nips", "Neural Information Processing Systems", True),
        ("icml", "International Conference on Machine Learning", True),
        ("arxiv", "arXiv.org Machine Learning", True),
        ("machine learning", "arXiv.org Machine Learning", True),
        ("cvpr", "Conference on Computer Vision and Pattern Recognition", True),
        ("neurips", "arXiv.org Machine Learning", False),
    ],
)
def test_venue_aliases_and_acronyms(value: str, venue: str, expected: bool) -> None:
    q = parse_query(f'venue:"{value}"')
    assert venue_matches(q.venues[0].alternatives, venue_words(venue)) is expected


@pytest.mark.parametrize(
    ("text", "code", "hint"),
    [
        ("", "empty", "type a few words"),
        ("   ", "empty", "type a few words"),
        ("x" * (MAX_QUERY_LENGTH + 1), "too_long", "at most 300"),
        ('"feature learning', "unbalanced_quote", "closing"),
        ('scaling "', "unbalanced_quote", "closing"),
        ('""', "empty_phrase", "between the quotes"),
        ("author:", "empty_field", "author:barbier"),
        ("venue: deep", "empty_field", "venue:"),
        ("author:J.", "initials_only", "last name"),
        ("the of and", "stopwords_only", "more specific"),
        ('"of the"', "stopwords_only", "common words"),
        ("-chemistry", "exclusions_only", "add a word"),
        ("-chemistry -author:smith", "exclusions_only", "add a word"),
        ("!!! ???", "empty", "no words"),
    ],
)
def test_errors_say_what_to_fix(text: str, code: str, hint: str) -> None:
    with pytest.raises(QueryError) as info:
        parse_query(text)
    assert info.value.code == code
    assert hint in str(info.value)


def test_exactly_max_length_is_fine() -> None:
    assert parse_query("a" * (MAX_QUERY_LENGTH - 5) + " deep").terms


def test_str_is_canonical() -> None:
    q = parse_query('deep "feature learning" author:barbier -chemistry')
    assert str(q) == 'deep "feature learning" author:barbier -chemistri'
    assert parse_query(str(q)).required_terms == q.required_terms


def test_has_phrase() -> None:
    pos = {"featur": (3, 9), "learn": (10,)}
    assert has_phrase(pos, ("featur", "learn"))
    assert not has_phrase(pos, ("learn", "featur"))
    assert not has_phrase(pos, ("featur", "absent"))


def test_matches_one_paper() -> None:
    doc = match_doc(
        _paper(
            "Statistical physics of deep learning",
            "We study feature learning in a multi-layer perceptron.",
            ["Jean Barbier", "Francesco Camilli"],
            "arXiv.org Machine Learning",
        )
    )
    assert matches(parse_query("deep learning"), doc)
    assert matches(parse_query('"feature learning" multi-layer'), doc)
    assert matches(parse_query('author:"J. Barbier" venue:arxiv'), doc)
    assert matches(parse_query("author:camilli author:barbier"), doc)
    assert matches(parse_query("venue:neurips venue:arxiv physics"), doc)  # venues: any
    assert not matches(parse_query("deep chemistry"), doc)
    assert not matches(parse_query('"learning feature"'), doc)
    assert not matches(parse_query("deep -perceptron"), doc)
    assert not matches(parse_query('deep -"feature learning"'), doc)
    assert not matches(parse_query("deep -author:barbier"), doc)
    assert not matches(parse_query("deep -venue:arxiv"), doc)
    assert not matches(parse_query("author:smith"), doc)
    assert not matches(parse_query("venue:neurips"), doc)


LANGUAGE = ('"phrases"', "author:", "venue:", "-exclusions")


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("title:scaling", "unknown_field", "title:"),
        ('learning -title:"deep nets"', "unknown_field", "title:"),
        ("YEAR:2020 scaling", "unknown_field", "year:"),
        ("scaling OR laws", "operator", "OR"),
        ("scaling NOT chemistry", "operator", "-chemistry"),
    ],
)
def test_what_the_language_lacks_is_refused_saying_what_it_has(
    text: str, code: str, says: str
) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(text)
    assert caught.value.code == code
    message = str(caught.value)
    assert says in message
    assert all(part in message for part in LANGUAGE), message


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Transformers: a survey", ("transform", "survey")),  # a pasted title with a colon
        ("scaling or laws", ("scale", "law")),  # lower case: the stopword, as before
        ("scaling AND laws", ("scale", "law")),  # AND is what the language does anyway
    ],
)
def test_colons_and_lower_case_or_are_still_words(text: str, terms: tuple[str, ...]) -> None:
    assert parse_query(text).terms == terms
