"""The search text pipeline: folding, tokenizing technical terms, stopwords, stemming."""

from __future__ import annotations

from itertools import accumulate

from bot.core.text import (
    FIELD_WEIGHTS,
    STOPWORDS,
    FieldWeights,
    document_stream,
    document_terms,
    fold,
    identity_form,
    nfc,
    phrase_terms,
    positioned_terms,
    query_terms,
    span_terms,
    stem,
    strip_format,
    surface_words,
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


def test_document_stream_weights_fields_and_separates_every_copy() -> None:
    w = FieldWeights(title=3, authors=2, venue=1)
    toks, steps = document_stream(
        "Scaling laws", "Feature learning.", ["Jean Barbier"], "Physical Review", w
    )
    pos = list(accumulate(steps))
    assert toks.count("scale") == 3 and toks.count("law") == 3  # the title counts 3 times
    assert toks.count("barbier") == 2 and toks[-2:] == ["physic", "review"]
    # a gap between fields and between copies: a phrase never spans two of them
    assert pos[toks.index("scale", 1)] - pos[toks.index("law")] == 2
    assert pos[toks.index("featur")] - pos[toks.index("featur") - 1] == 2
    # the default weights: the title and the authors count more than the abstract
    toks, _ = document_stream("Scaling laws", "Scaling.", ["Jean Barbier"], "Physical Review")
    assert toks.count("scale") == FIELD_WEIGHTS.title + 1 > 2
    assert toks.count("barbier") == FIELD_WEIGHTS.authors > 1
    assert ("physic" in toks) == (FIELD_WEIGHTS.venue > 0)


def test_document_terms_has_each_field_once() -> None:
    toks, pos = document_terms("Scaling laws", "Feature learning.", ["Jean Barbier"])
    assert toks == ["scale", "law", "featur", "learn", "jean", "barbier"]
    assert pos == [1, 2, 4, 5, 7, 8]


def test_word_spans_and_span_terms() -> None:
    text = "Feature-learning in Müller's model"
    spans = word_spans(text)
    assert [text[s:e] for s, e, _ in spans] == ["Feature-learning", "in", "Müller's", "model"]
    assert span_terms("Feature-learning") == {"featurelearn", "featur", "learn"}


def test_nfc_and_nfd_input_agree() -> None:
    import unicodedata

    word = "Mézard"
    assert terms(unicodedata.normalize("NFD", word)) == terms(word) == ["mezard"]


# -- invisible format characters (Unicode category Cf) ----------------------------------------

ZERO_WIDTH_AND_BIDI = (
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space, non-joiner, joiner, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\u00ad\u2060\ufeff"  # soft hyphen, word joiner, BOM
)


def test_format_characters_are_removed() -> None:
    assert strip_format("Zero\u200bWidth") == "ZeroWidth"
    assert strip_format("\u202eTXT.EXE") == "TXT.EXE"
    assert strip_format(f"a{ZERO_WIDTH_AND_BIDI}b") == "ab"
    assert strip_format("multi\u00adlayer Müller\u2069") == "multilayer Müller"
    assert strip_format("plain ascii") == "plain ascii"


def test_every_format_character_and_nothing_else_is_removed() -> None:
    import sys
    import unicodedata

    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    kept = strip_format(everything)
    removed = set(everything) - set(kept)
    categories = {unicodedata.category(ch) for ch in removed}
    assert categories <= {"Cf", "Cn"}, categories  # Cn: assigned in a later Unicode version
    assert not [ch for ch in kept if unicodedata.category(ch) == "Cf"]
    assert len(kept) + len(removed) == len(everything)


def test_zero_width_words_are_searchable_as_the_visible_word() -> None:
    assert fold("Zero\u200bWidth") == fold("ZeroWidth") == "zerowidth"
    assert identity_form("Zero\u200bWidth \u202eTXT.EXE") == "zerowidth txt exe"
    assert terms("Zero\u200bWidth models") == terms("ZeroWidth models")
    assert query_terms("Zero\u200bWidth") == query_terms("zerowidth") == ["zerowidth"]
    assert phrase_terms("\u2066Zero\u200bWidth models\u2069") == phrase_terms("zerowidth models")
    assert surface_words("multi\u00adlayer") == ["multilayer"]
    text = "Zero\u200bWidth \u202eTXT"
    assert [w for _, _, w in word_spans(text)] == ["ZeroWidth", "TXT"]
    assert nfc(text) == "ZeroWidth TXT"


def test_identity_form_of_ascii_is_the_regex_form() -> None:
    """ASCII text takes C-level steps to the same form as the general path's regex."""
    import random
    import re

    rng = random.Random(5)
    alphabet = [chr(c) for c in range(128)] + list("abcdeXYZ019 ") * 8
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert identity_form(text) == re.sub(r"[\W_]+", " ", text.lower()).strip(), repr(text)
    assert identity_form("  GPT-5's  x_1\t(v2.0)!") == "gpt 5 s x 1 v2 0"
