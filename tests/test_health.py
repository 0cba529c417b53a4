"""The health endpoint's degraded answers, over loopback HTTP, from a real DigestBot object (its
catalogue open on a real database; no gateway) with a clock the test moves."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.catalogue import Catalogue
from bot.client import DigestBot
from bot.health import GatewayState, HealthServer, HealthServerError
from bot.settings import Secret, Settings
from tests.conftest import SEED_DIR


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[DigestBot]:
    settings = Settings(
        discord_token=Secret("t"),
        digest_dir=SEED_DIR,
        database_path=tmp_path / "digest.db",
        index_dir=tmp_path / "index",
    )
    bot = DigestBot(settings)
    catalogue = await Catalogue.open(settings, warm=False)
    await catalogue.reindex()
    bot._catalogue = catalogue
    try:
        yield bot
    finally:
        await bot.close()


async def _get(server: HealthServer, path: str) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}{path}") as response,
    ):
        return response.status, json.loads(await response.text())


async def test_gateway_down_longer_than_the_grace_is_degraded(bot: DigestBot) -> None:
    clock = Clock()
    bot.gateway = GatewayState(clock)
    server = HealthServer(bot, "127.0.0.1", 0, grace=60.0)
    await server.start()
    try:
        clock.now += 59
        status, body = await _get(server, "/healthz")
        assert (status, body["status"], body["gateway"]) == (200, "ok", "connecting")
        clock.now += 2  # never connected, 61 s after the start
        status, body = await _get(server, "/healthz")
        assert (status, body["status"]) == (503, "degraded")
        assert body["reasons"] == ["gateway connecting for 61 s"]
        assert body["papers"] == 8  # the rest is still reported

        bot.gateway.up()
        status, body = await _get(server, "/healthz")
        assert (status, body["gateway"]) == (200, "connected")
        bot.gateway.down()
        clock.now += 30
        status, body = await _get(server, "/healthz")
        assert (status, body["gateway"]) == (200, "disconnected")
        clock.now += 31
        status, body = await _get(server, "/healthz")
        assert status == 503 and body["reasons"] == ["gateway disconnected for 61 s"]
    finally:
        await server.stop()


async def test_a_database_that_cannot_be_read_is_degraded(bot: DigestBot) -> None:
    bot.gateway.up()
    server = HealthServer(bot, "127.0.0.1", 0)
    await server.start()
    try:
        assert (await _get(server, "/healthz"))[0] == 200
        await bot.catalogue.db.close()
        status, body = await _get(server, "/healthz")
        assert (status, body["status"], body["gateway"]) == (503, "degraded", "connected")
        reasons = body["reasons"]
        assert isinstance(reasons, list) and len(reasons) == 1
        assert reasons[0].startswith("database: ") and "closed" in reasons[0]
        assert body["papers"] is None and body["outbox_pending"] is None
    finally:
        await server.stop()


async def test_a_port_in_use_is_one_clear_error(bot: DigestBot) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HealthServer(bot, "127.0.0.1", port)
        with pytest.raises(HealthServerError, match=f"127.0.0.1:{port} .*HEALTH_PORT"):
            await server.start()


def test_each_bot_has_its_own_registry() -> None:
    one, two = DigestBot(Settings()), DigestBot(Settings())
    one.metrics.reindex_papers.labels("added").inc(3)
    assert one.metrics.registry is not two.metrics.registry
    assert b'change="added"} 3.0' in one.metrics.render()[0]
    assert b'change="added"} 0.0' in two.metrics.render()[0]


@pytest.mark.parametrize("value", ["0", "70000", "http"])
def test_health_port_must_be_a_port(value: str) -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="HEALTH_PORT"):
        Settings.from_env({"HEALTH_PORT": value}, env_file=None)


def test_health_is_off_by_default_and_on_loopback() -> None:
    settings = Settings.from_env({}, env_file=None)
    assert settings.health_port is None and settings.health_host == "127.0.0.1"
    assert Settings.from_env({"HEALTH_PORT": "9100"}, env_file=None).health_port == 9100
