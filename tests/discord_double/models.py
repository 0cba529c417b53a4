"""The world the double serves: users, guilds, roles, channels, members, the application.

Everything here is plain data with ``to_payload()`` methods that produce the JSON shapes
Discord's API v10 returns (the shapes discord.py 2.7 parses). Ids are real snowflakes
(timestamped from Discord's epoch), so ``discord.utils.snowflake_time`` gives sensible times.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000


class Perm(enum.IntFlag):
    """Permission bits used by the double (Discord's numbering)."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL_PERMISSIONS = (1 << 51) - 1

EVERYONE_DEFAULT = (
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.CHANGE_NICKNAME
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)

BOT_ROLE_DEFAULT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.SEND_MESSAGES_IN_THREADS
)


class Snowflakes:
    """Increasing snowflakes stamped with the current time.

    The counter is shared by every instance in the process, so ids from different generators
    (a custom ``World`` and the double's own) never collide.
    """

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _counter: ClassVar[itertools.count[int]] = itertools.count()
    _last: ClassVar[int] = 0

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F

    def next(self) -> int:
        cls = Snowflakes
        with cls._lock:
            ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
            value = (ms << 22) | (self._worker << 17) | (next(cls._counter) & 0xFFF)
            value = max(value, cls._last + 1)
            cls._last = value
            return value


def iso_now() -> str:
    """An ISO-8601 timestamp like the ones Discord sends."""
    return dt.datetime.now(dt.UTC).isoformat()


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "avatar_decoration_data": None,
            "banner": None,
            "accent_color": None,
            "public_flags": 0,
            "flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass
class Role:
    id: int
    name: str
    permissions: int = 0
    position: int = 0
    managed: bool = False
    bot_id: int | None = None

    def to_payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "description": None,
            "permissions": str(int(self.permissions)),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite: ``type`` 0 = role, 1 = member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(int(self.allow)),
            "deny": str(int(self.deny)),
        }


@dataclass
class Channel:
    id: int
    name: str
    guild_id: int | None
    type: int = 0  # 0 text, 1 DM, 2 voice, 4 category, 5 announcement
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: list[Overwrite] = field(default_factory=list)
    recipients: list[User] = field(default_factory=list)  # DM channels only

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_payload(self, *, include_guild_id: bool = True) -> JSON:
        if self.type == 1:
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [u.to_payload() for u in self.recipients],
            }
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [o.to_payload() for o in self.overwrites],
            "parent_id": str(self.parent_id) if self.parent_id is not None else None,
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type in (0, 5):
            data.update(
                topic=self.topic,
                last_message_id=None,
                rate_limit_per_user=0,
                default_auto_archive_duration=1440,
            )
        if include_guild_id and self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    def to_payload(self, *, include_user: bool = True, permissions: int | None = None) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if include_user:
            data["user"] = self.user.to_payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    roles: list[Role] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    locale: str = "en-US"

    def role(self, role_id: int) -> Role | None:
        return next((r for r in self.roles if r.id == role_id), None)

    def channel(self, channel_id: int) -> Channel | None:
        return next((c for c in self.channels if c.id == channel_id), None)

    def channel_named(self, name: str) -> Channel:
        for c in self.channels:
            if c.name == name:
                return c
        raise KeyError(f"guild {self.name!r} has no channel named {name!r}")

    def member(self, user_id: int) -> Member | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def base_permissions(self, member: Member) -> int:
        """Guild-level permissions (owner and Administrator get everything)."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        everyone = self.role(self.id)
        perms = int(everyone.permissions) if everyone else 0
        for role_id in member.roles:
            role = self.role(role_id)
            if role is not None:
                perms |= int(role.permissions)
        if perms & Perm.ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def permissions_in(self, member: Member, channel: Channel | None) -> int:
        """Discord's permission algorithm: base, then @everyone, role and member overwrites."""
        perms = self.base_permissions(member)
        if perms == ALL_PERMISSIONS or channel is None:
            return perms
        by_id = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_id.get((0, self.id))
        if everyone:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles:
            ow = by_id.get((0, role_id))
            if ow:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        mine = by_id.get((1, member.user.id))
        if mine:
            perms = (perms & ~mine.deny) | mine.allow
        if not perms & Perm.VIEW_CHANNEL:
            return 0
        return perms

    def to_payload(self, *, members: Iterable[Member] | None = None) -> JSON:
        """The GUILD_CREATE shape (``members`` defaults to all)."""
        shown = list(self.members if members is None else members)
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "region": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.to_payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": self.locale,
            "nsfw_level": 0,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "incidents_data": None,
            "joined_at": iso_now(),
            "large": False,
            "unavailable": False,
            "lazy": True,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.to_payload() for m in shown],
            "channels": [c.to_payload(include_guild_id=False) for c in self.channels],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }


@dataclass
class TeamMember:
    user: User
    role: str = "admin"  # admin, developer, read_only

    def to_payload(self, team_id: int) -> JSON:
        return {
            "membership_state": 2,
            "team_id": str(team_id),
            "user": self.user.to_payload(),
            "role": self.role,
            "permissions": ["*"],
        }


