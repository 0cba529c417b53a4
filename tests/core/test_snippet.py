"""Snippets: a window around the matched terms, as segments the Discord layer can escape."""

from __future__ import annotations

from bot.core.models import Segment
from bot.core.snippet import ELLIPSIS, SCAN_CHARS, render, snippet
from bot.core.text import query_terms

ABSTRACT = (
    "Deep networks are everywhere. " * 12
    + "We study feature learning in multi-layer perceptrons with *markdown* and @everyone. "
    + "Nothing else matters here. " * 12
)


def test_window_around_the_matches() -> None:
    segs = snippet(ABSTRACT, query_terms("feature learning multi-layer"), width=120)
    text = "".join(s.text for s in segs)
    assert len(text) <= 140
    assert text.startswith(ELLIPSIS) and text.endswith(ELLIPSIS)
    matched = [s.text for s in segs if s.match]
    assert matched == ["feature", "learning", "multi-layer"]


def test_segments_keep_raw_text_for_escaping() -> None:
    segs = snippet(ABSTRACT, query_terms("markdown"), width=200)
    assert Segment("markdown", True) in segs
    joined = "".join(s.text for s in segs)
    assert "*markdown*" in joined and "@everyone" in joined  # not escaped here: the UI does it


def test_no_match_gives_the_start() -> None:
    segs = snippet(ABSTRACT, query_terms("chemistry"), width=60)
    assert not any(s.match for s in segs)
    assert "".join(s.text for s in segs).startswith("Deep networks")


def test_short_text_whole_and_stems_match() -> None:
    segs = snippet("Scaling   laws\n\nscale.", query_terms("scaling"))
    assert render(segs) == "**Scaling** laws **scale**."
    assert snippet("", ["x"]) == ()


def test_accented_words_match() -> None:
    segs = snippet("Results by Mézard hold.", query_terms("mezard"))
    assert [s.text for s in segs if s.match] == ["Mézard"]


# -- bounded work on huge abstracts (issue 8, item 7) ------------------------------------------

FILLER = "deep networks are everywhere and they learn. "  # no query term below in it
HUGE = 50_000_000


