"""Alert messages, subscription lists and the /reindex answer: builders of Discord objects
(embeds, views) and message text, clamped to Discord's limits; no I/O.

An alert message is one channel message with up to 10 paper cards: ``"3 new papers for
`scaling laws`"``. Every card is budgeted so that ten of them always fit in Discord's
6,000-character limit across a message's embeds; :func:`bot.ui.limits.fit_message` is the
safety net. Each card's title links to the paper when an identifier is known; under the
message, :func:`alert_view` puts the papers' link buttons and an Open control for the full
card (numbered like the cards when the message has several). Digest text is escaped with
:func:`bot.ui.format.safe`, and a topic (a query a member typed) is shown as inline code
with its backticks removed and mentions broken.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import discord

from bot.core.models import Paper
from bot.ui.format import (
    neutralise_mentions,
    plain,
    plural,
    safe,
    safe_clamped,
    short_authors,
    when,
)
from bot.ui.limits import (
    ACTION_ROWS,
    BUTTONS_PER_ROW,
    EMBED_DESCRIPTION,
    EMBED_TOTAL,
    EMBEDS_PER_MESSAGE,
    FIELD_VALUE,
    MESSAGE_CONTENT,
    clamp,
    dlen,
    fit_content,
    fit_message,
)
from bot.ui.links import link_buttons, title_url
from bot.ui.personal import save_button, vote_buttons, vote_select
from bot.ui.views import Choice, action_button, open_select, view_of

ALERT_COLOUR = discord.Colour(0x2B8A3E)
PAUSED_COLOUR = discord.Colour(0xC92A2A)
INFO_COLOUR = discord.Colour(0x1971C2)

PAPERS_PER_MESSAGE = EMBEDS_PER_MESSAGE
# Each card's title + description + footer stays under this, so ten cards fit in 6,000.
CARD_BUDGET = (EMBED_TOTAL - 60) // PAPERS_PER_MESSAGE
_TITLE_ROOM = 160
_FOOTER_ROOM = 70
TOPIC_ROOM = 120  # one topic shown in content, before clamping


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One paper of an alert message and the topics (subscription queries) it matched."""

    paper: Paper
    topics: tuple[str, ...]


def topic_code(query: str, limit: int = TOPIC_ROOM) -> str:
    """A topic as inline code that nothing can break out of (no backticks, no mentions)."""
    cleaned = " ".join(query.replace("`", "'").split()) or "?"
    return "`" + neutralise_mentions(clamp(cleaned, limit)) + "`"


def topics_phrase(topics: Sequence[str], limit: int = 1500) -> str:
    """```a``, ``b`` and ``c``` — as many topics as fit in ``limit``, then "and N more"."""
    unique = list(dict.fromkeys(topics))
    if not unique:
        return "your topics"
    shown: list[str] = []
    for index, topic in enumerate(unique):
        candidate = [*shown, topic_code(topic)]
        rest = len(unique) - index - 1
        text = _join_and(candidate, rest)
        if dlen(text) > limit and shown:
            return _join_and(shown, len(unique) - len(shown))
        shown = candidate
    return _join_and(shown, 0)


def _join_and(parts: Sequence[str], more: int) -> str:
    if more:
        return ", ".join(parts) + f" and {plural(more, 'more topic')}"
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def alert_content(items: Sequence[AlertItem]) -> str:
    """``"3 new papers for `scaling laws`"`` (every topic of the message, once)."""
    topics = [topic for item in items for topic in item.topics]
    count = len(items)
    head = f"{plural(count, 'new paper')} for "
    return fit_content(head + topics_phrase(topics, MESSAGE_CONTENT - dlen(head) - 10))


