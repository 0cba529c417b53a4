"""/stats and /help (``/latest`` lives with the other catalogue browsing, in
:mod:`bot.cogs.search`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.replies import run_within, send
from bot.ui.alerts import ALERTS_COG
from bot.ui.info import help_embed, stats_embed

if TYPE_CHECKING:
    from bot.client import DigestBot

Interaction = discord.Interaction["DigestBot"]


class Info(commands.Cog):
    """What the catalogue holds and how to use the bot."""

    def __init__(self, bot: DigestBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="stats", description="Papers, authors and digests in the catalogue; last index time"
    )
    async def stats(self, interaction: Interaction) -> None:
        stats = await run_within(interaction, self.bot.catalogue.stats())
        await send(interaction, embeds=[stats_embed(stats)])

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


async def setup(bot: DigestBot) -> None:
    await bot.add_cog(Info(bot))
