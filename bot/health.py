"""``GET /healthz`` and ``GET /metrics``: the bot's health for container checks and Prometheus.

Served (aiohttp, which discord.py already brings) on ``HEALTH_HOST:HEALTH_PORT`` while the bot
runs, only when ``HEALTH_PORT`` is set.

``/healthz`` answers 200 with ``{"status": "ok", "gateway": "connected", "latency_ms",
"papers", "catalogue_version", "last_reindex", "outbox_pending", "paused_subscriptions"}``,
or 503 with ``"status": "degraded"`` and the ``reasons`` when the gateway has been
disconnected for more than :data:`GATEWAY_GRACE_S` seconds (or never connected within that
time of the start), or the database cannot be read within :data:`DB_TIMEOUT_S`. A shorter
disconnection (a reconnect, a resume) shows as ``"gateway": "disconnected"`` with status
ok: discord.py reconnects by itself. ``/metrics`` is the Prometheus text format of the bot's
own registry (:mod:`bot.metrics`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from discord.ext import commands

from bot.metrics import Metrics
from bot.store.db import StoreError

log = logging.getLogger(__name__)

GATEWAY_GRACE_S = 60.0
DB_TIMEOUT_S = 5.0


class HealthServerError(Exception):
    """The health endpoint cannot listen where it was asked to; the message says why."""


class GatewayState:
    """Whether the gateway is connected, and since when it is not (fed by client events)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.connected = False
        self.ever_connected = False
        self.down_since: float = clock()

    def up(self) -> None:
        self.connected = True
        self.ever_connected = True

    def down(self) -> None:
        if self.connected:
            self.down_since = self._clock()
        self.connected = False

    def down_for(self) -> float:
        """Seconds the gateway has been down (0 while connected)."""
        return 0.0 if self.connected else max(self._clock() - self.down_since, 0.0)

    def watch(self, client: commands.Bot) -> None:
        """Follow ``client``'s connect / ready / resume / disconnect events."""

        async def on_up() -> None:
            self.up()

        async def on_down() -> None:
            self.down()

        for event in ("on_connect", "on_ready", "on_resumed"):
            client.add_listener(on_up, event)
        client.add_listener(on_down, "on_disconnect")


@dataclass(frozen=True, slots=True)
class CatalogueFacts:
    """What ``/healthz`` reads from the database."""

    papers: int
    catalogue_version: int
    last_reindex: str | None
    outbox_pending: int
    paused_subscriptions: int


class HealthSource(Protocol):
    """What the health server needs of the bot."""

    gateway: GatewayState
    metrics: Metrics

    def gateway_latency(self) -> float | None: ...

    async def catalogue_facts(self) -> CatalogueFacts: ...


async def health_report(
    source: HealthSource, *, grace: float = GATEWAY_GRACE_S, db_timeout: float = DB_TIMEOUT_S
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON body) of ``/healthz``; also refreshes the metrics' gauges."""
    reasons: list[str] = []
    gateway = source.gateway
    if gateway.connected:
        state = "connected"
    else:
        state = "disconnected" if gateway.ever_connected else "connecting"
        down = gateway.down_for()
        if down > grace:
            reasons.append(f"gateway {state} for {down:.0f} s")
    latency = source.gateway_latency() if gateway.connected else None
    body: dict[str, Any] = {
        "status": "ok",
        "gateway": state,
        "latency_ms": None if latency is None else round(latency * 1000, 1),
    }
    try:
        facts = await asyncio.wait_for(source.catalogue_facts(), db_timeout)
    except TimeoutError:
        reasons.append(f"database: no answer within {db_timeout:g} s")
        facts = None
    except (StoreError, OSError) as exc:
        reasons.append(f"database: {exc}")
        facts = None
    body.update(
        papers=facts.papers if facts else None,
        catalogue_version=facts.catalogue_version if facts else None,
        last_reindex=facts.last_reindex if facts else None,
        outbox_pending=facts.outbox_pending if facts else None,
        paused_subscriptions=facts.paused_subscriptions if facts else None,
    )
    source.metrics.set_state(
        gateway_connected=gateway.connected,
        latency_s=latency,
        papers=facts.papers if facts else None,
        catalogue_version=facts.catalogue_version if facts else None,
        outbox_pending=facts.outbox_pending if facts else None,
        paused_subscriptions=facts.paused_subscriptions if facts else None,
    )
    if reasons:
        body["status"] = "degraded"
        body["reasons"] = reasons
        return 503, body
    return 200, body


def finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


class HealthServer:
    """The HTTP server of ``/healthz`` and ``/metrics`` (``start()`` / ``stop()``)."""

    def __init__(
        self, source: HealthSource, host: str, port: int, *, grace: float = GATEWAY_GRACE_S
    ) -> None:
        self.source = source
        self.host = host
        self.port = port
        self.grace = grace
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise HealthServerError(
                f"cannot serve the health endpoint on {self.host}:{self.port} "
                f"(HEALTH_HOST / HEALTH_PORT): {exc.strerror or exc}"
            ) from None
        self._runner = runner
        server: Any = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("health endpoint: http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        status, body = await self._guarded(lambda: health_report(self.source, grace=self.grace))
        return web.Response(status=status, text=json.dumps(body), content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
        await self._guarded(lambda: health_report(self.source, grace=self.grace))
        body, content_type = self.source.metrics.render(request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})

    @staticmethod
    async def _guarded(
        report: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
    ) -> tuple[int, dict[str, Any]]:
        try:
            return await report()
        except Exception as exc:  # the endpoint must answer whatever happens
            log.exception("health report failed")
            return 503, {"status": "degraded", "reasons": [f"health check failed: {exc}"]}
