"""Plain records the double keeps: requests, violations, fault rules, and a change notifier."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

JSON = dict[str, Any]


class Notifier:
    """Wake every waiter whenever the double's state changes; waiters re-check a predicate.

    This is how tests wait for things (a callback, n messages, a resume) without sleeping.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Return once ``predicate()`` is true; ``TimeoutError`` naming ``what`` after
        ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._event.wait()
        except TimeoutError:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}") from None


@dataclass
class UploadedFile:
    """A file part of a multipart request (``files[n]``)."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the double received (after the ``/api/v10`` prefix)."""

    seq: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    files: list[UploadedFile]
    multipart: bool
    at: float = field(default_factory=time.monotonic)
    status: int = 0
    route: str | None = None  # matched route template, e.g. "POST /channels/{channel_id}/messages"
    fault: bool = False  # answered by fault injection

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass(frozen=True)
class Violation:
    """A rule the bot broke. ``kind`` is one of: ``limit`` (a Discord size limit; the request
    was also rejected with 400 like Discord does), ``schema`` (OpenAPI request schema),
    ``allowed_mentions``, ``empty_message``, ``ack_timeout`` ("This interaction failed"),
    ``late_ack``, ``double_ack``, ``invalid_callback`` (a callback type the interaction does
    not allow), ``unknown_interaction``, ``expired_token``, ``unknown_route``."""

    kind: str
    route: str
    detail: str
    at: float = field(default_factory=time.monotonic, compare=False)

    def __str__(self) -> str:
        return f"[{self.kind}] {self.route}: {self.detail}"


@dataclass
class FaultRule:
    """Answer matching requests with ``status``/``body``/``headers`` instead of handling them.

    ``times`` is how many requests it still answers (``None``: forever). ``hits`` lists the
    requests it answered.
    """

    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int | None
    hits: list[RecordedRequest] = field(default_factory=list)

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method not in ("*", method.upper()):
            return False
        return self.pattern.search(path) is not None

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.times <= 0


StallState = Literal["held", "released", "dropped"]


@dataclass
class StalledSend:
    """A ``POST /channels/{id}/messages`` the double held back (see ``stall_channel``).

    ``after_create``: the message was already created (``message``) and only the answer is
    held -- the bot cannot know it was sent. Otherwise nothing was created yet. ``state`` is
    ``"held"`` while the request waits, ``"released"`` after ``release_channel`` (the request
    then went on normally), ``"dropped"`` when the client went away (or the double stopped)
    first: a send held before its create then creates nothing.
    """

    channel_id: int
    request: RecordedRequest
    after_create: bool
    message: JSON | None = None
    state: StallState = "held"
    wake: asyncio.Event = field(
        default_factory=asyncio.Event, init=False, repr=False, compare=False
    )

    @property
    def held(self) -> bool:
        return self.state == "held"
