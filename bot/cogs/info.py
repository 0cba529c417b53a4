"""/stats, /trend and /help (``/latest`` lives with the other catalogue browsing, in
:mod:`bot.cogs.search`).

Charts are drawn in a worker thread (:mod:`bot.ui.charts`), attached as PNG files and shown
in the embed (``attachment://…``) with their one-line summary as alt text. /stats' chart is
kept for the catalogue version it was drawn for.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.query import MAX_QUERY_LENGTH
from bot.errors import UserFacingError, check_query
from bot.replies import run_within, send
from bot.ui.alerts import ALERTS_COG
from bot.ui.charts import DIGESTS_FILE, TREND_FILE, render_digests, render_trend
from bot.ui.info import (
    alt_text,
    digests_summary,
    help_embed,
    stats_embed,
    trend_embed,
    trend_summary,
)
from bot.ui.limits import UPLOAD_BYTES

if TYPE_CHECKING:
    from bot.client import DigestBot
    from bot.core.models import CatalogueStats
    from bot.core.trend import Trend

Interaction = discord.Interaction["DigestBot"]


class Info(commands.Cog):
    """What the catalogue holds and how to use the bot."""

    def __init__(self, bot: DigestBot) -> None:
        self.bot = bot
        self._digests_chart: tuple[int, bytes, str] | None = None  # (version, PNG, alt text)

    @app_commands.command(
        name="stats", description="Papers, authors and digests in the catalogue; last index time"
    )
    async def stats(self, interaction: Interaction) -> None:
        async def work() -> tuple[CatalogueStats, bytes, str]:
            stats = await self.bot.catalogue.stats()
            cached = self._digests_chart
            if cached is not None and cached[0] == stats.version:
                return stats, cached[1], cached[2]
            trend = await self.bot.catalogue.digest_trend()
            png = await asyncio.to_thread(render_digests, trend.points, "Papers per digest date")
            summary = digests_summary(trend)
            self._digests_chart = (stats.version, png, summary)
            return stats, png, summary

        stats, png, summary = await run_within(interaction, work())
        files = _chart(png, DIGESTS_FILE, summary)
        embed = stats_embed(stats, chart=DIGESTS_FILE if files else None)
        await send(interaction, embeds=[embed], files=files)

    @app_commands.command(
        name="trend", description="A chart of the papers matching a query in each digest"
    )
    @app_commands.describe(query="What to chart, in the /search query language")
    async def trend(
        self, interaction: Interaction, query: app_commands.Range[str, 1, MAX_QUERY_LENGTH]
    ) -> None:
        text = " ".join(query.split())
        check_query(text)

        async def work() -> tuple[Trend, bytes]:
            trend = await self.bot.catalogue.trend(text)
            if not trend.papers:
                return trend, b""
            png = await asyncio.to_thread(render_trend, trend, f"Trend: {text}")
            return trend, png

        trend, png = await run_within(interaction, work())
        if not trend.papers:
            raise UserFacingError(
                "No papers match that query, so there is nothing to chart. "
                "Try fewer words; `/help` shows the query language."
            )
        summary = trend_summary(text, trend)
        files = _chart(png, TREND_FILE, summary)
        embed = trend_embed(text, trend, TREND_FILE if files else None)
        await send(interaction, embeds=[embed], files=files)

    @app_commands.command(name="help", description="The commands and the query language")
    async def help(self, interaction: Interaction) -> None:
        """Every command the member can use here: alerts for those who manage the channel,
        /reindex for the bot's owners."""
        in_server = interaction.guild_id is not None
        alerts = in_server and self.bot.get_cog(ALERTS_COG) is not None
        perms = interaction.permissions
        moderator = alerts and (perms.administrator or perms.manage_channels)
        owner = self.bot.get_cog("Admin") is not None and await self.bot.is_owner_id(
            interaction.user.id
        )
        embed = help_embed(alerts=alerts, moderator=moderator, owner=owner)
        await send(interaction, embeds=[embed], ephemeral=True)


def _chart(png: bytes, filename: str, summary: str) -> list[discord.File]:
    """The chart as an attachment with its summary as alt text; none over the upload limit
    (then the card goes without its picture)."""
    if not png or len(png) > UPLOAD_BYTES:
        return []
    return [discord.File(io.BytesIO(png), filename=filename, description=alt_text(summary))]


async def setup(bot: DigestBot) -> None:
    await bot.add_cog(Info(bot))
