"""The search text pipeline: folding, tokenizing technical terms, stopwords, stemming."""

from __future__ import annotations

from bot.core.text import (
    STOPWORDS,
    document_terms,
    phrase_terms,
    positioned_terms,
    query_terms,
    span_terms,
    stem,
    terms,
    word_spans,
)


def test_stemming_meets_variants() -> None:
    assert stem("scaling") == stem("scale") == stem("scales")
    assert terms("Scaling LAWS") == terms("scale law")


def test_accents_and_case_fold() -> None:
    assert terms("Mézard MÜLLER Zdeborová") == terms("mezard muller zdeborova")
    assert terms("Øster Łukasz") == ["oster", "lukasz"]


def test_stopwords_and_single_letters_dropped() -> None:
    assert terms("the of a and is x (i)") == []
    assert "the" in STOPWORDS
    assert terms("2 D") == ["2"]  # digits are kept, a lone letter is not


def test_technical_terms_findable() -> None:
    got = terms("multi-layer depth-muP 16M 2D muP GPT-5 40.3%")
    assert "multilay" in got and "multi" in got and "layer" in got
    assert "depthmup" in got and "depth" in got and "mup" in got
    assert {"16m", "2d", "gpt5", "gpt", "5", "40.3"} <= set(got)


def test_query_side_asks_for_the_compound_only() -> None:
    assert query_terms("multi-layer") == ["multilay"]
    assert query_terms("multilayer") == ["multilay"]  # the same term as the hyphenated one
    assert query_terms("depth-muP scaling") == ["depthmup", "scale"]
    assert phrase_terms("multi-layer perceptron") == ["multi", "layer", "perceptron"]


def test_possessive_and_apostrophe_names() -> None:
    assert terms("the model's") == ["model"]
    assert terms("O'Brien") == ["obrien", "brien"]
    assert query_terms("O’Brien") == ["obrien"]


def test_positions_skip_stopwords_and_share_compound_position() -> None:
    toks, pos, nxt = positioned_terms("deep multi-layer perceptron of the art")
    assert toks == ["deep", "multilay", "multi", "layer", "perceptron", "art"]
    assert pos == [0, 1, 1, 2, 3, 4]
    assert nxt == 5


def test_document_terms_weights_title_and_separates_fields() -> None:
    toks, pos = document_terms("Scaling laws", "Feature learning.", ["Jean Barbier"])
    assert toks.count("scale") == 2 and toks.count("law") == 2  # the title counts twice
    assert toks[-2:] == ["jean", "barbier"]
    # a gap between fields: no two fields are consecutive
    assert pos[toks.index("featur")] - pos[3] == 2


def test_word_spans_and_span_terms() -> None:
    text = "Feature-learning in Müller's model"
    spans = word_spans(text)
    assert [text[s:e] for s, e, _ in spans] == ["Feature-learning", "in", "Müller's", "model"]
    assert span_terms("Feature-learning") == {"featurelearn", "featur", "learn"}


def test_nfc_and_nfd_input_agree() -> None:
    import unicodedata

    word = "Mézard"
    assert terms(unicodedata.normalize("NFD", word)) == terms(word) == ["mezard"]
