"""The errors a member is told about, their texts, and the one decision of what a member
sees when an interaction fails and what only the log sees.

Slash commands, autocomplete, buttons and menus all end up in
:meth:`bot.client.DigestBot.report_error`, which asks :func:`verdict` and sends its text
privately (ephemeral) and counts its outcome in the metrics. Cogs raise
:class:`UserFacingError` (shown as written) or :class:`ExpiredError` (a button's state is
gone); anything else is a bug: logged with its traceback, and the member gets
:data:`SOMETHING_WENT_WRONG`, never a traceback.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from discord import app_commands

from bot.core.query import MAX_QUERY_LENGTH, QueryError, parse_query
from bot.metrics import Outcome
from bot.replies import ResponseTooLate

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = (
    "Something went wrong on my side while answering that. It has been logged; "
    "please try again in a moment."
)
EXPIRED = "This result expired — run the command again."
SERVER_ONLY = "That command only works in a server."
NOT_ALLOWED = "You are not allowed to use that command here."
UNKNOWN_COMMAND = "I don't know that command any more; Discord will refresh the list shortly."
CHANGED_COMMAND = "That command changed since Discord last saw it; try again in a minute."


class UserFacingError(Exception):
    """An error whose message is meant for the member (shown privately, as written)."""


class ExpiredError(UserFacingError):
    """A button's or menu's state can no longer be recovered; the member is told
    :data:`EXPIRED`. ``detail`` (the ref or custom_id) is for debugging only."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(EXPIRED)
        self.detail = detail


def slow_down(retry_after: float) -> str:
    """What a member on cooldown is told (privately)."""
    return f"Slow down — try again in {max(1, math.ceil(retry_after))} s."


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the member sees of an error and how the interaction counts in the metrics."""

    text: str | None  # None: nothing can be sent any more (the 3 s are over)
    outcome: Outcome
    unexpected: bool = False  # a bug: logged with its traceback


def classify(error: BaseException) -> Verdict:
    """The verdict on ``error`` (a command's error, or what a button's handler raised)."""
    original: BaseException = error
    if isinstance(error, app_commands.CommandInvokeError):
        original = error.original
    if isinstance(original, ResponseTooLate):
        return Verdict(None, "late")  # logged once already; nothing can be sent any more
    if isinstance(original, ExpiredError):
        return Verdict(EXPIRED, "expired")
    if isinstance(original, UserFacingError):
        return Verdict(str(original), "user_error")
    if isinstance(error, app_commands.CommandOnCooldown):
        return Verdict(slow_down(error.retry_after), "cooldown")
    if isinstance(error, app_commands.MissingPermissions | app_commands.BotMissingPermissions):
        return Verdict(str(error), "denied")
    if isinstance(error, app_commands.NoPrivateMessage):
        return Verdict(SERVER_ONLY, "denied")
    if isinstance(error, app_commands.CheckFailure):
        return Verdict(NOT_ALLOWED, "denied")
    if isinstance(error, app_commands.TransformerError):
        return Verdict(
            f"I could not understand {error.value!r}: expected {error.type.name.lower()}.",
            "user_error",
        )
    if isinstance(error, app_commands.CommandNotFound):
        return Verdict(UNKNOWN_COMMAND, "user_error")
    if isinstance(error, app_commands.CommandSignatureMismatch):
        return Verdict(CHANGED_COMMAND, "user_error")
    return Verdict(SOMETHING_WENT_WRONG, "error", unexpected=True)


def verdict(error: BaseException, *, what: str, user_id: int) -> Verdict:
    """:func:`classify`, and an unexpected error logged with its traceback, naming ``what``
    failed (``/search``, ``component 'ds:cite:…'``) and for whom."""
    found = classify(error)
    if found.unexpected:
        original = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        log.error("%s failed for user %s", what, user_id, exc_info=original)
    return found


def check_query(text: str) -> None:
    """Raise :class:`UserFacingError` saying what to fix when ``text`` cannot be searched."""
    try:
        parse_query(text)
    except QueryError as exc:
        if exc.code == "empty":
            raise UserFacingError(
                'Type what to search for, e.g. `scaling laws`, `"feature learning"` or '
                "`author:barbier`. `/help` shows the query language."
            ) from None
        if exc.code == "too_long":
            raise UserFacingError(
                f"That query is {len(text)} characters; the limit is {MAX_QUERY_LENGTH}. "
                "Keep the words that matter most."
            ) from None
        raise UserFacingError(
            f"I can't read that query: {exc} (`/help` shows the syntax.)"
        ) from None
