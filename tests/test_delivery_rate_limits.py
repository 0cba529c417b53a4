"""The delivery worker's sends under 429s: real discord.py HTTP against the Discord double.

Alerts are the only messages the bot posts in channels (answers to interactions go through
the interaction's own webhook), so they are where Discord's per-route buckets apply. A 429
from Discord (with ``Via``) is waited out by discord.py's HTTP client for its
``retry_after`` before the same request is sent again; a 429 without ``Via`` (Cloudflare)
is not retried by discord.py, and the worker then waits at least its ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.delivery import DeliveryWorker, discord_sender
from bot.discord_endpoints import configure_api_base, reset_endpoints
from bot.store.alerts import AlertStore
from bot.store.db import Database
from tests.discord_double import DiscordDouble
from tests.test_delivery import loader, setup_outbox

MESSAGES = r"^/channels/\d+/messages$"


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble() as d:
        configure_api_base(d.api_base)
        try:
            yield d
        finally:
            reset_endpoints()


@pytest.fixture
async def client(double: DiscordDouble) -> AsyncIterator[discord.Client]:
    bot = discord.Client(intents=discord.Intents.none())
    await bot.login(double.token)  # REST only: the worker needs no gateway
    try:
        yield bot
    finally:
        await bot.close()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "delivery.db")
    try:
        yield database
    finally:
        await database.close()


async def test_a_discord_429_is_waited_out_before_the_same_send(
    double: DiscordDouble, client: discord.Client, db: Database
) -> None:
    channel = double.alerts.id
    store = AlertStore(db)
    await setup_outbox(db, store, {channel: 12})  # two messages
    limited = double.rate_limit_next("POST", MESSAGES, retry_after=0.4)
    stats = await DeliveryWorker(store, loader(db), discord_sender(client)).drain()
    assert (stats.messages, stats.papers, stats.failures) == (2, 12, 0)
    posts = double.requests_matching("POST", MESSAGES)
    assert [p.status for p in posts] == [429, 200, 200]
    assert posts[1].at - limited.hits[0].at >= 0.38  # retry_after, then the same request
    assert posts[1].json["nonce"] == posts[0].json["nonce"]
    assert len(double.channel_messages(channel)) == 2
    double.assert_no_violations()


async def test_a_cloudflare_429_is_retried_by_the_worker_after_retry_after(
    double: DiscordDouble, client: discord.Client, db: Database
) -> None:
    channel = double.alerts.id
    store = AlertStore(db)
    await setup_outbox(db, store, {channel: 3})
    blocked = double.rate_limit_next("POST", MESSAGES, retry_after=0.5, via=False)
    worker = DeliveryWorker(store, loader(db), discord_sender(client), backoff_base=0.05)
    first = await worker.drain()
    assert (first.messages, first.failures) == (0, 1)
    assert await store.due_channels() == []  # waiting: Retry-After says 1 s
    await asyncio.sleep(0.5)
    assert await store.due_channels() == []
    await asyncio.sleep(0.6)
    second = await worker.drain()
    assert (second.messages, second.papers) == (1, 3)
    posts = double.requests_matching("POST", MESSAGES)
    assert posts[-1].at - blocked.hits[0].at >= 1.0
    assert posts[-1].json["nonce"] == blocked.hits[0].json["nonce"]
    double.assert_no_violations()
