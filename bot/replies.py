"""Answering interactions: in time, once, and privately when something is wrong.

Discord wants an answer within 3 seconds. :func:`run_within` runs the work and, when the
bot is otherwise idle, only acknowledges with a "thinking…" placeholder (``defer``) if the
work is not done after :data:`PATIENCE` seconds, so fast answers arrive in one step. When
:data:`BUSY` or more interactions are already being worked on, it acknowledges at once
instead: queued behind the others, the answer would come late, the acknowledgement must
not. :func:`send` and :func:`reply_ephemeral` then answer whatever state the interaction
is in.

A fact of Discord that shapes :func:`reply_ephemeral`: the first follow-up after a public
``defer`` replaces the public placeholder and is public whatever its flags say. To keep an
error private after such a defer, the placeholder is resolved, the error sent as an
ephemeral follow-up, and the placeholder deleted.

The 3-second budget. :func:`start_clock` (called by the bot's one gate for every
interaction, before any work) gives the interaction a deadline: 3 s after Discord created it
(its snowflake time, trusting at most :data:`MAX_LAG` of delivery delay so that a skewed
clock cannot eat the budget), measured on the event loop's clock. The first response then
goes through :class:`BudgetedAdapter` instead of discord.py's webhook adapter, whose retries
know nothing of the deadline (a 500 waits 1 s, then 3 s; five 429s may wait out 4.5 s):
server errors are retried after 0.25 s, 0.5 s, 1 s; a 429 after its ``retry_after``; and
no attempt starts once it could not reach Discord in time. When the first response cannot
be sent in time, the bot gives up on that interaction: one warning naming the command and
the user (never the token), and the task handling it is cancelled, so no follow-up work
goes on. A watchdog does the same :data:`GRACE` s after the deadline for an interaction
still unanswered (an attempt hanging, a handler that never answered).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import time
from collections.abc import Awaitable, Coroutine, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import aiohttp
import discord
from discord.http import MultipartParameters, Route, json_or_text
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.ui.limits import fit_content, fit_message

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds of work after which an interaction is acknowledged with defer() (Discord: 3 s).
PATIENCE = 1.5
# With this many interactions already in progress, acknowledge first, then work.
BUSY = 3
_PUBLIC_PLACEHOLDER = "digest_bot_public_placeholder"

# Discord: the first response must reach it within 3 s of the interaction's creation.
ACK_WINDOW = 3.0
# Delivery delay (gateway) taken from the interaction's snowflake time, at most this much.
MAX_LAG = 1.0
# No attempt to send the first response starts later than this before the deadline.
SEND_MARGIN = 0.1
# After the deadline, a still unanswered interaction is given up (its task cancelled).
GRACE = 0.5
# Waits before retrying the first response after a 5xx or a reset connection.
CALLBACK_BACKOFF = (0.25, 0.5, 1.0)
# With less than this left, work is acknowledged (defer) at once rather than after PATIENCE.
DEFER_RESERVE = 1.0
# Discord's answer to a callback for an interaction it no longer knows (too late).
UNKNOWN_INTERACTION = 10062


class _Load:
    """How many interactions are inside :func:`run_within` right now (one bot a process)."""

    in_progress = 0


class ResponseTooLate(discord.DiscordException):
    """The first response could not be sent within the 3 s; nothing more will be sent."""


@dataclass(eq=False)
class _Clock:
    """One interaction's budget for its first response."""

    interaction: discord.Interaction[Any]
    deadline: float  # on the event loop's clock
    task: asyncio.Task[Any] | None
    given_up: bool = False

    def left(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()

    def give_up(self, why: str) -> None:
        """Log once (command and user, never the token) and stop the interaction's task."""
        if self.given_up:
            return
        self.given_up = True
        interaction = self.interaction
        log.warning(
            "%s from user %s not answered within Discord's %g s (%s); gave up on it",
            describe(interaction),
            interaction.user.id,
            ACK_WINDOW,
            why,
        )
        if self.task is not None and not self.task.done():
            self.task.cancel()


_clocks: dict[int, _Clock] = {}


def describe(interaction: discord.Interaction[Any]) -> str:
    """What the interaction is, for logs: ``/search``, ``/paper (autocomplete)``, a button."""
    data: Any = interaction.data or {}
    if interaction.type is discord.InteractionType.component:
        return f"component {str(data.get('custom_id', '?'))[:40]!r}"
    command = interaction.command
    name = command.qualified_name if command is not None else str(data.get("name", "?"))
    if interaction.type is discord.InteractionType.autocomplete:
        return f"/{name} (autocomplete)"
    return f"/{name}"


def start_clock(interaction: discord.Interaction[Any]) -> None:
    """Give ``interaction`` its 3 s budget; call first thing, in the task that handles it."""
    if interaction.id in _clocks:
        return
    loop = asyncio.get_running_loop()
    lag = min(max(time.time() - interaction.created_at.timestamp(), 0.0), MAX_LAG)
    clock = _Clock(interaction, loop.time() + ACK_WINDOW - lag, asyncio.current_task())
    _clocks[interaction.id] = clock
    loop.call_at(clock.deadline + GRACE, _watchdog, clock)
    async_context.set(_ADAPTER)


def time_left(interaction: discord.Interaction[Any]) -> float | None:
    """Seconds left to send the first response, or None when no clock runs for it."""
    clock = _clocks.get(interaction.id)
    return None if clock is None else clock.left()


def _watchdog(clock: _Clock) -> None:
    _clocks.pop(clock.interaction.id, None)
    if not clock.interaction.response.is_done():
        clock.give_up("no response was sent")


async def _give_up(clock: _Clock, why: str) -> NoReturn:
    clock.give_up(why)
    await asyncio.sleep(0)  # in the interaction's own task, its cancellation lands here
    raise ResponseTooLate(why)


class BudgetedAdapter(AsyncWebhookAdapter):
    """discord.py's webhook adapter, but the first response of an interaction with a clock
    (:func:`start_clock`) is sent within its deadline (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def create_interaction_response(
        self,
        interaction_id: int,
        token: str,
        *,
        session: aiohttp.ClientSession,
        proxy: str | None = None,
        proxy_auth: aiohttp.BasicAuth | None = None,
        params: MultipartParameters,
    ) -> Coroutine[Any, Any, Any]:
        clock = _clocks.get(interaction_id)
        if clock is None or clock.given_up:
            return super().create_interaction_response(
                interaction_id,
                token,
                session=session,
                proxy=proxy,
                proxy_auth=proxy_auth,
                params=params,
            )
        route = Route(
            "POST",
            "/interactions/{webhook_id}/{webhook_token}/callback",
            webhook_id=interaction_id,
            webhook_token=token,
        )
        return _send_first_response(clock, route.url, session, proxy, proxy_auth, params)


_ADAPTER = BudgetedAdapter()


async def _send_first_response(
    clock: _Clock,
    url: str,
    session: aiohttp.ClientSession,
    proxy: str | None,
    proxy_auth: aiohttp.BasicAuth | None,
    params: MultipartParameters,
) -> Any:
    """POST the interaction callback, retrying only while an attempt can still be in time."""
    attempt = 0
    while True:
        if clock.left() < SEND_MARGIN:
            await _give_up(clock, "out of time before sending")
        for file in params.files or ():
            file.reset(seek=attempt)
        body: str | aiohttp.FormData | None = None
        headers: dict[str, str] = {}
        if params.multipart:
            body = aiohttp.FormData(quote_fields=False)
            for part in params.multipart:
                body.add_field(**part)
        elif params.payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(params.payload, separators=(",", ":"), ensure_ascii=True)
        wait: float
        try:
            async with session.request(
                "POST",
                url,
                data=body,
                headers=headers,
                params={"with_response": "1"},
                proxy=proxy,
                proxy_auth=proxy_auth,
            ) as response:
                data = await json_or_text(response)
                status = response.status
                if 200 <= status < 300:
                    return data
                if status == 429:
                    if not response.headers.get("Via") or not isinstance(data, dict):
                        raise discord.HTTPException(response, data)  # Cloudflare, not Discord
                    wait = float(data.get("retry_after", 1.0))
                    what = f"rate limited for {wait:.2f} s"
                elif status >= 500:
                    wait = CALLBACK_BACKOFF[min(attempt, len(CALLBACK_BACKOFF) - 1)]
                    what = f"Discord answered {status}"
                elif (
                    status == 404
                    and isinstance(data, dict)
                    and data.get("code") == UNKNOWN_INTERACTION
                ):
                    await _give_up(clock, "Discord no longer knows the interaction")
                elif status == 403:
                    raise discord.Forbidden(response, data)
                elif status == 404:
                    raise discord.NotFound(response, data)
                else:
                    raise discord.HTTPException(response, data)
        except OSError as exc:  # a reset connection, as discord.py retries it
            if exc.errno not in (errno.ECONNRESET, 10054):
                raise
            wait = CALLBACK_BACKOFF[min(attempt, len(CALLBACK_BACKOFF) - 1)]
            what = "connection reset"
        if clock.left() - wait < SEND_MARGIN:
            await _give_up(clock, f"{what}; a retry would be too late")
        log.debug(
            "first response to %s: %s; retrying in %.2f s", describe(clock.interaction), what, wait
        )
        await asyncio.sleep(wait)
        attempt += 1


async def defer(interaction: discord.Interaction[Any], *, ephemeral: bool = False) -> None:
    """Acknowledge now (a "thinking…" placeholder for commands, nothing visible for buttons)."""
    if interaction.response.is_done():
        return
    await interaction.response.defer(ephemeral=ephemeral)
    if interaction.type is discord.InteractionType.application_command and not ephemeral:
        interaction.extras[_PUBLIC_PLACEHOLDER] = True


async def run_within(
    interaction: discord.Interaction[Any],
    work: Awaitable[T],
    *,
    patience: float = PATIENCE,
    ephemeral: bool = False,
) -> T:
    """Await ``work``; defer at once when busy, else if it takes more than ``patience`` s
    (less when the interaction's budget is short: :data:`DEFER_RESERVE` s are kept to send
    the acknowledgement). Cancelled (the interaction was given up), ``work`` is cancelled."""
    task = asyncio.ensure_future(work)
    left = time_left(interaction)
    if left is not None:
        patience = max(min(patience, left - DEFER_RESERVE), 0.0)
    busy = _Load.in_progress >= BUSY or patience <= 0
    _Load.in_progress += 1
    try:
        if not busy:
            done, _ = await asyncio.wait({task}, timeout=patience)
        if busy or not done:
            try:
                await defer(interaction, ephemeral=ephemeral)
            except discord.HTTPException:
                log.warning("could not defer interaction %s", interaction.id, exc_info=True)
        return await task
    finally:
        _Load.in_progress -= 1
        if not task.done():
            task.cancel()


async def send(
    interaction: discord.Interaction[Any],
    *,
    embeds: Sequence[discord.Embed] = (),
    content: str | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = False,
    files: Sequence[discord.File] = (),
) -> None:
    """Send the answer as the interaction's response, or as a follow-up once deferred
    (``files``: attachments, which embeds show as ``attachment://<file name>``)."""
    fitted = fit_message(list(embeds))
    text = fit_content(content) if content else None
    extra: dict[str, Any] = {}
    if view is not None:
        extra["view"] = view
    if files:
        extra["files"] = list(files)
    if ephemeral and interaction.extras.get(_PUBLIC_PLACEHOLDER):
        await _private_after_public_defer(interaction, text, fitted, extra)
        return
    if not interaction.response.is_done():
        await interaction.response.send_message(text, embeds=fitted, ephemeral=ephemeral, **extra)
        return
    await interaction.followup.send(
        text or discord.utils.MISSING, embeds=fitted, ephemeral=ephemeral, **extra
    )


async def update(
    interaction: discord.Interaction[Any],
    *,
    embeds: Sequence[discord.Embed],
    view: discord.ui.View | None,
) -> None:
    """Replace the message a button or select belongs to (paging)."""
    fitted = fit_message(list(embeds))
    if not interaction.response.is_done():
        await interaction.response.edit_message(content=None, embeds=fitted, view=view)
    else:
        await interaction.edit_original_response(content=None, embeds=fitted, view=view)


async def reply_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Tell only this user ``text`` whatever state the interaction is in. Never raises."""
    try:
        await send(interaction, content=text, ephemeral=True)
    except ResponseTooLate:
        pass  # already logged, once
    except discord.HTTPException:
        log.warning("could not answer interaction %s", interaction.id, exc_info=True)


async def _private_after_public_defer(
    interaction: discord.Interaction[Any],
    text: str | None,
    embeds: list[discord.Embed],
    extra: dict[str, Any],
) -> None:
    interaction.extras.pop(_PUBLIC_PLACEHOLDER, None)
    # Resolve the public placeholder so that later follow-ups honour their ephemeral flag.
    await interaction.edit_original_response(content="…", embeds=[], view=None)
    await interaction.followup.send(
        text or discord.utils.MISSING, embeds=embeds, ephemeral=True, **extra
    )
    with suppress(discord.HTTPException):
        await interaction.delete_original_response()
