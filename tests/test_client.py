"""The bot class: intents, mentions, the command tree and the one error path."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest
from discord import app_commands

from bot.client import EXTENSIONS, DigestBot, MemberCooldown, tree_hash
from bot.errors import SOMETHING_WENT_WRONG, UserFacingError, verdict
from bot.settings import Secret, Settings
from tests.discord_double.limits import check_command_list

MINE = ("bot.cogs.search", "bot.cogs.info")  # the other cogs need an open catalogue


async def _bot() -> DigestBot:
    bot = DigestBot(Settings(discord_token=Secret("t")))
    for extension in MINE:
        await bot.load_extension(extension)
    return bot


def test_extensions_list_holds_the_search_and_info_cogs() -> None:
    assert EXTENSIONS[:2] == list(MINE)


async def test_minimal_intents_and_no_mentions() -> None:
    bot = await _bot()
    assert bot.intents.value == discord.Intents(guilds=True).value
    assert not (bot.intents.members or bot.intents.presences or bot.intents.message_content)
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert not (mentions.everyone or mentions.users or mentions.roles or mentions.replied_user)
    await bot.close()


async def test_command_tree_is_valid_and_its_hash_stable() -> None:
    bot, other = await _bot(), await _bot()
    payload = bot.tree_payload(None)
    assert {c["name"] for c in payload} == {
        "search",
        "paper",
        "author",
        "latest",
        "stats",
        "trend",
        "help",
    }
    assert all(len(c["description"]) <= 100 for c in payload)
    assert check_command_list(payload) == []
    assert tree_hash(payload) == tree_hash(other.tree_payload(None))
    changed = [dict(c) for c in payload]
    changed[0]["description"] = "something else"
    assert tree_hash(changed) != tree_hash(payload)
    await bot.close()
    await other.close()


def describe_command_error(error: BaseException) -> str:
    """What the member who ran /search is told of ``error`` (the one error path's verdict)."""
    text = verdict(error, what="/search", user_id=5).text
    assert text is not None
    return text


def test_user_facing_errors_are_shown_as_written() -> None:
    command = cast(Any, SimpleNamespace(qualified_name="search", name="search"))
    error = app_commands.CommandInvokeError(command, UserFacingError("Type a query."))
    assert describe_command_error(error) == "Type a query."


def test_check_failures_and_cooldowns_are_explained() -> None:
    cooldown = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10), 4.2)
    assert describe_command_error(cooldown) == "Slow down — try again in 5 s."
    soon = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10), 0.2)
    assert "try again in 1 s" in describe_command_error(soon)
    assert describe_command_error(app_commands.CheckFailure()) == (
        "You are not allowed to use that command here."
    )


def test_unexpected_errors_are_logged_and_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    command = cast(Any, SimpleNamespace(qualified_name="search", name="search"))
    error = app_commands.CommandInvokeError(command, ZeroDivisionError("secret detail"))
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        text = describe_command_error(error)
    assert text == SOMETHING_WENT_WRONG
    assert "secret detail" not in text
    assert any(r.exc_info and r.exc_info[0] is ZeroDivisionError for r in caplog.records)


def _member(user_id: int) -> discord.Interaction[Any]:
    return cast(discord.Interaction[Any], SimpleNamespace(user=SimpleNamespace(id=user_id)))


def test_member_cooldown_allows_rate_per_window_then_says_how_long_to_wait() -> None:
    cooldown = MemberCooldown(5, 10)
    alice, bob = _member(1), _member(2)
    assert [cooldown.hit(alice, now=100.0 + i * 0.02) for i in range(5)] == [0.0] * 5
    assert cooldown.hit(alice, now=101.0) == pytest.approx(9.0)
    assert cooldown.hit(alice, now=104.0) == pytest.approx(6.0)  # refusals are not counted
    assert cooldown.waiting(alice, now=104.0) == pytest.approx(6.0)
    assert cooldown.hit(bob, now=104.0) == 0.0  # per member
    assert cooldown.waiting(bob, now=104.0) == 0.0
    assert cooldown.hit(alice, now=110.5) == 0.0  # a new window
    assert cooldown.waiting(alice, now=110.6) == 0.0


def test_member_cooldown_zero_is_off() -> None:
    for rate, per in ((0, 10), (5, 0)):
        cooldown = MemberCooldown(rate, per)
        assert all(cooldown.hit(_member(1), now=1.0) == 0.0 for _ in range(100))
        assert cooldown.waiting(_member(1), now=1.0) == 0.0
