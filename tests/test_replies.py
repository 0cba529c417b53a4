"""Answering interactions in time: direct when fast, deferred when slow, private errors."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest

from bot import replies


class FakeResponse:
    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.done = False

    def is_done(self) -> bool:
        return self.done

    async def defer(self, *, ephemeral: bool = False) -> None:
        self.done = True
        self.log.append(f"defer ephemeral={ephemeral}")

    async def send_message(self, content: str | None = None, **kwargs: Any) -> None:
        self.done = True
        self.log.append(f"send_message {content!r} ephemeral={kwargs.get('ephemeral')}")


class FakeFollowup:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def send(self, content: Any = None, **kwargs: Any) -> None:
        self.log.append(f"followup {content!r} ephemeral={kwargs.get('ephemeral')}")


class FakeInteraction:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.id = 1
        self.type = discord.InteractionType.application_command
        self.extras: dict[str, Any] = {}
        self.response = FakeResponse(self.log)
        self.followup = FakeFollowup(self.log)

    async def edit_original_response(self, **kwargs: Any) -> None:
        self.log.append(f"edit_original {kwargs.get('content')!r}")

    async def delete_original_response(self) -> None:
        self.log.append("delete_original")


def _i(fake: FakeInteraction) -> discord.Interaction[Any]:
    return cast(discord.Interaction[Any], fake)


async def test_fast_work_is_answered_without_defer() -> None:
    fake = FakeInteraction()

    async def work() -> int:
        return 42

    assert await replies.run_within(_i(fake), work(), patience=0.5) == 42
    await replies.send(_i(fake), content="hi")
    assert fake.log == ["send_message 'hi' ephemeral=False"]


async def test_slow_work_is_deferred_then_followed_up() -> None:
    fake = FakeInteraction()

    async def work() -> int:
        await asyncio.sleep(0.1)
        return 7

    assert await replies.run_within(_i(fake), work(), patience=0.01) == 7
    await replies.send(_i(fake), content="done")
    assert fake.log == ["defer ephemeral=False", "followup 'done' ephemeral=False"]


async def test_an_error_after_a_public_defer_stays_private() -> None:
    fake = FakeInteraction()

    async def work() -> None:
        await asyncio.sleep(0.05)

    await replies.run_within(_i(fake), work(), patience=0.01)
    await replies.reply_ephemeral(_i(fake), "bad input")
    assert fake.log == [
        "defer ephemeral=False",
        "edit_original '…'",
        "followup 'bad input' ephemeral=True",
        "delete_original",
    ]


async def test_reply_ephemeral_never_raises() -> None:
    fake = FakeInteraction()

    async def broken(content: str | None = None, **kwargs: Any) -> None:
        raise discord.HTTPException(cast(Any, _Resp()), "boom")

    fake.response.send_message = broken  # type: ignore[method-assign]
    await replies.reply_ephemeral(_i(fake), "x")


class _Resp:
    status = 500
    reason = "boom"


async def test_when_busy_the_interaction_is_acknowledged_before_the_work_ends() -> None:
    release = asyncio.Event()

    async def blocked() -> None:
        await release.wait()

    others = [FakeInteraction() for _ in range(replies.BUSY)]
    running = [
        asyncio.ensure_future(replies.run_within(_i(f), blocked(), patience=10)) for f in others
    ]
    await asyncio.sleep(0.01)
    assert all(f.log == [] for f in others)  # idle bot: patience, no defer yet

    fake = FakeInteraction()

    async def quick() -> int:
        await asyncio.sleep(0.01)
        return 1

    assert await replies.run_within(_i(fake), quick(), patience=10) == 1
    assert fake.log == ["defer ephemeral=False"]
    release.set()
    await asyncio.gather(*running)


async def test_an_interaction_still_unanswered_at_the_deadline_is_given_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(replies, "ACK_WINDOW", 0.2)
    monkeypatch.setattr(replies, "GRACE", 0.05)
    fake = FakeInteraction()
    fake.id = 77
    fake.created_at = discord.utils.utcnow()  # type: ignore[attr-defined]
    fake.user = SimpleNamespace(id=5)  # type: ignore[attr-defined]
    fake.data = {"name": "search"}  # type: ignore[attr-defined]
    fake.command = None  # type: ignore[attr-defined]
    stopped: list[str] = []

    async def hung_defer(*, ephemeral: bool = False) -> None:
        await asyncio.sleep(30)  # the acknowledgement never comes back

    fake.response.defer = hung_defer  # type: ignore[method-assign]

    async def work() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.append("work")

    async def handler() -> None:
        replies.start_clock(_i(fake))
        assert (replies.time_left(_i(fake)) or 0) <= 0.2
        await replies.run_within(_i(fake), work(), patience=10)  # short budget: defer now
        stopped.append("not reached")

    with caplog.at_level(logging.WARNING, logger="bot.replies"):
        task = asyncio.create_task(handler())
        await asyncio.wait({task}, timeout=5)
    assert task.cancelled()
    assert stopped == ["work"]  # the work was cancelled too: nothing goes on
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "/search from user 5 not answered" in warnings[0]
    assert replies.time_left(_i(fake)) is None  # the clock is gone
