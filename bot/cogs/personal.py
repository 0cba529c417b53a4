"""A member's own things: /follow /following /unfollow, /saved, Save and 👍 / 👎 buttons.

* A follow is a personal subscription delivered by DM (:mod:`bot.store.personal`): the same
  matcher, outbox and delivery worker as channel alerts. No permission is needed.
* Follows paused because the member's DMs are closed leave a notice: the member is told
  privately right after the next command they use (:meth:`Personal.on_interaction`).
* Save / ``/saved`` / Remove / Export BibTeX; votes on alert messages (one per member per
  paper per subscription, clicking the same vote again removes it).
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.bibtex import entries
from bot.core.digests import digest_year
from bot.core.models import StoredPaper
from bot.core.query import parse_query
from bot.errors import ExpiredError, UserFacingError, check_query
from bot.replies import run_within, send
from bot.store.alerts import AlertStore
from bot.store.personal import FollowError, FollowRow, PersonalStore
from bot.ui import actions
from bot.ui.actions import Action, NamedAction
from bot.ui.format import inline_code
from bot.ui.personal import SAVED_PER_PAGE, following_embed, parse_vote, saved_card

if TYPE_CHECKING:
    from bot.client import DigestBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["DigestBot"]

NOTICE_WAIT_S = 10.0  # how long the notice waits for the command's own answer
THANKS = "Thanks — noted"
KINDS = actions.NAMED_KINDS


def _created_text(status: str, row: FollowRow, resumed: int) -> str:
    more = f" ({resumed} paused follow(s) resumed too)" if resumed else ""
    if status == "created":
        return (
            f"Following {inline_code(row.query)}: new matching papers come to you by "
            f"direct message, starting from now{more}. `/following` lists your follows."
        )
    if status == "resumed":
        return f"Resumed {inline_code(row.query)}{more}: new papers come by DM again."
    return f"You already follow {inline_code(row.query)}{more}."


class Personal(commands.Cog):
    """Follows, saved papers and votes."""

    def __init__(self, bot: DigestBot) -> None:
        self.bot = bot
        self.store = PersonalStore(bot.catalogue.db, AlertStore(bot.catalogue.db))

    async def cog_load(self) -> None:
        for kind in KINDS:
            self.bot.register_action(kind, self._action)

    async def cog_unload(self) -> None:
        for kind in KINDS:
            self.bot.unregister_action(kind)

    # ------------------------------------------------------------------ the notice
    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """After a command's own answer, tell a member whose follows were paused, privately."""
        if interaction.type is not discord.InteractionType.application_command:
            return
        try:
            if not await self.store.has_notice(interaction.user.id):
                return
            loop = asyncio.get_running_loop()
            until = loop.time() + NOTICE_WAIT_S
            while not interaction.response.is_done() and loop.time() < until:
                await asyncio.sleep(0.05)
            if not interaction.response.is_done():
                return  # keep the notice for the next command
            notice = await self.store.take_notice(interaction.user.id)
            if notice:
                await interaction.followup.send(notice, ephemeral=True)
        except discord.HTTPException:
            log.warning(
                "could not tell member %s about paused follows", interaction.user.id, exc_info=True
            )

    # ------------------------------------------------------------------ follows
    async def _follow(self, interaction: Interaction, query: str) -> None:
        text = " ".join(query.split())
        check_query(text)  # the same answers as /search
        guild_id = interaction.guild_id
        try:
            result = await run_within(
                interaction,
                self.store.follow(
                    user_id=interaction.user.id,
                    guild_id=guild_id,
                    query=text,
                    max_follows=self.bot.settings.max_follows_per_user,
                ),
                ephemeral=True,
            )
        except FollowError as exc:
            raise UserFacingError(str(exc)) from None
        await send(
            interaction,
            content=_created_text(result.status, result.follow, result.resumed_others),
            ephemeral=True,
        )

    @app_commands.command(
        name="follow", description="New papers matching a query, sent to you by DM"
    )
    @app_commands.describe(query='Like /search: author:name, words, "a phrase", venue:x')
    async def follow(self, interaction: Interaction, query: str) -> None:
        await self._follow(interaction, query)

    @app_commands.command(name="following", description="Your follows, their state and votes")
    async def following(self, interaction: Interaction) -> None:
        rows = await run_within(
            interaction, self.store.follows(interaction.user.id), ephemeral=True
        )
        embed = following_embed(rows, limit=self.bot.settings.max_follows_per_user)
        await send(interaction, embeds=[embed], ephemeral=True)

    @app_commands.command(name="unfollow", description="Stop following a query")
    @app_commands.describe(follow="Start typing; pick one of your follows")
    async def unfollow(self, interaction: Interaction, follow: str) -> None:
        rows = await self.store.follows(interaction.user.id)
        wanted = follow.strip()
        found = next((r for r in rows if str(r.id) == wanted), None) or next(
            (r for r in rows if r.query.casefold() == wanted.casefold()), None
        )
        if found is None:
            raise UserFacingError(
                f"You don't follow {inline_code(wanted)}. `/following` lists your follows."
            )
        gone = await self.store.unfollow(interaction.user.id, found.id)
        if gone is None:
            raise UserFacingError("That follow is already gone.")
        await send(
            interaction, content=f"Stopped following {inline_code(gone.query)}.", ephemeral=True
        )

    @unfollow.autocomplete("follow")
    async def _unfollow_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        rows = await self.store.follows(interaction.user.id)
        typed = current.casefold().strip()
        return [
            app_commands.Choice(
                name=(f"{r.query}" + ("" if r.active else " (paused)"))[:100], value=str(r.id)
            )
            for r in rows
            if typed in r.query.casefold()
        ][:25]

    # ------------------------------------------------------------------ /saved
    @app_commands.command(name="saved", description="Your saved papers (private to you)")
    async def saved(self, interaction: Interaction) -> None:
        await self._show_saved(interaction, 0, edit=False)

    async def _show_saved(self, interaction: Interaction, page: int, *, edit: bool) -> None:
        user = interaction.user.id

        async def work() -> tuple[list[StoredPaper], int, int]:
            listing = await self.store.saved(
                user, offset=page * SAVED_PER_PAGE, limit=SAVED_PER_PAGE
            )
            shown = page
            if listing.total and not listing.paper_ids:
                shown = (listing.total - 1) // SAVED_PER_PAGE
                listing = await self.store.saved(
                    user, offset=shown * SAVED_PER_PAGE, limit=SAVED_PER_PAGE
                )
            found = await self.bot.catalogue.store.get_papers(listing.paper_ids)
            return [found[i] for i in listing.paper_ids if i in found], listing.total, shown

        papers, total, shown = await run_within(interaction, work(), ephemeral=True)
        embed, view = saved_card(papers, page=shown, total=total)
        if edit and not interaction.response.is_done():
            if view is None:
                await interaction.response.edit_message(embed=embed, view=None)
            else:
                await interaction.response.edit_message(embed=embed, view=view)
            return
        await send(interaction, embeds=[embed], view=view, ephemeral=True)

    # ------------------------------------------------------------------ components
    async def _action(self, interaction: Interaction, action: Action, values: list[str]) -> None:
        assert isinstance(action, NamedAction)
        name, arg = action.name, action.arg
        if name == "follow":
            await self._follow(interaction, await self._follow_query(arg))
        elif name == "save":
            done = await run_within(
                interaction, self.store.save(interaction.user.id, arg), ephemeral=True
            )
            if done is None:
                raise UserFacingError(f"The paper {inline_code(arg)} is no longer here.")
            await send(
                interaction,
                ephemeral=True,
                content=(
                    f"Saved {inline_code(arg)}. `/saved` lists your saved papers."
                    if done
                    else f"{inline_code(arg)} is already saved. `/saved` lists your saved papers."
                ),
            )
        elif name == "saved":
            await self._show_saved(interaction, _page(arg), edit=True)
        elif name == "unsave":
            for paper_id in values:
                await self.store.unsave(interaction.user.id, paper_id)
            await self._show_saved(interaction, _page(arg), edit=True)
        elif name == "savedbib":
            await self._export(interaction)
        elif name == "vote":
            await self._vote(interaction, values[0] if arg == "al" and values else arg)
        else:  # pragma: no cover - only registered kinds arrive
            raise ExpiredError(name)

    async def _follow_query(self, arg: str) -> str:
        kind, ref = arg[:1], arg[1:]
        text = actions.inline_text(ref)
        if text is None:
            text = await self.bot.catalogue.store.get_meta(actions.ref_meta_key(ref))
        if not text:
            raise ExpiredError(arg)
        if kind == "q":
            return text
        if kind == "a":
            profile = await self.bot.catalogue.author(text, offset=0, limit=1)
            if profile is None:
                raise UserFacingError("That author is no longer in the catalogue.")
            name = profile.name.replace('"', "")
            query = f'author:"{name}"'
            parse_query(query)
            return query
        raise ExpiredError(arg)

    async def _export(self, interaction: Interaction) -> None:
        user = interaction.user.id

        async def work() -> str:
            listing = await self.store.saved(user, offset=0, limit=10_000)
            found = await self.bot.catalogue.store.get_papers(listing.paper_ids)
            papers = [found[i] for i in listing.paper_ids if i in found]
            return "\n".join(entries((s.paper, digest_year(s.digests)) for s in papers))

        text = await run_within(interaction, work(), ephemeral=True)
        if not text:
            raise UserFacingError("Nothing saved yet.")
        data = text.encode("utf-8")
        file = discord.File(io.BytesIO(data), filename="saved.bib")
        if interaction.response.is_done():
            await interaction.followup.send(
                "Your saved papers as BibTeX.", file=file, ephemeral=True
            )
        else:
            await interaction.response.send_message(
                "Your saved papers as BibTeX.", file=file, ephemeral=True
            )

    async def _vote(self, interaction: Interaction, value: str) -> None:
        parsed = parse_vote(value)
        message = interaction.message
        if parsed is None or message is None:
            raise ExpiredError(value)
        vote, paper_id = parsed
        sign: Literal[1, -1] = 1 if vote > 0 else -1
        outcome = await run_within(
            interaction,
            self.store.vote(
                user_id=interaction.user.id,
                message_id=message.id,
                paper_id=paper_id,
                vote=sign,
            ),
            ephemeral=True,
        )
        if outcome.status == "unknown":
            raise UserFacingError("I have no record of this alert any more.")
        suffix = " (vote removed)" if outcome.status == "removed" else ""
        await send(interaction, content=THANKS + suffix, ephemeral=True)


def _page(arg: str) -> int:
    try:
        return max(int(arg), 0)
    except ValueError:
        raise ExpiredError(arg) from None


async def setup(bot: DigestBot) -> None:
    await bot.add_cog(Personal(bot))
