"""Escaping digest text and bolding snippet matches."""

from __future__ import annotations

import re
import unicodedata

from bot.core.models import Segment
from bot.ui.format import (
    ZWSP,
    all_authors,
    bold_segments,
    inline_code,
    neutralise_mentions,
    plain,
    safe,
    safe_clamped,
    short_authors,
    when,
)
from bot.ui.limits import clamp, dlen


def test_safe_escapes_markdown_and_breaks_mentions() -> None:
    out = safe("**bold** _it_ @everyone @here <@123456789012345678> <#123456789012345678>")
    assert "\\*\\*bold\\*\\*" in out
    assert "\\_it\\_" in out
    assert "@everyone" not in out and "@here" not in out
    assert f"@{ZWSP}everyone" in out
    assert "<@123456789012345678>" not in out
    assert "<#1" not in out


def test_bold_segments_bolds_matches_after_escaping() -> None:
    out = bold_segments([Segment("the "), Segment("scaling", True), Segment(" of *laws*")], 200)
    assert out == "the **scaling** of \\*laws\\*"


def test_bold_segments_cannot_be_broken_by_digest_text() -> None:
    out = bold_segments([Segment("a**b", True), Segment(" c")], 200)
    assert out == "**a\\*\\*b** c"


def test_bold_segments_fit_the_limit_and_close_their_bold() -> None:
    segments = [Segment("word " * 30), Segment("match " * 40, True), Segment("tail " * 30)]
    out = bold_segments(segments, 300)
    assert dlen(out) <= 300
    assert out.endswith("…")
    assert out.count("**") % 2 == 0


def test_short_authors() -> None:
    assert short_authors(["A", "B", "C", "D", "E"]) == "A, B, C +2"
    assert short_authors(["A"]) == "A"
    assert short_authors([]) == "unknown authors"


def test_all_authors_clamped() -> None:
    out = all_authors([f"Name {i}" for i in range(60)], 200)
    assert dlen(out) <= 200 and out.endswith("more")


def test_when_renders_a_discord_timestamp() -> None:
    assert when("2025-11-28T10:00:00+00:00") == "<t:1764324000:D>"
    assert when(None) == "unknown"
    assert when("not a date") == "unknown"


def test_matches_inside_a_link_are_not_bolded() -> None:
    segments = [
        Segment("see https://example.org/"),
        Segment("SUPERChem", True),
        Segment(". The "),
        Segment("SUPERChem", True),
        Segment(" set"),
    ]
    out = bold_segments(segments, 200)
    assert out == "see https://example.org/SUPERChem. The **SUPERChem** set"


# Every Discord markup form that renders as something other than its text (message formatting
# reference): user (also with "!"), role and channel mentions, slash-command mentions, custom
# emoji (static and animated), timestamps and guild navigation; any id length.
RENDERED_MARKUP = re.compile(
    r"<(?:@[!&]?\d+|#\d+|/[^<>]+:\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFR])?|id:[\w-]+(?::\d+)?)>"
)
SHORT_MENTIONS = (
    "<@&999> <@1> <@!1> <#12> </cmd:1> </cmd sub:12> <t:1> <t:1:R> <:x:1> <a:y:2> "
    "<id:customize> <id:linked-roles:7> <@123456789012345678> <#123456789012345678>"
)
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2069\u00ad\ufeff"


def test_rendered_markup_pattern_matches_every_form() -> None:
    assert len(RENDERED_MARKUP.findall(SHORT_MENTIONS)) == 14


def test_mentions_with_any_id_length_are_neutralised() -> None:
    out = safe(f"{SHORT_MENTIONS} @everyone @here")
    assert not RENDERED_MARKUP.search(out), out
    assert "@everyone" not in out and "@here" not in out
    assert out.replace(ZWSP, "").replace("\\", "") == f"{SHORT_MENTIONS} @everyone @here"
    assert neutralise_mentions("<@&999>") == f"<{ZWSP}@&999>"


def test_format_characters_are_removed_from_displayed_text() -> None:
    assert safe("Zero\u200bWidth \u202eTXT.EXE") == "ZeroWidth TXT.EXE"
    assert safe(f"a{INVISIBLE}b") == "ab"
    assert inline_code("8t72\u200bzh2v\u202e") == "`8t72zh2v`"
    assert plain("  Zero\u200bWidth\n\u2066query\u2069 ") == "ZeroWidth query"
    # A digest cannot rebuild a mention by hiding a zero-width space in it.
    assert not RENDERED_MARKUP.search(safe("<\u200b@\u200b&999>"))
    assert not RENDERED_MARKUP.search(neutralise_mentions("<\u200b#12>"))


def test_only_the_neutralising_space_is_left_invisible() -> None:
    out = safe(f"{INVISIBLE}{SHORT_MENTIONS}{INVISIBLE} Zero\u200bWidth")
    for index, ch in enumerate(out):
        if unicodedata.category(ch) == "Cf":
            assert ch == ZWSP and out[index - 1] in "<@", (index, out)


def test_safe_clamped_on_a_50_mb_abstract_matches_the_short_path() -> None:
    sentence = "We *study* @everyone and __graphs__ at <@123456789012345678> length. "
    huge = sentence * (50_000_000 // len(sentence))
    for limit in (100, 3000):
        out = safe_clamped(huge, limit)
        # The same answer as escaping a text just long enough, then clamping it.
        assert out == clamp(safe(huge[: 10 * limit]), limit)
        assert dlen(out) <= limit and out.endswith("…")
        assert "@everyone" not in out and "<@1" not in out
        assert out.startswith("We \\*study\\* @")
