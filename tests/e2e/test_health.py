"""``/healthz`` and ``/metrics`` of the real bot process, over loopback HTTP, while the Discord
double drives it; and the bot's own log in ``LOG_FORMAT=json``."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from tests.discord_double import DiscordDouble
from tests.e2e.conftest import COMMANDS
from tests.e2e.harness import BotProcess, bot_env, copy_seeds, run_cli_async
from tests.e2e.payloads import button

pytestmark = pytest.mark.asyncio(loop_scope="module")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HealthBot:
    double: DiscordDouble
    bot: BotProcess
    base: str
    http: aiohttp.ClientSession

    async def healthz(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.base}/healthz") as response:
            assert response.content_type == "application/json"
            return response.status, json.loads(await response.text())

    async def metrics(self) -> Samples:
        async with self.http.get(f"{self.base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            text = await response.text()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    async def wait_metric(
        self,
        name: str,
        labels: dict[str, str],
        check: Callable[[float], bool],
        timeout: float = 5.0,
    ) -> Samples:
        """Scrape until ``check(value)`` holds (an interaction is counted when its task ends,
        just after its answer)."""
        deadline = time.monotonic() + timeout
        key = (name, frozenset(labels.items()))
        while True:
            samples = await self.metrics()
            if key in samples and check(samples[key]):
                return samples
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{name}{labels} never satisfied the check: {samples.get(key)!r}"
                )
            await asyncio.sleep(0.05)

    async def wait_gateway(self, state: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status, body = await self.healthz()
            if body["gateway"] == state:
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"the gateway never became {state!r}: {status} {body}")
            await asyncio.sleep(0.1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def health_bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[HealthBot]:
    workdir = tmp_path_factory.mktemp("e2e-health")
    digests = copy_seeds(workdir / "digests")
    port = free_port()
    async with DiscordDouble() as double:
        env = bot_env(
            workdir,
            token=double.token,
            api_base=double.api_base,
            digest_dir=digests,
            extra={
                "HEALTH_PORT": str(port),
                "LOG_FORMAT": "json",
                "COOLDOWN_COMMANDS": "3",
                "COOLDOWN_SECONDS": "60",
            },
        )
        bot = BotProcess(workdir, env, workdir / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(double, identify=1)
            await double.wait_for_commands(names=COMMANDS, timeout=10)
            async with aiohttp.ClientSession() as http:
                yield HealthBot(double, bot, f"http://127.0.0.1:{port}", http)
        finally:
            code = await bot.stop()
        assert code == 0, f"the bot exited with {code} on SIGTERM:\n{bot.log_text()[-3000:]}"


async def test_healthz_reports_the_catalogue_and_the_gateway(health_bot: HealthBot) -> None:
    status, body = await health_bot.healthz()
    assert status == 200, body
    assert body["status"] == "ok" and body["gateway"] == "connected"
    assert body["papers"] == 8 and body["catalogue_version"] == 1
    assert body["last_reindex"] and body["last_reindex"].endswith("Z")
    assert body["outbox_pending"] == 0 and body["paused_subscriptions"] == 0
    assert set(body) == {
        "status",
        "gateway",
        "latency_ms",
        "papers",
        "catalogue_version",
        "last_reindex",
        "outbox_pending",
        "paused_subscriptions",
    }
    assert body["latency_ms"] is None or body["latency_ms"] >= 0


async def test_metrics_count_interactions_by_command_and_outcome(health_bot: HealthBot) -> None:
    double = health_bot.double
    before = await health_bot.metrics()
    assert before[("digest_bot_catalogue_papers", frozenset())] == 8
    assert ("digest_bot_alert_messages_sent_total", frozenset()) in before
    assert before[("digest_bot_reindex_duration_seconds_count", frozenset())] == 1  # first start
    assert before[("digest_bot_reindex_papers_total", frozenset({("change", "added")}))] == 8

    search = await double.invoke_slash(
        "search", {"query": "learning", "limit": 1}, user=double.moderator
    )
    message = await search.wait_for_message(timeout=5)
    ok = {"type": "command", "command": "search", "outcome": "ok"}
    await health_bot.wait_metric("digest_bot_interactions_total", ok, lambda v: v == 1)
    for part in ("parse", "index", "fetch", "snippets"):  # the search's parts, each observed
        await health_bot.wait_metric(
            "digest_bot_search_part_duration_seconds_count", {"part": part}, lambda v: v == 1
        )

    click = await double.click(message, button(message, "Next")["custom_id"], user=double.moderator)
    await click.response(timeout=5)
    page = {"type": "component", "command": "page:search", "outcome": "ok"}
    await health_bot.wait_metric("digest_bot_interactions_total", page, lambda v: v == 1)

    typing = await double.autocomplete(
        "paper", {"paper": "scal"}, focused="paper", user=double.moderator
    )
    assert await typing.choices(timeout=5)
    auto = {"type": "autocomplete", "command": "paper", "outcome": "ok"}
    await health_bot.wait_metric("digest_bot_interactions_total", auto, lambda v: v == 1)

    # The moderator used 2 of 3 (autocomplete does not count): the 4th is refused.
    for _ in range(2):
        handle = await double.invoke_slash("stats", user=double.moderator)
        await handle.response(timeout=5)
    slowed = {"type": "command", "command": "stats", "outcome": "cooldown"}
    samples = await health_bot.wait_metric(
        "digest_bot_interactions_total", slowed, lambda v: v == 1
    )
    # the first /stats is counted when its task ends, which may be after the refusal
    stats_ok = {"type": "command", "command": "stats", "outcome": "ok"}
    samples = await health_bot.wait_metric(
        "digest_bot_interactions_total", stats_ok, lambda v: v == 1
    )
    duration = (
        "digest_bot_interaction_duration_seconds_count",
        frozenset({("type", "command"), ("command", "search")}),
    )
    assert samples[duration] == 1
    double.assert_no_violations()


async def test_metrics_speak_openmetrics_when_asked(health_bot: HealthBot) -> None:
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    async with health_bot.http.get(
        f"{health_bot.base}/metrics", headers={"Accept": accept}
    ) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        text = await response.text()
    assert text.rstrip().endswith("# EOF") and "digest_bot_outbox_pending" in text


async def test_a_short_gateway_outage_shows_without_failing_the_check(
    health_bot: HealthBot,
) -> None:
    double = health_bot.double
    double.set_gateway_available(False)
    double.drop_gateway()
    body = await health_bot.wait_gateway("disconnected")
    status, body = await health_bot.healthz()
    assert status == 200 and body["status"] == "ok"  # discord.py reconnects by itself
    samples = await health_bot.metrics()
    assert samples[("digest_bot_gateway_connected", frozenset())] == 0
    double.set_gateway_available(True)
    await health_bot.wait_gateway("connected")
    samples = await health_bot.metrics()
    assert samples[("digest_bot_gateway_connected", frozenset())] == 1


async def test_the_log_is_json_lines(health_bot: HealthBot) -> None:
    lines = [
        line
        for line in health_bot.bot.log_text().splitlines()
        if line and not line.startswith("=====")
    ]
    assert lines
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    assert any(r["logger"] == "bot.health" and "/healthz" in r["message"] for r in records)
    # (discord.py logs the dropped gateway of the outage test as an ERROR, with its exception)
    assert not [
        r for r in records if r["level"] in ("ERROR", "CRITICAL") and r["logger"].startswith("bot")
    ]
    dropped = [r for r in records if r["logger"] == "discord.client" and "exception" in r]
    assert all(r["exception"].startswith("Traceback") for r in dropped)
    assert health_bot.double.token not in health_bot.bot.log_text()


async def test_a_health_port_in_use_stops_the_bot_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with DiscordDouble() as double:
            env = bot_env(
                tmp_path,
                token=double.token,
                api_base=double.api_base,
                digest_dir=copy_seeds(tmp_path / "d"),
                extra={"HEALTH_PORT": str(port), "LOG_LEVEL": "WARNING"},
            )
            result = await run_cli_async(["run"], env, tmp_path)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("digest-bot: cannot serve the health endpoint on 127.0.0.1:")
    assert "HEALTH_PORT" in last
