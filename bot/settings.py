"""Every setting, read from the environment and an optional ``.env`` file.

The environment wins over ``.env``. The token is kept in a :class:`Secret` whose ``repr``
and ``str`` never show it, so it cannot leak into logs by accident.

Every value is checked here, so that a bad one is one line naming the setting (the CLI's
exit 2), never a traceback later: numbers and their ranges, Discord ids (1 to 2**64 - 1),
URLs (scheme, host, port), the token (printable ASCII, no spaces), and paths that must be
folders (``DIGEST_DIR``, ``INDEX_DIR``: when they exist) or files (``DATABASE_PATH``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bot.core import saved_index


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Secret:
    value: str = field(repr=False)

    def reveal(self) -> str:
        return self.value

    def __str__(self) -> str:
        return "********" if self.value else ""

    def __repr__(self) -> str:
        return "Secret('********')" if self.value else "Secret('')"

    def __bool__(self) -> bool:
        return bool(self.value)


# name -> (default, one-line description); .env.example and the README list the same.
DEFAULTS: dict[str, tuple[str, str]] = {
    "DISCORD_TOKEN": ("", "Bot token from the Discord developer portal (required to run)."),
    "DISCORD_API_BASE": ("", "REST base URL, e.g. http://127.0.0.1:8080/api/v10 (tests, proxies)."),
    "DISCORD_GATEWAY_URL": (
        "",
        "Gateway websocket URL; default: Discord's, or asked from the API base.",
    ),
    "DIGEST_DIR": ("seeds", "Folder of digest files (*.txt) to index."),
    "DATABASE_PATH": ("data/digest.db", "SQLite database file (created if missing)."),
    "INDEX_DIR": (
        "",
        "Folder of its own for the saved search index; default: index/ beside the database.",
    ),
    "OWNER_IDS": ("", "Comma-separated user ids allowed to /reindex; default: the app owner/team."),
    "DEV_GUILD_ID": ("", "Guild id to sync commands to instantly while developing."),
    "LOG_LEVEL": ("INFO", "DEBUG, INFO, WARNING or ERROR."),
    "REINDEX_INTERVAL": ("0", "Minutes between automatic reindexes of DIGEST_DIR; 0 = off."),
    "WATCH_INTERVAL": ("5", "Seconds between checks for a reindex done by the CLI; 0 = off."),
    "MAX_SUBSCRIPTIONS_PER_CHANNEL": ("10", "Most topic subscriptions one channel may have."),
    "MAX_SUBSCRIPTIONS_PER_GUILD": ("50", "Most topic subscriptions one server may have."),
    "MAX_FOLLOWS_PER_USER": ("25", "Most follows (personal alerts by DM) one member may have."),
    "COOLDOWN_COMMANDS": (
        "5",
        "Commands, buttons and menus one member may use per COOLDOWN_SECONDS; 0 = no limit.",
    ),
    "COOLDOWN_SECONDS": ("10", "The cooldown window in seconds; 0 = no limit."),
    "MAX_DIGEST_BYTES": (
        str(64 * 1024 * 1024),
        "Largest digest file read, in bytes (64 MiB); a bigger file is reported and skipped.",
    ),
    "FOLLOW_SYMLINKS": (
        "0",
        "1 = follow symbolic links that lead out of DIGEST_DIR; 0 = report and skip them.",
    ),
    "INDEX_LOCK_MEMORY": (
        "0",
        "1 = keep the search index locked in memory (mlock): never paged out, even when idle.",
    ),
    "FEEDS": (
        "",
        "Comma-separated feed URLs or files imported before each /reindex and REINDEX_INTERVAL.",
    ),
    "FEEDS_EXCLUDE": ("", "arXiv listing entries FEEDS leaves out: replace, cross (or both)."),
    "HEALTH_PORT": ("", "Port of the /healthz and /metrics HTTP endpoints; empty = off."),
    "HEALTH_HOST": ("127.0.0.1", "Address the health endpoints listen on (0.0.0.0: all)."),
    "LOG_FORMAT": ("text", "text (one line per record) or json (JSON lines)."),
}

FEED_EXCLUDE_NAMES = ("replace", "cross")


MAX_NUMBER = 2**31 - 1  # the largest count or interval a setting may hold
MAX_ID = 2**64 - 1  # Discord ids (snowflakes) are unsigned 64-bit numbers


def _int(
    name: str, raw: str, minimum: int = 0, maximum: int = MAX_NUMBER, meaning: str = ""
) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    if value > maximum:
        raise SettingsError(f"{name} must be at most {maximum:,}{meaning}, got {_shown(raw)}")
    return value


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{name} must be 0 or 1, got {raw!r}")


def _feeds(raw: str) -> tuple[str, ...]:
    sources: list[str] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        scheme, sep, _ = part.partition("://")
        if sep and scheme.lower() not in ("http", "https"):
            raise SettingsError(f"FEEDS: {part!r} is neither an http(s) URL nor a file path")
        if part not in sources:
            sources.append(part)
    return tuple(sources)


def _feed_exclude(raw: str) -> frozenset[str]:
    names = {p.strip().lower() for p in raw.split(",") if p.strip()}
    unknown = sorted(names - set(FEED_EXCLUDE_NAMES))
    if unknown:
        raise SettingsError(f"FEEDS_EXCLUDE may hold replace and cross, got {', '.join(unknown)}")
    return frozenset(names)


def _shown(raw: str, limit: int = 40) -> str:
    raw = raw.strip()
    return raw if len(raw) <= limit else raw[: limit - 3] + "..."


def _id(name: str, raw: str) -> int:
    return _int(name, raw, 1, MAX_ID, " (a Discord id is a number below 2**64)")


_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?)+$|^[0-9A-Fa-f:.]+$")


def _host(name: str, raw: str) -> str:
    """A host name or an IP address to listen on (default 127.0.0.1)."""
    host = raw.strip() or "127.0.0.1"
    if not _HOST.match(host) or len(host) > 253:
        raise SettingsError(
            f"{name} must be a host name or an IP address (e.g. 127.0.0.1 or 0.0.0.0), "
            f"got {_shown(raw)!r}"
        )
    return host


def _optional_id(name: str, raw: str) -> int | None:
    raw = raw.strip()
    return _id(name, raw) if raw else None


def _url(name: str, raw: str, schemes: tuple[str, ...]) -> str | None:
    """``raw`` stripped (None when empty), if it is a URL with one of ``schemes`` and a
    host; else :class:`SettingsError`."""
    raw = raw.strip()
    if not raw:
        return None
    wanted = " or ".join(f"{s}://" for s in schemes)
    try:
        parts = urlsplit(raw)
        _ = parts.port  # raises ValueError when out of range or not a number
    except ValueError as exc:
        raise SettingsError(f"{name} has a bad port ({exc}): {raw!r}") from None
    if parts.scheme.lower() not in schemes:
        raise SettingsError(f"{name} must be a URL starting with {wanted}, got {raw!r}")
    if not parts.hostname:
        raise SettingsError(f"{name} must name a host ({wanted}HOST...), got {raw!r}")
    return raw


def _token(raw: str) -> Secret:
    token = raw.strip()
    if any(ch.isspace() for ch in token):
        raise SettingsError(
            "DISCORD_TOKEN must be the bot token alone: it has a space (no 'Bot ' prefix, "
            "no quotes or line breaks)"
        )
    if not all(" " < ch < "\x7f" for ch in token):
        raise SettingsError(
            "DISCORD_TOKEN must be printable ASCII (a bot token is letters, digits, '.', "
            "'-' and '_'): copy it again from the developer portal"
        )
    return Secret(token)


def _folder(name: str, path: Path) -> Path:
    """``path``, which must be a folder when it exists."""
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name} must be a folder; {path} is not a folder")
    return path


def _file(name: str, path: Path) -> Path:
    """``path``, which must not be a folder, and whose parent must be a folder if it exists."""
    if path.is_dir():
        raise SettingsError(f"{name} must be a file; {path} is a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise SettingsError(f"{name} cannot be created: {parent} is a file, not a folder")
            break
    return path


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: Secret = Secret("")
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    digest_dir: Path = Path("seeds")
    database_path: Path = Path("data/digest.db")
    index_dir: Path = Path("data/index")
    owner_ids: frozenset[int] = frozenset()
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    reindex_interval_min: int = 0
    watch_interval_s: float = 5.0
    max_subscriptions_per_channel: int = 10
    max_subscriptions_per_guild: int = 50
    max_follows_per_user: int = 25
    cooldown_commands: int = 5
    cooldown_seconds: int = 10
    max_digest_bytes: int = 64 * 1024 * 1024
    follow_symlinks: bool = False
    index_lock_memory: bool = False
    feeds: tuple[str, ...] = ()
    feeds_exclude: frozenset[str] = frozenset()  # names: "replace", "cross"
    health_port: int | None = None
    health_host: str = "127.0.0.1"
    log_format: str = "text"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
    ) -> Settings:
        """Read settings: ``environ`` (default ``os.environ``) over ``env_file`` over defaults."""
        values: dict[str, str] = {k: d for k, (d, _) in DEFAULTS.items()}
        if env_file is not None and Path(env_file).is_file():
            for key, val in dotenv_values(env_file).items():
                if key in DEFAULTS and val is not None:
                    values[key] = val
        env = os.environ if environ is None else environ
        for key in DEFAULTS:
            if key in env:
                values[key] = env[key]

        level = values["LOG_LEVEL"].strip().upper() or "INFO"
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise SettingsError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {level!r}")
        owners: set[int] = set()
        for part in values["OWNER_IDS"].replace(" ", "").split(","):
            if part:
                owners.add(_id("OWNER_IDS", part))
        log_format = values["LOG_FORMAT"].strip().lower() or "text"
        if log_format not in {"text", "json"}:
            raise SettingsError(f"LOG_FORMAT must be text or json, got {log_format!r}")
        health_port = _optional_id("HEALTH_PORT", values["HEALTH_PORT"])
        if health_port is not None and health_port > 65535:
            raise SettingsError(f"HEALTH_PORT must be a port number (1-65535), got {health_port}")
        database_path = _file(
            "DATABASE_PATH", Path(values["DATABASE_PATH"].strip() or "data/digest.db")
        )
        index_raw = values["INDEX_DIR"].strip()
        index_dir = _folder(
            "INDEX_DIR", Path(index_raw) if index_raw else database_path.parent / "index"
        )
        api_base = _url("DISCORD_API_BASE", values["DISCORD_API_BASE"], ("http", "https"))
        return cls(
            discord_token=_token(values["DISCORD_TOKEN"]),
            discord_api_base=api_base.rstrip("/") if api_base else None,
            discord_gateway_url=_url(
                "DISCORD_GATEWAY_URL", values["DISCORD_GATEWAY_URL"], ("ws", "wss")
            ),
            digest_dir=_folder("DIGEST_DIR", Path(values["DIGEST_DIR"].strip() or "seeds")),
            database_path=database_path,
            index_dir=index_dir,
            owner_ids=frozenset(owners),
            dev_guild_id=_optional_id("DEV_GUILD_ID", values["DEV_GUILD_ID"]),
            log_level=level,
            reindex_interval_min=_int("REINDEX_INTERVAL", values["REINDEX_INTERVAL"]),
            watch_interval_s=float(_int("WATCH_INTERVAL", values["WATCH_INTERVAL"])),
            max_subscriptions_per_channel=_int(
                "MAX_SUBSCRIPTIONS_PER_CHANNEL", values["MAX_SUBSCRIPTIONS_PER_CHANNEL"], 1
            ),
            max_subscriptions_per_guild=_int(
                "MAX_SUBSCRIPTIONS_PER_GUILD", values["MAX_SUBSCRIPTIONS_PER_GUILD"], 1
            ),
            max_follows_per_user=_int("MAX_FOLLOWS_PER_USER", values["MAX_FOLLOWS_PER_USER"], 1),
            cooldown_commands=_int("COOLDOWN_COMMANDS", values["COOLDOWN_COMMANDS"]),
            cooldown_seconds=_int("COOLDOWN_SECONDS", values["COOLDOWN_SECONDS"]),
            max_digest_bytes=_int("MAX_DIGEST_BYTES", values["MAX_DIGEST_BYTES"], 1),
            follow_symlinks=_bool("FOLLOW_SYMLINKS", values["FOLLOW_SYMLINKS"]),
            index_lock_memory=_bool("INDEX_LOCK_MEMORY", values["INDEX_LOCK_MEMORY"]),
            feeds=_feeds(values["FEEDS"]),
            feeds_exclude=_feed_exclude(values["FEEDS_EXCLUDE"]),
            health_port=health_port,
            health_host=_host("HEALTH_HOST", values["HEALTH_HOST"]),
            log_format=log_format,
        )


INDEX_DIR_HINT = (
    "set INDEX_DIR to a new or empty folder for the index alone, or leave it unset "
    "(default: 'index' beside the database)"
)


def check_index_dir(settings: Settings) -> None:
    """Refuse an INDEX_DIR digest-bot must not write in: :class:`SettingsError`, one line.

    The saved search index lives in a folder of its own that digest-bot creates and marks
    (see :mod:`bot.core.saved_index`): not the database's file or a folder holding it, not the
    digest folder or a folder holding it, not a non-empty folder digest-bot did not make. (A
    folder of its own inside the digest folder is fine: digest-bot writes no ``.txt`` there.)
    Nothing is created or changed here.
    """
    index = settings.index_dir.resolve()
    digests = settings.digest_dir.resolve()
    database = settings.database_path.resolve()

    def refuse(why: str) -> None:
        raise SettingsError(f"INDEX_DIR {settings.index_dir} {why}: {INDEX_DIR_HINT}")

    if index in {database, *(Path(f"{database}{s}") for s in ("-wal", "-shm", "-journal"))}:
        refuse(f"is a file of the database {settings.database_path}")
    if database.is_relative_to(index):
        refuse(f"holds the database {settings.database_path}")
    if index == digests:
        refuse("is the digest folder (DIGEST_DIR)")
    if digests.is_relative_to(index):
        refuse(f"holds the digest folder {settings.digest_dir}")
    problem = saved_index.problem(settings.index_dir)
    if problem is not None:
        raise SettingsError(f"INDEX_DIR {problem}: {INDEX_DIR_HINT}")
