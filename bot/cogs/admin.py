"""/reindex: the bot's owners re-read the digest folder now.

Reindexing is global (every server sees the catalogue), so it is for the bot's owners --
``OWNER_IDS``, or the application's owner / team -- checked in code; anyone else gets an
ephemeral refusal. The work runs through :meth:`bot.cogs.alerts.Alerts.reindex` (parsing in
a thread, one transaction with the alert hook, the index swapped in one assignment), the
reply shows progress while it runs, and the answer is the CLI's own summary
(:func:`bot.ui.reindex.summary`) plus the number of alerts queued. The delivery worker is
kicked right after.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.models import ProgressFn, ReindexReport
from bot.errors import UserFacingError
from bot.ui.alerts import ALERTS_COG, reindex_message
from bot.ui.format import plural
from bot.ui.reindex import PHASES, summary

if TYPE_CHECKING:
    from bot.client import DigestBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["DigestBot"]

PROGRESS_EVERY_S = 2.0  # edit the reply at most this often while reindexing
NOT_OWNER = (
    "Only the bot's owners can reindex: it changes the catalogue for every server. "
    "Ask them, or wait for the next automatic reindex."
)
_STAGES = {"import": "importing feeds"} | {stage: label for stage, (label, _unit) in PHASES.items()}


@runtime_checkable
class Reindexer(Protocol):
    """What /reindex needs of the Alerts cog (:class:`bot.cogs.alerts.Alerts`)."""

    @property
    def reindexing(self) -> bool: ...

    async def reindex(self, *, progress: ProgressFn | None = None) -> ReindexReport: ...


class Progress:
    """The latest (stage, done, total) a reindex reported, and whether it was shown."""

    def __init__(self) -> None:
        self.stage = ""
        self.done = 0
        self.total = 0
        self.version = 0
        self.shown = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total
        self.version += 1

    def text(self, started: float) -> str:
        what = _STAGES.get(self.stage, self.stage or "starting")
        count = f" {self.done:,}/{self.total:,}" if self.total else ""
        return f"Reindexing… {what}{count} ({time.monotonic() - started:.0f} s)"


class Admin(commands.Cog):
    """Owner-only maintenance."""

    def __init__(self, bot: DigestBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="reindex", description="Re-read the digest folder now (the bot's owners only)"
    )
    async def reindex(self, interaction: Interaction) -> None:
        if not await self.bot.is_owner_id(interaction.user.id):
            log.info("/reindex refused for user %s (not an owner)", interaction.user.id)
            raise UserFacingError(NOT_OWNER)
        alerts = self.bot.get_cog(ALERTS_COG)
        if not isinstance(alerts, Reindexer):
            raise UserFacingError("Reindexing is not available right now; try again shortly.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        started = time.monotonic()
        progress = Progress()
        if alerts.reindexing:
            await self._edit(interaction, "Waiting for the reindex already running…")
        job = asyncio.ensure_future(alerts.reindex(progress=progress))
        try:
            while True:
                done, _ = await asyncio.wait({job}, timeout=PROGRESS_EVERY_S)
                if done:
                    break
                if progress.version != progress.shown:
                    progress.shown = progress.version
                    await self._edit(interaction, progress.text(started))
            report = job.result()
        except Exception:
            log.exception("/reindex failed")
            await self._edit(
                interaction,
                "The reindex failed; nothing was changed (it has been logged). "
                "Run `digest-bot reindex` on the server to see the error.",
            )
            return
        log.info(
            "/reindex by %s: %d added, %d updated, %d gone, %s queued",
            interaction.user.id,
            report.added,
            report.updated,
            report.removed,
            plural(report.alerts_queued, "alert"),
        )
        head = "Reindex done." if report.applied else "Reindex not applied: nothing was changed."
        text = summary(report, self.bot.settings.digest_dir)
        await self._edit(
            interaction, reindex_message(text, alerts_queued=report.alerts_queued, head=head)
        )

    @staticmethod
    async def _edit(interaction: Interaction, text: str) -> None:
        try:
            await interaction.edit_original_response(content=text)
        except discord.HTTPException as exc:
            log.warning("could not edit the /reindex reply: %s", exc)


async def setup(bot: DigestBot) -> None:
    await bot.add_cog(Admin(bot))
