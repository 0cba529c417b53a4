"""Snippets: a window around the matched terms, as segments the Discord layer can escape."""

from __future__ import annotations

from bot.core.models import Segment
from bot.core.snippet import ELLIPSIS, render, snippet
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
