"""The bot's log redacts the bot token and every interaction token, whoever logs them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.cli.run import RedactingFormatter, redact

BOT_TOKEN = "MTIz.bot.token"
TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OkxJTTlv-_x"
URL = f"https://discord.com/api/v10/interactions/1234567890/{TOKEN}/callback"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger writing through the bot's formatter into a string."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter(logging.Formatter("%(name)s %(message)s"), [BOT_TOKEN]))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_tokens_in_urls_payloads_args_and_tracebacks_are_redacted(captured: io.StringIO) -> None:
    logging.getLogger("discord.webhook.async_").debug(
        "Webhook ID %s with %s %s has returned status code %s", 1234567890, "POST", URL, 204
    )
    logging.getLogger("discord.http").debug(
        "%s %s with %s has returned %s",
        "PATCH",
        f"https://discord.com/api/v10/webhooks/42/{TOKEN}/messages/@original",
        "{}",
        200,
    )
    logging.getLogger("discord.gateway").debug(
        "WebSocket Event: %s", {"t": "INTERACTION_CREATE", "d": {"id": "1", "token": TOKEN}}
    )
    logging.getLogger("bot").info('raw: {"token":"%s","bot":"%s"}', TOKEN, BOT_TOKEN)
    try:
        raise ConnectionError(f"Cannot connect to host for url {URL!r}")
    except ConnectionError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")
    text = captured.getvalue()
    assert TOKEN not in text and BOT_TOKEN not in text, text
    assert "/interactions/1234567890/[redacted]/callback" in text
    assert "/webhooks/42/[redacted]/messages/@original" in text
    assert "'token': '[redacted]'" in text and '"token":"[redacted]"' in text
    assert "Traceback" in text and "ConnectionError" in text  # the traceback is kept


def test_redact_leaves_other_text_alone() -> None:
    text = "GET /channels/123/messages/456 token count 3; /webhooks/abc is not an id"
    assert redact(text) == text
