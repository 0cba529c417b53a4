"""The bot's Prometheus metrics, in a registry of its own (one per bot, never the global one).

What is measured, and where it comes from:

* ``digest_bot_interactions_total{type, command, outcome}`` and
  ``digest_bot_interaction_duration_seconds{type, command}`` -- every interaction the bot's
  gate admits or refuses (:meth:`Metrics.track`, called by the gate that also starts the
  3-second clock). The time runs from the gate to the end of the task that handled the
  interaction; the outcome is ``ok`` unless the handling marked it otherwise
  (:meth:`Metrics.outcome`: ``cooldown``, ``denied``, ``user_error``, ``expired``, ``late``,
  ``error``), or the task ended with an exception (``error``) or was cancelled (``late``).
  ``type`` is ``command``, ``autocomplete`` or ``component``; ``command`` is the command's
  name or, for a button or menu, what it does (``page:search``, ``open``, ``subscribe``):
  a bounded set, never a custom_id.
* ``digest_bot_alert_messages_sent_total``, ``digest_bot_alerts_sent_total`` (papers) and
  ``digest_bot_alert_send_failures_total`` -- the delivery worker's running totals.
* ``digest_bot_outbox_pending``, ``digest_bot_catalogue_papers``,
  ``digest_bot_catalogue_version``, ``digest_bot_paused_subscriptions``,
  ``digest_bot_gateway_connected``, ``digest_bot_gateway_latency_seconds`` -- gauges set from
  the database and the client at every scrape (:meth:`Metrics.set_state`).
* ``digest_bot_reindex_duration_seconds`` and ``digest_bot_reindex_papers_total{change}`` --
  every reindex the bot runs (:meth:`Metrics.observe_reindex`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import discord
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot.core.models import ReindexReport, SearchTimings
from bot.ui import actions

Outcome = Literal["ok", "cooldown", "denied", "user_error", "expired", "late", "error"]
OUTCOMES: tuple[Outcome, ...] = (
    "ok",
    "cooldown",
    "denied",
    "user_error",
    "expired",
    "late",
    "error",
)

# Seconds: Discord's 3 s for the first answer sits between 2.5 and 5.
INTERACTION_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0, 30.0)
SEARCH_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
SEARCH_PARTS = ("parse", "index", "fetch", "snippets")  # SearchTimings' fields
REINDEX_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)

# Button and menu kinds (bot.ui.actions, old custom_ids included) -> what they do.
_COMPONENTS: dict[str, str] = {
    "search": "page:search",
    "author": "page:author",
    "latest": "page:latest",
    "open": "open",
    "sub": "subscribe",
}


def component_label(custom_id: str) -> str:
    """A bounded label for a button or menu: what it does, never its state."""
    kind = actions.kind_of(custom_id)
    return _COMPONENTS.get(kind, "other") if kind is not None else "other"


def interaction_labels(interaction: discord.Interaction[Any]) -> tuple[str, str]:
    """(type, command) of an interaction, as the metrics label it."""
    data: Any = interaction.data or {}
    if interaction.type is discord.InteractionType.component:
        return "component", component_label(str(data.get("custom_id", "")))
    kind = "autocomplete" if interaction.type is discord.InteractionType.autocomplete else "command"
    command = interaction.command
    name = command.qualified_name if command is not None else str(data.get("name", "?"))[:32]
    return kind, name


@dataclass
class _Tracked:
    kind: str
    command: str
    started: float
    outcome: Outcome | None = None


@dataclass(frozen=True, slots=True)
class DeliveryTotals:
    """The delivery worker's running totals (see :class:`bot.delivery.DeliveryStats`)."""

    messages: int
    papers: int
    failures: int


class _DeliveryCollector(Collector):
    def __init__(self, totals: Callable[[], DeliveryTotals | None]) -> None:
        self._totals = totals

    def collect(self) -> Iterator[Metric]:
        totals = self._totals() or DeliveryTotals(0, 0, 0)
        yield CounterMetricFamily(
            "digest_bot_alert_messages_sent",
            "Alert messages Discord confirmed.",
            value=totals.messages,
        )
        yield CounterMetricFamily(
            "digest_bot_alerts_sent",
            "Papers posted in alert messages (one per channel).",
            value=totals.papers,
        )
        yield CounterMetricFamily(
            "digest_bot_alert_send_failures",
            "Alert messages that failed (retried later, or their channel paused).",
            value=totals.failures,
        )


