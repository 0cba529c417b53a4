"""Cards and components of a member's own things: follows, saved papers, votes.

Components use named kinds of :mod:`bot.ui.actions` (``ds:<name>:<arg>``), routed by the
client like every other button:

    ds:follow:q<ref>       follow a /search query (<ref> as in bot.ui.actions: =text / #hash)
    ds:follow:a<ref>       follow an /author card's author
    ds:save:<paper id>     save a paper (a second save is one save)
    ds:saved:<page>        a page of /saved
    ds:unsave:<page>       select: remove the chosen saved paper
    ds:savedbib:           /saved as BibTeX (an attachment)
    ds:vote:up:<paper id>  👍 / 👎 on the alert message it is under (dn = 👎)
    ds:vote:al             select: 👍 / 👎 a paper of a several-paper alert (values up:<id>)

Pure builders: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.core.models import StoredPaper
from bot.store.personal import FollowRow
from bot.ui import actions
from bot.ui.format import inline_code, safe
from bot.ui.limits import (
    EMBED_DESCRIPTION,
    OPTION_DESCRIPTION,
    OPTION_LABEL,
    SELECT_OPTIONS,
    clamp,
    clamp_nonempty,
)
from bot.ui.views import ActionItem

COLOUR = discord.Colour.blurple()
SAVED_PER_PAGE = 5
VOTE_UP = "up"
VOTE_DOWN = "dn"


def _button(
    label: str,
    custom_id: str,
    *,
    row: int | None = None,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    disabled: bool = False,
) -> ActionItem:
    return ActionItem(
        discord.ui.Button(label=label, custom_id=custom_id, style=style, row=row, disabled=disabled)
    )


def follow_search_button(ref: str, *, row: int | None = None) -> ActionItem:
    return _button(
        "Follow this search",
        actions.named_custom_id("follow", "q" + ref),
        row=row,
        style=discord.ButtonStyle.primary,
    )


def follow_author_button(ref: str, *, row: int | None = None) -> ActionItem:
    return _button(
        "Follow",
        actions.named_custom_id("follow", "a" + ref),
        row=row,
        style=discord.ButtonStyle.primary,
    )


def save_button(paper_id: str, *, row: int | None = None, label: str = "Save") -> ActionItem:
    return _button(label, actions.named_custom_id("save", paper_id), row=row)


def vote_buttons(paper_id: str, *, row: int | None = None) -> list[ActionItem]:
    return [
        _button("👍", actions.named_custom_id("vote", f"{VOTE_UP}:{paper_id}"), row=row),
        _button("👎", actions.named_custom_id("vote", f"{VOTE_DOWN}:{paper_id}"), row=row),
    ]


def vote_select(papers: Sequence[tuple[int, str, str]], *, row: int) -> ActionItem | None:
    """A menu voting on one paper of a several-paper alert: (number, id, title) each."""
    options: list[discord.SelectOption] = []
    for n, paper_id, title in papers:
        for code, mark in ((VOTE_UP, "👍"), (VOTE_DOWN, "👎")):
            if len(options) < SELECT_OPTIONS:
                options.append(
                    discord.SelectOption(
                        label=clamp_nonempty(f"{mark} {n}. {title}", OPTION_LABEL),
                        value=f"{code}:{paper_id}",
                    )
                )
    if not options:
        return None
    return ActionItem(
        discord.ui.Select(
            custom_id=actions.named_custom_id("vote", "al"),
            placeholder="Rate a paper 👍 / 👎…",
            options=options,
            min_values=1,
            max_values=1,
            row=row,
        )
    )


def parse_vote(value: str) -> tuple[int, str] | None:
    """``up:<id>`` / ``dn:<id>`` -> (+1 / -1, id)."""
    code, _, paper_id = value.partition(":")
    if code not in (VOTE_UP, VOTE_DOWN) or not paper_id:
        return None
    return (1 if code == VOTE_UP else -1), paper_id


def votes_text(up: int, down: int) -> str:
    return f"👍 {up} · 👎 {down}"


def _when(iso: str | None) -> str:
    return iso[:16].replace("T", " ") + " UTC" if iso else "never"


def following_embed(rows: Sequence[FollowRow], *, limit: int) -> discord.Embed:
    """``/following``: each follow's state, last alert, papers sent and the member's votes."""
    embed = discord.Embed(title="Your follows", colour=COLOUR)
    if not rows:
        embed.description = (
            "You follow nothing yet. `/follow author:name` (or any `/search` query) sends you "
            "new matching papers by direct message."
        )
        return embed
    lines = []
    for row in rows:
        state = "active" if row.active else f"⏸️ paused: {safe(row.pause_reason or '')}"
        lines.append(
            f"**{row.id}** · {inline_code(clamp(row.query, 200))} · {state}\n"
            f"last alert {_when(row.last_alert_at)} · {row.alert_count} paper(s) sent · "
            f"{votes_text(row.up, row.down)}"
        )
    embed.description = clamp("\n".join(lines), EMBED_DESCRIPTION)
    embed.set_footer(text=f"{len(rows)}/{limit} follows · new papers only, by DM")
    return embed


def saved_card(
    papers: Sequence[StoredPaper], *, page: int, total: int, per: int = SAVED_PER_PAGE
) -> tuple[discord.Embed, discord.ui.View | None]:
    """A page of ``/saved`` (newest first) with Prev / Next, Remove and Export BibTeX."""
    pages = max((total + per - 1) // per, 1)
    embed = discord.Embed(title="Your saved papers", colour=COLOUR)
    if not papers:
        embed.description = "Nothing saved yet: press **Save** under a paper or an alert."
        return embed, None
    lines = []
    for n, stored in enumerate(papers, start=page * per + 1):
        p = stored.paper
        authors = ", ".join(a.display for a in p.authors[:3])
        lines.append(
            f"{n}. **{safe(clamp(p.title, 200))}** · {inline_code(p.id)}\n"
            f"{safe(clamp(authors, 200))}"
        )
    embed.description = clamp("\n".join(lines), EMBED_DESCRIPTION)
    embed.set_footer(text=f"page {page + 1}/{pages} · {total} saved")
    items: list[discord.ui.Item[Any]] = []
    options = [
        discord.SelectOption(
            label=clamp_nonempty(f"Remove {n}. {s.paper.title}", OPTION_LABEL),
            value=s.paper.id,
            description=clamp(s.paper.id, OPTION_DESCRIPTION) or None,
        )
        for n, s in enumerate(papers, start=page * per + 1)
    ]
    items.append(
        ActionItem(
            discord.ui.Select(
                custom_id=actions.named_custom_id("unsave", str(page)),
                placeholder="Remove a paper…",
                options=options[:SELECT_OPTIONS],
                min_values=1,
                max_values=1,
                row=0,
            )
        )
    )
    if pages > 1:
        items.append(
            _button(
                "◀ Prev",
                actions.named_custom_id("saved", str(max(page - 1, 0))),
                row=1,
                disabled=page <= 0,
            )
        )
        items.append(
            _button(
                "Next ▶",
                actions.named_custom_id("saved", str(min(page + 1, pages - 1))),
                row=1,
                disabled=page >= pages - 1,
            )
        )
    items.append(_button("Export BibTeX", actions.named_custom_id("savedbib", ""), row=1))
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    return embed, view
