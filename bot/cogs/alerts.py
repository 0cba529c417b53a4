"""Topic alerts: /subscribe, /unsubscribe, /subscriptions, the "Subscribe this channel"
button, the delivery worker and the jobs that feed it.

* Subscribing needs Manage Channels in the target channel, checked here on the member's
  permissions in that channel (``default_permissions`` only hides the command, and server
  admins can change that). The query is parsed by the same parser as ``/search`` and the
  answer previews what it matches today. A subscription starts from now.
* The :class:`~bot.delivery.DeliveryWorker` starts with the cog and drains the outbox.
* ``watch`` (every ``WATCH_INTERVAL`` s) notices a reindex done by another process (the CLI),
  reloads the search index and kicks the worker; ``periodic`` (every ``REINDEX_INTERVAL``
  min, 0 = off) reindexes the digest folder itself. Both catch, log and carry on.
* :meth:`Alerts.reindex` is the one way the bot reindexes (``/reindex`` and ``periodic``):
  the ``FEEDS`` import into the digest folder, the catalogue's reindex with the alert hook,
  then a kick to the worker. The first-start ingest of an empty catalogue goes through it
  too (:attr:`bot.client.DigestBot.reindexer`, without the import).
* "Subscribe this channel" under /search results is a button of kind ``sub``, registered
  with the bot's one component router; its errors take the bot's one error path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.core.models import Paper, ProgressFn, ReindexReport
from bot.core.query import MAX_QUERY_LENGTH, QueryError, parse_query
from bot.delivery import DeliveryWorker, discord_sender
from bot.errors import UserFacingError
from bot.feeds.importer import ImportReport, exclude_types, import_feeds, with_feeds
from bot.personal import personal_sender
from bot.replies import run_within, send
from bot.store.alerts import (
    AlertStore,
    SubscriptionError,
    SubscriptionRow,
    make_alert_hook,
    query_key,
)
from bot.store.personal import PersonalStore
from bot.ui.actions import Action, SubscribeAction
from bot.ui.alerts import (
    ALERTS_COG,
    SubscriptionLine,
    subscribe_embed,
    subscriptions_embed,
    topic_code,
)
from bot.ui.limits import CHOICE_NAME, clamp_nonempty

if TYPE_CHECKING:
    from bot.client import DigestBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction["DigestBot"]

IDLE_POLL_S = 60.0  # the worker looks at the outbox at least this often
# On shutdown, an alert being posted gets this long to be confirmed (and recorded); then it
# is cut short and stays queued (sent after the restart, with the same nonce).
STOP_GRACE_S = 2.0
AUTOCOMPLETE_LIMIT = 25
# What the bot needs in a channel to post alerts there.
BOT_NEEDS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)


def member_permissions_in(interaction: Interaction, channel_id: int) -> discord.Permissions:
    """The invoking member's permissions in ``channel_id``, as Discord computed them.

    The invoking channel's come with the interaction; another channel's with the resolved
    option (Discord sends the member's permissions there); otherwise they are computed
    from the cached channel overwrites and the member's roles.
    """
    if channel_id == interaction.channel_id:
        return interaction.permissions
    data: Mapping[str, Any] = cast(Mapping[str, Any], interaction.data or {})
    resolved: Mapping[str, Any] = data.get("resolved", {}).get("channels", {})
    raw = resolved.get(str(channel_id), {}).get("permissions")
    if raw is not None:
        return discord.Permissions(int(raw))
    guild = interaction.guild
    channel = guild.get_channel(channel_id) if guild else None
    user = interaction.user
    if channel is not None and isinstance(user, discord.Member):
        return channel.permissions_for(user)
    return discord.Permissions.none()


def can_manage(perms: discord.Permissions) -> bool:
    return perms.administrator or perms.manage_channels


def bot_missing_in(interaction: Interaction, channel_id: int) -> list[str]:
    """The permissions the bot lacks to post alerts in ``channel_id`` (empty: none)."""
    if channel_id == interaction.channel_id:
        perms = interaction.app_permissions
    else:
        guild = interaction.guild
        channel = guild.get_channel(channel_id) if guild else None
        if guild is None or channel is None:
            return []  # not cached: delivery will tell (and pause with the reason)
        perms = channel.permissions_for(guild.me)
    if perms.administrator:
        return []
    names = {
        "view_channel": "View Channel",
        "send_messages": "Send Messages",
        "embed_links": "Embed Links",
    }
    return [label for flag, label in names.items() if not getattr(perms, flag)]


class Alerts(commands.Cog, name=ALERTS_COG):
    """Channel topic alerts."""

    def __init__(self, bot: DigestBot) -> None:
        self.bot = bot
        settings = bot.settings
        self.store = AlertStore(bot.catalogue.db)
        self.hook = make_alert_hook(self.store)
        self.worker = DeliveryWorker(
            self.store,
            self._load_papers,
            personal_sender(bot, PersonalStore(bot.catalogue.db, self.store), discord_sender(bot)),
            poll_interval=min(settings.watch_interval_s or IDLE_POLL_S, IDLE_POLL_S),
        )
        self._reindex_lock = asyncio.Lock()

    # ------------------------------------------------------------------ life cycle
    async def cog_load(self) -> None:
        self.bot.register_action("sub", self._subscribe_button)
        self.bot.reindexer = self  # the first-start ingest goes through reindex() too
        self.worker.start()
        settings = self.bot.settings
        if settings.watch_interval_s > 0:
            self.watch.change_interval(seconds=settings.watch_interval_s)
            self.watch.start()
        if settings.reindex_interval_min > 0:
            self.periodic.change_interval(minutes=settings.reindex_interval_min)
            self.periodic.start()

    async def cog_unload(self) -> None:
        self.watch.cancel()
        self.periodic.cancel()
        self.bot.unregister_action("sub")
        if self.bot.reindexer is self:
            self.bot.reindexer = None
        await self.worker.stop(timeout=STOP_GRACE_S)

    async def _load_papers(self, ids: Sequence[str]) -> Mapping[str, Paper]:
        found = await self.bot.catalogue.store.get_papers(ids)
        return {paper_id: stored.paper for paper_id, stored in found.items()}

    # ------------------------------------------------------------------ reindexing
    @property
    def reindexing(self) -> bool:
        return self._reindex_lock.locked()

    async def reindex(
        self, *, progress: ProgressFn | None = None, feeds: bool = True
    ) -> ReindexReport:
        """Import FEEDS (unless ``feeds`` is false: the first-start ingest), reindex the
        digest folder with the alert hook; then deliver what it queued. The report also
        tells what the feed import did."""
        async with self._reindex_lock:
            imported = await self._import_feeds(progress) if feeds else None
            report = await self.bot.catalogue.reindex(alert_hook=self.hook, progress=progress)
        self.worker.kick()
        return report if imported is None else with_feeds(report, imported)

    async def _import_feeds(self, progress: ProgressFn | None) -> ImportReport | None:
        """FEEDS into the digest folder (None when FEEDS is empty); a feed that fails is in
        the report and the log, and never stops the reindex."""
        settings = self.bot.settings
        if not settings.feeds:
            return None
        if progress is not None:
            progress("import", 0, len(settings.feeds))
        try:
            report = await import_feeds(
                settings.feeds,
                settings.digest_dir,
                exclude=exclude_types(settings.feeds_exclude),
                progress=progress,
            )
        except Exception:
            log.exception("importing FEEDS failed; reindexing the digest folder as it is")
            return None
        for outcome in report.failed:
            log.warning("feed %s not imported: %s", outcome.source, outcome.message)
        if report.added:
            log.info("feeds: %d new entries from %d feed(s)", report.added, len(report.outcomes))
        return report

    @tasks.loop(seconds=5.0)
    async def watch(self) -> None:
        """Notice a reindex made by another process (the CLI); reload and deliver."""
        try:
            if self.reindexing:
                return
            if await self.bot.catalogue.refresh_if_changed():
                log.info("the catalogue changed (a reindex by another process): index reloaded")
                self.worker.kick()
        except Exception:
            log.exception("checking the catalogue for changes failed; trying again later")

    @tasks.loop(minutes=60.0)
    async def periodic(self) -> None:
        """REINDEX_INTERVAL: pick up new digest files without anyone asking."""
        try:
            report = await self.reindex()
            if report.added or report.updated or report.removed:
                log.info(
                    "periodic reindex: %d added, %d updated, %d gone, %d alert(s) queued",
                    report.added,
                    report.updated,
                    report.removed,
                    report.alerts_queued,
                )
        except Exception:
            log.exception("periodic reindex failed; trying again at the next interval")

    # ------------------------------------------------------------------ /subscribe
    @app_commands.command(
        name="subscribe", description="Post new papers matching a query in a channel"
    )
    @app_commands.describe(
        query='The same language as /search: words, "a phrase", author:x, venue:x, -word',
        channel="Where to post them (default: this channel)",
    )
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def subscribe(
        self,
        interaction: Interaction,
        query: str,
        channel: discord.TextChannel | None = None,
    ) -> None:
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel_id is None:
            raise UserFacingError("Pick a channel to post the alerts in.")
        await self._subscribe(interaction, query, channel_id)

    async def _subscribe(self, interaction: Interaction, query: str, channel_id: int) -> None:
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("Subscriptions live in a server channel; run this in a server.")
        if not can_manage(member_permissions_in(interaction, channel_id)):
            raise UserFacingError(
                f"You need the Manage Channels permission in <#{channel_id}> to subscribe it "
                "to a topic."
            )
        text = " ".join(query.split())
        if len(text) > MAX_QUERY_LENGTH:
            raise UserFacingError(
                f"The query is {len(text)} characters long; shorten it to at most "
                f"{MAX_QUERY_LENGTH}."
            )
        try:
            parsed = parse_query(text)
        except QueryError as exc:
            raise UserFacingError(str(exc)) from None
        missing = bot_missing_in(interaction, channel_id)
        if missing:
            raise UserFacingError(
                f"I cannot post alerts in <#{channel_id}>: I need {', '.join(missing)} there. "
                "Give me those permissions, then subscribe again."
            )
        settings = self.bot.settings

        async def work() -> tuple[str, int, list[Paper], int]:
            result = await self.store.add(
                guild_id=guild.id,
                channel_id=channel_id,
                query=text,
                created_by=interaction.user.id,
                max_per_channel=settings.max_subscriptions_per_channel,
                max_per_guild=settings.max_subscriptions_per_guild,
                key=query_key(str(parsed)),
            )
            preview = await self.bot.catalogue.search(text, limit=3)
            papers = [hit.paper.paper for hit in preview.hits]
            return result.status, preview.total, papers, result.subscription.id

        try:
            status, total, top, sub_id = await run_within(interaction, work())
        except SubscriptionError as exc:
            raise UserFacingError(str(exc)) from None
        if status == "exists":
            raise UserFacingError(
                f"<#{channel_id}> is already subscribed to that query (subscription #{sub_id}). "
                "See /subscriptions."
            )
        if status == "resumed":
            self.worker.kick()  # alerts held while it was paused go out now
        log.info(
            "subscription #%s %s in guild %s channel %s by %s: %r",
            sub_id,
            status,
            guild.id,
            channel_id,
            interaction.user.id,
            text,
        )
        embed = subscribe_embed(
            text, channel_id, matches_today=total, top=top, resumed=status == "resumed"
        )
        await send(interaction, embeds=[embed])

    async def _subscribe_button(
        self, interaction: Interaction, action: Action, values: list[str]
    ) -> None:
        """The "Subscribe this channel" button under /search results (kind ``sub``)."""
        assert isinstance(action, SubscribeAction)
        text = await self.bot.recall_ref(action.ref)
        channel_id = interaction.channel_id
        if channel_id is None:
            raise UserFacingError("This button only works in a server channel.")
        await self._subscribe(interaction, text, channel_id)

    # ------------------------------------------------------------------ /unsubscribe
    @app_commands.command(name="unsubscribe", description="Stop a topic subscription")
    @app_commands.describe(subscription="Start typing its query or channel, then pick it")
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.guild_only()
    async def unsubscribe(self, interaction: Interaction, subscription: str) -> None:
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("Run this in the server the subscription belongs to.")
        sub = await self._find(guild.id, subscription)
        if sub is None:
            raise UserFacingError(
                "I found no such subscription in this server: pick one from the list as you "
                "type (see /subscriptions)."
            )
        if not can_manage(member_permissions_in(interaction, sub.channel_id)):
            raise UserFacingError(
                f"You need the Manage Channels permission in <#{sub.channel_id}> to remove its "
                "subscriptions."
            )
        removed = await self.store.remove(guild.id, sub.id)
        if removed is None:
            raise UserFacingError("That subscription was already removed.")
        log.info("subscription #%s removed by %s", sub.id, interaction.user.id)
        await send(
            interaction,
            content=(
                f"Unsubscribed <#{removed.channel_id}> from {topic_code(removed.query)} "
                f"(#{removed.id}); {removed.alert_count} paper(s) were alerted."
            ),
        )

    async def _find(self, guild_id: int, value: str) -> SubscriptionRow | None:
        value = value.strip().lstrip("#")
        subs = await self.store.list_subscriptions(guild_id)
        if value.isdigit():
            for sub in subs:
                if sub.id == int(value):
                    return sub
        key = query_key(value)
        found = [s for s in subs if query_key(s.query) == key]
        return found[0] if len(found) == 1 else None

    @unsubscribe.autocomplete("subscription")
    async def _unsubscribe_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        guild = interaction.guild
        if guild is None:
            return []
        subs = await self.store.list_subscriptions(guild.id)
        needle = query_key(current)
        choices: list[app_commands.Choice[str]] = []
        for sub in subs:
            channel = guild.get_channel(sub.channel_id)
            where = f"#{channel.name}" if channel is not None else f"channel {sub.channel_id}"
            name = f"#{sub.id} · {' '.join(sub.query.split())} · {where}"
            if sub.state == "paused":
                name += " · paused"
            if needle and needle not in query_key(name):
                continue
            choices.append(
                app_commands.Choice(name=clamp_nonempty(name, CHOICE_NAME), value=str(sub.id))
            )
            if len(choices) == AUTOCOMPLETE_LIMIT:
                break
        return choices

    # ------------------------------------------------------------------ /subscriptions
    @app_commands.command(
        name="subscriptions",
        description="This server's topic subscriptions: state, last alert, count",
    )
    @app_commands.describe(channel="Only this channel's")
    @app_commands.guild_only()
    async def subscriptions(
        self, interaction: Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        guild = interaction.guild
        if guild is None:
            raise UserFacingError("Run this in a server.")

        async def work() -> tuple[list[SubscriptionRow], str | None, dict[int, tuple[int, int]]]:
            subs = await self.store.list_subscriptions(
                guild.id, channel.id if channel is not None else None
            )
            stats = await self.bot.catalogue.stats()
            votes = await PersonalStore(self.store.db, self.store).votes([s.id for s in subs])
            return subs, stats.last_indexed_at, votes

        subs, last, votes = await run_within(interaction, work(), ephemeral=True)
        lines = [
            SubscriptionLine(
                id=s.id,
                channel_id=s.channel_id,
                query=s.query,
                active=s.active,
                pause_reason=s.pause_reason,
                last_alert_at=s.last_alert_at,
                alert_count=s.alert_count,
                pending=s.pending,
                created_at=s.created_at,
                votes=votes.get(s.id, (0, 0)),
            )
            for s in subs
        ]
        scope = f"#{channel.name}" if channel is not None else guild.name
        embed = subscriptions_embed(lines, last_reindexed_at=last, scope=scope)
        await send(interaction, embeds=[embed], ephemeral=True)


async def setup(bot: DigestBot) -> None:
    await bot.add_cog(Alerts(bot))