class Metrics:
    """One bot's metrics. ``render()`` gives the Prometheus text format."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._clock = clock
        self._tracked: dict[int, _Tracked] = {}
        self._delivery: Callable[[], DeliveryTotals | None] = lambda: None
        r = self.registry
        self.interactions = Counter(
            "digest_bot_interactions",
            "Interactions handled, by type, command and outcome.",
            ["type", "command", "outcome"],
            registry=r,
        )
        self.interaction_seconds = Histogram(
            "digest_bot_interaction_duration_seconds",
            "Seconds from the bot's gate to the end of handling an interaction.",
            ["type", "command"],
            buckets=INTERACTION_BUCKETS,
            registry=r,
        )
        self.search_seconds = Histogram(
            "digest_bot_search_part_duration_seconds",
            "Seconds each part of a search took (parse, index, fetch, snippets).",
            ["part"],
            buckets=SEARCH_BUCKETS,
            registry=r,
        )
        self.reindex_seconds = Histogram(
            "digest_bot_reindex_duration_seconds",
            "Seconds a reindex run by the bot took.",
            buckets=REINDEX_BUCKETS,
            registry=r,
        )
        self.reindex_papers = Counter(
            "digest_bot_reindex_papers",
            "Papers the bot's reindexes added, updated or found gone.",
            ["change"],
            registry=r,
        )
        for change in ("added", "updated", "removed"):
            self.reindex_papers.labels(change)
        self.outbox_pending = Gauge(
            "digest_bot_outbox_pending",
            "Alerts waiting in the outbox.",
            registry=r,
        )
        self.papers = Gauge(
            "digest_bot_catalogue_papers",
            "Papers in the catalogue (not removed).",
            registry=r,
        )
        self.catalogue_version = Gauge(
            "digest_bot_catalogue_version",
            "The catalogue version (bumped by each change).",
            registry=r,
        )
        self.paused_subscriptions = Gauge(
            "digest_bot_paused_subscriptions",
            "Subscriptions paused because the bot cannot post in their channel.",
            registry=r,
        )
        self.gateway_connected = Gauge(
            "digest_bot_gateway_connected",
            "1 while the gateway is connected.",
            registry=r,
        )
        self.gateway_latency = Gauge(
            "digest_bot_gateway_latency_seconds",
            "Heartbeat latency of the gateway.",
            registry=r,
        )
        r.register(_DeliveryCollector(lambda: self._delivery()))

    # ---- interactions ---------------------------------------------------------------------

    def track(self, interaction: discord.Interaction[Any]) -> None:
        """Start measuring ``interaction``: call in the task that handles it (the gate).

        The measurement ends when that task ends; calling again for the same interaction
        does nothing."""
        if interaction.id in self._tracked:
            return
        kind, command = interaction_labels(interaction)
        self._tracked[interaction.id] = _Tracked(kind, command, self._clock())
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - the gate always runs in a task
            self.finish(interaction.id)
            return
        interaction_id = interaction.id
        task.add_done_callback(lambda t: self._task_done(interaction_id, t))

    def outcome(self, interaction: discord.Interaction[Any], outcome: Outcome) -> None:
        """Say how the interaction ended (the first word wins)."""
        tracked = self._tracked.get(interaction.id)
        if tracked is not None and tracked.outcome is None:
            tracked.outcome = outcome

    def _task_done(self, interaction_id: int, task: asyncio.Task[Any]) -> None:
        fallback: Outcome = "ok"
        if task.cancelled():
            fallback = "late"
        elif task.exception() is not None:
            fallback = "error"
        self.finish(interaction_id, fallback)

    def finish(self, interaction_id: int, fallback: Outcome = "ok") -> None:
        tracked = self._tracked.pop(interaction_id, None)
        if tracked is None:
            return
        outcome = tracked.outcome or fallback
        self.interactions.labels(tracked.kind, tracked.command, outcome).inc()
        self.interaction_seconds.labels(tracked.kind, tracked.command).observe(
            max(self._clock() - tracked.started, 0.0)
        )

    @property
    def in_flight(self) -> int:
        return len(self._tracked)

    # ---- reindexes and the rest -----------------------------------------------------------

    def observe_search(self, timings: SearchTimings) -> None:
        for part in SEARCH_PARTS:
            self.search_seconds.labels(part).observe(max(getattr(timings, part), 0.0))

    def observe_reindex(self, report: ReindexReport) -> None:
        if not report.applied:
            return
        self.reindex_seconds.observe(max(report.duration_s, 0.0))
        self.reindex_papers.labels("added").inc(report.added)
        self.reindex_papers.labels("updated").inc(report.updated)
        self.reindex_papers.labels("removed").inc(report.removed)

    def delivery_source(self, totals: Callable[[], DeliveryTotals | None]) -> None:
        """Where the delivery totals come from (read at every scrape)."""
        self._delivery = totals

    def set_state(
        self,
        *,
        papers: int | None = None,
        catalogue_version: int | None = None,
        outbox_pending: int | None = None,
        paused_subscriptions: int | None = None,
        gateway_connected: bool | None = None,
        latency_s: float | None = None,
    ) -> None:
        """Gauges, set just before a scrape from the database and the client."""
        if papers is not None:
            self.papers.set(papers)
        if catalogue_version is not None:
            self.catalogue_version.set(catalogue_version)
        if outbox_pending is not None:
            self.outbox_pending.set(outbox_pending)
        if paused_subscriptions is not None:
            self.paused_subscriptions.set(paused_subscriptions)
        if gateway_connected is not None:
            self.gateway_connected.set(1 if gateway_connected else 0)
        if latency_s is not None:
            self.gateway_latency.set(latency_s)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type) for a scrape whose ``Accept`` header is ``accept``: the
        Prometheus text format 0.0.4 by default, OpenMetrics when asked for."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type
