"""The Discord face of the catalogue: a ``commands.Bot`` with one error path and careful sync.

* Intents: guilds only (slash commands, buttons and autocomplete arrive as interactions;
  no privileged intent is needed). ``AllowedMentions.none()`` for everything it sends.
* ``setup_hook`` (after login, before the gateway connects): points discord.py at
  ``DISCORD_API_BASE`` / ``DISCORD_GATEWAY_URL``, opens the catalogue, registers the
  persistent component router, loads the cogs in :data:`EXTENSIONS`, ingests the digest
  folder when the catalogue is empty (so a fresh install answers at once; through
  :attr:`DigestBot.reindexer`, so with the alert hook like every reindex) and syncs the
  command tree if it changed.
* Command sync happens only when the tree's JSON hash differs from the one stored in the
  database for this application and scope, or on ``digest-bot sync`` -- never in
  ``on_ready`` (which fires again on every reconnect).
* Cogs reach the shared state as ``bot.catalogue``, ``bot.settings`` and
  ``await bot.is_owner_id(user_id)``. One router for every button and select menu: one
  ``DynamicItem`` class (:class:`bot.ui.views.ActionItem`) claims every custom_id of the one
  grammar (:mod:`bot.ui.actions`), and :meth:`DigestBot.route_action` calls the handler a
  cog registered for its kind with :meth:`DigestBot.register_action`.
* One gate for every interaction, before any work: :meth:`DigestTree.interaction_check`
  for slash commands and autocomplete, :meth:`DigestBot.admit_component` for buttons and
  menus. It starts the interaction's 3-second clock (:func:`bot.replies.start_clock`) and
  applies the per-member cooldown (:class:`MemberCooldown`). The same gate starts the
  interaction's metrics (:mod:`bot.metrics`).
* One error path: :meth:`DigestBot.report_error`, for commands, autocomplete, buttons and
  menus alike, where :func:`bot.errors.verdict` decides what the member sees (privately)
  and what is logged.
* With ``HEALTH_PORT`` set, ``/healthz`` and ``/metrics`` are served while the bot runs
  (:mod:`bot.health`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal, Protocol

import discord
from discord import app_commands
from discord.ext import commands

from bot.catalogue import Catalogue
from bot.core.models import ProgressFn, ReindexReport
from bot.discord_endpoints import configure_gateway
from bot.errors import ExpiredError, verdict
from bot.health import CatalogueFacts, GatewayState, HealthServer, finite
from bot.metrics import DeliveryTotals, Metrics
from bot.replies import describe, reply_ephemeral, start_clock
from bot.settings import Settings
from bot.store.alerts import AlertStore
from bot.store.ops import paused_subscriptions
from bot.ui import actions
from bot.ui.actions import Action, Kind, PageKind
from bot.ui.views import ActionItem

log = logging.getLogger(__name__)

# Extensions loaded at start, in order. Add a cog by appending its module here; the module
# needs ``async def setup(bot: DigestBot) -> None: await bot.add_cog(YourCog(bot))``.
EXTENSIONS: list[str] = [
    "bot.cogs.search",
    "bot.cogs.info",
    "bot.cogs.alerts",
    "bot.cogs.admin",
    "bot.cogs.personal",
]

ActionHandler = Callable[["discord.Interaction[DigestBot]", Action, list[str]], Awaitable[None]]


class Reindexer(Protocol):
    """The bot's one way to reindex (:class:`bot.cogs.alerts.Alerts`): the ``FEEDS`` import
    (unless ``feeds`` is false), the catalogue's reindex with the alert hook, then a kick to
    the delivery worker."""

    async def reindex(
        self, *, progress: ProgressFn | None = None, feeds: bool = True
    ) -> ReindexReport: ...


def _member_key(interaction: discord.Interaction[Any]) -> int:
    return interaction.user.id


class MemberCooldown:
    """At most ``rate`` commands, buttons and menus per member (user id) per ``per`` s.

    discord.py's own bucket mapping (``commands.CooldownMapping``, which also forgets idle
    members), checked once for every interaction by the bot's gate rather than per command
    (``app_commands.checks.cooldown`` would give each command its own budget and cannot see
    buttons). ``rate`` or ``per`` 0: no limit.
    """

    def __init__(self, rate: int, per: float) -> None:
        self.rule = app_commands.Cooldown(max(rate, 1), max(per, 1.0))
        self._mapping: commands.CooldownMapping[discord.Interaction[Any]] | None = (
            commands.CooldownMapping(self.rule, _member_key) if rate > 0 and per > 0 else None
        )

    def hit(self, interaction: discord.Interaction[Any], now: float | None = None) -> float:
        """Count one use; the seconds to wait when over the limit (then it is not counted)."""
        if self._mapping is None:
            return 0.0
        bucket = self._mapping.get_bucket(interaction, now)
        return (bucket.update_rate_limit(now) or 0.0) if bucket is not None else 0.0

    def waiting(self, interaction: discord.Interaction[Any], now: float | None = None) -> float:
        """The seconds this member must still wait, without counting a use."""
        if self._mapping is None:
            return 0.0
        bucket = self._mapping.get_bucket(interaction, now)
        return bucket.get_retry_after(now) if bucket is not None else 0.0


class DigestTree(app_commands.CommandTree["DigestBot"]):
    """The command tree with the bot's one gate and one error handler for slash commands."""

    async def interaction_check(self, interaction: discord.Interaction[DigestBot]) -> bool:
        """Every slash command and autocomplete passes here first.

        Starts the 3-second clock. A command over the member's cooldown is refused with a
        private "slow down" (through :meth:`on_error`). Autocomplete does not count (it
        fires at every keystroke), but a member on cooldown gets no choices, computed from
        nothing: the one response it gets is sent here.
        """
        start_clock(interaction)
        self.client.metrics.track(interaction)
        cooldown = self.client.cooldown
        if interaction.type is discord.InteractionType.autocomplete:
            if not cooldown.waiting(interaction):
                return True
            self.client.metrics.outcome(interaction, "cooldown")
            if not interaction.response.is_done():
                try:
                    await interaction.response.autocomplete([])
                except discord.HTTPException:
                    log.warning("could not answer autocomplete %s", interaction.id, exc_info=True)
            return False
        retry_after = cooldown.hit(interaction)
        if retry_after:
            raise app_commands.CommandOnCooldown(cooldown.rule, retry_after)
        return True

    async def on_error(
        self, interaction: discord.Interaction[DigestBot], error: app_commands.AppCommandError
    ) -> None:
        await self.client.report_error(interaction, error)


