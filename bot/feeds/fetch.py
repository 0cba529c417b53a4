"""A feed's bytes: over HTTP(S) with aiohttp, or from a file.

Every HTTP fetch has a timeout (the whole request), a size cap (checked on the announced
``Content-Length`` and again while reading, after decompression), a ``User-Agent`` naming
the bot, and sends the ``ETag`` / ``Last-Modified`` validators of the previous fetch as
``If-None-Match`` / ``If-Modified-Since``: a ``304 Not Modified`` answer comes back as
:class:`Fetched` with ``body=None``. Whatever goes wrong is a :class:`FeedError` whose message
is the reason, in words ("cannot connect: Connection refused", "HTTP 500 Internal Server
Error", "larger than the 32 MiB size cap").
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bot.feeds.limits import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S

CONNECT_TIMEOUT_S = 10.0
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


class FeedError(Exception):
    """A source could not be fetched or read; the message says why."""


@dataclass(frozen=True, slots=True)
class Validators:
    """What the server said identifies this version of the feed."""

    etag: str | None = None
    last_modified: str | None = None

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


NO_VALIDATORS = Validators()  # a first fetch: nothing to send back


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetched source; ``body`` is None when the server answered 304 Not Modified."""

    body: bytes | None
    content_type: str = ""
    location: str = ""  # the final URL (after redirects) or the file's path
    validators: Validators = Validators()


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def source_problem(source: str) -> str | None:
    """Why ``source`` is not something the importer can read (None: it is fine)."""
    source = source.strip()
    if not source:
        return "empty source"
    scheme = _SCHEME.match(source)
    if scheme and not is_url(source):
        return f"unsupported source {source!r}: give an http(s) URL or a file path"
    if is_url(source) and not urlsplit(source).hostname:
        return f"not a valid URL: {source!r}"
    return None


def user_agent() -> str:
    try:
        version = metadata.version("digest-bot")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"digest-bot/{version} (research digest feed import)"


def new_session(timeout_s: float = DEFAULT_TIMEOUT_S) -> aiohttp.ClientSession:
    """A client session with the importer's timeout, User-Agent and Accept header."""
    timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
    return aiohttp.ClientSession(
        timeout=timeout, headers={"User-Agent": user_agent(), "Accept": ACCEPT}
    )


def _size(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MiB"
    return f"{limit:,} bytes"


async def fetch_url(
    session: aiohttp.ClientSession,
    url: str,
    validators: Validators = NO_VALIDATORS,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Fetched:
    """GET ``url`` (conditional when ``validators`` are given); :class:`FeedError` on failure."""
    try:
        async with session.get(
            url, headers=validators.headers(), max_redirects=MAX_REDIRECTS
        ) as response:
            if response.status == 304:
                return Fetched(None, location=str(response.url), validators=validators)
            if response.status >= 400 or response.status < 200 or response.status == 204:
                raise FeedError(f"HTTP {response.status} {response.reason or ''}".strip())
            announced = response.content_length
            if announced is not None and announced > max_bytes:
                raise FeedError(
                    f"larger than the {_size(max_bytes)} size cap ({announced:,} bytes announced)"
                )
            body = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise FeedError(f"larger than the {_size(max_bytes)} size cap")
            return Fetched(
                bytes(body),
                content_type=response.headers.get("Content-Type", ""),
                location=str(response.url),
                validators=Validators(
                    response.headers.get("ETag"), response.headers.get("Last-Modified")
                ),
            )
    except FeedError:
        raise
    except TimeoutError:
        raise FeedError(f"no complete answer within {timeout_s:g} s") from None
    except aiohttp.TooManyRedirects:
        raise FeedError(f"more than {MAX_REDIRECTS} redirects") from None
    except aiohttp.InvalidURL:
        raise FeedError("not a valid URL") from None
    except aiohttp.ClientConnectorError as exc:
        error = exc.os_error
        reason = os.strerror(error.errno) if error and error.errno else (str(error) or str(exc))
        raise FeedError(f"cannot connect: {reason}") from None
    except aiohttp.ClientPayloadError as exc:
        raise FeedError(f"the answer was cut short ({exc})") from None
    except aiohttp.ClientError as exc:
        raise FeedError(f"HTTP request failed: {exc or type(exc).__name__}") from None


def read_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Fetched:
    """A feed saved as a file (blocking: call it in a thread)."""
    file = Path(path).expanduser()
    try:
        size = file.stat().st_size
        if file.is_dir():
            raise FeedError("is a folder, not a feed file")
        if size > max_bytes:
            raise FeedError(f"larger than the {_size(max_bytes)} size cap ({size:,} bytes)")
        with file.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise FeedError("no such file") from None
    except PermissionError:
        raise FeedError("permission denied") from None
    except OSError as exc:
        raise FeedError(f"cannot read it ({exc.strerror or exc})") from None
    if len(body) > max_bytes:
        raise FeedError(f"larger than the {_size(max_bytes)} size cap")
    return Fetched(body, location=str(file))


async def fetch(
    source: str,
    session: aiohttp.ClientSession,
    validators: Validators = NO_VALIDATORS,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Fetched:
    """A source's bytes, from the web (http/https) or from a file path."""
    if is_url(source):
        return await fetch_url(
            session, source, validators, max_bytes=max_bytes, timeout_s=timeout_s
        )
    return await asyncio.to_thread(read_file, source, max_bytes=max_bytes)
