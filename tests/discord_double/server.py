"""``DiscordDouble``: Discord's REST API v10 and gateway, served on 127.0.0.1 for tests.

Start one inside the test's event loop, point discord.py at it (``Route.BASE`` = ``api_base``,
gateway from ``GET /gateway/bot``), and drive the real bot: invoke slash commands built from the
tree it registered, click its buttons, read back what it answered, inject faults, and assert
that nothing it sent broke Discord's rules (``assert_no_violations``).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from aiohttp import BodyPartReader, web

from . import limits, schema
from .gateway import INTENT_GUILD_MESSAGES, Gateway
from .interactions import (
    CALLBACK_AUTOCOMPLETE_RESULT,
    CALLBACK_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_CHANNEL_MESSAGE,
    CALLBACK_DEFERRED_UPDATE_MESSAGE,
    CALLBACK_MODAL,
    CALLBACK_PONG,
    CALLBACK_UPDATE_MESSAGE,
    INTERACTION_APPLICATION_COMMAND,
    INTERACTION_AUTOCOMPLETE,
    INTERACTION_MESSAGE_COMPONENT,
    INTERACTION_MODAL_SUBMIT,
    INTERACTION_PING,
    DoubleError,
    InteractionHandle,
    NotInvocableError,
    Resolver,
    UnknownCommandError,
    build_command_data,
    find_component,
)
from .models import (
    ALL_PERMISSIONS,
    Channel,
    Guild,
    Member,
    Perm,
    Snowflakes,
    User,
    World,
    default_world,
    iso_now,
)
from .records import (
    FaultRule,
    Notifier,
    RecordedRequest,
    StalledSend,
    UploadedFile,
    Violation,
)

JSON = dict[str, Any]
log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

ALLOWED_CALLBACKS: dict[int, set[int]] = {
    INTERACTION_PING: {CALLBACK_PONG},
    INTERACTION_APPLICATION_COMMAND: {
        CALLBACK_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_CHANNEL_MESSAGE,
        CALLBACK_MODAL,
    },
    INTERACTION_MESSAGE_COMPONENT: {
        CALLBACK_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_UPDATE_MESSAGE,
        CALLBACK_UPDATE_MESSAGE,
        CALLBACK_MODAL,
    },
    INTERACTION_AUTOCOMPLETE: {CALLBACK_AUTOCOMPLETE_RESULT},
    INTERACTION_MODAL_SUBMIT: {
        CALLBACK_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_CHANNEL_MESSAGE,
        CALLBACK_DEFERRED_UPDATE_MESSAGE,
        CALLBACK_UPDATE_MESSAGE,
    },
}

MentionsPolicy = Literal["channel", "all", "off"]


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json`` (no charset):
    discord.py only parses a body as JSON when the header is exactly that."""
    hdrs = {"Content-Type": "application/json"}
    if headers:
        hdrs.update(headers)
    return web.Response(status=status, body=json.dumps(data).encode("utf-8"), headers=hdrs)