def _huge(head: str = "", tail: str = "") -> str:
    """About 50 MB of abstract: ``head``, filler, ``tail``."""
    return head + FILLER * (HUGE // len(FILLER)) + tail


def test_a_50_mb_abstract_is_only_read_at_its_start() -> None:
    # The matched word sits at the very end: finding it would mean reading all 50 MB.
    segs = snippet(_huge(tail="chemistry"), query_terms("chemistry"))
    text = "".join(s.text for s in segs)
    assert not any(s.match for s in segs)
    assert text.startswith("deep networks") and text.endswith(ELLIPSIS)
    assert len(text) <= 300


def test_a_match_near_the_start_of_a_50_mb_abstract_is_marked() -> None:
    segs = snippet(_huge(head=FILLER * 100 + "Molecular chemistry. "), query_terms("chemistry"))
    text = "".join(s.text for s in segs)
    assert [s.text for s in segs if s.match] == ["chemistry"]
    assert text.startswith(ELLIPSIS) and text.endswith(ELLIPSIS) and len(text) <= 300


def test_a_50_mb_word_gives_a_short_snippet() -> None:
    segs = snippet("x" * HUGE, query_terms("x"))
    text = "".join(s.text for s in segs)
    assert text.endswith(ELLIPSIS) and len(text) <= 300


def test_the_scan_bound_is_where_matches_stop_being_looked_for() -> None:
    before = FILLER * ((SCAN_CHARS - 1_000) // len(FILLER))
    assert len(before) < SCAN_CHARS - 500
    near = snippet(before + "chemistry " + FILLER * 3000, query_terms("chemistry"))
    assert [s.text for s in near if s.match] == ["chemistry"]
    after = FILLER * ((SCAN_CHARS + 1_000) // len(FILLER))
    far = snippet(after + "chemistry " + FILLER * 3000, query_terms("chemistry"))
    assert not any(s.match for s in far)
    assert SCAN_CHARS >= 100 * 280  # real abstracts (a few kB) are read whole


def test_term_spans_equal_a_word_by_word_scan() -> None:
    """The chunk-first scan finds exactly the words a word-by-word scan does."""
    import random

    from bot.bench.generate import digest_text
    from bot.core.parser import parse_digest
    from bot.core.text import nfc, normalise_space, span_terms, term_spans, terms, word_spans

    papers = parse_digest(digest_text(7, 1, 200).encode(), "f").papers
    unicode = "Multi-layer (multilayer) nets: GPT-5's 40.3% «naïve» Mézard-style x_1,y—z. " * 3
    # ASCII text takes the path that searches for where terms can start (see the next test)
    ascii = (
        "Multi-layer (multilayer) nets: GPT-5's 40.3% naive X-ray x-rays dying vies Aing oed "
        "self-efficient_a2 3.5x y-z. Efficiently, the EFFICIENCY of a b c-d is shown."
    )
    rng = random.Random(3)
    for extra in (unicode, ascii):
        for p in papers[:150]:
            text = nfc(normalise_space(p.abstract + " " + extra))
            vocab = terms(text)
            wanted = frozenset([*rng.sample(vocab, min(4, len(vocab))), "multilay", "zzz"])
            expect = [
                (s, e, span_terms(w) & wanted)
                for s, e, w in word_spans(text)
                if span_terms(w) & wanted
            ]
            assert term_spans(text, wanted) == expect
    odd = span_terms("Aing") | span_terms("oed")  # a part of 4 letters stemmed to 1
    for some in ({"xray"}, {"die", "vie"}, odd, {"effici", "a2"}, {"cd", "3.5"}):
        text = nfc(normalise_space(ascii))
        expect = [(s, e, span_terms(w) & some) for s, e, w in word_spans(text)]
        assert term_spans(text, frozenset(some)) == [x for x in expect if x[2]]
        assert [x for x in expect if x[2]]
    assert term_spans("", frozenset({"a"})) == [] and term_spans("a b", frozenset()) == []


def test_ascii_words_hold_their_terms_first_letters_where_a_part_starts() -> None:
    """term_spans looks in ASCII text for a term's first two letters where a word's part
    starts (Snowball keeps them, but for consonant + "ying"): checked on every word of the
    generator's vocabulary and on every one-to-three-letter stem with common endings."""
    import itertools
    import string

    from bot.bench.generate import digest_text
    from bot.core.text import _WORD_RE, span_terms, term_spans

    words = set(_WORD_RE.findall(digest_text(11, 1, 400)))
    endings = ("", "ing", "ed", "ies", "s", "ly", "ingly", "edly", "y", "es", "eed", "ation")
    for n in (1, 2):
        for letters in itertools.product(string.ascii_lowercase, repeat=n):
            words.update("".join(letters) + e for e in endings)
    for letters in itertools.product(string.ascii_lowercase, repeat=3):
        words.update("".join(letters) + e for e in ("ing", "ed", "ies"))
    words.update(("x-ray", "X-Rays", "a-b-c", "GPT-5's", "3.5", "vying", "Dying", "skies"))
    checked = 0
    for word in words:
        if not word.isascii():
            continue
        for term in span_terms(word):
            assert [e for _, e, _ in term_spans(word, frozenset({term}))] == [len(word)], (
                word,
                term,
            )
            checked += 1
    assert checked > 50_000


def test_ascii_white_space_is_normalised_as_any_other() -> None:
    from bot.core.text import normalise_space, query_terms

    base = "Scaling laws of deep networks. We study scaling in width and depth."
    wanted = query_terms("scaling depth")
    expect = snippet(base, wanted)
    assert [s.text for s in expect if s.match] == ["Scaling", "scaling", "depth"]
    messes = [" " + base, base + " ", "\r\n" + base, base.replace(". ", ".\n\n")]
    messes += [base.replace(" ", s) for s in ("  ", "\t", "\x1f", " \x0b ")]
    for messy in messes:
        assert normalise_space(messy) == base
        assert snippet(messy, wanted) == expect, repr(messy)
