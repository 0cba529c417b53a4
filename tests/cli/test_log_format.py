"""LOG_FORMAT=text|json: JSON lines through the same redaction; no colours off a terminal."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import discord.utils
import pytest

from bot.cli.run import configure_logging
from bot.settings import Settings

BOT_TOKEN = "MTIz.bot.token"
TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OkxJTTlv-_x"
URL = f"https://discord.com/api/v10/interactions/1234567890/{TOKEN}/callback"


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _settings(**env: str) -> Settings:
    return Settings.from_env({"DISCORD_TOKEN": BOT_TOKEN, **env}, env_file=None)


def _log_some() -> None:
    logging.getLogger("bot.client").info("ready as %s", "digest-bot")
    logging.getLogger("discord.http").debug("POST %s has returned 204", URL)
    logging.getLogger("bot").warning('raw: {"token":"%s","bot":"%s"}', TOKEN, BOT_TOKEN)
    try:
        raise ConnectionError(f"Cannot connect to host for url {URL!r} with {BOT_TOKEN}")
    except ConnectionError:
        logging.getLogger("asyncio").exception("Task exception was never retrieved")


def test_json_lines_carry_time_level_logger_message_and_the_exception(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(_settings(LOG_FORMAT="json", LOG_LEVEL="DEBUG"))
    _log_some()
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 4, err  # one line a record, the traceback included
    records = [json.loads(line) for line in lines]
    assert [r["level"] for r in records] == ["INFO", "DEBUG", "WARNING", "ERROR"]
    assert records[0]["logger"] == "bot.client"
    assert records[0]["message"] == "ready as digest-bot"
    assert records[0]["time"].endswith("Z") and "T" in records[0]["time"]
    assert "exception" not in records[0]
    exception = records[3]["exception"]
    assert exception.startswith("Traceback") and "ConnectionError" in exception
    # The same redaction as the text format, before JSON escaping could hide a token.
    assert TOKEN not in err and BOT_TOKEN not in err
    assert "/interactions/1234567890/[redacted]/callback" in records[1]["message"]
    assert records[2]["message"] == 'raw: {"token":"[redacted]","bot":"[redacted]"}'
    assert "[redacted]" in exception


def test_text_has_no_colours_when_not_a_terminal_even_in_docker(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """discord.py colours its log inside Docker whatever the output is (is_docker()); a
    container's log collector then stores escape codes."""
    monkeypatch.setattr(discord.utils, "is_docker", lambda: True)
    configure_logging(_settings())
    logging.getLogger("bot").warning("plain please %s", BOT_TOKEN)
    err = capsys.readouterr().err
    assert "\x1b[" not in err, repr(err)
    assert "WARNING" in err and "bot: plain please [redacted]" in err


def test_bad_log_format_names_the_setting() -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"}, env_file=None)
