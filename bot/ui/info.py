"""Embed cards for /stats and /help: pure functions, clamped to Discord's limits."""

from __future__ import annotations

import discord

from bot.core.models import CatalogueStats
from bot.ui.format import plural, when
from bot.ui.limits import fit_embed

COLOUR = discord.Colour(0x5865F2)
MUTED = discord.Colour(0x99AAB5)


def stats_embed(stats: CatalogueStats) -> discord.Embed:
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
    return fit_embed(embed)


HELP_COMMANDS = (
    ("/search query [limit]",
     "Ranked papers for a query; ◀ Prev / Next ▶ to page, the menu opens a paper."),
    ("/paper paper", "One paper's card: authors, venue, digests, abstract, similar papers; "
     "its title links to the paper, with Abstract / PDF / DOI buttons and Cite (BibTeX). "
     "Type a title, an id, an arXiv id or a DOI and pick a suggestion."),
    ("/author name", "An author's papers, frequent co-authors and venues."),
    ("/latest", "The newest digest's papers."),
    ("/stats", "What the catalogue holds and when it was last indexed."),
    ("/follow query", "New papers for you by DM (/following, /unfollow); /saved: your Saves."),
)
HELP_SELF = (("/help", "This card."),)
# In a server with topic alerts: anyone may list them ...
HELP_ALERTS = (
    ("/subscriptions [channel]", "This server's topic alerts: active or paused, last alert."),
)
# ... those with Manage Channels may change them ...
HELP_MODERATOR = (
    ("/subscribe query [channel]", "Post new papers matching a query in a channel (a topic "
     "alert; also the Subscribe button under /search)."),
    ("/unsubscribe subscription", "Remove one of this server's topic alerts."),
)
# ... and the bot's owners may reindex.
HELP_OWNER = (
    ("/reindex", "Re-read the digest folder now (the bot's owners)."),
)

HELP_QUERY = (
    ("`scaling laws`", "papers with all the words, best first (`scaling` also finds `scale`)"),
    ('`"feature learning"`', "the exact phrase"),
    ("`author:barbier`", 'by author; accents, order and initials don\'t matter: '
     '`author:"J. Barbier"`'),
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