def error_response(
    status: int, code: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    return json_response({"message": message, "code": code}, status, headers)


def no_content() -> web.Response:
    return web.Response(status=204)


class _Reject(Exception):
    """Raised inside a handler to answer with an error response."""

    def __init__(self, response: web.Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class RestCall:
    request: web.Request
    rec: RecordedRequest
    params: dict[str, str]
    body: Any
    route_key: str

    def query_flag(self, name: str, default: bool = False) -> bool:
        raw = self.rec.query.get(name)
        if raw is None:
            return default
        return raw.lower() in ("1", "true", "yes")


Handler = Callable[[RestCall], Awaitable[web.Response]]


@dataclass
class _MessageMeta:
    source: str  # "channel", "interaction", "followup", "webhook"
    interaction_id: int | None = None
    deleted: bool = False


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[a-z_]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


class DiscordDouble:
    """A Discord API double: REST + gateway on ``127.0.0.1`` (port chosen by the OS).

    Construct, ``await start()`` (or ``async with``), then give the bot ``api_base`` (as
    ``DISCORD_API_BASE``) and ``token``; the bot finds the gateway through
    ``GET /gateway/bot`` (see ``bot.discord_endpoints``), or use ``gateway_url`` directly.
    """

    DEFAULT_TOKEN: ClassVar[str] = "double.bot.token"

    def __init__(
        self,
        world: World | None = None,
        *,
        token: str = DEFAULT_TOKEN,
        ack_deadline: float = 3.0,
        token_lifetime: float = 15 * 60.0,
        heartbeat_interval_ms: int = 41_250,
        mentions_policy: MentionsPolicy = "channel",
        validate_schema: bool = True,
        reject_invalid: bool = True,
        nonce_window: float = 5 * 60.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.ids = Snowflakes()
        self.world = world or default_world(ids=self.ids)
        self.token = token
        self.ack_deadline = ack_deadline
        self.token_lifetime = token_lifetime
        self.mentions_policy: MentionsPolicy = mentions_policy
        self.validate_schema = validate_schema
        self.reject_invalid = reject_invalid
        self.nonce_window = nonce_window
        self.host = host
        self.notifier = Notifier()
        self.gateway = Gateway(
            world=self.world,
            token=token,
            notifier=self.notifier,
            heartbeat_interval_ms=heartbeat_interval_ms,
            resume_url=lambda: self.resume_gateway_url,
        )
        self.requests: list[RecordedRequest] = []
        self.unknown_routes: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.faults: list[FaultRule] = []
        self.channel_failures: dict[int, tuple[int, JSON]] = {}
        self.stalls: list[StalledSend] = []
        self.deduplicated: list[RecordedRequest] = []
        self._stalled_channels: dict[int, bool] = {}  # channel id -> after_create
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._stopping = False
        self.interactions: dict[int, InteractionHandle] = {}
        self._by_token: dict[str, InteractionHandle] = {}
        self._messages: dict[int, JSON] = {}
        self._meta: dict[int, _MessageMeta] = {}
        self._channel_log: dict[int, list[int]] = {}
        self._attachments: dict[int, tuple[str, str, bytes]] = {}
        self._dm_channels: dict[int, Channel] = {}
        self._commands: dict[int | None, list[JSON]] = {}
        self._command_puts: dict[int | None, int] = {}
        self._timers: list[asyncio.TimerHandle] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._routes: list[tuple[str, str, re.Pattern[str], Handler, bool]] = []
        self._register_routes()

    # ================================================================== lifecycle

    async def start(self) -> None:
        self._stopping = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/resume", self.gateway.handle)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._serve_attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest_entry)
        app.router.add_route("*", "/{tail:.*}", self._outside_api)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1])
        log.info("Discord double listening on %s", self.base_url)

    async def stop(self) -> None:
        self._stopping = True
        self._stalled_channels.clear()
        for stall in self.stalls:
            stall.wake.set()  # held requests are dropped, so the server can shut down
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> DiscordDouble:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the double is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` should be (``DISCORD_API_BASE``)."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """The gateway URL (what ``GET /gateway/bot`` answers), without query string."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway/resume"

    # ================================================================== world shortcuts

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> User:
        return self.world.bot

    @property
    def owner(self) -> User:
        """The application owner (a plain member of the default guild)."""
        return self.world.owner

    @property
    def guild(self) -> Guild:
        return self.world.guild

    @property
    def member(self) -> User:
        return self.world.user("member")

    @property
    def moderator(self) -> User:
        return self.world.user("moderator")

    @property
    def guild_owner(self) -> User:
        return self.world.user("server-owner")

    @property
    def general(self) -> Channel:
        return self.guild.channel_named("general")

    @property
    def alerts(self) -> Channel:
        return self.guild.channel_named("alerts")

    @property
    def locked(self) -> Channel:
        return self.guild.channel_named("locked")

    # ================================================================== waiting

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "a condition"
    ) -> None:
        """Wait (without polling) until ``predicate()`` holds; re-checked on every change."""
        await self.notifier.wait_until(predicate, timeout, what)

    async def wait_until_changed(
        self, predicate: Callable[[], bool], timeout: float, what: str
    ) -> None:
        await self.notifier.wait_until(predicate, timeout, what)

    async def wait_for_gateway_ready(self, timeout: float = 5.0) -> None:
        """A session identified (or resumed) and is connected."""
        await self.wait_until(lambda: self.gateway.ready, timeout, "the bot's gateway session")

    async def wait_for_identify(self, count: int = 1, timeout: float = 5.0) -> None:
        await self.wait_until(
            lambda: self.gateway.identify_count >= count, timeout, f"{count} IDENTIFY"
        )

    async def wait_for_resume(self, count: int = 1, timeout: float = 5.0) -> None:
        await self.wait_until(
            lambda: self.gateway.resume_count >= count and self.gateway.ready,
            timeout,
            f"{count} RESUME",
        )

    async def wait_for_requests(
        self, method: str = "*", path_regex: str = ".*", n: int = 1, timeout: float = 5.0
    ) -> list[RecordedRequest]:
        await self.wait_until(
            lambda: len(self.requests_matching(method, path_regex)) >= n,
            timeout,
            f"{n} request(s) {method} {path_regex}",
        )
        return self.requests_matching(method, path_regex)

    def requests_matching(self, method: str = "*", path_regex: str = ".*") -> list[RecordedRequest]:
        pat = re.compile(path_regex)
        return [r for r in self.requests if method in ("*", r.method) and pat.search(r.path)]

    def latencies(self, name: str | None = None) -> list[float]:
        """Seconds from INTERACTION_CREATE to the first callback of every acknowledged
        interaction (optionally only those whose name starts with ``name``, e.g.
        ``"/search"``), in the order they were sent; for tests and benchmarks."""
        return [
            h.latency
            for h in self.interactions.values()
            if h.latency is not None and (name is None or h.name.startswith(name))
        ]

    # ================================================================== violations

    def _violate(self, kind: str, route: str, detail: str) -> None:
        v = Violation(kind, route, detail)
        log.warning("double violation %s", v)
        self.violations.append(v)
        self.notifier.notify()

    def assert_no_violations(self, *, ignore: Iterable[str] = ()) -> None:
        """Fail with a readable list of every violation not of an ignored ``kind``."""
        skip = set(ignore)
        found = [v for v in self.violations if v.kind not in skip]
        if found:
            lines = "\n".join(f"  {v}" for v in found)
            raise AssertionError(f"{len(found)} Discord rule violation(s):\n{lines}")

    def assert_no_unknown_routes(self) -> None:
        if self.unknown_routes:
            lines = "\n".join(f"  {r.method} {r.path}" for r in self.unknown_routes)
            raise AssertionError(f"requests to routes the double does not know:\n{lines}")

    def clear_violations(self) -> None:
        self.violations.clear()

    # ================================================================== fault injection

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        *,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        retry_after: float = 0.05,
        via: bool = True,
        is_global: bool = False,
    ) -> FaultRule:
        """Answer the next ``times`` requests (``None``: all) whose method matches (``"*"`` for
        any) and whose path after ``/api/v10`` matches ``path_regex`` (``re.search``) with
        ``status``. Default bodies/headers are Discord's: 429 gets ``retry_after`` in the body
        and ``Via`` + ``Retry-After`` + ``X-RateLimit-*`` headers (``via=False`` drops ``Via``,
        which discord.py treats as a Cloudflare ban and does not retry); 403 is Missing Access
        (50001), 404 Unknown Channel (10003), 5xx a plain server error."""
        if body is None:
            body = self._default_fault_body(status, retry_after, is_global)
        hdrs: dict[str, str] = {}
        if status == 429 and headers is None:
            reset = time.time() + retry_after
            hdrs = {
                "Retry-After": str(max(1, math.ceil(retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{reset:.3f}",
                "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                "X-RateLimit-Bucket": "double-bucket-" + secrets.token_hex(4),
                "X-RateLimit-Scope": "global" if is_global else "user",
            }
            if is_global:
                hdrs["X-RateLimit-Global"] = "true"
            if via:
                hdrs["Via"] = "1.1 google"
        elif headers is not None:
            hdrs = dict(headers)
        rule = FaultRule(method.upper(), re.compile(path_regex), status, body, hdrs, times)
        self.faults.append(rule)
        return rule

    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        retry_after: float = 0.05,
        *,
        times: int = 1,
        is_global: bool = False,
        via: bool = True,
    ) -> FaultRule:
        return self.fail_next(
            method,
            path_regex,
            429,
            times=times,
            retry_after=retry_after,
            is_global=is_global,
            via=via,
        )

    @staticmethod
    def _default_fault_body(status: int, retry_after: float, is_global: bool) -> JSON:
        if status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": retry_after,
                "global": is_global,
            }
        if status == 403:
            return {"message": "Missing Access", "code": 50001}
        if status == 404:
            return {"message": "Unknown Channel", "code": 10003}
        if status == 401:
            return {"message": "401: Unauthorized", "code": 0}
        if status >= 500:
            return {"message": f"{status}: Internal Server Error", "code": 0}
        return {"message": f"{status}: Error", "code": 0}

    def fail_channel(
        self, channel_id: int, status: int = 403, code: int = 50001, message: str = "Missing Access"
    ) -> None:
        """Every request under ``/channels/{channel_id}`` fails from now on (until
        :meth:`restore_channel`): e.g. 403/50001 Missing Access, 404/10003 Unknown Channel."""
        self.channel_failures[channel_id] = (status, {"message": message, "code": code})

    def restore_channel(self, channel_id: int) -> None:
        self.channel_failures.pop(channel_id, None)

    def stall_channel(self, channel_id: int, *, after_create: bool = False) -> None:
        """Hold every ``POST /channels/{channel_id}/messages`` that arrives from now on,
        unanswered, until :meth:`release_channel` (or until the client disconnects).

        By default the request is held before anything happens: released, it is carried out
        normally; dropped (the client went away), it creates nothing. With
        ``after_create=True`` the request is carried out at once -- the message is in
        ``channel_messages`` and MESSAGE_CREATE is sent -- and only the HTTP answer is held:
        the window where Discord has the message but the bot does not know it yet. Each held
        request is a :class:`StalledSend` in ``double.stalls``; wait for them with
        :meth:`wait_for_stalled`."""
        self._stalled_channels[channel_id] = after_create

    def release_channel(self, channel_id: int) -> list[StalledSend]:
        """Stop stalling the channel and let its held requests go on; returns them."""
        self._stalled_channels.pop(channel_id, None)
        released = [s for s in self.stalls if s.channel_id == channel_id and s.held]
        for stall in released:
            stall.wake.set()
        return released

    def stalled(self, channel_id: int | None = None) -> list[StalledSend]:
        """The requests held right now (in one channel, or in all), oldest first."""
        return [
            s for s in self.stalls if s.held and (channel_id is None or s.channel_id == channel_id)
        ]

    async def wait_for_stalled(
        self, channel_id: int, n: int = 1, *, timeout: float = 5.0
    ) -> list[StalledSend]:
        """Wait until ``n`` message creates in the channel are held at the same time; returns
        the held ones (oldest first)."""
        await self.wait_until(
            lambda: len(self.stalled(channel_id)) >= n,
            timeout,
            f"{n} stalled send(s) in channel {channel_id}",
        )
        return self.stalled(channel_id)

    def clear_faults(self) -> None:
        """Remove every injected fault: rules, failing channels, and stalls (held requests
        are released)."""
        self.faults.clear()
        self.channel_failures.clear()
        for channel_id in {*self._stalled_channels, *(s.channel_id for s in self.stalled())}:
            self.release_channel(channel_id)

    async def delete_channel(self, channel_id: int) -> None:
        """Remove a channel (it answers 404 Unknown Channel afterwards) and tell the bot."""
        found = self.world.channel(channel_id)
        if found is None:
            raise KeyError(channel_id)
        guild, channel = found
        if guild is not None:
            guild.channels.remove(channel)
        await self.gateway.dispatch("CHANNEL_DELETE", channel.to_payload())

    # ================================================================== gateway control

    async def disconnect_gateway(self, code: int = 4000) -> None:
        """Close the bot's gateway socket (resumable code by default); it should RESUME."""
        await self.gateway.disconnect(code)

    def drop_gateway(self) -> None:
        """Cut the gateway TCP connection without a close frame."""
        self.gateway.drop()

    async def request_reconnect(self) -> None:
        await self.gateway.request_reconnect()

    async def invalidate_session(self, resumable: bool = False) -> None:
        await self.gateway.invalidate_session(resumable)

    def invalidate_next_resume(self) -> None:
        """The next RESUME gets INVALID_SESSION (d=false): the bot must IDENTIFY again."""
        self.gateway.invalidate_next_resume = True

    def set_gateway_available(self, available: bool) -> None:
        """While unavailable, websocket handshakes get HTTP 503 (a gateway outage)."""
        self.gateway.available = available

    async def dispatch(self, event: str, data: JSON) -> int | None:
        """Send any gateway DISPATCH event to the bot."""
        return await self.gateway.dispatch(event, data)

    # ================================================================== state access

    def message(self, message_id: int) -> JSON | None:
        """Current state of a message (deleted ones: ``None``)."""
        meta = self._meta.get(message_id)
        if meta is None or meta.deleted:
            return None
        return self._messages.get(message_id)

    def rewrite_custom_ids(self, message_id: int, old_ids: Mapping[str, str]) -> JSON:
        """Give a stored message's components the custom_ids ``old_ids`` maps theirs to: the
        message as an older version of the bot would have posted it (Discord keeps a
        message's components as they were sent). Returns the message."""
        current = self.message(message_id)
        if current is None:
            raise KeyError(f"message {message_id} does not exist")
        for new, old in old_ids.items():
            comp = find_component(current.get("components"), new)
            if comp is None:
                raise KeyError(f"message {message_id} has no component {new!r}")
            comp["custom_id"] = old
        return current

    def channel_messages(
        self,
        channel_id: int,
        *,
        include_interactions: bool = False,
        include_ephemeral: bool = False,
    ) -> list[JSON]:
        """Messages the bot created in a channel, oldest first. By default only those it
        posted with ``POST /channels/{id}/messages`` (alerts etc.); ``include_interactions``
        adds interaction responses and follow-ups."""
        out = []
        for mid in self._channel_log.get(channel_id, []):
            meta = self._meta[mid]
            if meta.deleted:
                continue
            if meta.source != "channel" and not include_interactions:
                continue
            msg = self._messages[mid]
            if int(msg.get("flags", 0)) & FLAG_EPHEMERAL and not include_ephemeral:
                continue
            out.append(msg)
        return out

    async def wait_for_messages(
        self,
        channel_id: int,
        n: int = 1,
        *,
        timeout: float = 5.0,
        include_interactions: bool = False,
    ) -> list[JSON]:
        def enough() -> bool:
            return (
                len(self.channel_messages(channel_id, include_interactions=include_interactions))
                >= n
            )

        await self.wait_until(enough, timeout, f"{n} message(s) in channel {channel_id}")
        return self.channel_messages(channel_id, include_interactions=include_interactions)

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The registered commands of a scope (``None``: global)."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    def command_overwrites(self, guild_id: int | None = None) -> int:
        """How many bulk overwrites (``PUT``) the bot made for a scope."""
        return self._command_puts.get(guild_id, 0)

    async def wait_for_commands(
        self,
        guild_id: int | None = None,
        *,
        names: Iterable[str] | None = None,
        timeout: float = 5.0,
    ) -> list[JSON]:
        """Wait for a bulk overwrite of the scope (and, if given, for these names)."""
        wanted = set(names or ())

        def done() -> bool:
            if not self._command_puts.get(guild_id):
                return False
            have = {c["name"] for c in self._commands.get(guild_id, [])}
            return wanted <= have

        scope = "global" if guild_id is None else f"guild {guild_id}"
        await self.wait_until(done, timeout, f"commands registered for {scope}")
        return self.commands(guild_id)

    # ================================================================== interactions

    def _resolve_place(
        self,
        user: User | Member | str | None,
        guild: Guild | int | None,
        channel: Channel | int | None,
        dm: bool,
    ) -> tuple[User, Guild | None, Channel, Member | None]:
        if isinstance(user, Member):
            user = user.user
        elif isinstance(user, str):
            user = self.world.user(user)
        elif user is None:
            user = self.world.users.get("member") or self.world.owner
        if dm:
            return user, None, self._dm_channel_for(user), None
        if isinstance(guild, int):
            g = self.world.guild_by_id(guild)
            if g is None:
                raise DoubleError(f"unknown guild {guild}")
            guild = g
        g2 = guild or self.world.guild
        if isinstance(channel, int):
            c = g2.channel(channel)
            if c is None:
                raise DoubleError(f"channel {channel} is not in guild {g2.name!r}")
            channel = c
        if channel is None:
            channel = next((c for c in g2.channels if c.type == 0), None)
            if channel is None:
                raise DoubleError(f"guild {g2.name!r} has no text channel")
        member = g2.member(user.id)
        if member is None:
            raise NotInvocableError(f"{user.username} is not a member of {g2.name!r}")
        return user, g2, channel, member

    def dm_channel(self, user: User | str) -> Channel:
        """The DM channel between the bot and ``user`` (made on first use, as
        ``POST /users/@me/channels`` does); e.g. ``fail_channel(dm.id, 403, 50007, ...)``."""
        return self._dm_channel_for(self.world.user(user) if isinstance(user, str) else user)

    def _dm_channel_for(self, user: User) -> Channel:
        for ch in self._dm_channels.values():
            if any(u.id == user.id for u in ch.recipients):
                return ch
        ch = Channel(self.ids.next(), "", None, type=1, recipients=[user])
        self._dm_channels[ch.id] = ch
        return ch

    def _find_command(self, root: str, guild: Guild | None) -> JSON:
        scopes: list[int | None] = [guild.id, None] if guild is not None else [None]
        for scope in scopes:
            for cmd in self._commands.get(scope, []):
                if cmd["name"] == root and cmd.get("type", 1) == 1:
                    return cmd
        known = sorted({c["name"] for s in scopes for c in self._commands.get(s, [])})
        where = f"guild {guild.name!r}" if guild else "DMs"
        raise UnknownCommandError(
            f"/{root} is not registered for {where} (registered: {known or 'nothing'})"
        )

    def _check_available(
        self,
        cmd: JSON,
        guild: Guild | None,
        member: Member | None,
        channel: Channel,
        ignore_default_permissions: bool,
    ) -> None:
        contexts = cmd.get("contexts")
        context = 0 if guild is not None else 1
        if contexts is not None and context not in contexts:
            raise NotInvocableError(f"/{cmd['name']} is not available in context {context}")
        if guild is None and cmd.get("dm_permission") is False:
            raise NotInvocableError(f"/{cmd['name']} is guild-only")
        required = cmd.get("default_member_permissions")
        if (
            required is not None
            and guild is not None
            and member is not None
            and not ignore_default_permissions
        ):
            need = int(required)
            have = guild.permissions_in(member, channel)
            if have & need != need:
                raise NotInvocableError(
                    f"/{cmd['name']} requires permissions {need}; {member.user.username} has "
                    f"{have} (pass ignore_default_permissions=True to model an admin override)"
                )

    def _interaction_payload(
        self,
        itype: int,
        data: JSON | None,
        *,
        user: User,
        guild: Guild | None,
        channel: Channel,
        member: Member | None,
        message: JSON | None = None,
        locale: str = "en-US",
    ) -> JSON:
        iid = self.ids.next()
        payload: JSON = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "token": "double_" + secrets.token_urlsafe(48),
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "channel_id": str(channel.id),
        }
        if data is not None:
            payload["data"] = data
        if guild is not None and member is not None:
            perms = guild.permissions_in(member, channel)
            bot_member = guild.member(self.bot_user.id)
            app_perms = guild.permissions_in(bot_member, channel) if bot_member else 0
            chan = channel.to_payload()
            chan["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": guild.locale, "features": []},
                guild_locale=guild.locale,
                channel=chan,
                member=member.to_payload(permissions=perms),
                app_permissions=str(app_perms),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            dm_perms = int(
                Perm.VIEW_CHANNEL
                | Perm.SEND_MESSAGES
                | Perm.EMBED_LINKS
                | Perm.ATTACH_FILES
                | Perm.READ_MESSAGE_HISTORY
                | Perm.USE_EXTERNAL_EMOJIS
                | Perm.ADD_REACTIONS
            )
            payload.update(
                user=user.to_payload(),
                channel=channel.to_payload(),
                app_permissions=str(dm_perms),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message
        return payload

    async def _send_interaction(self, payload: JSON, name: str) -> InteractionHandle:
        if self.gateway.current is None:
            raise DoubleError("no bot has identified on the gateway yet")
        handle = InteractionHandle(self, payload=payload, name=name, ack_deadline=self.ack_deadline)
        self.interactions[handle.id] = handle
        self._by_token[handle.token] = handle
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(self.ack_deadline, self._ack_deadline_passed, handle))
        handle.dispatched_at = time.perf_counter()
        await self.gateway.dispatch("INTERACTION_CREATE", payload)
        return handle

    def _ack_deadline_passed(self, handle: InteractionHandle) -> None:
        if handle.callback is None:
            handle.failed = True
            self._violate(
                "ack_timeout",
                f"interaction {handle.name!r}",
                f"This interaction failed: no callback within {self.ack_deadline:g}s",
            )

    async def invoke_slash(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: User | Member | str | None = None,
        guild: Guild | int | None = None,
        channel: Channel | int | None = None,
        dm: bool = False,
        locale: str = "en-US",
        ignore_default_permissions: bool = False,
    ) -> InteractionHandle:
        """Invoke a registered slash command like the Discord client does.

        ``name`` is the command path as typed, e.g. ``"search"`` or ``"subscriptions add"``.
        ``options`` maps option names to values: str/int/float/bool, or for user / channel /
        role / mentionable options a :class:`User`/:class:`Member`/:class:`Channel`/
        :class:`~.models.Role` (or an id); they go into ``resolved`` as Discord does.
        Defaults: user ``member``, the first guild and its first text channel. Raises
        :class:`UnknownCommandError`/:class:`InvalidOptionError` for anything the bot did not
        register, :class:`NotInvocableError` when the client would hide the command (e.g.
        ``default_member_permissions`` the user lacks; ``ignore_default_permissions=True``
        models a server admin overriding that)."""
        who, g, ch, member = self._resolve_place(user, guild, channel, dm)
        path = name.split()
        cmd = self._find_command(path[0], g)
        self._check_available(cmd, g, member, ch, ignore_default_permissions)
        resolver = Resolver(g, member, {u.id: u for u in self.world.users.values()})
        data = build_command_data(cmd, path[1:], options or {}, resolver)
        payload = self._interaction_payload(
            INTERACTION_APPLICATION_COMMAND,
            data,
            user=who,
            guild=g,
            channel=ch,
            member=member,
            locale=locale,
        )
        return await self._send_interaction(payload, "/" + name)

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        focused: str,
        user: User | Member | str | None = None,
        guild: Guild | int | None = None,
        channel: Channel | int | None = None,
        dm: bool = False,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """An APPLICATION_COMMAND_AUTOCOMPLETE interaction: the user is typing ``focused``
        (its current text is ``options[focused]``, default ``""``). Read the answer with
        ``await handle.choices()``."""
        who, g, ch, member = self._resolve_place(user, guild, channel, dm)
        path = name.split()
        cmd = self._find_command(path[0], g)
        self._check_available(cmd, g, member, ch, True)
        resolver = Resolver(g, member, {u.id: u for u in self.world.users.values()})
        data = build_command_data(cmd, path[1:], options or {}, resolver, focused=focused)
        payload = self._interaction_payload(
            INTERACTION_AUTOCOMPLETE,
            data,
            user=who,
            guild=g,
            channel=ch,
            member=member,
            locale=locale,
        )
        return await self._send_interaction(payload, f"/{name} [autocomplete {focused}]")

    def _component_context(
        self, message: JSON | int, custom_id: str, user: User | Member | str | None
    ) -> tuple[JSON, JSON, User, Guild | None, Channel, Member | None]:
        mid = message if isinstance(message, int) else int(message["id"])
        current = self.message(mid)
        if current is None:
            raise NotInvocableError(f"message {mid} does not exist (deleted or never sent)")
        comp = find_component(current.get("components"), custom_id)
        if comp is None:
            raise NotInvocableError(f"message {mid} has no component with custom_id {custom_id!r}")
        if comp.get("disabled"):
            raise NotInvocableError(f"component {custom_id!r} is disabled")
        channel_id = int(current["channel_id"])
        if channel_id in self._dm_channels:
            ch = self._dm_channels[channel_id]
            who, g, ch2, member = self._resolve_place(user or ch.recipients[0], None, None, True)
        else:
            found = self.world.channel(channel_id)
            if found is None:
                raise NotInvocableError(f"channel {channel_id} no longer exists")
            who, g, ch2, member = self._resolve_place(user, found[0], found[1], False)
        meta = self._meta.get(mid)
        if int(current.get("flags", 0)) & FLAG_EPHEMERAL and meta and meta.interaction_id:
            owner = self.interactions[meta.interaction_id].user_id
            if owner != who.id:
                raise NotInvocableError("only the invoking user can see an ephemeral message")
        return current, comp, who, g, ch2, member

    async def click(
        self, message: JSON | int, custom_id: str, *, user: User | Member | str | None = None
    ) -> InteractionHandle:
        """Click the button ``custom_id`` on ``message`` (a message payload or id) as ``user``
        (default ``member``). The interaction carries the message's current state."""
        current, comp, who, g, ch, member = self._component_context(message, custom_id, user)
        if comp.get("type") != 2:
            raise NotInvocableError(f"{custom_id!r} is not a button (type {comp.get('type')})")
        if comp.get("style") in (5, 6):
            raise NotInvocableError(f"{custom_id!r} is a link/premium button; it sends nothing")
        data: JSON = {"custom_id": custom_id, "component_type": 2}
        if "id" in comp:
            data["id"] = comp["id"]
        payload = self._interaction_payload(
            INTERACTION_MESSAGE_COMPONENT,
            data,
            user=who,
            guild=g,
            channel=ch,
            member=member,
            message=copy.deepcopy(current),
        )
        return await self._send_interaction(payload, f"button {custom_id}")

    async def select(
        self,
        message: JSON | int,
        custom_id: str,
        values: Sequence[Any],
        *,
        user: User | Member | str | None = None,
    ) -> InteractionHandle:
        """Choose ``values`` in the select menu ``custom_id`` (string select: option values;
        user/role/mentionable/channel selects: objects or ids)."""
        current, comp, who, g, ch, member = self._component_context(message, custom_id, user)
        ctype = comp.get("type")
        if ctype not in (3, 5, 6, 7, 8):
            raise NotInvocableError(f"{custom_id!r} is not a select menu (type {ctype})")
        lo, hi = comp.get("min_values", 1), comp.get("max_values", 1)
        if not lo <= len(values) <= hi:
            raise NotInvocableError(
                f"select {custom_id!r} takes {lo}..{hi} values, got {len(values)}"
            )
        resolver = Resolver(g, member, {u.id: u for u in self.world.users.values()})
        if ctype == 3:
            allowed = [o.get("value") for o in comp.get("options") or []]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise NotInvocableError(f"select {custom_id!r} has no option(s) {bad}")
            out_values = [str(v) for v in values]
        elif ctype == 5:
            out_values = [resolver.user(v) for v in values]
        elif ctype == 6:
            out_values = [resolver.role(v) for v in values]
        elif ctype == 7:
            out_values = [resolver.mentionable(v) for v in values]
        else:
            out_values = [resolver.channel(v, comp.get("channel_types")) for v in values]
        data: JSON = {"custom_id": custom_id, "component_type": ctype, "values": out_values}
        if resolver.resolved:
            data["resolved"] = resolver.resolved
        payload = self._interaction_payload(
            INTERACTION_MESSAGE_COMPONENT,
            data,
            user=who,
            guild=g,
            channel=ch,
            member=member,
            message=copy.deepcopy(current),
        )
        return await self._send_interaction(payload, f"select {custom_id}")

    # ================================================================== REST plumbing

    def _register_routes(self) -> None:
        r = self._route
        r("GET", "/users/@me", self._get_me)
        r("GET", "/users/{user_id}", self._get_user)
        r("POST", "/users/@me/channels", self._create_dm)
        r("GET", "/gateway", self._get_gateway)
        r("GET", "/gateway/bot", self._get_gateway_bot)
        r("GET", "/oauth2/applications/@me", self._get_application)
        r("GET", "/applications/@me", self._get_application)
        for base in (
            "/applications/{application_id}/commands",
            "/applications/{application_id}/guilds/{guild_id}/commands",
        ):
            r("GET", base + "/permissions", self._get_command_permissions)
            r("GET", base, self._get_commands)
            r("PUT", base, self._put_commands)
            r("POST", base, self._post_command)
            r("GET", base + "/{command_id}", self._get_command)
            r("PATCH", base + "/{command_id}", self._patch_command)
            r("DELETE", base + "/{command_id}", self._delete_command)
        r(
            "POST",
            "/interactions/{interaction_id}/{interaction_token}/callback",
            self._interaction_callback,
            auth=False,
        )
        wh = "/webhooks/{webhook_id}/{webhook_token}"
        r("POST", wh, self._execute_webhook, auth=False)
        for suffix in ("/messages/@original", "/messages/{message_id}"):
            r("GET", wh + suffix, self._get_webhook_message, auth=False)
            r("PATCH", wh + suffix, self._edit_webhook_message, auth=False)
            r("DELETE", wh + suffix, self._delete_webhook_message, auth=False)
        r("GET", "/channels/{channel_id}", self._get_channel)
        r("GET", "/channels/{channel_id}/messages", self._list_messages)
        r("POST", "/channels/{channel_id}/messages", self._create_message)
        r("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message)
        r("PATCH", "/channels/{channel_id}/messages/{message_id}", self._edit_message)
        r("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message)
        r("POST", "/channels/{channel_id}/typing", self._typing)
        r("GET", "/guilds/{guild_id}", self._get_guild)
        r("GET", "/guilds/{guild_id}/channels", self._get_guild_channels)
        r("GET", "/guilds/{guild_id}/roles", self._get_guild_roles)
        r("GET", "/guilds/{guild_id}/members/{user_id}", self._get_guild_member)

    def _route(self, method: str, template: str, handler: Handler, *, auth: bool = True) -> None:
        self._routes.append((method, template, _compile(template), handler, auth))

    async def _read_body(self, request: web.Request) -> tuple[Any, list[UploadedFile], bool]:
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            payload: Any = None
            files: list[UploadedFile] = []
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    data = bytes(await part.read())
                    files.append(
                        UploadedFile(
                            field=part.name or "",
                            filename=part.filename or "",
                            content_type=part.headers.get("Content-Type", ""),
                            data=data,
                        )
                    )
            return payload, files, True
        raw = await request.read()
        if not raw:
            return None, [], False
        try:
            return json.loads(raw), [], False
        except ValueError:
            raise _Reject(
                error_response(400, 50109, "The request body contains invalid JSON.")
            ) from None

    async def _outside_api(self, request: web.Request) -> web.StreamResponse:
        rec = RecordedRequest(
            len(self.requests) + 1,
            request.method,
            request.path,
            dict(request.query),
            {},
            None,
            [],
            False,
        )
        self.requests.append(rec)
        self.unknown_routes.append(rec)
        rec.status = 404
        self._violate(
            "unknown_route", f"{request.method} {request.path}", "outside the /api/v10 prefix"
        )
        return error_response(404, 0, "404: Not Found")

    async def _rest_entry(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("user-agent", "content-type", "x-audit-log-reason")
        }
        if "Authorization" in request.headers:
            headers["Authorization"] = "<redacted>"
        rec = RecordedRequest(
            len(self.requests) + 1,
            request.method,
            path,
            dict(request.query),
            headers,
            None,
            [],
            False,
        )
        self.requests.append(rec)
        try:
            body, files, multipart = await self._read_body(request)
            rec.json, rec.files, rec.multipart = body, files, multipart
            response = await self._dispatch_rest(request, rec, body)
        except _Reject as rej:
            response = rej.response
        rec.status = response.status
        self.notifier.notify()
        return response

    async def _dispatch_rest(
        self, request: web.Request, rec: RecordedRequest, body: Any
    ) -> web.Response:
        method, path = rec.method, rec.path
        for rule in self.faults:
            if rule.matches(method, path):
                if rule.times is not None:
                    rule.times -= 1
                rule.hits.append(rec)
                rec.fault = True
                return json_response(rule.body, rule.status, rule.headers)
        m = re.match(r"^/channels/(\d+)(/|$)", path)
        if m and int(m.group(1)) in self.channel_failures:
            status, fbody = self.channel_failures[int(m.group(1))]
            rec.fault = True
            return json_response(fbody, status)
        allowed_methods: set[str] = set()
        for r_method, template, pattern, handler, auth in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if r_method != method:
                allowed_methods.add(r_method)
                continue
            rec.route = f"{method} {template}"
            if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                return error_response(401, 0, "401: Unauthorized")
            call = RestCall(request, rec, match.groupdict(), body, rec.route)
            return await handler(call)
        self.unknown_routes.append(rec)
        self._violate(
            "unknown_route",
            f"{method} {path}",
            "the double does not implement this route"
            + (f" (it knows {sorted(allowed_methods)})" if allowed_methods else ""),
        )
        if allowed_methods:
            return error_response(405, 0, "405: Method Not Allowed")
        return error_response(404, 0, "404: Not Found")

    # ------------------------------------------------------------------ checks on bodies

    def _schema_check(self, call: RestCall, body: Any, *, callback: bool = False) -> None:
        if not self.validate_schema:
            return
        errors = (
            schema.validate_callback(body)
            if callback
            else schema.validate_route(call.route_key, body)
        )
        for err in errors:
            self._violate("schema", f"{call.rec.method} {call.rec.path}", err)

    def _limits_check(self, call: RestCall, problems: Sequence[limits.Problem]) -> None:
        if not problems:
            return
        route = f"{call.rec.method} {call.rec.path}"
        empty = [p for p in problems if p.code == "EMPTY_MESSAGE"]
        for p in problems:
            self._violate("empty_message" if p.code == "EMPTY_MESSAGE" else "limit", route, str(p))
        if not self.reject_invalid:
            return
        if empty and len(empty) == len(problems):
            raise _Reject(error_response(400, 50006, "Cannot send an empty message"))
        raise _Reject(
            json_response(
                limits.form_error_body([p for p in problems if p.code != "EMPTY_MESSAGE"]), 400
            )
        )

    def _mentions_check(self, call: RestCall, body: Any, kind: str) -> None:
        if self.mentions_policy == "off" or (
            self.mentions_policy == "channel" and kind != "channel"
        ):
            return
        route = f"{call.rec.method} {call.rec.path}"
        am = body.get("allowed_mentions") if isinstance(body, Mapping) else None
        if not isinstance(am, Mapping):
            self._violate(
                "allowed_mentions",
                route,
                "no allowed_mentions: content could ping @everyone/users/roles "
                "(use AllowedMentions.none())",
            )
            return
        if am.get("parse") != []:
            self._violate(
                "allowed_mentions",
                route,
                f"allowed_mentions.parse is {am.get('parse')!r}, expected []",
            )
        if am.get("users") or am.get("roles") or am.get("replied_user"):
            self._violate(
                "allowed_mentions",
                route,
                f"allowed_mentions lets some mentions through: {dict(am)!r}",
            )

    # ------------------------------------------------------------------ messages

    def _author(self) -> JSON:
        return self.bot_user.to_payload()

    def _mentions(
        self, content: str, allowed: Any, guild: Guild | None
    ) -> tuple[list[JSON], list[str], bool]:
        """Who the message would actually ping, following the allowed_mentions rules."""
        if isinstance(allowed, Mapping):
            parse = set(allowed.get("parse") or [])
            users_ok = {str(u) for u in allowed.get("users") or []}
            roles_ok = {str(r) for r in allowed.get("roles") or []}
        else:
            parse, users_ok, roles_ok = {"users", "roles", "everyone"}, set(), set()
        users: list[JSON] = []
        for uid in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)):
            if "users" in parse or uid in users_ok:
                u = self.world.user_by_id(int(uid))
                if u is not None:
                    users.append(u.to_payload())
        roles = [
            rid
            for rid in dict.fromkeys(re.findall(r"<@&(\d+)>", content))
            if ("roles" in parse or rid in roles_ok)
            and guild is not None
            and guild.role(int(rid)) is not None
        ]
        everyone = "everyone" in parse and bool(re.search(r"@(everyone|here)\b", content))
        return users, roles, everyone

    def _store_attachments(self, files: Sequence[UploadedFile], declared: Any) -> list[JSON]:
        by_field = {f.field: f for f in files}
        out: list[JSON] = []
        entries = (
            declared
            if isinstance(declared, list)
            else [{"id": i, "filename": f.filename} for i, f in enumerate(files)]
        )
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            f = by_field.get(f"files[{entry.get('id')}]")
            if f is None:
                continue
            aid = self.ids.next()
            self._attachments[aid] = (f.filename, f.content_type, f.data)
            url = f"{self.base_url}/attachments/{aid}/{f.filename}"
            out.append(
                {
                    "id": str(aid),
                    "filename": entry.get("filename") or f.filename,
                    "size": len(f.data),
                    "url": url,
                    "proxy_url": url,
                    "content_type": f.content_type or "application/octet-stream",
                    "description": entry.get("description"),
                }
            )
        return out

    def _new_message(
        self,
        channel_id: int,
        body: Mapping[str, Any],
        *,
        source: str,
        files: Sequence[UploadedFile] = (),
        flags: int = 0,
        interaction: InteractionHandle | None = None,
    ) -> JSON:
        mid = self.ids.next()
        content = body.get("content") or ""
        found = self.world.channel(channel_id)
        guild = found[0] if found else None
        users, roles, everyone = self._mentions(str(content), body.get("allowed_mentions"), guild)
        embeds = []
        for e in body.get("embeds") or []:
            e2 = {k: v for k, v in dict(e).items() if v is not None}
            e2.setdefault("type", "rich")
            embeds.append(e2)
        msg: JSON = {
            "id": str(mid),
            "type": 0,
            "channel_id": str(channel_id),
            "author": self._author(),
            "content": content,
            "embeds": embeds,
            "components": copy.deepcopy(body.get("components") or []),
            "attachments": self._store_attachments(files, body.get("attachments")),
            "mentions": users,
            "mention_roles": roles,
            "mention_everyone": everyone,
            "pinned": False,
            "tts": bool(body.get("tts")),
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if interaction is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            who = (interaction.payload.get("member") or {}).get("user") or interaction.payload.get(
                "user"
            )
            itype = interaction.type
            meta: JSON = {
                "id": str(interaction.id),
                "type": itype,
                "user": who,
                "authorizing_integration_owners": interaction.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if itype == INTERACTION_APPLICATION_COMMAND:
                msg["type"] = 20  # CHAT_INPUT_COMMAND
                meta["name"] = interaction.name.lstrip("/")
                meta["command_type"] = 1
                msg["interaction"] = {
                    "id": str(interaction.id),
                    "type": itype,
                    "name": interaction.name.lstrip("/"),
                    "user": who,
                }
            elif itype == INTERACTION_MESSAGE_COMPONENT:
                meta["interacted_message_id"] = interaction.payload["message"]["id"]
                msg["type"] = 19 if source == "interaction" else 0
            if source == "followup" and interaction.original_message_id is not None:
                meta["original_response_message_id"] = str(interaction.original_message_id)
            msg["interaction_metadata"] = meta
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        self._messages[mid] = msg
        self._meta[mid] = _MessageMeta(source, interaction.id if interaction else None)
        self._channel_log.setdefault(channel_id, []).append(mid)
        self.notifier.notify()
        return msg

    def _apply_edit(
        self, msg: JSON, body: Mapping[str, Any], files: Sequence[UploadedFile] = ()
    ) -> None:
        if "content" in body:
            msg["content"] = body["content"] or ""
            found = self.world.channel(int(msg["channel_id"]))
            users, roles, everyone = self._mentions(
                msg["content"], body.get("allowed_mentions"), found[0] if found else None
            )
            msg.update(mentions=users, mention_roles=roles, mention_everyone=everyone)
        if "embeds" in body:
            embeds = []
            for e in body["embeds"] or []:
                e2 = {k: v for k, v in dict(e).items() if v is not None}
                e2.setdefault("type", "rich")
                embeds.append(e2)
            msg["embeds"] = embeds
        if "components" in body:
            msg["components"] = copy.deepcopy(body["components"] or [])
        if "attachments" in body or files:
            keep_ids = {
                str(a.get("id")) for a in body.get("attachments") or [] if isinstance(a, Mapping)
            }
            kept = [a for a in msg.get("attachments", []) if a["id"] in keep_ids]
            msg["attachments"] = kept + self._store_attachments(files, body.get("attachments"))
        flags = int(msg.get("flags", 0))
        if isinstance(body.get("flags"), int):
            # Only SUPPRESS_EMBEDS can be changed by an edit; ephemeral stays as it was.
            flags = (flags & ~FLAG_SUPPRESS_EMBEDS) | (body["flags"] & FLAG_SUPPRESS_EMBEDS)
        msg["flags"] = flags & ~FLAG_LOADING
        msg["edited_timestamp"] = iso_now()
        self.notifier.notify()

    async def _announce(self, msg: JSON, event: str) -> None:
        """MESSAGE_CREATE/UPDATE on the gateway (GUILD_MESSAGES intent), like Discord."""
        if int(msg.get("flags", 0)) & FLAG_EPHEMERAL:
            return
        found = self.world.channel(int(msg["channel_id"]))
        data = copy.deepcopy(msg)
        if found is not None and found[0] is not None:
            guild = found[0]
            data["guild_id"] = str(guild.id)
            bot_member = guild.member(self.bot_user.id)
            if bot_member is not None:
                data["member"] = bot_member.to_payload(include_user=False)
        await self.gateway.dispatch(event, data, intents=INTENT_GUILD_MESSAGES)

    # ------------------------------------------------------------------ users, gateway, app

    async def _get_me(self, call: RestCall) -> web.Response:
        me = self.bot_user.to_payload()
        me.update(verified=True, mfa_enabled=False, locale="en-US", email=None, bio="")
        return json_response(me)

    async def _get_user(self, call: RestCall) -> web.Response:
        user = self.world.user_by_id(int(call.params["user_id"]))
        if user is None:
            return error_response(404, 10013, "Unknown User")
        return json_response(user.to_payload())

    async def _create_dm(self, call: RestCall) -> web.Response:
        body = call.body if isinstance(call.body, Mapping) else {}
        user = self.world.user_by_id(int(body.get("recipient_id", 0)))
        if user is None:
            return error_response(400, 50035, "Invalid Form Body")
        return json_response(self._dm_channel_for(user).to_payload())

    async def _get_gateway(self, call: RestCall) -> web.Response:
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: RestCall) -> web.Response:
        return json_response(
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def _get_application(self, call: RestCall) -> web.Response:
        return json_response(self.world.application_payload())

    # ------------------------------------------------------------------ commands

    def _command_scope(self, call: RestCall) -> int | None:
        if int(call.params["application_id"]) != self.application_id:
            raise _Reject(error_response(403, 50001, "Missing Access"))
        gid = call.params.get("guild_id")
        if gid is None:
            return None
        if self.world.guild_by_id(int(gid)) is None:
            raise _Reject(error_response(403, 50001, "Missing Access"))
        return int(gid)

    def _materialise(
        self, scope: int | None, spec: Mapping[str, Any], existing: JSON | None
    ) -> JSON:
        cmd: JSON = {
            "id": existing["id"] if existing else str(self.ids.next()),
            "application_id": str(self.application_id),
            "version": str(self.ids.next()),
            "default_member_permissions": None,
            "type": spec.get("type", 1) or 1,
            "name": spec["name"],
            "name_localizations": spec.get("name_localizations"),
            "description": spec.get("description") or "",
            "description_localizations": spec.get("description_localizations"),
            "dm_permission": True,
            "contexts": None,
            "integration_types": [0],
            "nsfw": False,
        }
        for key in (
            "default_member_permissions",
            "dm_permission",
            "contexts",
            "integration_types",
            "nsfw",
            "handler",
        ):
            if spec.get(key) is not None:
                cmd[key] = spec[key]
        if cmd["default_member_permissions"] is not None:
            cmd["default_member_permissions"] = str(cmd["default_member_permissions"])
        if spec.get("options"):
            cmd["options"] = copy.deepcopy(spec["options"])
        if scope is not None:
            cmd["guild_id"] = str(scope)
        return cmd

    async def _get_commands(self, call: RestCall) -> web.Response:
        return json_response(self.commands(self._command_scope(call)))

    async def _get_command_permissions(self, call: RestCall) -> web.Response:
        self._command_scope(call)
        return json_response([])

    async def _put_commands(self, call: RestCall) -> web.Response:
        scope = self._command_scope(call)
        body = call.body if call.body is not None else []
        self._schema_check(call, body)
        self._limits_check(call, limits.check_command_list(body))
        old = {(c["type"], c["name"]): c for c in self._commands.get(scope, [])}
        new = [
            self._materialise(scope, spec, old.get((spec.get("type", 1) or 1, spec["name"])))
            for spec in body
        ]
        self._commands[scope] = new
        self._command_puts[scope] = self._command_puts.get(scope, 0) + 1
        self.notifier.notify()
        return json_response(copy.deepcopy(new))

    async def _post_command(self, call: RestCall) -> web.Response:
        scope = self._command_scope(call)
        self._schema_check(call, call.body)
        self._limits_check(call, limits.check_command(call.body))
        cmds = self._commands.setdefault(scope, [])
        key = (call.body.get("type", 1) or 1, call.body["name"])
        existing = next((c for c in cmds if (c["type"], c["name"]) == key), None)
        cmd = self._materialise(scope, call.body, existing)
        if existing is not None:
            cmds[cmds.index(existing)] = cmd
        else:
            cmds.append(cmd)
        self.notifier.notify()
        return json_response(cmd, 200 if existing else 201)

    def _scoped_command(self, call: RestCall) -> tuple[int | None, JSON]:
        scope = self._command_scope(call)
        for cmd in self._commands.get(scope, []):
            if cmd["id"] == call.params["command_id"]:
                return scope, cmd
        raise _Reject(error_response(404, 10063, "Unknown application command"))

    async def _get_command(self, call: RestCall) -> web.Response:
        return json_response(self._scoped_command(call)[1])

    async def _patch_command(self, call: RestCall) -> web.Response:
        scope, cmd = self._scoped_command(call)
        self._schema_check(call, call.body)
        merged = {**cmd, **(call.body or {})}
        self._limits_check(call, limits.check_command(merged))
        new = self._materialise(scope, merged, cmd)
        cmds = self._commands[scope]
        cmds[cmds.index(cmd)] = new
        self.notifier.notify()
        return json_response(new)

    async def _delete_command(self, call: RestCall) -> web.Response:
        scope, cmd = self._scoped_command(call)
        self._commands[scope].remove(cmd)
        self.notifier.notify()
        return no_content()

    # ------------------------------------------------------------------ interaction callback

    async def _interaction_callback(self, call: RestCall) -> web.Response:
        handle = (
            self.interactions.get(int(call.params["interaction_id"]))
            if call.params["interaction_id"].isdigit()
            else None
        )
        route = f"POST /interactions/{call.params['interaction_id']}/…/callback"
        if handle is None or handle.token != call.params["interaction_token"]:
            self._violate("unknown_interaction", route, "callback for an unknown interaction")
            return error_response(404, 10062, "Unknown interaction")
        body = call.body if isinstance(call.body, Mapping) else {}
        if handle.callback is not None:
            handle.rejected_callbacks.append(dict(body))
            self._violate(
                "double_ack",
                route,
                f"second callback (type {body.get('type')}) for {handle.name!r}",
            )
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        if handle.failed or time.perf_counter() - handle.created_at > self.ack_deadline:
            handle.rejected_callbacks.append(dict(body))
            self._violate(
                "late_ack",
                route,
                f"callback for {handle.name!r} after the {self.ack_deadline:g}s deadline",
            )
            return error_response(404, 10062, "Unknown interaction")
        ctype = body.get("type")
        if ctype not in ALLOWED_CALLBACKS.get(handle.type, set()):
            self._violate(
                "invalid_callback",
                route,
                f"callback type {ctype!r} is not valid for interaction type {handle.type}",
            )
            return json_response(
                limits.form_error_body(
                    [
                        limits.Problem(
                            ("type",),
                            f"callback type {ctype!r} invalid for this interaction",
                            "INTERACTION_RESPONSE_TYPE_INVALID",
                        )
                    ]
                ),
                400,
            )
        self._schema_check(call, body, callback=True)
        data = body.get("data")
        data_map: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if ctype == CALLBACK_CHANNEL_MESSAGE:
            self._limits_check(call, limits.check_message(data_map, base=("data",)))
            self._mentions_check(call, data_map, "interaction")
        elif ctype == CALLBACK_UPDATE_MESSAGE:
            self._limits_check(
                call, limits.check_message(data_map, base=("data",), require_something=False)
            )
        elif ctype == CALLBACK_AUTOCOMPLETE_RESULT:
            self._limits_check(call, limits.check_autocomplete(data))
        elif ctype == CALLBACK_MODAL:
            self._limits_check(call, limits.check_modal(data))

        handle.callback = {"type": ctype, **({"data": data} if "data" in body else {})}
        handle.callback_at = time.perf_counter()
        channel_id = handle.channel_id or 0
        resource: JSON | None = None
        message: JSON | None = None
        if ctype == CALLBACK_CHANNEL_MESSAGE:
            flags = int(data_map.get("flags") or 0) & (
                FLAG_EPHEMERAL
                | FLAG_SUPPRESS_EMBEDS
                | FLAG_SUPPRESS_NOTIFICATIONS
                | FLAG_COMPONENTS_V2
            )
            message = self._new_message(
                channel_id,
                data_map,
                source="interaction",
                files=call.rec.files,
                flags=flags,
                interaction=handle,
            )
            handle.original_message_id = int(message["id"])
        elif ctype == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            flags = FLAG_LOADING | (int(data_map.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._new_message(
                channel_id, {}, source="interaction", flags=flags, interaction=handle
            )
            handle.original_message_id = int(message["id"])
        elif ctype in (CALLBACK_DEFERRED_UPDATE_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            source_id = int(handle.payload["message"]["id"])
            handle.original_message_id = source_id
            current = self.message(source_id)
            if current is None:
                return error_response(404, 10008, "Unknown Message")
            if ctype == CALLBACK_UPDATE_MESSAGE:
                self._apply_edit(current, data_map, call.rec.files)
                message = current
        self.notifier.notify()
        if message is not None:
            resource = {"type": ctype, "message": copy.deepcopy(message)}
            if ctype == CALLBACK_UPDATE_MESSAGE:
                await self._announce(message, "MESSAGE_UPDATE")
            else:
                await self._announce(message, "MESSAGE_CREATE")
        elif ctype == CALLBACK_MODAL:
            resource = {"type": ctype}
        if not call.query_flag("with_response"):
            return no_content()
        info: JSON = {
            "id": str(handle.id),
            "type": handle.type,
            "response_message_loading": ctype == CALLBACK_DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(
                message and int(message.get("flags", 0)) & FLAG_EPHEMERAL
            ),
        }
        if handle.original_message_id is not None and ctype != CALLBACK_AUTOCOMPLETE_RESULT:
            info["response_message_id"] = str(handle.original_message_id)
        out: JSON = {"interaction": info}
        if resource is not None:
            out["resource"] = resource
        return json_response(out)

    # ------------------------------------------------------------------ webhooks (follow-ups)

    def _webhook_handle(self, call: RestCall) -> InteractionHandle:
        route = f"{call.rec.method} /webhooks/{call.params['webhook_id']}/…"
        handle = self._by_token.get(call.params["webhook_token"])
        if handle is None or call.params["webhook_id"] != str(self.application_id):
            raise _Reject(error_response(404, 10015, "Unknown Webhook"))
        if time.perf_counter() - handle.created_at > self.token_lifetime:
            self._violate(
                "expired_token",
                route,
                f"interaction token of {handle.name!r} used after {self.token_lifetime:g}s",
            )
            raise _Reject(error_response(401, 50027, "Invalid Webhook Token"))
        if handle.callback is None:
            self._violate(
                "unknown_interaction", route, f"webhook use before {handle.name!r} was acknowledged"
            )
            raise _Reject(error_response(404, 10015, "Unknown Webhook"))
        return handle

    def _webhook_target(self, call: RestCall, handle: InteractionHandle) -> JSON:
        mid_raw = call.params.get("message_id")
        if mid_raw is None:  # @original
            mid = handle.original_message_id
            if mid is None or handle.original_deleted:
                raise _Reject(error_response(404, 10008, "Unknown Message"))
        else:
            if not mid_raw.isdigit():
                raise _Reject(error_response(404, 10008, "Unknown Message"))
            mid = int(mid_raw)
            if mid != handle.original_message_id and mid not in handle.followup_ids:
                raise _Reject(error_response(404, 10008, "Unknown Message"))
        msg = self.message(mid)
        if msg is None:
            raise _Reject(error_response(404, 10008, "Unknown Message"))
        return msg

    async def _execute_webhook(self, call: RestCall) -> web.Response:
        handle = self._webhook_handle(call)
        body: Mapping[str, Any] = call.body if isinstance(call.body, Mapping) else {}
        self._schema_check(call, body)
        self._limits_check(call, limits.check_message(body))
        self._mentions_check(call, body, "followup")
        original = (
            self.message(handle.original_message_id)
            if handle.original_message_id is not None
            else None
        )
        if original is not None and int(original.get("flags", 0)) & FLAG_LOADING:
            # The first follow-up after a "thinking" defer replaces the loading message.
            self._apply_edit(original, body, call.rec.files)
            msg = original
            handle.followup_ids.append(int(msg["id"]))
            await self._announce(msg, "MESSAGE_UPDATE")
        else:
            flags = int(body.get("flags") or 0) & (
                FLAG_EPHEMERAL
                | FLAG_SUPPRESS_EMBEDS
                | FLAG_SUPPRESS_NOTIFICATIONS
                | FLAG_COMPONENTS_V2
            )
            msg = self._new_message(
                handle.channel_id or 0,
                body,
                source="followup",
                files=call.rec.files,
                flags=flags,
                interaction=handle,
            )
            handle.followup_ids.append(int(msg["id"]))
            await self._announce(msg, "MESSAGE_CREATE")
        self.notifier.notify()
        if not call.query_flag("wait"):
            return no_content()
        return json_response(copy.deepcopy(msg))

    async def _get_webhook_message(self, call: RestCall) -> web.Response:
        handle = self._webhook_handle(call)
        return json_response(copy.deepcopy(self._webhook_target(call, handle)))

    async def _edit_webhook_message(self, call: RestCall) -> web.Response:
        handle = self._webhook_handle(call)
        msg = self._webhook_target(call, handle)
        body: Mapping[str, Any] = call.body if isinstance(call.body, Mapping) else {}
        self._schema_check(call, body)
        self._limits_check(call, limits.check_message(body, require_something=False))
        self._apply_edit(msg, body, call.rec.files)
        if int(msg["id"]) == handle.original_message_id:
            handle.edits.append(dict(body))
        self.notifier.notify()
        await self._announce(msg, "MESSAGE_UPDATE")
        return json_response(copy.deepcopy(msg))

    async def _delete_webhook_message(self, call: RestCall) -> web.Response:
        handle = self._webhook_handle(call)
        msg = self._webhook_target(call, handle)
        mid = int(msg["id"])
        self._meta[mid].deleted = True
        if mid == handle.original_message_id:
            handle.original_deleted = True
        self.notifier.notify()
        return no_content()

    # ------------------------------------------------------------------ channels

    def _channel(self, call: RestCall) -> tuple[Guild | None, Channel]:
        cid = int(call.params["channel_id"])
        if cid in self._dm_channels:
            return None, self._dm_channels[cid]
        found = self.world.channel(cid)
        if found is None:
            raise _Reject(error_response(404, 10003, "Unknown Channel"))
        guild, channel = found
        if guild is not None:
            me = guild.member(self.bot_user.id)
            perms = guild.permissions_in(me, channel) if me else 0
            if not perms & Perm.VIEW_CHANNEL:
                raise _Reject(error_response(403, 50001, "Missing Access"))
        return found

    def _bot_perms(self, guild: Guild | None, channel: Channel) -> int:
        if guild is None:
            return ALL_PERMISSIONS
        me = guild.member(self.bot_user.id)
        return guild.permissions_in(me, channel) if me else 0

    async def _get_channel(self, call: RestCall) -> web.Response:
        _, channel = self._channel(call)
        return json_response(channel.to_payload())

    async def _list_messages(self, call: RestCall) -> web.Response:
        guild, channel = self._channel(call)
        if not self._bot_perms(guild, channel) & Perm.READ_MESSAGE_HISTORY:
            return json_response([])
        limit = max(1, min(100, int(call.rec.query.get("limit", "50"))))
        before = int(call.rec.query.get("before", "0") or 0)
        after = int(call.rec.query.get("after", "0") or 0)
        ids = [
            m
            for m in self._channel_log.get(channel.id, [])
            if not self._meta[m].deleted
            and not int(self._messages[m].get("flags", 0)) & FLAG_EPHEMERAL
        ]
        if before:
            ids = [m for m in ids if m < before]
        if after:
            ids = [m for m in ids if m > after][:limit]
        ids = sorted(ids, reverse=True)[:limit]
        return json_response([copy.deepcopy(self._messages[m]) for m in ids])

    async def _create_message(self, call: RestCall) -> web.Response:
        channel_id = int(call.params["channel_id"])
        after_create = self._stalled_channels.get(channel_id)
        if after_create is False and not await self._hold(
            StalledSend(channel_id, call.rec, after_create=False), call.request
        ):
            return self._dropped()
        response, message = await self._create_channel_message(call)
        if after_create and not await self._hold(
            StalledSend(channel_id, call.rec, after_create=True, message=message), call.request
        ):
            return self._dropped()
        return response

    async def _create_channel_message(self, call: RestCall) -> tuple[web.Response, JSON | None]:
        """``POST /channels/{id}/messages``; also the message it created or returned."""
        guild, channel = self._channel(call)
        perms = self._bot_perms(guild, channel)
        if not perms & Perm.SEND_MESSAGES:
            return error_response(403, 50013, "Missing Permissions"), None
        body: Mapping[str, Any] = call.body if isinstance(call.body, Mapping) else {}
        self._schema_check(call, body)
        self._limits_check(call, limits.check_message(body))
        self._mentions_check(call, body, "channel")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce") is True:
            existing = self._nonce_message(channel.id, str(nonce))
            if existing is not None:
                if self._meta[existing].deleted:
                    # discord.py documents NotFound for a nonce of a just-deleted message.
                    return error_response(404, 10008, "Unknown Message"), None
                self.deduplicated.append(call.rec)
                self.notifier.notify()
                message = self._messages[existing]
                return json_response(copy.deepcopy(message)), message
        if not perms & Perm.EMBED_LINKS and body.get("embeds"):
            body = {**body, "embeds": []}  # Discord silently drops embeds without Embed Links
        msg = self._new_message(
            channel.id,
            body,
            source="channel",
            files=call.rec.files,
            flags=int(body.get("flags") or 0)
            & (FLAG_SUPPRESS_EMBEDS | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2),
        )
        if nonce is not None:
            self._nonces[(channel.id, str(nonce))] = (int(msg["id"]), time.monotonic())
        await self._announce(msg, "MESSAGE_CREATE")
        return json_response(copy.deepcopy(msg)), msg

    def _nonce_message(self, channel_id: int, nonce: str) -> int | None:
        """The id of the bot's message with this nonce in the channel, created within the
        last ``nonce_window`` seconds (Discord's ``enforce_nonce`` check), if any."""
        now = time.monotonic()
        for key in [k for k, (_, at) in self._nonces.items() if now - at > self.nonce_window]:
            del self._nonces[key]
        found = self._nonces.get((channel_id, nonce))
        return found[0] if found is not None else None

    async def _hold(self, stall: StalledSend, request: web.Request) -> bool:
        """Keep a request waiting until it is released (True) or its client disconnects or
        the double stops (False)."""
        self.stalls.append(stall)
        self.notifier.notify()

        def gone() -> bool:
            transport = request.transport
            return self._stopping or transport is None or transport.is_closing()

        # aiohttp does not cancel handlers on disconnect, so look at the socket meanwhile.
        while not stall.wake.is_set() and not gone():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.02):
                    await stall.wake.wait()
        stall.state = "dropped" if gone() else "released"
        if stall.state == "dropped" and request.transport is not None:
            request.transport.close()  # the double stopped: the client sees a disconnect
        self.notifier.notify()
        return stall.state == "released"

    @staticmethod
    def _dropped() -> web.Response:
        """The answer to a held request whose client is gone (nobody reads it)."""
        return error_response(499, 0, "Client Closed Request")

    def _channel_message(self, call: RestCall, channel: Channel) -> JSON:
        raw = call.params["message_id"]
        msg = self.message(int(raw)) if raw.isdigit() else None
        if (
            msg is None
            or msg["channel_id"] != str(channel.id)
            or int(msg.get("flags", 0)) & FLAG_EPHEMERAL
        ):
            raise _Reject(error_response(404, 10008, "Unknown Message"))
        return msg

    async def _get_message(self, call: RestCall) -> web.Response:
        _, channel = self._channel(call)
        return json_response(copy.deepcopy(self._channel_message(call, channel)))

    async def _edit_message(self, call: RestCall) -> web.Response:
        _, channel = self._channel(call)
        msg = self._channel_message(call, channel)
        if msg["author"]["id"] != str(self.bot_user.id):
            return error_response(403, 50005, "Cannot edit a message authored by another user")
        body: Mapping[str, Any] = call.body if isinstance(call.body, Mapping) else {}
        self._schema_check(call, body)
        self._limits_check(call, limits.check_message(body, require_something=False))
        self._apply_edit(msg, body, call.rec.files)
        await self._announce(msg, "MESSAGE_UPDATE")
        return json_response(copy.deepcopy(msg))

    async def _delete_message(self, call: RestCall) -> web.Response:
        _, channel = self._channel(call)
        msg = self._channel_message(call, channel)
        self._meta[int(msg["id"])].deleted = True
        self.notifier.notify()
        return no_content()

    async def _typing(self, call: RestCall) -> web.Response:
        self._channel(call)
        return no_content()

    # ------------------------------------------------------------------ guilds

    def _guild(self, call: RestCall) -> Guild:
        guild = self.world.guild_by_id(int(call.params["guild_id"]))
        if guild is None:
            raise _Reject(error_response(404, 10004, "Unknown Guild"))
        return guild

    async def _get_guild(self, call: RestCall) -> web.Response:
        data = self._guild(call).to_payload(members=[])
        for key in (
            "members",
            "channels",
            "threads",
            "presences",
            "voice_states",
            "joined_at",
            "large",
            "member_count",
            "lazy",
            "unavailable",
            "stage_instances",
            "guild_scheduled_events",
            "soundboard_sounds",
        ):
            data.pop(key, None)
        return json_response(data)

    async def _get_guild_channels(self, call: RestCall) -> web.Response:
        return json_response([c.to_payload() for c in self._guild(call).channels])

    async def _get_guild_roles(self, call: RestCall) -> web.Response:
        return json_response([r.to_payload() for r in self._guild(call).roles])

    async def _get_guild_member(self, call: RestCall) -> web.Response:
        guild = self._guild(call)
        member = guild.member(int(call.params["user_id"]))
        if member is None:
            return error_response(404, 10007, "Unknown Member")
        return json_response(member.to_payload())

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        aid = int(request.match_info["attachment_id"])
        found = self._attachments.get(aid)
        if found is None:
            return web.Response(status=404)
        _, ctype, data = found
        return web.Response(body=data, content_type=ctype or "application/octet-stream")