def tree_hash(payload: list[dict[str, Any]]) -> str:
    """A stable hash of the command tree's JSON (what a sync would upload)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


Mode = Literal["run", "sync"]


class DigestBot(commands.Bot):
    def __init__(self, settings: Settings, *, mode: Mode = "run") -> None:
        # The bot never joins voice: don't warn that voice libraries are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=DigestTree,
            help_command=None,
        )
        self.settings = settings
        self.mode: Mode = mode
        # Set by the cog that queues alerts (bot.cogs.alerts) in its cog_load, so that the
        # first ingest of an empty catalogue queues alerts like any other reindex.
        self.reindexer: Reindexer | None = None
        self._catalogue: Catalogue | None = None
        self._actions: dict[Kind, ActionHandler] = {}
        self.cooldown = MemberCooldown(settings.cooldown_commands, settings.cooldown_seconds)
        self.metrics = Metrics()
        self.gateway = GatewayState()
        self.gateway.watch(self)
        self.health: HealthServer | None = None

    # ------------------------------------------------------------------ shared state
    @property
    def catalogue(self) -> Catalogue:
        if self._catalogue is None:
            raise RuntimeError("the catalogue is not open (setup_hook has not run)")
        return self._catalogue

    async def is_owner_id(self, user_id: int) -> bool:
        """Whether ``user_id`` may run owner-only commands (``/reindex``).

        ``OWNER_IDS`` when set; otherwise the application's owner, or the admins and
        developers of the team that owns it.
        """
        if self.settings.owner_ids:
            return user_id in self.settings.owner_ids
        app = self.application or await self.application_info()
        if app.team is not None:
            roles = (discord.TeamMemberRole.admin, discord.TeamMemberRole.developer)
            return any(m.id == user_id and m.role in roles for m in app.team.members)
        return app.owner.id == user_id

    def register_action(self, kind: Kind, handler: ActionHandler) -> None:
        """Route the buttons and menus of ``kind`` (see :mod:`bot.ui.actions`) to ``handler``:
        the one registry of every component the bot sends."""
        self._actions[kind] = handler

    def unregister_action(self, kind: Kind) -> None:
        self._actions.pop(kind, None)

    async def remember_ref(self, kind: PageKind, per: int, text: str) -> str:
        """The custom_id ref of ``text`` (:func:`bot.ui.actions.make_ref`); a long one is
        kept in the database's ``meta`` table."""
        ref, must_store = actions.make_ref(kind, per, text)
        if must_store:
            store = self.catalogue.store
            key = actions.ref_meta_key(ref)
            if await store.get_meta(key) != text:
                await store.set_meta(key, text)
        return ref

    async def recall_ref(self, ref: str) -> str:
        """The text of a custom_id ref; :class:`~bot.errors.ExpiredError` when it is gone."""
        text = actions.inline_text(ref)
        if text is None:
            text = await self.catalogue.store.get_meta(actions.ref_meta_key(ref))
        if not text:
            raise ExpiredError(ref)
        return text

    # ------------------------------------------------------------------ lifecycle
    async def setup_hook(self) -> None:
        settings = self.settings
        if self.mode == "run":
            await configure_gateway(self, settings.discord_api_base, settings.discord_gateway_url)
        self._catalogue = await Catalogue.open(settings)
        self._catalogue.on_reindex = self.metrics.observe_reindex
        self._catalogue.on_search = self.metrics.observe_search
        self.metrics.delivery_source(self._delivery_totals)
        self.add_dynamic_items(ActionItem)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.mode == "run" and settings.health_port is not None:
            self.health = HealthServer(self, settings.health_host, settings.health_port)
            await self.health.start()
        if self.mode == "run":
            await self._ingest_if_empty()
            await self.sync_commands(guild_id=settings.dev_guild_id)

    async def _ingest_if_empty(self) -> None:
        catalogue = self.catalogue
        stats = await catalogue.stats()
        if stats.papers or stats.removed_papers:
            log.info("catalogue: %d papers, %d digests", stats.papers, stats.digests)
            return
        folder = self.settings.digest_dir
        log.info("catalogue is empty: indexing %s", folder)
        started = time.perf_counter()
        if self.reindexer is not None:  # the alert hook, then the delivery worker kicked
            report = await self.reindexer.reindex(feeds=False)
        else:
            report = await catalogue.reindex()
        todo = (
            "so /search finds nothing. Put digest files (*.txt) in it, then run /reindex (the "
            "bot's owners) or `digest-bot reindex`"
        )
        if not report.applied:
            if not Path(folder).exists():
                todo = todo.replace("Put", "Create it, put", 1)
                problem = "does not exist"
            else:
                problem = (
                    "cannot be indexed ("
                    + ("; ".join(d.message for d in report.diagnostics[:5]) or "nothing to index")
                    + ")"
                )
            log.warning("DIGEST_DIR %s %s: the catalogue is empty, %s", folder, problem, todo)
            return
        if report.total == 0:
            log.warning(
                "DIGEST_DIR %s has no digest files (*.txt): the catalogue is empty, %s",
                folder,
                todo,
            )
            return
        log.info(
            "indexed %d papers from %d files in %.2f s (%d diagnostics, %d alerts queued)",
            report.total,
            len(report.files),
            time.perf_counter() - started,
            len(report.diagnostics),
            report.alerts_queued,
        )

    async def close(self) -> None:
        try:
            health, self.health = self.health, None
            if health is not None:
                await health.stop()
            await super().close()
        finally:
            catalogue, self._catalogue = self._catalogue, None
            if catalogue is not None:
                await catalogue.close()

    # ------------------------------------------------------------------ health
    def gateway_latency(self) -> float | None:
        """The gateway's heartbeat latency in seconds (None before the first heartbeat)."""
        return finite(self.latency)

    async def catalogue_facts(self) -> CatalogueFacts:
        """What ``/healthz`` shows of the catalogue. The outbox and subscription counts are
        read from the database at every call (the probe that it can be read); the catalogue
        counts are cached per catalogue version."""
        catalogue = self.catalogue
        stats = await catalogue.stats()
        pending = await AlertStore(catalogue.db).pending_count()
        return CatalogueFacts(
            papers=stats.papers,
            catalogue_version=stats.version,
            last_reindex=stats.last_indexed_at,
            outbox_pending=pending,
            paused_subscriptions=await paused_subscriptions(catalogue.db),
        )

    def _delivery_totals(self) -> DeliveryTotals | None:
        worker = getattr(self.get_cog("Alerts"), "worker", None)
        totals = getattr(worker, "totals", None)
        if totals is None:
            return None
        return DeliveryTotals(totals.messages, totals.papers, totals.failures)

    # ------------------------------------------------------------------ command sync
    def tree_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        return [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]

    async def sync_commands(self, *, guild_id: int | None = None, force: bool = False) -> bool:
        """Upload the command tree if it changed since the last sync (or ``force``).

        ``guild_id`` syncs to that guild only (instant; for development), copying the
        global commands there. Returns whether a sync was made.
        """
        guild = discord.Object(id=guild_id) if guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = tree_hash(self.tree_payload(guild))
        scope = f"guild:{guild_id}" if guild_id else "global"
        key = f"commands.hash.{self.application_id}.{scope}"
        if not force and await self.catalogue.store.get_meta(key) == digest:
            log.info("application commands unchanged (%s); not syncing", scope)
            return False
        synced = await self.tree.sync(guild=guild)
        await self.catalogue.store.set_meta(key, digest)
        log.info("synced %d application commands (%s)", len(synced), scope)
        return True

    # ------------------------------------------------------------------ components
    async def admit_component(self, interaction: discord.Interaction[Any]) -> bool:
        """The gate for every button and menu (their ``interaction_check``): the 3-second
        clock, and the cooldown, which they count against like commands (a click pages
        through a search or opens a card: the same work). Refused: a private "slow down"."""
        start_clock(interaction)
        self.metrics.track(interaction)
        retry_after = self.cooldown.hit(interaction)
        if retry_after:
            await self.report_error(
                interaction, app_commands.CommandOnCooldown(self.cooldown.rule, retry_after)
            )
            return False
        return True

    async def route_action(
        self, interaction: discord.Interaction[DigestBot], custom_id: str, values: list[str]
    ) -> None:
        """Answer a button or menu of ours: parse its custom_id (:mod:`bot.ui.actions`, old
        ids included), call the handler registered for its kind; a custom_id that does not
        parse, or whose kind has no handler, has expired. Failures take the one error path."""
        try:
            action = actions.parse(custom_id)
            handler = None if action is None else self._actions.get(action.kind)
            if action is None or handler is None:
                raise ExpiredError(custom_id)
            await handler(interaction, action, values)
        except Exception as exc:
            await self.report_error(interaction, exc)

    # ------------------------------------------------------------------ errors
    async def report_error(
        self, interaction: discord.Interaction[Any], error: BaseException
    ) -> None:
        """The one error path of every interaction (the tree's :meth:`DigestTree.on_error`,
        the component router, the component gate): :func:`bot.errors.verdict` decides what
        the member sees (privately) and what is logged; the outcome is counted."""
        found = verdict(error, what=describe(interaction), user_id=interaction.user.id)
        self.metrics.outcome(interaction, found.outcome)
        if found.text is not None:
            await reply_ephemeral(interaction, found.text)
