"""``digest-bot run`` (the default) and ``digest-bot sync [--guild ID]``.

Expected failures are one line on stderr and an exit code, never a traceback: a missing or
rejected token and bad settings exit 2; Discord unreachable, or a database the code cannot
use (e.g. newer than the code), or held by another running bot, exits 3. SIGINT and SIGTERM
close the bot cleanly (gateway, HTTP session, database) within a few seconds in every state,
also while discord.py waits to reconnect (its backoff sleep is cut short) or posts an alert
(the post gets a short grace, then stays queued and is sent after the restart).

Logging: ``LOG_FORMAT=text`` (one line a record; colours only on a terminal, never with
``NO_COLOR``) or ``json`` (one JSON object a line: time, level, logger, message, exception).
Both go through the same redaction of the bot token and interaction tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from bot.cli.common import EXIT_NOT_APPLIED, EXIT_OK, EXIT_USAGE
from bot.settings import Settings, SettingsError, check_index_dir

if TYPE_CHECKING:
    from bot.client import DigestBot

MISSING_TOKEN = (
    "digest-bot: DISCORD_TOKEN is not set: create a bot at "
    "https://discord.com/developers/applications, copy its token into .env "
    "(DISCORD_TOKEN=...) or the environment, and run again"
)
REJECTED_TOKEN = (
    "digest-bot: Discord rejected DISCORD_TOKEN (401 Unauthorized): copy the bot token again "
    "from the developer portal (Bot -> Reset Token) into .env or the environment"
)

log = logging.getLogger("bot")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser(
        "run",
        help="run the Discord bot (the default when no command is given)",
        description="Run the Discord bot with the settings from .env / the environment.",
    )
    run.set_defaults(func=cmd_run)
    sync = subparsers.add_parser(
        "sync",
        help="push the slash commands to Discord now, then exit",
        description=(
            "Upload the slash commands now (the bot also does it by itself whenever they "
            "change). Without --guild: to DEV_GUILD_ID if set, else globally."
        ),
    )
    sync.add_argument("--guild", type=int, metavar="ID", help="sync to this server only")
    sync.set_defaults(func=cmd_sync)


# Interaction tokens: in the URLs discord.py logs (/interactions/{id}/{token}/callback,
# /webhooks/{application id}/{token}/...; any webhook token alike) and in the gateway
# payloads it logs at DEBUG ('token': '...' in INTERACTION_CREATE), as a dict or as JSON.
_TOKEN_PATTERNS = (
    re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"]+"),
    re.compile(r"""(["']token["']\s*:\s*["'])[^"']+"""),
)
REDACTED = "[redacted]"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` without interaction / webhook tokens and without any of ``secrets``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Wraps a formatter and redacts the whole formatted record: the message with its
    arguments, the traceback and the stack (see :func:`redact`)."""

    def __init__(self, inner: logging.Formatter, secrets: list[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(self._inner.format(record), self._secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``
    and, when there is one, ``exception`` (the traceback) and ``stack``. Each text is
    redacted (see :func:`redact`) before it is encoded, so JSON escaping cannot hide a
    token from the patterns."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage(), self._secrets),
        }
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = redact(record.exc_text, self._secrets)
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info), self._secrets)
        return json.dumps(entry, ensure_ascii=False)


PLAIN_FORMAT = "[{asctime}] [{levelname:<8}] {name}: {message}"  # discord.py's, uncoloured


def wants_colour(stream: Any) -> bool:
    """Colours only on a terminal and without ``NO_COLOR`` (discord.py also colours inside
    Docker when nothing reads a terminal, which puts escape codes in the logs)."""
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Log to ``stream`` (stderr) at LOG_LEVEL on the root logger (so every logger, discord.*
    included, goes through it), as LOG_FORMAT says; the bot token and every interaction
    token are redacted. Returns the handler."""
    import discord

    handler = logging.StreamHandler(stream)
    secrets = [settings.discord_token.reveal()]
    level = logging.getLevelName(settings.log_level)
    if settings.log_format == "json":
        discord.utils.setup_logging(handler=handler, formatter=JsonFormatter(secrets), level=level)
    elif wants_colour(handler.stream):
        discord.utils.setup_logging(handler=handler, level=level)  # discord.py's colours
    else:
        plain = logging.Formatter(PLAIN_FORMAT, "%Y-%m-%d %H:%M:%S", style="{")
        discord.utils.setup_logging(handler=handler, formatter=plain, level=level)
    inner = handler.formatter or logging.Formatter()
    handler.setFormatter(RedactingFormatter(inner, secrets))
    return handler


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _load_settings() -> Settings | int:
    try:
        settings = Settings.from_env()
        check_index_dir(settings)
    except SettingsError as exc:
        return _fail(f"digest-bot: {exc}", EXIT_USAGE)
    if not settings.discord_token:
        return _fail(MISSING_TOKEN, EXIT_USAGE)
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    settings = _load_settings()
    if isinstance(settings, int):
        return settings
    configure_logging(settings)
    return _run_async(lambda: _serve(settings), settings)


def cmd_sync(args: argparse.Namespace) -> int:
    settings = _load_settings()
    if isinstance(settings, int):
        return settings
    configure_logging(settings)
    guild_id: int | None = args.guild if args.guild is not None else settings.dev_guild_id
    return _run_async(lambda: _sync(settings, guild_id), settings)


def _run_async(main: Callable[[], Awaitable[int]], settings: Settings) -> int:
    from bot.discord_endpoints import configure_api_base

    configure_api_base(settings.discord_api_base)
    try:
        return asyncio.run(_guarded(main))
    except KeyboardInterrupt:
        return 130


async def _guarded(main: Callable[[], Awaitable[int]]) -> int:
    import aiohttp
    import discord

    from bot.health import HealthServerError
    from bot.store.db import StoreError

    try:
        return await main()
    except HealthServerError as exc:
        return _fail(f"digest-bot: {exc}", EXIT_NOT_APPLIED)
    except discord.LoginFailure:
        return _fail(REJECTED_TOKEN, EXIT_USAGE)
    except (aiohttp.ClientConnectionError, OSError) as exc:
        return _fail(f"digest-bot: cannot reach Discord: {exc}", EXIT_NOT_APPLIED)
    except discord.HTTPException as exc:
        detail = exc.text or str(exc)
        return _fail(f"digest-bot: Discord answered {exc.status}: {detail}", EXIT_NOT_APPLIED)
    except StoreError as exc:
        return _fail(f"digest-bot: {exc}", EXIT_NOT_APPLIED)
    except SettingsError as exc:  # e.g. INDEX_DIR filled by someone else since the start
        return _fail(f"digest-bot: {exc}", EXIT_USAGE)


async def _serve(settings: Settings) -> int:
    from bot.client import DigestBot
    from bot.store.ops import DatabaseLock

    # Held while the bot runs: `digest-bot restore` refuses to swap the database under it.
    with DatabaseLock(settings.database_path):
        return await _serve_locked(settings, DigestBot(settings))


async def _serve_locked(settings: Settings, bot: DigestBot) -> int:
    loop = asyncio.get_running_loop()
    closing: list[asyncio.Task[None]] = []
    running: list[asyncio.Task[None]] = []

    async def shut_down() -> None:
        await bot.close()
        # discord.py may be sleeping before its next reconnect attempt (a backoff of up to
        # minutes); the bot is closed, so don't wait for it.
        for task in running:
            task.cancel()

    def stop(signame: str) -> None:
        if closing:
            return
        log.info("%s received: shutting down", signame)
        closing.append(loop.create_task(shut_down()))

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop, sig.name)
    try:
        async with bot:
            runner = asyncio.create_task(bot.start(settings.discord_token.reveal()))
            running.append(runner)
            try:
                await runner
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not closing or (current is not None and current.cancelling()):
                    raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log.info("stopped")
    return EXIT_OK


async def _sync(settings: Settings, guild_id: int | None) -> int:
    from bot.client import DigestBot

    bot = DigestBot(settings, mode="sync")
    async with bot:
        await bot.login(settings.discord_token.reveal())
        changed = await bot.sync_commands(guild_id=guild_id, force=True)
    scope = f"guild {guild_id}" if guild_id else "all servers (global; may take a while to show)"
    print(f"synced application commands to {scope}" if changed else "nothing to sync")
    return EXIT_OK
