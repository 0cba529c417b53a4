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
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

import discord

from bot.ui.limits import fit_content, fit_message

log = logging.getLogger(__name__)

T = TypeVar("T")

# Seconds of work after which an interaction is acknowledged with defer() (Discord: 3 s).
PATIENCE = 1.5
# With this many interactions already in progress, acknowledge first, then work.
BUSY = 3
_PUBLIC_PLACEHOLDER = "digest_bot_public_placeholder"


class _Load:
    """How many interactions are inside :func:`run_within` right now (one bot a process)."""

    in_progress = 0


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
    """Await ``work``; defer at once when busy, else if it takes more than ``patience`` s."""
    task = asyncio.ensure_future(work)
    busy = _Load.in_progress >= BUSY
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


async def send(
    interaction: discord.Interaction[Any],
    *,
    embeds: Sequence[discord.Embed] = (),
    content: str | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = False,
) -> None:
    """Send the answer as the interaction's response, or as a follow-up once deferred."""
    fitted = fit_message(list(embeds))
    text = fit_content(content) if content else None
    if ephemeral and interaction.extras.get(_PUBLIC_PLACEHOLDER):
        await _private_after_public_defer(interaction, text, fitted, view)
        return
    if not interaction.response.is_done():
        if view is None:
            await interaction.response.send_message(text, embeds=fitted, ephemeral=ephemeral)
        else:
            await interaction.response.send_message(
                text, embeds=fitted, view=view, ephemeral=ephemeral
            )
        return
    if view is None:
        await interaction.followup.send(text or discord.utils.MISSING, embeds=fitted,
                                        ephemeral=ephemeral)
    else:
        await interaction.followup.send(text or discord.utils.MISSING, embeds=fitted,
                                        view=view, ephemeral=ephemeral)


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
    except discord.HTTPException:
        log.warning("could not answer interaction %s", interaction.id, exc_info=True)


async def _private_after_public_defer(
    interaction: discord.Interaction[Any],
    text: str | None,
    embeds: list[discord.Embed],
    view: discord.ui.View | None,
) -> None:
    interaction.extras.pop(_PUBLIC_PLACEHOLDER, None)
    # Resolve the public placeholder so that later follow-ups honour their ephemeral flag.
    await interaction.edit_original_response(content="…", embeds=[], view=None)
    if view is None:
        await interaction.followup.send(text or discord.utils.MISSING, embeds=embeds,
                                        ephemeral=True)
    else:
        await interaction.followup.send(text or discord.utils.MISSING, embeds=embeds,
                                        view=view, ephemeral=True)
    with suppress(discord.HTTPException):
        await interaction.delete_original_response()
