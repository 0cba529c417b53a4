"""A feed server on loopback for the import tests (aiohttp's test server).

Each page is served at ``/<name>`` with its content type and, when set, an ``ETag`` and a
``Last-Modified``; a request carrying the matching ``If-None-Match`` / ``If-Modified-Since``
gets ``304 Not Modified`` like a real server. A page can also answer with an error status,
stream its body without a ``Content-Length``, or stall. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Page:
    body: bytes
    content_type: str = "application/xml"
    etag: str | None = None
    last_modified: str | None = None
    status: int = 200
    chunked: bool = False  # stream without Content-Length
    delay_s: float = 0.0


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    status: int
    at: float  # time.monotonic() when the request arrived


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Seen] = []
        app = web.Application()
        app.router.add_get("/{name:.+}", self._handle)
        self.server = TestServer(app, host="127.0.0.1")

    async def __aenter__(self) -> FeedServer:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    def url(self, name: str) -> str:
        return str(self.server.make_url(f"/{name}"))

    def serve(self, name: str, page: Page) -> str:
        self.pages[name] = page
        return self.url(name)

    def seen(self, name: str) -> list[Seen]:
        return [r for r in self.requests if r.path == f"/{name}"]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        page = self.pages.get(name)
        status = 404 if page is None else page.status
        if page is not None and page.status == 200:
            match_etag = page.etag is not None and request.headers.get("If-None-Match") == page.etag
            match_date = (
                page.last_modified is not None
                and request.headers.get("If-Modified-Since") == page.last_modified
            )
            if match_etag or match_date:
                status = 304
        self.requests.append(Seen(request.path, dict(request.headers), status, time.monotonic()))
        if page is None:
            return web.Response(status=404, text="no such feed")
        if page.delay_s:
            await asyncio.sleep(page.delay_s)
        validators = {}
        if page.etag:
            validators["ETag"] = page.etag
        if page.last_modified:
            validators["Last-Modified"] = page.last_modified
        if status == 304:
            return web.Response(status=304, headers=validators)
        if status != 200:
            return web.Response(status=status, text="Internal Server Error")
        if page.chunked:
            response = web.StreamResponse(headers={"Content-Type": page.content_type})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for start in range(0, len(page.body), 4096):
                await response.write(page.body[start : start + 4096])
            await response.write_eof()
            return response
        return web.Response(body=page.body, headers={"Content-Type": page.content_type,
                                                     **validators})  # fmt: skip


def refused_url() -> str:
    """An http URL on loopback where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/feed"
