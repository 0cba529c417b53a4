"""Personal alerts by DM: the delivery worker's sender for follows.

The outbox names a member's DMs by the negative user id (:func:`bot.store.personal.
follow_target`). :func:`personal_sender` wraps the channel sender: a negative id is sent to
the member's DM channel (``POST /users/@me/channels``, cached by discord.py), after checking
that the member still shares a server with the bot (a member who left every one is not
messaged: their follows are paused). Discord's 50007 ("Cannot send messages to this user")
pauses the member's follows through the worker's usual pause, and leaves the member a notice
they get privately the next time they use a command.
"""

from __future__ import annotations

import logging

import discord

from bot.delivery import PauseDelivery, Sender
from bot.store.personal import PersonalStore, follow_user

log = logging.getLogger(__name__)

DMS_CLOSED = "your DMs are closed to me (Discord 50007: Cannot send messages to this user)"
NOT_SHARED = "you no longer share a server with me"
MAX_GUILDS_CHECKED = 10


def notice_text(reason: str) -> str:
    """What a member whose follows were paused is told (privately, once)."""
    return (
        f"⏸️ Your follows are paused: {reason}. Allow direct messages from server members "
        "(or from me), then run `/follow` again to resume them; `/following` shows them."
    )


def personal_sender(client: discord.Client, store: PersonalStore, send: Sender) -> Sender:
    """``send`` for channels; a member's DMs for the negative ids of follows."""

    async def shares_a_server(user_id: int) -> bool:
        ids = await store.follow_guilds(user_id)
        guilds = [g for g in (client.get_guild(i) for i in ids) if g is not None]
        if not guilds and not ids:
            guilds = list(client.guilds)
        for guild in guilds[:MAX_GUILDS_CHECKED]:
            try:
                await guild.fetch_member(user_id)
            except discord.NotFound:
                continue
            return True
        return False

    async def sender(
        channel_id: int,
        content: str,
        embeds: list[discord.Embed],
        nonce: str,
        view: discord.ui.View | None = None,
    ) -> int:
        user_id = follow_user(channel_id)
        if user_id is None:
            return await send(channel_id, content, embeds, nonce, view)
        if not await shares_a_server(user_id):
            await store.pause_follows(user_id, NOT_SHARED, notice_text(NOT_SHARED))
            raise PauseDelivery(NOT_SHARED)
        dm = await client.create_dm(discord.Object(id=user_id))
        try:
            return await send(dm.id, content, embeds, nonce, view)
        except discord.Forbidden as exc:
            if exc.code == 50007:
                log.info("DMs to member %s are closed; pausing their follows", user_id)
                await store.pause_follows(user_id, DMS_CLOSED, notice_text(DMS_CLOSED))
            raise

    return sender
