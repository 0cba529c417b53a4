"""The delivery worker and a database another process keeps busy: the store's failure when
recording a delivered batch is retried, so the batch is marked once and never re-sent."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import discord
import pytest

from bot import delivery
from bot.delivery import DeliveryWorker
from bot.store import db as db_module
from bot.store.alerts import AlertStore
from bot.store.db import Database
from tests.test_delivery import OK_CHANNEL, FakeDiscord, loader, setup_outbox


async def test_recording_a_delivery_is_retried_while_another_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(db_module, "BUSY_TIMEOUT_MS", 50)
    path = tmp_path / "delivery.db"
    other = sqlite3.connect(path, isolation_level=None)
    async with await Database.open(path) as db:
        store = AlertStore(db)
        await setup_outbox(db, store, {OK_CHANNEL: 2})
        fake = FakeDiscord()
        release: list[asyncio.TimerHandle] = []

        async def send_then_lock(
            channel_id: int,
            content: str,
            embeds: list[discord.Embed],
            nonce: str,
            view: discord.ui.View | None = None,
        ) -> int:
            message_id = await fake(channel_id, content, embeds, nonce, view)
            other.execute("BEGIN IMMEDIATE")  # another process starts writing, for a while
            release.append(asyncio.get_running_loop().call_later(0.3, other.rollback))
            return message_id

        stats = await DeliveryWorker(store, loader(db), send_then_lock).drain()
        assert stats.messages == 1 and stats.papers == 2 and not stats.failures
        assert len(fake.attempts) == 1  # sent once: the mark was retried, not the send
        assert await store.due_channels() == []
        warned = [r.getMessage() for r in caplog.records if r.name == delivery.log.name]
        assert any("recording delivered alerts failed (database is locked)" in w for w in warned)
    other.close()
