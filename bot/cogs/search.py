"""/search, /paper, /author and /latest, their autocomplete, and their buttons and menus.

Thin adapters: check the input, ask the catalogue (which keeps CPU work off the event loop
for large catalogues), render with :mod:`bot.ui.cards`, respond through :mod:`bot.replies`
(answering directly when fast, deferring only when the work takes longer than
``replies.PATIENCE``). Bad input raises :class:`~bot.errors.UserFacingError`, which the
bot's one error path (:meth:`bot.client.DigestBot.report_error`) turns into an ephemeral
message.

Paging: the invoker's Prev / Next edit the message in place; anyone else clicking gets the
requested page as a private (ephemeral) message, so nobody pages someone else's answer.
A paper's Cite, Full abstract and Open buttons answer privately. Each kind of button and
menu (:mod:`bot.ui.actions`) is registered with the bot's one router in :meth:`cog_load`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.models import AuthorProfile, SearchPage, Suggestion
from bot.core.query import QueryError
from bot.errors import ExpiredError, UserFacingError, check_query
from bot.replies import run_within, send, update
from bot.ui.actions import Action, Kind, OpenAction, PageAction, PaperAction, RetryAction
from bot.ui.alerts import ALERTS_COG
from bot.ui.cards import (
    Card,
    abstract_embeds,
    author_card,
    cite_text,
    latest_card,
    no_results_text,
    not_found_author_text,
    not_found_paper_text,
    page_count,
    paper_card,
    search_card,
)
from bot.ui.format import inline_code
from bot.ui.limits import CHOICE_NAME, CHOICE_VALUE, clamp, clamp_nonempty
from bot.ui.views import retry_button, view_of

if TYPE_CHECKING:
    from bot.client import DigestBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["DigestBot"]

SEARCH_PER_PAGE = 5
SEARCH_MAX_PER_PAGE = 10
AUTHOR_PER_PAGE = 5
LATEST_PER_PAGE = 8
MAX_LOOKUP_LENGTH = 300
AUTOCOMPLETE_TIMEOUT = 2.0
EMPTY_CATALOGUE = (
    "The catalogue is empty: no digests have been indexed yet. The bot's operator should "
    "put digest files (*.txt) in the digest folder (`DIGEST_DIR`), then run `/reindex` or "
    "`digest-bot reindex`."
)


def _squash(text: str) -> str:
    return " ".join(text.split())


def owns_message(interaction: Interaction) -> bool:
    """Whether the clicker may change the message (they ran its command, or it is private)."""
    message = interaction.message
    if message is None or message.flags.ephemeral:
        return True
    meta = message.interaction_metadata
    return meta is None or meta.user.id == interaction.user.id


async def show_page(interaction: Interaction, card: Card) -> None:
    """Paging: edit in place for the message's owner, a private copy for anyone else."""
    if owns_message(interaction):
        await update(interaction, embeds=[card.embed], view=card.view)
    else:
        await send(interaction, embeds=[card.embed], view=card.view, ephemeral=True)


def can_subscribe(interaction: Interaction) -> bool:
    """Offer "Subscribe this channel" under results: in a server, with alerts loaded, to a
    member who may subscribe the channel (Manage Channels there). The answer is built for
    whoever asked: a copy opened by someone else follows their permissions."""
    if interaction.guild_id is None or interaction.client.get_cog(ALERTS_COG) is None:
        return False
    perms = interaction.permissions
    return perms.administrator or perms.manage_channels


def to_choices(suggestions: list[Suggestion]) -> list[app_commands.Choice[str]]:
    """Autocomplete choices within Discord's limits (1-100 character names and values)."""
    out: list[app_commands.Choice[str]] = []
    for s in suggestions:
        if not s.value or len(s.value) > CHOICE_VALUE:
            continue
        out.append(app_commands.Choice(name=clamp_nonempty(s.name, CHOICE_NAME), value=s.value))
        if len(out) == 25:
            break
    return out