def alert_card(
    item: AlertItem, *, name_topics: bool, budget: int = CARD_BUDGET, number: int | None = None
) -> discord.Embed:
    """A compact paper card of at most ``budget`` characters (title + description + footer);
    ``number`` prefixes its title when a message holds several (its buttons say the same)."""
    paper = item.paper
    prefix = f"{number}. " if number is not None else ""
    title = prefix + safe_clamped(paper.title or "Untitled", _TITLE_ROOM - len(prefix))
    footer = f"id {paper.id} · /paper {paper.id}"
    if name_topics and item.topics:
        footer += " · " + ", ".join(" ".join(t.split()) for t in item.topics)
    footer = clamp(footer, _FOOTER_ROOM)
    room = max(budget - dlen(title) - dlen(footer), 40)
    names = [a.display for a in paper.authors] or ([paper.authors_raw] if paper.authors_raw else [])
    lines = [short_authors(names)]
    if paper.venue:
        lines.append("*" + safe(paper.venue) + "*")
    head = "\n".join(lines)
    description = clamp(head, room)
    left = room - dlen(description) - 2
    if paper.abstract and left > 40:
        description += "\n\n" + safe_clamped(paper.abstract, left)
    embed = discord.Embed(
        title=title, description=description, colour=ALERT_COLOUR, url=title_url(paper)
    )
    embed.set_footer(text=footer)
    return embed


def alert_message(items: Sequence[AlertItem]) -> tuple[str, list[discord.Embed]]:
    """The content and cards of one alert message (the first 10 items)."""
    items = list(items)[:PAPERS_PER_MESSAGE]
    distinct_topics = {topic for item in items for topic in item.topics}
    name_topics = len(distinct_topics) > 1
    numbered = len(items) > 1
    embeds = [
        alert_card(item, name_topics=name_topics, number=n if numbered else None)
        for n, item in enumerate(items, start=1)
    ]
    return alert_content(items), fit_message(embeds)


