"""Embed cards for /stats, /trend and /help: pure functions, clamped to Discord's limits."""

from __future__ import annotations

import discord

from bot.core.models import CatalogueStats
from bot.core.trend import Trend
from bot.ui.format import plain, plural, safe, when
from bot.ui.limits import ATTACHMENT_DESCRIPTION, ELLIPSIS, fit_embed

COLOUR = discord.Colour(0x5865F2)
MUTED = discord.Colour(0x99AAB5)


def stats_embed(stats: CatalogueStats, chart: str | None = None) -> discord.Embed:
    """The /stats card; ``chart``: the file name of an attached chart of papers per digest."""
    embed = discord.Embed(title="Catalogue", colour=COLOUR)
    embed.add_field(name="Papers", value=f"{stats.papers:,}", inline=True)
    embed.add_field(name="Authors", value=f"{stats.authors:,}", inline=True)
    embed.add_field(name="Digests", value=f"{stats.digests:,}", inline=True)
    if stats.removed_papers:
        embed.add_field(
            name="Gone from the folder",
            value=f"{plural(stats.removed_papers, 'paper')} (kept; ids stay valid)",
            inline=True,
        )
    last = (
        f"{when(stats.last_indexed_at, 'f')} ({when(stats.last_indexed_at, 'R')})"
        if stats.last_indexed_at
        else "never"
    )
    embed.add_field(name="Last indexed", value=last, inline=False)
    embed.set_footer(text=f"catalogue version {stats.version}")
    if chart:
        embed.set_image(url=f"attachment://{chart}")
    return fit_embed(embed)


def trend_summary(query: str, trend: Trend) -> str:
    """One line saying what the /trend chart shows, as plain text (for screen readers: the
    image's alt text; the embed shows it escaped)."""
    head = f"{plural(trend.papers, 'paper')} match “{plain(query)}”"
    if not trend.points:
        return head + "; no digest has a date."
    first, last = trend.points[0].day, trend.points[-1].day
    span = f"{first}" if first == last else f"{first} to {last}"
    dates = plural(len(trend.points), "digest date")
    line = f"{head}: found on {trend.active:,} of {dates} ({span})"
    peak = trend.peak
    if peak is not None:
        line += f"; most on {peak.day} ({peak.count:,})"
    if trend.venues:
        line += "; top venues: " + ", ".join(f"{v} ({n:,})" for v, n in trend.venues)
    return line + "."


def alt_text(text: str) -> str:
    """``text`` cut to an attachment description's limit."""
    if len(text) <= ATTACHMENT_DESCRIPTION:
        return text
    return text[: ATTACHMENT_DESCRIPTION - 1] + ELLIPSIS


def digests_summary(trend: Trend) -> str:
    """One line saying what the /stats chart shows."""
    if not trend.points:
        return "No dated digest yet."
    first, last = trend.points[0].day, trend.points[-1].day
    return (
        f"Papers per digest date, {first} to {last}: "
        f"{plural(len(trend.points), 'date')}, at most {max(p.count for p in trend.points):,}."
    )


def trend_embed(query: str, trend: Trend, chart: str | None) -> discord.Embed:
    """The /trend card: the one-line summary, the chart (attached as ``chart``)."""
    embed = discord.Embed(
        title=f"Trend: {plain(query)}",
        description=safe(trend_summary(query, trend)),
        colour=COLOUR,
    )
    if chart:
        embed.set_image(url=f"attachment://{chart}")
    embed.set_footer(
        text="Matching papers in each digest, by digest date (a paper in two digests counts "
        "in both); venues count each paper once."
    )
    return fit_embed(embed)


HELP_COMMANDS = (
    (
        "/search query [limit]",
        "Ranked papers for a query; ◀ Prev / Next ▶ to page, the menu opens a paper.",
    ),
    (
        "/paper paper",
        "One paper's card: authors, venue, digests, abstract, similar papers; "
        "its title links to the paper, with Abstract / PDF / DOI buttons and Cite (BibTeX). "
        "Type a title, id, arXiv id or DOI.",
    ),
    ("/author name", "An author's papers, frequent co-authors and venues."),
    ("/latest", "The newest digest's papers."),
    ("/stats", "Catalogue counts, last index, papers per digest."),
    ("/trend query", "A query's papers per digest (chart)."),
    ("/follow query", "New papers for you by DM (/following, /unfollow); /saved: your Saves."),
)
HELP_SELF = (("/help", "This card."),)
# In a server with topic alerts: anyone may list them ...
HELP_ALERTS = (
    ("/subscriptions [channel]", "This server's topic alerts: active or paused, last alert."),
)
# ... those with Manage Channels may change them ...
HELP_MODERATOR = (
    (
        "/subscribe query [channel]",
        "Post new papers matching a query in a channel (a topic "
        "alert; also the Subscribe button under /search).",
    ),
    ("/unsubscribe subscription", "Remove one of this server's topic alerts."),
)
# ... and the bot's owners may reindex.
HELP_OWNER = (("/reindex", "Re-read the digest folder now (the bot's owners)."),)

HELP_QUERY = (
    ("`scaling laws`", "papers with all the words, best first (`scaling` also finds `scale`)"),
    ('`"feature learning"`', "the exact phrase"),
    (
        "`author:barbier`",
        'by author; accents, order and initials don\'t matter: `author:"J. Barbier"`',
    ),
    ("`venue:neurips`", "by venue (name words, acronym or alias)"),
    ("`-chemistry`", 'leave out; also `-"a phrase"`, `-author:x`, `-venue:x`'),
)

HELP_EXAMPLES = (
    "`/search query: feature learning author:barbier`",
    '`/search query: "scaling laws" -chemistry limit: 10`',
    "`/search query: venue:neurips benchmark`",
)


def help_embed(
    *, alerts: bool = False, moderator: bool = False, owner: bool = False
) -> discord.Embed:
    """The /help card: the commands this member can use here (``alerts``: a server with
    topic alerts; ``moderator``: Manage Channels there; ``owner``: one of the bot's owners)."""
    commands = list(HELP_COMMANDS)
    if alerts:
        commands += HELP_ALERTS
    if moderator:
        commands += HELP_MODERATOR
    if owner:
        commands += HELP_OWNER
    commands += HELP_SELF
    embed = discord.Embed(
        title="digest-bot — search the research digest",
        description=(
            "Every answer is built from the digest files the bot indexes. Mistakes get a "
            "private answer saying what to change."
        ),
        colour=COLOUR,
    )
    embed.add_field(
        name="Commands",
        value="\n".join(f"**{name}** — {text}" for name, text in commands),
        inline=False,
    )
    embed.add_field(
        name="Query language",
        value="\n".join(f"{syntax} — {text}" for syntax, text in HELP_QUERY),
        inline=False,
    )
    embed.add_field(name="Examples", value="\n".join(HELP_EXAMPLES), inline=False)
    embed.set_footer(
        text="Queries: up to 300 characters; terms can be combined freely. "
        "Paper ids are 8 characters, e.g. from a search result."
    )
    return fit_embed(embed)
