"""The delivery worker against a real outbox and a scripted Discord."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot import delivery
from bot.core.models import Paper
from bot.delivery import DeliveryWorker, backoff, classify
from bot.store.alerts import AlertStore, QueuedMatch, iso
from bot.store.db import Database
from bot.store.papers import PaperStore

GUILD = 1
OK_CHANNEL = 100
BAD_CHANNEL = 200


def http_error(cls: type[discord.HTTPException], status: int, code: int, text: str) -> Any:
    response = SimpleNamespace(status=status, reason=text, headers={})
    return cls(response, {"code": code, "message": text})


class FakeDiscord:
    """Records messages; deduplicates by nonce like Discord's ``enforce_nonce``."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, str, list[discord.Embed], str]] = []
        self.by_nonce: dict[str, int] = {}
        self.failures: dict[int, list[BaseException]] = {}
        self.attempts: list[tuple[int, str]] = []
        self.views: list[discord.ui.View | None] = []

    async def __call__(
        self,
        channel_id: int,
        content: str,
        embeds: list[discord.Embed],
        nonce: str,
        view: discord.ui.View | None = None,
    ) -> int:
        self.attempts.append((channel_id, nonce))
        self.views.append(view)
        pending = self.failures.get(channel_id)
        if pending:
            raise pending.pop(0)
        if nonce in self.by_nonce:
            return self.by_nonce[nonce]
        message_id = 1000 + len(self.messages)
        self.messages.append((channel_id, content, embeds, nonce))
        self.by_nonce[nonce] = message_id
        return message_id

    def titles(self, channel_id: int) -> list[str]:
        return [
            e.title or "" for c, _, embeds, _ in self.messages if c == channel_id for e in embeds
        ]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "delivery.db")
    try:
        yield database
    finally:
        await database.close()


def loader(db: Database) -> Any:
    papers = PaperStore(db)

    async def load(ids: Sequence[str]) -> Mapping[str, Paper]:
        found = await papers.get_papers(ids)
        return {key: stored.paper for key, stored in found.items()}

    return load


async def setup_outbox(db: Database, store: AlertStore, counts: dict[int, int]) -> None:
    for channel, count in counts.items():
        sub = await store.add(
            guild_id=GUILD,
            channel_id=channel,
            query=f"topic {channel}",
            created_by=1,
            max_per_channel=10,
            max_per_guild=50,
        )
        rowids = await add_papers_offset(db, count, offset=channel * 1000)
        async with db.transaction() as tx:
            await store.queue(
                tx, [QueuedMatch(GUILD, channel, r, (sub.subscription.id,)) for r in rowids]
            )


async def add_papers_offset(db: Database, count: int, offset: int) -> list[int]:
    rowids = []
    async with db.transaction() as tx:
        for n in range(offset, offset + count):
            done = await tx.execute(
                "INSERT INTO papers (id, key, title, authors_raw, venue, abstract, entry_hash, "
                "first_seen, updated_at) VALUES (?, ?, ?, 'Doe, Jane', 'arXiv', "
                "'@everyone *look*', 'h', ?, ?)",
                (f"q{n:07d}", f"k{n}", f"Paper **{n}**", iso_now(), iso_now()),
            )
            assert done.lastrowid is not None
            rowids.append(done.lastrowid)
    return rowids


def iso_now() -> str:
    return iso(datetime.now(UTC))


async def test_drains_in_messages_of_ten_escaped(db: Database) -> None:
    store = AlertStore(db)
    fake = FakeDiscord()
    await setup_outbox(db, store, {OK_CHANNEL: 12})
    stats = await DeliveryWorker(store, loader(db), fake).drain()
    assert (stats.messages, stats.papers, stats.failures) == (2, 12, 0)
    contents = [content for _, content, _, _ in fake.messages]
    assert contents == ["10 new papers for `topic 100`", "2 new papers for `topic 100`"]
    titles = fake.titles(OK_CHANNEL)
    assert len(titles) == 12 and len(set(titles)) == 12
    assert all("\\*\\*" in t for t in titles)  # Markdown escaped
    for _, _, embeds, _ in fake.messages:
        assert sum(len(e) for e in embeds) <= 6000
        assert all("@everyone" not in (e.description or "") for e in embeds)
    # Nothing left: a second pass sends nothing.
    assert (await DeliveryWorker(store, loader(db), fake).drain()).messages == 0


