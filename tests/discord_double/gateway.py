"""The gateway half of the double: a websocket speaking Discord's gateway protocol v10.

HELLO -> (IDENTIFY -> READY + GUILD_CREATE*) | (RESUME -> replay + RESUMED), heartbeat ACKs,
REQUEST_GUILD_MEMBERS -> GUILD_MEMBERS_CHUNK, and transport compression when the client asks
for it in the query string (``compress=zlib-stream``; ``zstd-stream`` too when a zstd module
is importable, otherwise such a client gets uncompressed text frames, which discord.py accepts).
Sessions outlive connections, so a test can close the socket and watch the client RESUME.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .models import Guild, World
from .records import Notifier

JSON = dict[str, Any]
log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9


def _encode(payload: JSON) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


class _ZlibStream:
    name = "zlib-stream"

    def __init__(self) -> None:
        self._z = zlib.compressobj()

    def compress(self, data: bytes) -> bytes:
        # One shared zlib context per connection, each message ending in Z_SYNC_FLUSH
        # (00 00 ff ff), which is what discord.py looks for to know a message is complete.
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)


class _ZstdStream:
    name = "zstd-stream"

    def __init__(self, module: Any, source: str) -> None:
        self._source = source
        if source == "zstandard":
            self._c: Any = module.ZstdCompressor().compressobj()
            self._flush_mode: Any = module.COMPRESSOBJ_FLUSH_BLOCK
        else:  # compression.zstd (Python 3.14+)
            self._c = module.ZstdCompressor()
            self._flush_mode = module.ZstdCompressor.FLUSH_BLOCK

    def compress(self, data: bytes) -> bytes:
        # One zstd stream per connection, flushed after every message (a block each).
        if self._source == "zstandard":
            out: bytes = self._c.compress(data) + self._c.flush(self._flush_mode)
        else:
            out = self._c.compress(data, mode=self._flush_mode)
        return out


def _zstd_module() -> tuple[Any, str] | None:
    """The zstd implementation discord.py would also pick, if any is installed."""
    for name, source in (("zstandard", "zstandard"), ("compression.zstd", "compression.zstd")):
        try:
            return importlib.import_module(name), source
        except ImportError:
            continue
    return None


def make_compressor(requested: str | None) -> _ZlibStream | _ZstdStream | None:
    if requested == "zlib-stream":
        return _ZlibStream()
    if requested == "zstd-stream":
        found = _zstd_module()
        if found is not None:
            return _ZstdStream(*found)
    return None


@dataclass
class GatewayConnection:
    """One websocket connection (a session may see several)."""

    number: int
    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    request: web.Request
    compression: str | None
    compressor: _ZlibStream | _ZstdStream | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: GatewaySession | None = None
    opened_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    close_code: int | None = None
    received: list[JSON] = field(default_factory=list)
    sent: list[JSON] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.closed_at is None and not self.ws.closed

    async def send(self, payload: JSON) -> None:
        text = _encode(payload)
        async with self.lock:
            if self.ws.closed:
                return
            self.sent.append(payload)
            if self.compressor is not None:
                await self.ws.send_bytes(self.compressor.compress(text.encode("utf-8")))
            else:
                await self.ws.send_str(text)


@dataclass
class GatewaySession:
    id: str
    intents: int
    shard: list[int] | None
    seq: int = 0
    events: deque[tuple[int, JSON]] = field(default_factory=lambda: deque(maxlen=5000))
    conn: GatewayConnection | None = None
    resumes: int = 0


class Gateway:
    """Serves ``/gateway`` (and ``/gateway/resume``, the resume_gateway_url)."""

    def __init__(
        self,
        *,
        world: World,
        token: str,
        notifier: Notifier,
        heartbeat_interval_ms: int,
        resume_url: Callable[[], str],
    ) -> None:
        self.world = world
        self.token = token
        self.notifier = notifier
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self._resume_url = resume_url
        self.connections: list[GatewayConnection] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.current: GatewaySession | None = None
        self.identify_count = 0
        self.resume_count = 0
        self.invalid_session_count = 0
        self.heartbeat_count = 0
        self.available = True
        self.invalidate_next_resume = False
        self.presence_updates: list[JSON] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ state for tests

    @property
    def open_connections(self) -> list[GatewayConnection]:
        return [c for c in self.connections if c.open]

    @property
    def ready(self) -> bool:
        """A session is identified and attached to an open connection."""
        s = self.current
        return s is not None and s.conn is not None and s.conn.open

    # ------------------------------------------------------------------ server side

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.available:
            return web.Response(status=503, text="gateway unavailable (simulated outage)")
        query = dict(request.query)
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(
            number=len(self.connections) + 1,
            path=request.path,
            query=query,
            ws=ws,
            request=request,
            compression=None,
            compressor=make_compressor(query.get("compress")),
        )
        conn.compression = conn.compressor.name if conn.compressor else None
        self.connections.append(conn)
        self.notifier.notify()
        try:
            if query.get("v", "10") != "10":
                await ws.close(code=4012, message=b"Invalid API version")
                return ws
            if query.get("encoding", "json") != "json":
                await ws.close(code=4002, message=b"Decode error (the double speaks json only)")
                return ws
            await conn.send(
                {
                    "op": OP_HELLO,
                    "s": None,
                    "t": None,
                    "d": {
                        "heartbeat_interval": self.heartbeat_interval_ms,
                        "_trace": ['["discord-double-gateway",{"micros":0}]'],
                    },
                }
            )
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_message(conn, msg.data)
                elif msg.type is WSMsgType.BINARY:
                    await self._on_message(conn, msg.data.decode("utf-8"))
                elif msg.type is WSMsgType.ERROR:
                    break
        finally:
            conn.closed_at = time.monotonic()
            conn.close_code = ws.close_code
            sess = conn.session
            if sess is not None and sess.conn is conn:
                sess.conn = None
            self.notifier.notify()
        return ws

    async def _on_message(self, conn: GatewayConnection, raw: str) -> None:
        try:
            payload = json.loads(raw)
            op = payload["op"]
        except (ValueError, KeyError, TypeError):
            await conn.ws.close(code=4002, message=b"Decode error")
            return
        data = payload.get("d")
        logged = dict(payload)
        if op in (OP_IDENTIFY, OP_RESUME) and isinstance(data, dict):
            logged["d"] = {**data, "token": "<redacted>"}
        conn.received.append(logged)
        if op == OP_HEARTBEAT:
            self.heartbeat_count += 1
            await conn.send({"op": OP_HEARTBEAT_ACK, "s": None, "t": None, "d": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, data)
        elif op == OP_RESUME:
            await self._resume(conn, data)
        elif op == OP_REQUEST_GUILD_MEMBERS:
            await self._request_members(conn, data)
        elif op == OP_PRESENCE_UPDATE:
            self.presence_updates.append(data)
        elif op == OP_VOICE_STATE_UPDATE:
            pass
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode")
        self.notifier.notify()

    async def _identify(self, conn: GatewayConnection, data: Any) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated")
            return
        if not isinstance(data, dict) or data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.ws.close(code=4013, message=b"Invalid intent(s)")
            return
        session = GatewaySession(id=secrets.token_hex(16), intents=intents, shard=data.get("shard"))
        self.sessions[session.id] = session
        self.current = session
        session.conn = conn
        conn.session = session
        self.identify_count += 1
        await self._dispatch(session, "READY", self._ready_payload(session))
        for guild in self.world.guilds:
            await self._dispatch(session, "GUILD_CREATE", self._guild_create(guild, intents))

    async def _resume(self, conn: GatewayConnection, data: Any) -> None:
        if not isinstance(data, dict) or data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed")
            return
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or self.invalidate_next_resume:
            self.invalidate_next_resume = False
            self.invalid_session_count += 1
            await conn.send({"op": OP_INVALID_SESSION, "s": None, "t": None, "d": False})
            return
        old = session.conn
        if old is not None and old is not conn and old.open:
            await old.ws.close(code=4000, message=b"Session resumed elsewhere")
        session.conn = conn
        conn.session = session
        self.current = session
        last = data.get("seq") or 0
        for seq, event in list(session.events):
            if seq > last:
                await conn.send(event)
        session.resumes += 1
        self.resume_count += 1
        await self._dispatch(session, "RESUMED", {"_trace": ['["discord-double-resume",{}]']})

    async def _request_members(self, conn: GatewayConnection, data: Any) -> None:
        session = conn.session
        if session is None or not isinstance(data, dict):
            return
        guild = self.world.guild_by_id(int(data.get("guild_id", 0)))
        if guild is None:
            return
        query = str(data.get("query") or "")
        limit = int(data.get("limit") or 0)
        user_ids = {int(u) for u in data.get("user_ids") or []}
        members = [
            m
            for m in guild.members
            if (not user_ids or m.user.id in user_ids) and m.user.username.startswith(query)
        ]
        if limit:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._dispatch(session, "GUILD_MEMBERS_CHUNK", chunk)

    def _ready_payload(self, session: GatewaySession) -> JSON:
        bot = self.world.bot.to_payload()
        bot.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        ready: JSON = {
            "v": 10,
            "user": bot,
            "user_settings": {},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self.world.guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._resume_url(),
            "application": {
                "id": str(self.world.application_id),
                "flags": self.world.application_flags,
            },
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["loopback"],
            "_trace": ['["discord-double-gateway",{"micros":0}]'],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        return ready

    def _guild_create(self, guild: Guild, intents: int) -> JSON:
        # Without the GUILD_MEMBERS intent Discord only sends the bot's own member.
        if intents & INTENT_GUILD_MEMBERS:
            return guild.to_payload()
        bot_member = guild.member(self.world.bot.id)
        return guild.to_payload(members=[bot_member] if bot_member else [])

    # ------------------------------------------------------------------ dispatching

    async def _dispatch(self, session: GatewaySession, event: str, data: JSON) -> int:
        session.seq += 1
        payload: JSON = {"op": OP_DISPATCH, "s": session.seq, "t": event, "d": data}
        session.events.append((session.seq, payload))
        conn = session.conn
        if conn is not None and conn.open:
            try:
                await conn.send(payload)
            except (ConnectionResetError, RuntimeError) as exc:  # closing underneath us
                log.debug("gateway send of %s failed: %r (kept for resume)", event, exc)
        self.notifier.notify()
        return session.seq

    async def dispatch(self, event: str, data: JSON, *, intents: int | None = None) -> int | None:
        """Send a DISPATCH to the current session (kept for replay if it is disconnected).

        ``intents``: only send when the session identified with one of these intent bits.
        Returns the sequence number, or ``None`` when there is no session / intent missing.
        """
        session = self.current
        if session is None:
            return None
        if intents is not None and not session.intents & intents:
            return None
        return await self._dispatch(session, event, data)

    # ------------------------------------------------------------------ fault simulation

    async def disconnect(self, code: int = 4000, reason: str = "simulated outage") -> None:
        """Close every open connection with ``code`` (a resumable code by default)."""
        for conn in self.open_connections:
            await conn.ws.close(code=code, message=reason.encode())
        self.notifier.notify()

    def drop(self) -> None:
        """Cut the TCP connections without a close frame (a network failure)."""
        for conn in self.open_connections:
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
        self.notifier.notify()

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: the client closes and resumes."""
        for conn in self.open_connections:
            await conn.send({"op": OP_RECONNECT, "s": None, "t": None, "d": None})

    async def invalidate_session(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION to the open connections."""
        for conn in self.open_connections:
            self.invalid_session_count += 1
            await conn.send({"op": OP_INVALID_SESSION, "s": None, "t": None, "d": resumable})

    async def close_all(self) -> None:
        for conn in self.open_connections:
            with contextlib.suppress(Exception):
                await conn.ws.close(code=1001, message=b"double stopping")