def alert_view(items: Sequence[AlertItem]) -> discord.ui.View | None:
    """The components under an alert message (the first 10 items).

    One paper: its link buttons (Abstract / PDF / DOI, or a title search) and **Open** (its
    full card, privately). Several: a menu opening any paper's full card, then each paper's
    link buttons numbered like the cards ("2 · PDF"): a row per paper up to four papers,
    else as many per paper as fit in the three rows left (15 buttons); a menu to vote 👍 / 👎
    on any paper (one paper: **Save**, 👍, 👎 buttons; several: Save is on the Open card).
    """
    items = list(items)[:PAPERS_PER_MESSAGE]
    if not items:
        return None
    if len(items) == 1:
        paper = items[0].paper
        return view_of(
            [
                *link_buttons(paper, row=0),
                action_button("Open", "view", paper.id, row=0),
                save_button(paper.id, row=1),
                *vote_buttons(paper.id, row=1),
            ]
        )
    choices = [
        Choice(
            value=item.paper.id,
            label=_plain_label(f"{n}. {item.paper.title}"),
            description=_plain_label(
                f"{item.paper.id} · " + ", ".join(a.display for a in item.paper.authors[:3])
            ),
        )
        for n, item in enumerate(items, start=1)
    ]
    out: list[discord.ui.Item[Any]] = []
    menu = open_select("alert", choices, placeholder="Open a paper's full card…", row=0)
    if menu is not None:
        out.append(menu)
    votes = vote_select(
        [
            (n, item.paper.id, _plain_label(item.paper.title))
            for n, item in enumerate(items, start=1)
        ],
        row=1,
    )
    if votes is not None:
        out.append(votes)
    rows = ACTION_ROWS - 2
    room = rows * BUTTONS_PER_ROW
    each = BUTTONS_PER_ROW if len(items) <= rows else max(room // len(items), 1)
    buttons: list[discord.ui.Button[Any]] = []
    for n, item in enumerate(items, start=1):
        mine = link_buttons(item.paper, prefix=f"{n} · ", limit=min(each, 3))
        if len(items) <= rows:
            for button in mine:
                button.row = n + 1  # one row per paper
            out.extend(mine)
        else:
            buttons.extend(mine)
    for index, button in enumerate(buttons[:room]):
        button.row = 2 + index // BUTTONS_PER_ROW
        out.append(button)
    return view_of(out)


def _plain_label(text: str) -> str:
    return clamp(" ".join(text.split()), 100) or "—"


@dataclass(frozen=True, slots=True)
class SubscriptionLine:
    """What ``/subscriptions`` shows about one subscription."""

    id: int
    channel_id: int
    query: str
    active: bool
    pause_reason: str | None
    last_alert_at: str | None
    alert_count: int
    pending: int
    created_at: str
    votes: tuple[int, int] | None = None  # (👍, 👎) from members' votes on its alerts


def subscriptions_embed(
    lines: Sequence[SubscriptionLine],
    *,
    last_reindexed_at: str | None,
    scope: str,
    max_lines: int = 20,
) -> discord.Embed:
    """The ``/subscriptions`` answer: one field per subscription, newest catalogue time."""
    paused = any(not line.active for line in lines)
    embed = discord.Embed(
        title=clamp(f"Topic subscriptions — {scope}", 256),
        colour=PAUSED_COLOUR if paused else INFO_COLOUR,
    )
    reindexed = when(last_reindexed_at, "R") if last_reindexed_at else "never"
    if not lines:
        embed.description = (
            "No subscriptions yet. Use `/subscribe` with a query (the same language as "
            f"`/search`).\nCatalogue last reindexed: {reindexed}."
        )
        return embed
    embed.description = f"Catalogue last reindexed: {reindexed}."
    for line in list(lines)[:max_lines]:
        name = clamp(f"#{line.id} · " + neutralise_mentions(plain(line.query)), 256)
        if line.active:
            state = "**active**"
        else:
            state = "**paused** — " + safe(line.pause_reason or "paused")
            state += "\nRun `/subscribe` with the same query to resume."
        last = when(line.last_alert_at, "R") if line.last_alert_at else "no alert yet"
        value = (
            f"<#{line.channel_id}> · {state}\n"
            f"{plural(line.alert_count, 'paper')} alerted · last: {last}"
            f" · since {when(line.created_at, 'D')}"
        )
        if line.votes is not None:
            value += f" · 👍 {line.votes[0]} · 👎 {line.votes[1]}"
        if line.pending:
            value += f"\n{plural(line.pending, 'paper')} waiting to be sent"
        embed.add_field(name=name, value=clamp(value, FIELD_VALUE), inline=False)
    if len(lines) > max_lines:
        embed.set_footer(text=f"{len(lines) - max_lines} more not shown; pick a channel to narrow.")
    return fit_message([embed])[0]


def subscribe_embed(
    query: str,
    channel_id: int,
    *,
    matches_today: int,
    top: Sequence[Paper],
    resumed: bool = False,
) -> discord.Embed:
    """The ``/subscribe`` confirmation: the preview and "starts from now"."""
    verb = "Resumed" if resumed else "Subscribed"
    embed = discord.Embed(
        title=clamp(f"{verb}: " + neutralise_mentions(plain(query)), 256),
        colour=ALERT_COLOUR,
    )
    parts = [
        f"<#{channel_id}> will get new papers matching {topic_code(query)}.",
        "It starts from now: only papers first seen by a reindex after this moment are "
        "alerted; papers already in the catalogue are not re-sent.",
        "",
        f"Today the catalogue has {plural(matches_today, 'matching paper')}"
        + (" — the top ones:" if top else "."),
    ]
    for paper in list(top)[:3]:
        parts.append(f"• {safe_clamped(paper.title, 200)} (`{paper.id}`)")
    embed.description = clamp("\n".join(parts), EMBED_DESCRIPTION)
    return fit_message([embed])[0]


def reindex_message(summary: str, *, alerts_queued: int, head: str = "Reindex done.") -> str:
    """``/reindex``'s answer: the summary text (:func:`bot.ui.reindex.summary`, the CLI's
    too) in a code block (trimmed to fit 2,000 characters, saying how many lines were left
    out), and the alerts queued."""
    lines = summary.replace("`", "'").splitlines()
    if not any(line.startswith("Alerts queued") for line in lines):
        lines.insert(min(2, len(lines)), f"Alerts queued: {alerts_queued}")
    room = MESSAGE_CONTENT - dlen(head) - 60
    shown: list[str] = []
    used = 0
    for index, raw in enumerate(lines):
        line = clamp(raw, 300)
        if used + dlen(line) + 1 > room:
            shown.append(f"... {len(lines) - index} more line(s): see `digest-bot reindex`")
            break
        shown.append(line)
        used += dlen(line) + 1
    fence = "`" * 3
    return fit_content(head + "\n" + fence + "\n" + "\n".join(shown) + "\n" + fence)


ALERTS_COG = "Alerts"  # the cog's name: bot.get_cog(ALERTS_COG)
