"""Interactions as the Discord client makes them, and the handles tests read answers from.

Payloads are built from the command tree the bot registered (``PUT .../commands``): the
command id, the option types and the subcommand nesting come from what the bot sent, and a
command or option the bot did not register is refused, as the Discord client would not let a
user send it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .models import Channel, Guild, Member, Role, User

JSON = dict[str, Any]

INTERACTION_PING = 1
INTERACTION_APPLICATION_COMMAND = 2
INTERACTION_MESSAGE_COMPONENT = 3
INTERACTION_AUTOCOMPLETE = 4
INTERACTION_MODAL_SUBMIT = 5

CALLBACK_PONG = 1
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9

OPTION_SUB_COMMAND = 1
OPTION_SUB_COMMAND_GROUP = 2
OPTION_STRING = 3
OPTION_INTEGER = 4
OPTION_BOOLEAN = 5
OPTION_USER = 6
OPTION_CHANNEL = 7
OPTION_ROLE = 8
OPTION_MENTIONABLE = 9
OPTION_NUMBER = 10
OPTION_ATTACHMENT = 11

MAX_SAFE_INT = 2**53


class DoubleError(Exception):
    """Base class of errors the double raises to the test (not to the bot)."""


class UnknownCommandError(DoubleError, LookupError):
    """The command (or subcommand) is not in the tree the bot registered for that scope."""


class InvalidOptionError(DoubleError, ValueError):
    """An option the command does not declare, a missing required one, or a bad value."""


class NotInvocableError(DoubleError):
    """The Discord client would not offer this: a hidden command, a disabled or missing
    component, an ephemeral message of someone else."""


class InteractionFailedError(AssertionError):
    """The bot did not acknowledge the interaction in time ("This interaction failed")."""


class _Host(Protocol):
    """What a handle needs from the double."""

    def message(self, message_id: int) -> JSON | None: ...

    async def wait_until_changed(self, predicate: Any, timeout: float, what: str) -> None: ...


class InteractionHandle:
    """One interaction sent to the bot, and everything the bot answered to it.

    ``latency`` is the time (seconds) from sending INTERACTION_CREATE to the first callback.
    ``callback`` is the first accepted callback body ``{"type": ..., "data": ...}``;
    ``original_message_id``/``message`` the message @original refers to (for type 4/5 the
    new message; for 6/7 on a component interaction, the message the component is on).
    """

    def __init__(self, host: _Host, *, payload: JSON, name: str, ack_deadline: float) -> None:
        self._host = host
        self.payload = payload
        self.id = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.name = name
        self.ack_deadline = ack_deadline
        self.created_at = time.perf_counter()
        self.dispatched_at: float | None = None
        self.callback: JSON | None = None
        self.callback_at: float | None = None
        self.rejected_callbacks: list[JSON] = []
        self.original_message_id: int | None = None
        self.followup_ids: list[int] = []
        self.edits: list[JSON] = []
        self.original_deleted = False
        self.failed = False

    def __repr__(self) -> str:
        state = (
            "failed"
            if self.failed
            else f"callback={self.callback_type}"
            if self.callback
            else "pending"
        )
        return f"<InteractionHandle {self.name!r} id={self.id} {state}>"

    # ------------------------------------------------------------------ reading

    @property
    def user_id(self) -> int:
        who = self.payload.get("member", {}).get("user") or self.payload.get("user") or {}
        return int(who.get("id", 0))

    @property
    def channel_id(self) -> int | None:
        cid = self.payload.get("channel_id")
        return int(cid) if cid is not None else None

    @property
    def guild_id(self) -> int | None:
        gid = self.payload.get("guild_id")
        return int(gid) if gid is not None else None

    @property
    def callback_type(self) -> int | None:
        return None if self.callback is None else int(self.callback["type"])

    @property
    def acknowledged(self) -> bool:
        return self.callback is not None

    @property
    def latency(self) -> float | None:
        """Seconds from INTERACTION_CREATE leaving the double to the first callback."""
        if self.callback_at is None:
            return None
        start = self.dispatched_at if self.dispatched_at is not None else self.created_at
        return self.callback_at - start

    @property
    def message(self) -> JSON | None:
        """The current state of the @original message (after edits), if any."""
        if self.original_message_id is None or self.original_deleted:
            return None
        return self._host.message(self.original_message_id)

    @property
    def followups(self) -> list[JSON]:
        """Current state of the follow-up messages, in order (a first follow-up after a
        deferred "thinking" response edits @original, as on Discord, and is listed here too)."""
        out = []
        for mid in self.followup_ids:
            m = self._host.message(mid)
            if m is not None:
                out.append(m)
        return out

    @property
    def ephemeral(self) -> bool:
        m = self.message
        return bool(m and int(m.get("flags", 0)) & (1 << 6))

    # ------------------------------------------------------------------ waiting

    async def response(self, timeout: float = 5.0) -> JSON:
        """The first callback body. Raises :class:`InteractionFailedError` when the bot did not
        answer within the ack deadline (3 s by default), ``TimeoutError`` after ``timeout``."""
        await self._host.wait_until_changed(
            lambda: self.callback is not None or self.failed,
            timeout,
            f"a response to interaction {self.name!r}",
        )
        if self.callback is None:
            raise InteractionFailedError(
                f"This interaction failed: {self.name!r} was not acknowledged within "
                f"{self.ack_deadline:g}s"
            )
        return self.callback

    async def choices(self, timeout: float = 5.0) -> list[JSON]:
        """The autocomplete choices of a type-8 callback."""
        cb = await self.response(timeout)
        if cb.get("type") != CALLBACK_AUTOCOMPLETE_RESULT:
            raise AssertionError(f"expected an autocomplete result (8), got callback {cb!r}")
        data = cb.get("data") or {}
        return list(data.get("choices") or [])

    async def wait_for_message(self, timeout: float = 5.0, predicate: Any = None) -> JSON:
        """Wait until @original exists and is no longer "thinking" (a deferred response was
        completed by an edit or the first follow-up), and ``predicate(message)`` if given."""

        def ready() -> bool:
            m = self.message
            if m is None or int(m.get("flags", 0)) & (1 << 7):
                return False
            return predicate is None or bool(predicate(m))

        await self._host.wait_until_changed(
            ready, timeout, f"the message of interaction {self.name!r}"
        )
        msg = self.message
        assert msg is not None
        return msg

    async def wait_for_followups(self, n: int = 1, timeout: float = 5.0) -> list[JSON]:
        await self._host.wait_until_changed(
            lambda: len(self.followup_ids) >= n,
            timeout,
            f"{n} follow-up(s) of interaction {self.name!r}",
        )
        return self.followups

    async def wait_for_edits(self, n: int = 1, timeout: float = 5.0) -> list[JSON]:
        """The PATCH bodies sent to @original (at least ``n`` of them)."""
        await self._host.wait_until_changed(
            lambda: len(self.edits) >= n, timeout, f"{n} edit(s) of interaction {self.name!r}"
        )
        return list(self.edits)


# ---------------------------------------------------------------------- option building


def find_command_path(command: JSON, path: Sequence[str]) -> tuple[list[JSON], JSON]:
    """Walk subcommand groups / subcommands; returns (chain of option dicts, leaf)."""
    chain: list[JSON] = []
    node = command
    for part in path:
        subs = [
            o
            for o in node.get("options") or []
            if o.get("type") in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
        ]
        match = next((o for o in subs if o.get("name") == part), None)
        if match is None:
            known = ", ".join(o["name"] for o in subs) or "none"
            raise UnknownCommandError(
                f"/{command['name']} has no subcommand {part!r} here (known: {known})"
            )
        chain.append(match)
        node = match
    leftovers = [
        o
        for o in node.get("options") or []
        if o.get("type") in (OPTION_SUB_COMMAND, OPTION_SUB_COMMAND_GROUP)
    ]
    if leftovers:
        names = ", ".join(o["name"] for o in leftovers)
        where = " ".join([command["name"], *path])
        raise UnknownCommandError(f"/{where} needs a subcommand ({names})")
    return chain, node


class Resolver:
    """Turns User/Member/Channel/Role objects (or ids) into option values + resolved data."""

    def __init__(
        self, guild: Guild | None, invoker: Member | None, users: Mapping[int, User]
    ) -> None:
        self.guild = guild
        self.invoker = invoker
        self.users = users
        self.resolved: JSON = {}

    def _add(self, kind: str, key: int, value: JSON) -> None:
        self.resolved.setdefault(kind, {})[str(key)] = value

    def user(self, value: Any) -> str:
        if isinstance(value, Member):
            value = value.user
        if isinstance(value, int) and not isinstance(value, bool):
            found = self.users.get(value)
            if found is None:
                raise InvalidOptionError(f"unknown user id {value}")
            value = found
        if not isinstance(value, User):
            raise InvalidOptionError(f"expected a User/Member or user id, got {value!r}")
        self._add("users", value.id, value.to_payload())
        if self.guild is not None:
            member = self.guild.member(value.id)
            if member is not None:
                self._add(
                    "members",
                    value.id,
                    member.to_payload(
                        include_user=False, permissions=self.guild.base_permissions(member)
                    ),
                )
        return str(value.id)

    def channel(self, value: Any, allowed_types: Sequence[int] | None) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and self.guild is not None:
            found = self.guild.channel(value)
            if found is None:
                raise InvalidOptionError(f"unknown channel id {value}")
            value = found
        if not isinstance(value, Channel):
            raise InvalidOptionError(f"expected a Channel or channel id, got {value!r}")
        if allowed_types and value.type not in allowed_types:
            raise InvalidOptionError(
                f"channel #{value.name} (type {value.type}) not in channel_types {allowed_types}"
            )
        perms = 0
        if self.guild is not None and self.invoker is not None:
            perms = self.guild.permissions_in(self.invoker, value)
        data: JSON = {
            "id": str(value.id),
            "name": value.name,
            "type": value.type,
            "permissions": str(perms),
            "parent_id": None,
            "nsfw": value.nsfw,
            "flags": 0,
        }
        if value.type in (0, 5):
            data["topic"] = value.topic
            data["rate_limit_per_user"] = 0
            data["last_message_id"] = None
        self._add("channels", value.id, data)
        return str(value.id)

    def role(self, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and self.guild is not None:
            found = self.guild.role(value)
            if found is None:
                raise InvalidOptionError(f"unknown role id {value}")
            value = found
        if not isinstance(value, Role):
            raise InvalidOptionError(f"expected a Role or role id, got {value!r}")
        self._add("roles", value.id, value.to_payload())
        return str(value.id)

    def mentionable(self, value: Any) -> str:
        if isinstance(value, Role):
            return self.role(value)
        if isinstance(value, int) and self.guild is not None and self.guild.role(value):
            return self.role(value)
        return self.user(value)


def _coerce(opt: JSON, value: Any, resolver: Resolver, where: str) -> Any:
    otype = opt["type"]
    name = opt["name"]
    if otype == OPTION_STRING:
        if not isinstance(value, str):
            raise InvalidOptionError(f"{where}: option {name!r} is a string, got {value!r}")
        lo, hi = opt.get("min_length"), opt.get("max_length")
        if lo is not None and len(value) < lo:
            raise InvalidOptionError(f"{where}: {name!r} shorter than min_length {lo}")
        if hi is not None and len(value) > hi:
            raise InvalidOptionError(f"{where}: {name!r} longer than max_length {hi}")
        if len(value) > 6000:
            raise InvalidOptionError(f"{where}: {name!r} longer than 6000")
    elif otype == OPTION_INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidOptionError(f"{where}: option {name!r} is an integer, got {value!r}")
        if not -MAX_SAFE_INT < value < MAX_SAFE_INT:
            raise InvalidOptionError(f"{where}: {name!r} out of the 53-bit range")
    elif otype == OPTION_NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidOptionError(f"{where}: option {name!r} is a number, got {value!r}")
    elif otype == OPTION_BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidOptionError(f"{where}: option {name!r} is a boolean, got {value!r}")
    elif otype == OPTION_USER:
        return resolver.user(value)
    elif otype == OPTION_CHANNEL:
        return resolver.channel(value, opt.get("channel_types"))
    elif otype == OPTION_ROLE:
        return resolver.role(value)
    elif otype == OPTION_MENTIONABLE:
        return resolver.mentionable(value)
    elif otype == OPTION_ATTACHMENT:
        raise InvalidOptionError(f"{where}: attachment options are not supported by the double")
    else:
        raise InvalidOptionError(f"{where}: unknown option type {otype}")
    if otype in (OPTION_INTEGER, OPTION_NUMBER):
        lo, hi = opt.get("min_value"), opt.get("max_value")
        if lo is not None and value < lo:
            raise InvalidOptionError(f"{where}: {name!r}={value} below min_value {lo}")
        if hi is not None and value > hi:
            raise InvalidOptionError(f"{where}: {name!r}={value} above max_value {hi}")
    choices = opt.get("choices")
    if choices and value not in [c.get("value") for c in choices]:
        allowed = [c.get("value") for c in choices]
        raise InvalidOptionError(f"{where}: {name!r}={value!r} is not one of the choices {allowed}")
    return value


def build_command_data(
    command: JSON,
    path: Sequence[str],
    options: Mapping[str, Any],
    resolver: Resolver,
    *,
    focused: str | None = None,
) -> JSON:
    """The ``data`` of an APPLICATION_COMMAND (or, with ``focused``, AUTOCOMPLETE)
    interaction for the registered ``command`` (as stored by the double)."""
    chain, leaf = find_command_path(command, path)
    where = "/" + " ".join([command["name"], *path])
    declared = {o["name"]: o for o in leaf.get("options") or []}
    unknown = sorted(set(options) - set(declared))
    if unknown:
        raise InvalidOptionError(
            f"{where} has no option(s) {unknown} (declared: {sorted(declared)})"
        )
    if focused is not None:
        fopt = declared.get(focused)
        if fopt is None:
            raise InvalidOptionError(f"{where} has no option {focused!r} to focus")
        if not fopt.get("autocomplete"):
            raise NotInvocableError(f"{where}: option {focused!r} does not have autocomplete")
    built: list[JSON] = []
    for name, opt in declared.items():  # declaration order, as the client sends them
        if name == focused:
            raw = options.get(name, "")
            # The client sends what has been typed so far, as a string.
            built.append(
                {
                    "type": opt["type"],
                    "name": name,
                    "value": raw if isinstance(raw, str) else str(raw),
                    "focused": True,
                }
            )
            continue
        if name not in options:
            if opt.get("required") and focused is None:
                raise InvalidOptionError(f"{where}: required option {name!r} is missing")
            continue
        value = _coerce(opt, options[name], resolver, where)
        built.append({"type": opt["type"], "name": name, "value": value})
    nested: list[JSON] = built
    for sub in reversed(chain):
        nested = [{"type": sub["type"], "name": sub["name"], "options": nested}]
    data: JSON = {
        "id": command["id"],
        "name": command["name"],
        "type": command.get("type", 1),
        "options": nested,
    }
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    if resolver.resolved:
        data["resolved"] = resolver.resolved
    return data


def find_component(components: Any, custom_id: str) -> JSON | None:
    """Depth-first search of a message's component tree (v1 rows and v2 layouts)."""
    if not isinstance(components, list):
        return None
    for comp in components:
        if not isinstance(comp, dict):
            continue
        if comp.get("custom_id") == custom_id:
            return comp
        found = find_component(comp.get("components"), custom_id)
        if found is not None:
            return found
        acc = comp.get("accessory")
        if isinstance(acc, dict):
            found = find_component([acc], custom_id)
            if found is not None:
                return found
    return None