async def test_server_error_retries_later_with_the_same_nonce(db: Database) -> None:
    store = AlertStore(db)
    fake = FakeDiscord()
    await setup_outbox(db, store, {OK_CHANNEL: 3})
    fake.failures[OK_CHANNEL] = [http_error(discord.DiscordServerError, 503, 0, "unavailable")]
    worker = DeliveryWorker(store, loader(db), fake, backoff_base=0.2)
    first = await worker.drain()
    assert (first.messages, first.failures) == (0, 1)
    assert await store.due_channels() == []  # backing off
    await asyncio.sleep(0.25)
    second = await worker.drain()
    assert (second.messages, second.papers) == (1, 3)
    assert fake.attempts[0][1] == fake.attempts[1][1]  # same batch, same nonce


async def test_forbidden_channel_is_paused_and_others_still_delivered(db: Database) -> None:
    store = AlertStore(db)
    fake = FakeDiscord()
    await setup_outbox(db, store, {BAD_CHANNEL: 2, OK_CHANNEL: 2})
    fake.failures[BAD_CHANNEL] = [http_error(discord.Forbidden, 403, 50001, "Missing Access")]
    stats = await DeliveryWorker(store, loader(db), fake).drain()
    assert stats.paused_channels == [BAD_CHANNEL]
    assert len(fake.titles(OK_CHANNEL)) == 2 and fake.titles(BAD_CHANNEL) == []
    (bad,) = await store.list_subscriptions(GUILD, BAD_CHANNEL)
    assert bad.state == "paused" and "Missing Access" in (bad.pause_reason or "")
    assert bad.pending == 2
    # Not retried: the next pass does not touch the channel at all.
    attempts = len(fake.attempts)
    await DeliveryWorker(store, loader(db), fake).drain()
    assert len(fake.attempts) == attempts


async def test_crash_between_send_and_mark_sends_once(db: Database) -> None:
    store = AlertStore(db)
    fake = FakeDiscord()
    await setup_outbox(db, store, {OK_CHANNEL: 3})

    class Crash(Exception):
        pass

    async def crash(*args: object, **kwargs: object) -> int:
        raise Crash

    crashing = AlertStore(db)
    crashing.mark_delivered = crash  # type: ignore[method-assign]
    with pytest.raises(Crash):
        await DeliveryWorker(crashing, loader(db), fake).drain()
    assert len(fake.messages) == 1
    # "Restart": a new worker re-sends the same batch with the same nonce.
    stats = await DeliveryWorker(AlertStore(db), loader(db), fake).drain()
    assert stats.papers == 3
    assert len(fake.messages) == 1 and len(fake.attempts) == 2
    assert fake.attempts[0][1] == fake.attempts[1][1]


async def test_loop_survives_a_failing_pass_and_stops_cleanly(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = AlertStore(db)
    fake = FakeDiscord()
    await setup_outbox(db, store, {OK_CHANNEL: 1})
    calls = 0
    real = store.due_channels

    async def flaky() -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database hiccup")
        return await real()

    store.due_channels = flaky  # type: ignore[method-assign]
    worker = DeliveryWorker(store, loader(db), fake, poll_interval=0.05)
    monkeypatch.setattr(delivery, "ERROR_PAUSE_S", 0.05)
    worker.start()
    async with asyncio.timeout(5):
        while not fake.messages:
            await asyncio.sleep(0.02)
    await worker.stop(timeout=5)
    assert not worker.running and calls >= 2 and len(fake.messages) == 1


def test_classification_and_backoff() -> None:
    assert [backoff(n) for n in range(4)] == [2.0, 4.0, 8.0, 16.0]
    assert backoff(30) == 900.0
    gone = classify(http_error(discord.NotFound, 404, 10003, "Unknown Channel"), 0)
    assert gone.action == "pause" and "no longer exists" in gone.reason
    perms = classify(http_error(discord.Forbidden, 403, 50013, "Missing Permissions"), 0)
    assert perms.action == "pause" and "Missing Permissions" in perms.reason
    server = classify(http_error(discord.DiscordServerError, 502, 0, "bad gateway"), 2)
    assert (server.action, server.retry_in) == ("retry", 8.0)
    bad = classify(http_error(discord.HTTPException, 400, 50035, "Invalid Form Body"), 4)
    assert bad.action == "give_up"
    assert classify(TimeoutError(), 0).action == "retry"