@dataclass
class Team:
    id: int
    name: str
    owner_user_id: int
    members: list[TeamMember] = field(default_factory=list)

    def to_payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "owner_user_id": str(self.owner_user_id),
            "members": [m.to_payload(self.id) for m in self.members],
        }


@dataclass
class World:
    """Everything the double knows about: the application, its bot user, guilds, users."""

    application_id: int
    application_name: str
    bot: User
    owner: User
    guilds: list[Guild]
    team: Team | None = None
    application_flags: int = 1 << 23  # GATEWAY_MESSAGE_CONTENT_LIMITED
    users: dict[str, User] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.users.setdefault("bot", self.bot)
        self.users.setdefault("owner", self.owner)
        for guild in self.guilds:
            for m in guild.members:
                self.users.setdefault(m.user.username, m.user)

    @property
    def guild(self) -> Guild:
        """The first (in the default world: the only) guild."""
        return self.guilds[0]

    def user(self, name: str) -> User:
        return self.users[name]

    def user_by_id(self, user_id: int) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def guild_by_id(self, guild_id: int) -> Guild | None:
        return next((g for g in self.guilds if g.id == guild_id), None)

    def channel(self, channel_id: int) -> tuple[Guild | None, Channel] | None:
        for g in self.guilds:
            c = g.channel(channel_id)
            if c is not None:
                return g, c
        return None

    def application_payload(self) -> JSON:
        """``GET /oauth2/applications/@me``."""
        if self.team is not None:
            # Team-owned applications report a pseudo-user named after the team as owner.
            owner: JSON = User(self.team.id, f"team{self.team.id}").to_payload()
            owner["flags"] = 1024
        else:
            owner = self.owner.to_payload()
        return {
            "id": str(self.application_id),
            "name": self.application_name,
            "icon": None,
            "description": "digest-bot test application",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": owner,
            "team": self.team.to_payload() if self.team else None,
            "flags": self.application_flags,
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "tags": [],
            "install_params": None,
            "integration_types_config": {"0": {}},
            "approximate_guild_count": len(self.guilds),
            "bot": self.bot.to_payload(),
        }


def default_world(*, team: bool = False, ids: Snowflakes | None = None) -> World:
    """One guild, "Test Guild", with these users (``World.user(name)``):

    - ``bot`` — the bot user (its id is the application id), role ``digest-bot``;
    - ``owner`` — the application owner (``app-owner``), a plain member of the guild;
    - ``server-owner`` — owns the guild (all permissions), NOT an application owner;
    - ``moderator`` — has a role with Manage Channels (and Manage Messages);
    - ``member`` — a normal member with @everyone permissions only.

    Channels: ``general``, ``alerts`` (normal text channels) and ``locked`` (the bot can see
    it but is denied Send Messages there, so posting answers 403 Missing Permissions).
    With ``team=True`` the application is owned by a team (admin ``app-owner``, developer
    ``teammate``) instead of a single user.
    """
    ids = ids or Snowflakes()
    app_id = ids.next()
    bot = User(app_id, "digest-bot", bot=True)
    owner = User(ids.next(), "app-owner", global_name="App Owner")
    server_owner = User(ids.next(), "server-owner", global_name="Server Owner")
    moderator = User(ids.next(), "moderator", global_name="Moderator")
    member = User(ids.next(), "member", global_name="Member")
    guild_id = ids.next()
    everyone = Role(guild_id, "@everyone", permissions=int(EVERYONE_DEFAULT), position=0)
    mod_role = Role(
        ids.next(),
        "Moderators",
        permissions=int(Perm.MANAGE_CHANNELS | Perm.MANAGE_MESSAGES),
        position=1,
    )
    bot_role = Role(
        ids.next(),
        "digest-bot",
        permissions=int(BOT_ROLE_DEFAULT),
        position=2,
        managed=True,
        bot_id=bot.id,
    )
    general = Channel(ids.next(), "general", guild_id, position=0, topic="General chat")
    alerts = Channel(ids.next(), "alerts", guild_id, position=1, topic="Digest alerts")
    locked = Channel(
        ids.next(),
        "locked",
        guild_id,
        position=2,
        topic="Bot may read, not write",
        overwrites=[Overwrite(bot_role.id, 0, deny=int(Perm.SEND_MESSAGES))],
    )
    guild = Guild(
        id=guild_id,
        name="Test Guild",
        owner_id=server_owner.id,
        roles=[everyone, mod_role, bot_role],
        channels=[general, alerts, locked],
        members=[
            Member(bot, roles=[bot_role.id]),
            Member(owner),
            Member(server_owner),
            Member(moderator, roles=[mod_role.id]),
            Member(member),
        ],
    )
    team_obj: Team | None = None
    users = {
        "bot": bot,
        "owner": owner,
        "app-owner": owner,
        "server-owner": server_owner,
        "moderator": moderator,
        "member": member,
    }
    if team:
        teammate = User(ids.next(), "teammate", global_name="Teammate")
        users["teammate"] = teammate
        team_obj = Team(
            ids.next(),
            "Digest Team",
            owner.id,
            members=[TeamMember(owner, "admin"), TeamMember(teammate, "developer")],
        )
    return World(
        application_id=app_id,
        application_name="digest-bot",
        bot=bot,
        owner=owner,
        guilds=[guild],
        team=team_obj,
        users=users,
    )
