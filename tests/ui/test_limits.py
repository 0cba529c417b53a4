"""The clamp helpers every builder relies on."""

from __future__ import annotations

import discord

from bot.ui import limits
from bot.ui.limits import clamp, dlen, embed_size, fit_embed, fit_message, join_clamped


def test_dlen_counts_astral_characters_twice() -> None:
    assert dlen("abc") == 3
    assert dlen("𝒪(n)") == 5


def test_clamp_keeps_short_text_and_cuts_long_text_with_an_ellipsis() -> None:
    assert clamp("short", 10) == "short"
    out = clamp("word " * 100, 50)
    assert dlen(out) <= 50
    assert out.endswith("…")
    assert not out[:-1].endswith(" ")


def test_clamp_never_leaves_a_dangling_escape() -> None:
    text = "a" * 8 + "\\*" + "b" * 20
    out = clamp(text, 10)
    assert dlen(out) <= 10
    body = out[:-1]
    assert (len(body) - len(body.rstrip("\\"))) % 2 == 0


def test_clamp_never_splits_a_surrogate_budget() -> None:
    out = clamp("𝒪" * 10, 7)
    assert dlen(out) <= 7


def test_join_clamped_says_how_many_are_left_out() -> None:
    assert join_clamped(["A", "B", "C", "D"], 100) == "A, B, C, D"
    assert join_clamped(["A", "B", "C", "D"], 9) == "A, B +2"
    names = [f"Author Number {i}" for i in range(60)]
    out = join_clamped(names, 1024, more=" +{n} more")
    assert dlen(out) <= 1024
    assert out.endswith("more")
    shown = out.rsplit(" +", 1)[0].split(", ")
    assert int(out.rsplit(" +", 1)[1].split()[0]) == 60 - len(shown)


def test_fit_embed_enforces_every_limit_and_the_total() -> None:
    embed = discord.Embed(title="t" * 400, description="d" * 5000)
    for _ in range(30):
        embed.add_field(name="n" * 300, value="v" * 2000)
    embed.set_footer(text="f" * 3000)
    embed.set_author(name="a" * 300)
    fit_embed(embed)
    assert len(embed.title or "") <= limits.EMBED_TITLE
    assert len(embed.fields) <= limits.EMBED_FIELDS
    assert all(len(f.name or "") <= 256 and len(f.value or "") <= 1024 for f in embed.fields)
    assert embed_size(embed) <= limits.EMBED_TOTAL


def test_fit_message_shares_the_budget_across_embeds() -> None:
    embeds = [discord.Embed(description="x" * 4000) for _ in range(12)]
    fitted = fit_message(embeds)
    assert len(fitted) <= limits.EMBEDS_PER_MESSAGE
    assert sum(embed_size(e) for e in fitted) <= limits.EMBED_TOTAL