class Search(commands.Cog):
    """Finding papers and people."""

    def __init__(self, bot: DigestBot) -> None:
        self.bot = bot

    def _handlers(self) -> dict[Kind, Callable[[Interaction, Action, list[str]], Awaitable[None]]]:
        return {
            "search": self._search_page,
            "author": self._author_page,
            "latest": self._latest_page,
            "open": self._open_paper,
            "view": self._paper_action,
            "cite": self._paper_action,
            "full": self._paper_action,
            "retry": self._retry,
        }

    async def cog_load(self) -> None:
        for kind, handler in self._handlers().items():
            self.bot.register_action(kind, handler)

    async def cog_unload(self) -> None:
        for kind in self._handlers():
            self.bot.unregister_action(kind)

    # ------------------------------------------------------------------ /search
    @app_commands.command(
        name="search", description="Search the digest: ranked papers, matched words in bold"
    )
    @app_commands.describe(
        query='Words, "a phrase", author:name, venue:name, -exclude (see /help)',
        limit="Results per page, 1-10 (default 5)",
    )
    async def search(
        self,
        interaction: Interaction,
        query: str,
        limit: app_commands.Range[int, 1, SEARCH_MAX_PER_PAGE] = SEARCH_PER_PAGE,
    ) -> None:
        text = _squash(query)
        check_query(text)

        async def work() -> tuple[SearchPage, str]:
            result = await self.bot.catalogue.search(text, limit=limit, offset=0)
            remember = text if result.total else result.suggestion
            ref = await self.bot.remember_ref("search", limit, remember) if remember else ""
            return result, ref

        result, ref = await run_within(interaction, work())
        if result.total == 0 and self.bot.catalogue.index.n_docs == 0:
            raise UserFacingError(EMPTY_CATALOGUE)
        if result.total == 0 and result.suggestion and ref:
            # "did you mean": a button runs the corrected search (no retyping)
            view = view_of([retry_button(result.suggestion, limit, ref)])
            await send(interaction, content=no_results_text(result, button=True), view=view,
                       ephemeral=True)  # fmt: skip
            return
        if result.total == 0:
            raise UserFacingError(no_results_text(result))
        card = search_card(result, ref=ref, subscribe=can_subscribe(interaction))
        await send(interaction, embeds=[card.embed], view=card.view)

    async def _retry(self, interaction: Interaction, action: Action, values: list[str]) -> None:
        """The "did you mean" button: the corrected search, answered as /search would."""
        assert isinstance(action, RetryAction)
        per = min(action.per, SEARCH_MAX_PER_PAGE)

        async def work() -> SearchPage:
            text = await self.bot.recall_ref(action.ref)
            try:
                return await self.bot.catalogue.search(text, limit=per, offset=0)
            except QueryError:
                raise ExpiredError(action.ref) from None

        result = await run_within(interaction, work())
        if result.total == 0:
            raise UserFacingError(no_results_text(result))
        card = search_card(result, ref=action.ref, subscribe=can_subscribe(interaction))
        await send(interaction, embeds=[card.embed], view=card.view)

    async def _search_page(
        self, interaction: Interaction, action: Action, values: list[str]
    ) -> None:
        assert isinstance(action, PageAction)
        per = min(action.per, SEARCH_MAX_PER_PAGE)

        async def work() -> SearchPage:
            text = await self.bot.recall_ref(action.ref)
            try:
                result = await self.bot.catalogue.search(text, limit=per, offset=action.page * per)
            except QueryError:
                raise ExpiredError(action.ref) from None
            if result.total and not result.hits:  # the catalogue shrank: show the last page
                last = page_count(result.total, per) - 1
                result = await self.bot.catalogue.search(text, limit=per, offset=last * per)
            return result

        result = await run_within(interaction, work())
        if result.total == 0:
            raise UserFacingError(
                "Nothing matches this query any more (the catalogue changed). Run `/search` again."
            )
        card = search_card(result, ref=action.ref, subscribe=can_subscribe(interaction))
        await show_page(interaction, card)

    # ------------------------------------------------------------------ /paper
    @app_commands.command(
        name="paper", description="One paper: authors, venue, digests, abstract, similar papers"
    )
    @app_commands.describe(paper="A title or an id; start typing and pick a suggestion")
    async def paper(self, interaction: Interaction, paper: str) -> None:
        text = _squash(paper)
        if not text:
            raise UserFacingError(
                "Type part of a title or a paper id, then pick one of the suggestions."
            )
        if len(text) > MAX_LOOKUP_LENGTH:
            raise UserFacingError(
                f"That is {len(text)} characters; a title or id is at most "
                f"{MAX_LOOKUP_LENGTH}. Type the start of the title and pick a suggestion."
            )
        catalogue = self.bot.catalogue
        detail = await run_within(interaction, catalogue.paper(text))
        if detail is None:
            suggestions = await catalogue.suggest_papers(text, limit=3)
            if not suggestions and " " not in text and len(text) > 3:
                suggestions = await catalogue.suggest_papers(text[:4], limit=3)
            raise UserFacingError(not_found_paper_text(text, [s.name for s in suggestions]))
        card = paper_card(detail)
        await send(interaction, embeds=[card.embed], view=card.view)

    @paper.autocomplete("paper")
    async def paper_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(self.bot.catalogue.suggest_papers, current, "paper")

    async def _open_paper(
        self, interaction: Interaction, action: Action, values: list[str]
    ) -> None:
        assert isinstance(action, OpenAction)
        if not values:
            raise ExpiredError("no value")
        detail = await run_within(interaction, self.bot.catalogue.paper(values[0]))
        if detail is None:
            raise UserFacingError(
                f"The paper {inline_code(values[0])} is no longer in the catalogue."
            )
        card = paper_card(detail)
        await send(interaction, embeds=[card.embed], view=card.view, ephemeral=True)

    async def _paper_action(
        self, interaction: Interaction, action: Action, values: list[str]
    ) -> None:
        """Open (``view``), Cite (``cite``) and Full abstract (``full``): private answers."""
        assert isinstance(action, PaperAction)
        stored = await run_within(
            interaction, self.bot.catalogue.store.get_paper(action.paper_id), ephemeral=True
        )
        if stored is None:
            raise UserFacingError(
                f"The paper {inline_code(action.paper_id)} is no longer in the catalogue."
            )
        if action.kind == "cite":
            await send(interaction, content=cite_text(stored), ephemeral=True)
        elif action.kind == "full":
            await send(interaction, embeds=abstract_embeds(stored), ephemeral=True)
        else:
            detail = await run_within(
                interaction, self.bot.catalogue.paper(stored.id), ephemeral=True
            )
            if detail is None:
                raise ExpiredError(action.paper_id)
            card = paper_card(detail)
            await send(interaction, embeds=[card.embed], view=card.view, ephemeral=True)

    # ------------------------------------------------------------------ /author
    @app_commands.command(
        name="author", description="An author's papers, frequent co-authors and venues"
    )
    @app_commands.describe(name="A name in any order; accents and initials don't matter")
    async def author(self, interaction: Interaction, name: str) -> None:
        text = _squash(name)
        if not text:
            raise UserFacingError("Type part of a name, then pick one of the suggestions.")
        if len(text) > MAX_LOOKUP_LENGTH:
            raise UserFacingError(
                f"That is {len(text)} characters; type a name (at most {MAX_LOOKUP_LENGTH})."
            )
        catalogue = self.bot.catalogue

        async def work() -> tuple[AuthorProfile | None, str]:
            profile = await catalogue.author(text, offset=0, limit=AUTHOR_PER_PAGE)
            ref = (
                await self.bot.remember_ref("author", AUTHOR_PER_PAGE, profile.key)
                if profile
                else ""
            )
            return profile, ref

        profile, ref = await run_within(interaction, work())
        if profile is None:
            suggestions = await catalogue.suggest_authors(text, limit=5)
            raise UserFacingError(not_found_author_text(text, [s.value for s in suggestions]))
        card = author_card(profile, page=0, per=AUTHOR_PER_PAGE, ref=ref)
        await send(interaction, embeds=[card.embed], view=card.view)

    @author.autocomplete("name")
    async def author_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._autocomplete(self.bot.catalogue.suggest_authors, current, "author")

    async def _author_page(
        self, interaction: Interaction, action: Action, values: list[str]
    ) -> None:
        assert isinstance(action, PageAction)

        per = min(action.per, 25)
        page = max(action.page, 0)
        catalogue = self.bot.catalogue

        async def work() -> AuthorProfile | None:
            name = await self.bot.recall_ref(action.ref)
            profile = await catalogue.author(name, offset=page * per, limit=per)
            if profile is not None and profile.paper_count and not profile.papers:
                last = page_count(profile.paper_count, per) - 1  # past the end: the last page
                profile = await catalogue.author(name, offset=last * per, limit=per)
            return profile

        profile = await run_within(interaction, work())
        if profile is None:
            raise UserFacingError("That author is no longer in the catalogue.")
        await show_page(
            interaction, author_card(profile, page=profile.offset // per, per=per, ref=action.ref)
        )

    # ------------------------------------------------------------------ /latest
    @app_commands.command(name="latest", description="The newest digest's papers")
    async def latest(self, interaction: Interaction) -> None:
        result = await run_within(interaction, self.bot.catalogue.latest(0, LATEST_PER_PAGE))
        card = latest_card(result, per=LATEST_PER_PAGE)
        await send(interaction, embeds=[card.embed], view=card.view)

    async def _latest_page(
        self, interaction: Interaction, action: Action, values: list[str]
    ) -> None:
        assert isinstance(action, PageAction)
        per = min(action.per, 25)
        catalogue = self.bot.catalogue

        async def work() -> Card:
            result = await catalogue.latest(action.page * per, per)
            if result.total and not result.papers:
                last = page_count(result.total, per) - 1
                result = await catalogue.latest(last * per, per)
            return latest_card(result, per=per)

        await show_page(interaction, await run_within(interaction, work()))

    # ------------------------------------------------------------------ autocomplete
    async def _autocomplete(
        self,
        suggest: Callable[[str, int], Awaitable[list[Suggestion]]],
        current: str,
        what: str,
    ) -> list[app_commands.Choice[str]]:
        """Suggestions for what is typed; never raises (an error means no choices)."""
        try:
            found = await asyncio.wait_for(
                suggest(clamp(_squash(current), MAX_LOOKUP_LENGTH, ellipsis=""), 25),
                AUTOCOMPLETE_TIMEOUT,
            )
            return to_choices(found)
        except Exception:
            log.exception("%s autocomplete failed for %r", what, current[:100])
            return []


async def setup(bot: DigestBot) -> None:
    await bot.add_cog(Search(bot))
