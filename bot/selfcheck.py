"""``digest-bot check``: is everything in place to run the bot? One finding per line.

Each :class:`Finding` is ``ok``, ``warn`` (worth fixing; the bot runs anyway) or ``fail`` (the
bot cannot run, or cannot do its job, until it is fixed), with what to do. Checked, in order:

1. the settings (``.env`` and the environment) parse;
2. the digest folder is readable, and how many digest files it holds;
3. the database can be read (read-only: nothing is created or migrated) and its schema
   version is one this digest-bot knows;
4. the saved search index matches the database's catalogue version;
5. with a token: Discord accepts it (``GET /users/@me``), the application's id
   (``GET /oauth2/applications/@me``), the invite URL with exactly the permissions the bot
   uses, and for each channel with a subscription whether the bot can post there -- the
   channel's overwrites and the bot's roles put through discord.py's own permission
   computation (:meth:`discord.abc.GuildChannel.permissions_for`).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import aiohttp
import discord

from bot.core.index import Index
from bot.settings import Settings, SettingsError
from bot.store.db import StoreError, load_migrations
from bot.store.ops import SubscribedChannel, inspect_file, is_locked, subscribed_channels

Status = Literal["ok", "warn", "fail"]

# What the bot needs: View Channel, Send Messages, Embed Links, Send Messages in Threads.
INVITE_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, send_messages_in_threads=True
)
INVITE_SCOPES = ("bot", "applications.commands")
DISCORD_TIMEOUT_S = 30.0
_LABELS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
}


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
    )


async def run_checks(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> list[Finding]:
    """Every check, in order (see the module doc)."""
    try:
        settings = Settings.from_env(environ, env_file=env_file)
    except SettingsError as exc:
        return [
            Finding(
                "settings",
                "fail",
                str(exc),
                "fix that setting in .env or the environment (see .env.example)",
            )
        ]
    found = [Finding("settings", "ok", "valid")]
    found.append(check_digests(settings.digest_dir))
    database, version, channels = check_database(settings.database_path)
    found.append(database)
    if version is not None:
        found.append(check_index(settings.index_dir, version))
    found.extend(await check_discord(settings, channels))
    return found


def check_digests(folder: Path) -> Finding:
    if not folder.exists():
        return Finding(
            "digest folder",
            "warn",
            f"{folder} does not exist",
            "create it (or set DIGEST_DIR) and put the digest files (*.txt) in it; "
            "the bot serves an empty catalogue until then",
        )
    if not folder.is_dir():
        return Finding(
            "digest folder",
            "warn",
            f"{folder} is not a folder",
            "point DIGEST_DIR at the folder of digest files",
        )
    try:
        with os.scandir(folder):
            pass
        files = [
            p
            for p in folder.rglob("*.txt")
            if not any(part.startswith(".") for part in p.relative_to(folder).parts) and p.is_file()
        ]
    except OSError as exc:
        return Finding(
            "digest folder",
            "warn",
            f"cannot read {folder}: {exc.strerror or exc}",
            "let the bot's user read the folder (and its files)",
        )
    unreadable = [p for p in files if not os.access(p, os.R_OK)]
    if unreadable:
        return Finding(
            "digest folder",
            "warn",
            f"{folder}: {len(files)} digest files, {len(unreadable)} unreadable "
            f"(e.g. {unreadable[0].name})",
            "let the bot's user read every digest file",
        )
    if not files:
        return Finding(
            "digest folder",
            "warn",
            f"{folder} holds no digest files (*.txt)",
            "add digest files, then run `digest-bot reindex` or /reindex",
        )
    plural = "" if len(files) == 1 else "s"
    return Finding("digest folder", "ok", f"{folder}: {len(files)} digest file{plural}")


def check_database(path: Path) -> tuple[Finding, int | None, list[SubscribedChannel]]:
    """The database finding, its catalogue version (None: unreadable or missing) and the
    channels with subscriptions."""
    known = load_migrations()[-1].version
    if not path.exists():
        parent = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK):
            return (
                Finding(
                    "database",
                    "fail",
                    f"{path} does not exist and cannot be created",
                    "let the bot's user write the folder of DATABASE_PATH",
                ),
                None,
                [],
            )
        return (
            Finding(
                "database",
                "ok",
                f"{path} does not exist yet: the bot creates it (schema version {known}) "
                "at its first start",
            ),
            None,
            [],
        )
    try:
        info = inspect_file(path, integrity=False)
    except StoreError as exc:
        return (
            Finding(
                "database",
                "fail",
                str(exc),
                "point DATABASE_PATH at the bot's database, or restore a backup "
                "(`digest-bot restore FILE`)",
            ),
            None,
            [],
        )
    if info.integrity != "ok":
        return (
            Finding(
                "database",
                "fail",
                f"{path} is damaged: {info.integrity}",
                "restore a backup (`digest-bot restore FILE`)",
            ),
            None,
            [],
        )
    if info.schema_version > known:
        return (
            Finding(
                "database",
                "fail",
                f"{path} is at schema version {info.schema_version}; this digest-bot "
                f"knows versions up to {known}",
                "upgrade digest-bot, or point DATABASE_PATH at another file",
            ),
            None,
            [],
        )
    if info.counts is None:
        return (
            Finding(
                "database",
                "fail",
                f"{path} is not a digest-bot database",
                "point DATABASE_PATH at the bot's database",
            ),
            None,
            [],
        )
    try:
        channels = subscribed_channels(path)
    except StoreError:
        channels = []  # schema 1: no subscriptions yet
    counts = info.counts
    running = " (in use by a running bot)" if is_locked(path) else ""
    pending = f" (migrated to {known} at the next start)" if info.schema_version < known else ""
    return (
        Finding(
            "database",
            "ok",
            f"{path}{running}: schema version {info.schema_version}{pending}, "
            f"{counts.papers:,} papers, {counts.subscriptions} subscriptions",
        ),
        counts.catalogue_version,
        channels,
    )


def check_index(directory: Path, version: int) -> Finding:
    saved = Index.saved_version(directory)
    if saved == version:
        return Finding("search index", "ok", f"{directory}: current (catalogue version {version})")
    if saved is None:
        return Finding(
            "search index",
            "warn",
            f"no saved index in {directory}",
            "nothing to do: the bot builds and saves it at its start (a large "
            "catalogue takes a while); `digest-bot reindex` does not need it",
        )
    return Finding(
        "search index",
        "warn",
        f"{directory} is for catalogue version {saved}, the database is at {version}",
        "nothing to do: the bot rebuilds it at its start (or when it notices)",
    )


async def check_discord(settings: Settings, channels: list[SubscribedChannel]) -> list[Finding]:
    if not settings.discord_token:
        return [
            Finding(
                "discord token",
                "fail",
                "DISCORD_TOKEN is not set",
                "copy the bot token from https://discord.com/developers/applications "
                "(Bot -> Reset Token) into .env; the CLI commands work without it",
            )
        ]
    from bot.discord_endpoints import configure_api_base

    configure_api_base(settings.discord_api_base)
    client = discord.Client(intents=discord.Intents.none())
    try:
        return await asyncio.wait_for(_discord(client, settings, channels), DISCORD_TIMEOUT_S)
    except TimeoutError:
        return [
            Finding(
                "discord",
                "fail",
                f"Discord did not answer within {DISCORD_TIMEOUT_S:g} s",
                "check the network, then run again",
            )
        ]
    finally:
        await client.close()


async def _discord(
    client: discord.Client, settings: Settings, channels: list[SubscribedChannel]
) -> list[Finding]:
    try:
        await client.login(settings.discord_token.reveal())
    except discord.LoginFailure:
        return [
            Finding(
                "discord token",
                "fail",
                "Discord rejected DISCORD_TOKEN (401)",
                "copy the bot token again from the developer portal (Bot -> Reset Token) into .env",
            )
        ]
    except (aiohttp.ClientError, OSError) as exc:
        return [
            Finding(
                "discord",
                "fail",
                f"cannot reach Discord: {exc}",
                "check the network (or DISCORD_API_BASE), then run again",
            )
        ]
    except discord.HTTPException as exc:
        return [
            Finding(
                "discord",
                "fail",
                f"Discord answered {exc.status}: {exc.text}",
                "try again in a minute",
            )
        ]
    user = client.user
    assert user is not None  # set by login
    found = [Finding("discord token", "ok", f"valid: bot {user.name} (id {user.id})")]
    try:
        app = await client.application_info()
    except discord.HTTPException as exc:
        found.append(
            Finding(
                "application",
                "fail",
                f"cannot read the application: {exc}",
                "try again in a minute",
            )
        )
        return found
    found.append(Finding("application id", "ok", str(app.id)))
    found.append(Finding("invite URL", "ok", invite_url(app.id)))
    by_guild: dict[int, list[SubscribedChannel]] = {}
    for channel in channels:
        by_guild.setdefault(channel.guild_id, []).append(channel)
    for guild_id, subscribed in by_guild.items():
        found.extend(await _guild_channels(client, user.id, guild_id, subscribed))
    return found


async def _guild_channels(
    client: discord.Client, bot_id: int, guild_id: int, subscribed: list[SubscribedChannel]
) -> list[Finding]:
    def finding(channel: SubscribedChannel, status: Status, detail: str, fix: str = "") -> Finding:
        return Finding(f"channel {channel.channel_id} (server {guild_id})", status, detail, fix)

    try:
        guild = await client.fetch_guild(guild_id)
        member = await guild.fetch_member(bot_id)
        channels = {c.id: c for c in await guild.fetch_channels()}
    except (discord.Forbidden, discord.NotFound):
        return [
            finding(
                c,
                "warn",
                "the bot is not in this server any more",
                "invite it again with the invite URL above, or /unsubscribe there",
            )
            for c in subscribed
        ]
    out: list[Finding] = []
    for sub in subscribed:
        channel: Any = channels.get(sub.channel_id)
        needs = ["view_channel", "send_messages", "embed_links"]
        where = ""
        if channel is None:  # a thread, or gone
            try:
                fetched = await client.fetch_channel(sub.channel_id)
            except (discord.Forbidden, discord.NotFound):
                out.append(
                    finding(
                        sub,
                        "warn",
                        "the channel no longer exists (or is hidden from the bot)",
                        "remove its subscriptions with /unsubscribe",
                    )
                )
                continue
            parent = channels.get(getattr(fetched, "parent_id", None) or 0)
            if not isinstance(fetched, discord.Thread) or parent is None:
                out.append(
                    finding(
                        sub,
                        "warn",
                        "not a channel the bot can post alerts in",
                        "remove its subscriptions with /unsubscribe",
                    )
                )
                continue
            channel, where = parent, f" (a thread of #{parent.name})"
            needs = ["view_channel", "send_messages_in_threads", "embed_links"]
        perms = channel.permissions_for(member)
        missing = [_LABELS[n] for n in needs if not getattr(perms, n)]
        name = f"#{getattr(channel, 'name', sub.channel_id)}{where}"
        paused = f"; {sub.paused} paused subscription(s)" if sub.paused else ""
        if missing:
            out.append(
                finding(
                    sub,
                    "warn",
                    f"{name}: the bot cannot post alerts: missing {', '.join(missing)}{paused}",
                    f"give the bot's role {', '.join(missing)} in {name} (channel settings -> "
                    "Permissions), then /subscribe again there to resume",
                )
            )
        elif sub.paused:
            out.append(
                finding(
                    sub,
                    "warn",
                    f"{name}: the bot can post now{paused}",
                    "run /subscribe with the same query there to resume",
                )
            )
        else:
            out.append(finding(sub, "ok", f"{name}: the bot can post alerts"))
    return out


def blocking(findings: list[Finding]) -> bool:
    return any(f.status == "fail" for f in findings)
