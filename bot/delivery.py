"""The alert delivery worker: drains the outbox, one channel and one message at a time.

Guarantees (see :mod:`bot.store.alerts` for the storage half):

* **Once per channel.** The outbox has one row per (channel, paper). A batch of up to 10
  rows is claimed under a nonce written to the database *before* the message is sent; the
  rows are stamped delivered in one transaction right after Discord confirms the message,
  and a delivered row is never claimed again.
* **Nothing lost.** A row stays in the outbox until Discord confirmed it. Failures are
  retried with exponential backoff persisted in ``next_attempt_at`` (a restart honours it);
  403 / 404 pause the channel's subscriptions with the reason instead of retrying forever,
  and the rows wait until the subscription is resumed.
* **The duplicate window** is the moment between Discord creating the message and the
  ``delivered_at`` commit (a crash, a kill, a lost response). The retry re-sends the same
  batch with the same nonce and discord.py sets ``enforce_nonce``, so Discord answers with
  the message it already created (within its nonce window of a few minutes) instead of
  posting a second one. Only a crash in that window followed by a restart later than
  Discord's nonce window can show the batch twice.
* **Gentle with Discord.** Messages are sent one after another. discord.py waits out a 429
  that carries ``Retry-After`` (and ``Via``); any other 429 is waited out here for at least
  its ``retry_after``. The loop body catches, logs and carries on; it never spins.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import aiohttp
import discord

from bot.core.models import Paper
from bot.store.alerts import AlertStore, Batch
from bot.store.db import DatabaseFailure
from bot.ui.alerts import AlertItem, alert_message, alert_view

log = logging.getLogger(__name__)

PaperLoader = Callable[[Sequence[str]], Awaitable[Mapping[str, Paper]]]

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 900.0
MAX_ATTEMPTS_UNFIXABLE = 5  # a 400-type rejection is retried this often, then given up
ERROR_PAUSE_S = 5.0  # after an unexpected failure of a whole pass
MARK_ATTEMPTS = 4  # recording a confirmed message: tries before giving up (for this pass)

# Discord JSON error codes that say the bot cannot post in the channel.
_PAUSE_REASONS = {
    10003: "the channel no longer exists (Discord 404, Unknown Channel)",
    50001: "I cannot see this channel (Discord 403, Missing Access)",
    50013: "I lack permission to post here (Discord 403, Missing Permissions: "
    "I need View Channel, Send Messages and Embed Links)",
    50007: "your DMs are closed to me (Discord 403, Cannot send messages to this user)",
}


class PauseDelivery(Exception):
    """Raised by a sender: pause the target's subscriptions with this reason, send nothing
    (e.g. a member who no longer shares a server with the bot, see bot.personal)."""


class Sender(Protocol):
    async def __call__(
        self,
        channel_id: int,
        content: str,
        embeds: list[discord.Embed],
        nonce: str,
        view: discord.ui.View | None = None,
    ) -> int:
        """Post one message (with ``view``'s buttons when given); return its id. Raises
        discord.py's exceptions."""
        ...


def discord_sender(client: discord.Client) -> Sender:
    """Send through ``client`` to a channel known only by id (no cache, no extra request)."""

    async def send(
        channel_id: int,
        content: str,
        embeds: list[discord.Embed],
        nonce: str,
        view: discord.ui.View | None = None,
    ) -> int:
        channel = client.get_partial_messageable(channel_id)
        if view is None:
            message = await channel.send(
                content,
                embeds=embeds,
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=nonce,
            )
        else:
            message = await channel.send(
                content,
                embeds=embeds,
                view=view,
                allowed_mentions=discord.AllowedMentions.none(),
                nonce=nonce,
            )
        return message.id

    return send


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do after a failed send."""

    action: str  # "pause" | "retry" | "give_up"
    reason: str
    retry_in: float = 0.0


def backoff(attempts: int, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S) -> float:
    """Seconds before the next attempt after ``attempts`` earlier failed ones (2, 4, 8, ...)."""
    return float(min(base * (2 ** max(attempts, 0)), cap))


def classify(
    error: BaseException, attempts: int, *, base: float = BACKOFF_BASE_S, cap: float = BACKOFF_CAP_S
) -> Verdict:
    """How a failed send of a batch that already failed ``attempts`` times is handled."""
    delay = backoff(attempts, base, cap)
    if isinstance(error, PauseDelivery):
        return Verdict("pause", str(error))
    if isinstance(error, discord.Forbidden | discord.NotFound):
        code = error.code
        reason = _PAUSE_REASONS.get(code) or (
            f"Discord refused my messages here ({error.status}"
            + (f", code {code}" if code else "")
            + (f": {error.text}" if error.text else "")
            + ")"
        )
        return Verdict("pause", reason)
    if isinstance(error, discord.RateLimited):
        return Verdict(
            "retry", f"rate limited for {error.retry_after:.1f} s", max(error.retry_after, delay)
        )
    if isinstance(error, discord.DiscordServerError):
        return Verdict("retry", f"Discord server error {error.status}", delay)
    if isinstance(error, discord.HTTPException):
        if error.status == 429:
            retry_after = _retry_after(error)
            return Verdict("retry", "rate limited (429)", max(retry_after, delay))
        verdict = "give_up" if attempts + 1 >= MAX_ATTEMPTS_UNFIXABLE else "retry"
        return Verdict(
            verdict,
            f"Discord rejected the message ({error.status} {error.code}: {error.text})",
            delay,
        )
    if isinstance(error, aiohttp.ClientError | OSError | TimeoutError):
        return Verdict("retry", f"network error: {type(error).__name__}: {error}", delay)
    verdict = "give_up" if attempts + 1 >= MAX_ATTEMPTS_UNFIXABLE else "retry"
    return Verdict(verdict, f"internal error: {type(error).__name__}: {error}", delay)


def _retry_after(error: discord.HTTPException) -> float:
    header = error.response.headers.get("Retry-After") if error.response is not None else None
    with suppress(TypeError, ValueError):
        return float(header) if header is not None else 0.0
    return 0.0


@dataclass
class DeliveryStats:
    """What one pass of the worker did."""

    messages: int = 0
    papers: int = 0
    failures: int = 0
    paused_channels: list[int] = field(default_factory=list)


class DeliveryWorker:
    """Sends the outbox. ``start()`` once; ``kick()`` after queueing; ``stop()`` on shutdown."""

    def __init__(
        self,
        store: AlertStore,
        load_papers: PaperLoader,
        sender: Sender,
        *,
        poll_interval: float = 60.0,
        backoff_base: float = BACKOFF_BASE_S,
        backoff_cap: float = BACKOFF_CAP_S,
    ) -> None:
        self.store = store
        self._load_papers = load_papers
        self._send = sender
        self.poll_interval = poll_interval
        self._base = backoff_base
        self._cap = backoff_cap
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._pass_lock = asyncio.Lock()
        self.totals = DeliveryStats()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="digest-bot-alert-delivery")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def kick(self) -> None:
        """Look at the outbox now (new alerts were queued, or the catalogue changed)."""
        self._wake.set()

    async def stop(self, timeout: float = 5.0) -> None:
        """Finish the message being sent (up to ``timeout`` s), then stop."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            log.warning("alert delivery did not stop within %.0f s; cancelling it", timeout)
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        except asyncio.CancelledError:
            task.cancel()
            raise

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
                wait = await self._idle_wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("alert delivery pass failed; trying again in %.0f s", ERROR_PAUSE_S)
                wait = ERROR_PAUSE_S
            if self._stopping:
                break
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _idle_wait(self) -> float:
        due = await self.store.next_due_at()
        if due is None:
            return self.poll_interval
        seconds = (due - datetime.now(UTC)).total_seconds()
        return min(max(seconds, 0.05), self.poll_interval)

    # ------------------------------------------------------------------ one pass
    async def drain(self) -> DeliveryStats:
        """Send everything that is due now, channel by channel; return what was done."""
        stats = DeliveryStats()
        async with self._pass_lock:
            for channel_id in await self.store.due_channels():
                if self._stopping:
                    break
                await self._drain_channel(channel_id, stats)
        self.totals.messages += stats.messages
        self.totals.papers += stats.papers
        self.totals.failures += stats.failures
        self.totals.paused_channels.extend(stats.paused_channels)
        return stats

    async def _drain_channel(self, channel_id: int, stats: DeliveryStats) -> None:
        while not self._stopping:
            batch = await self.store.claim(channel_id)
            if batch is None or not await self._deliver(batch, stats):
                return

    async def _deliver(self, batch: Batch, stats: DeliveryStats) -> bool:
        """Send one batch; True when it was delivered (go on with the channel)."""
        try:
            papers = await self._load_papers([row.paper_id for row in batch.rows])
            items = [
                AlertItem(papers[row.paper_id], row.topics)
                for row in batch.rows
                if row.paper_id in papers
            ]
            if len(items) != len(batch.rows):
                missing = [row.paper_id for row in batch.rows if row.paper_id not in papers]
                raise LookupError(f"papers {missing} are not in the catalogue")
            content, embeds = alert_message(items)
            message_id = await self._send(
                batch.channel_id, content, embeds, batch.nonce, view=alert_view(items)
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            await self._failed(batch, error, stats)
            return False
        # Discord confirmed: record it before anything else can happen.
        marked = await self._record_delivery(batch, message_id)
        stats.messages += 1
        stats.papers += marked
        log.info(
            "alert: %d paper(s) to channel %s (message %s)", marked, batch.channel_id, message_id
        )
        return True

    async def _record_delivery(self, batch: Batch, message_id: int) -> int:
        """Mark the batch delivered; a busy database (another process reindexing) is retried
        a few times, since until this commits a restart would re-send the batch."""
        for attempt in range(MARK_ATTEMPTS):
            try:
                return await self.store.mark_delivered(batch, message_id)
            except DatabaseFailure as exc:
                if attempt + 1 == MARK_ATTEMPTS:
                    raise
                log.warning("recording delivered alerts failed (%s); retrying", exc)
                await asyncio.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    async def _failed(self, batch: Batch, error: Exception, stats: DeliveryStats) -> None:
        verdict = classify(error, batch.attempts, base=self._base, cap=self._cap)
        stats.failures += 1
        if verdict.action == "pause":
            paused = await self.store.pause_channel(batch.channel_id, verdict.reason)
            stats.paused_channels.append(batch.channel_id)
            log.warning(
                "alerts to channel %s paused (%d subscription(s)): %s",
                batch.channel_id,
                paused,
                verdict.reason,
            )
            return
        give_up = verdict.action == "give_up"
        await self.store.record_failure(
            batch, verdict.reason, retry_in=verdict.retry_in, give_up=give_up
        )
        if give_up:
            log.error(
                "alerts to channel %s given up after %d attempts: %s",
                batch.channel_id,
                batch.attempts + 1,
                verdict.reason,
                exc_info=error,
            )
        else:
            log.warning(
                "alerts to channel %s failed (attempt %d), retrying in %.0f s: %s",
                batch.channel_id,
                batch.attempts + 1,
                verdict.retry_in,
                verdict.reason,
                exc_info=not isinstance(error, discord.HTTPException),
            )
