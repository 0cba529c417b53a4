"""Point discord.py at a Discord other than discord.com: a test double, or an HTTP proxy.

discord.py has two process-wide knobs and no per-client setting for either:

* ``discord.http.Route.BASE`` (a ``str``, default ``https://discord.com/api/v10``): every REST
  request is ``Route.BASE + path``. Set it before ``login()``; :func:`configure_api_base`.
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a ``yarl.URL``, default
  ``wss://gateway.discord.gg/``): a plain (non-sharded) ``Client``/``commands.Bot`` never asks
  ``GET /gateway/bot``; it dials this URL, after replacing its query string with
  ``v=10&encoding=json&compress=zlib-stream`` (``zstd-stream`` when a zstd module is
  installed). After READY it resumes at the ``resume_gateway_url`` Discord sent, and falls back
  to ``DEFAULT_GATEWAY`` when a session is invalidated. :func:`configure_gateway` sets it from
  ``DISCORD_GATEWAY_URL`` or, when only ``DISCORD_API_BASE`` is set, from ``GET /gateway/bot``
  on that base; call it from ``setup_hook`` (after login, before the gateway connects).

Because both are class attributes, the last configuration wins for every client in the process;
:func:`reset_endpoints` restores Discord's own (tests call it when they are done).
"""

from __future__ import annotations

import logging

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

__all__ = [
    "DISCORD_API_BASE_DEFAULT",
    "DISCORD_GATEWAY_DEFAULT",
    "configure_api_base",
    "configure_gateway",
    "reset_endpoints",
]

log = logging.getLogger(__name__)

DISCORD_API_BASE_DEFAULT = "https://discord.com/api/v10"
DISCORD_GATEWAY_DEFAULT = yarl.URL("wss://gateway.discord.gg/")


def _gateway_url(raw: str) -> yarl.URL:
    url = yarl.URL(raw.strip())
    if url.scheme not in ("ws", "wss") or not url.host:
        raise ValueError(f"gateway URL must be ws:// or wss:// with a host, got {raw!r}")
    # discord.py replaces the query (v, encoding, compress) itself; drop any given one.
    return url.with_query(None).with_fragment(None)


def configure_api_base(api_base: str | None) -> None:
    """Send REST requests to ``api_base`` (e.g. ``http://127.0.0.1:8080/api/v10``; include
    the API version, as Discord's own base does). ``None`` or ``""`` leaves the current base.
    Call before ``login()``."""
    if not api_base:
        return
    base = api_base.strip().rstrip("/")
    url = yarl.URL(base)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"API base must be an http(s) URL with a host, got {api_base!r}")
    Route.BASE = base
    log.info("Discord REST API base: %s", base)


async def configure_gateway(
    client: discord.Client, api_base: str | None, gateway_url: str | None
) -> None:
    """Choose the gateway a non-sharded client dials.

    ``gateway_url`` given: use it. Else, ``api_base`` given: ask that API
    (``GET /gateway/bot``, needs a logged-in client, so call from ``setup_hook``) and use the
    URL it returns. Neither: leave discord.py's default (Discord's gateway).
    Raises ``discord.GatewayNotFound`` when ``GET /gateway/bot`` fails.
    """
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = _gateway_url(gateway_url)
    elif api_base:
        _shards, url, _limits = await client.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = _gateway_url(url)
    else:
        return
    log.info("Discord gateway: %s", DiscordWebSocket.DEFAULT_GATEWAY)


def reset_endpoints() -> None:
    """Restore Discord's own REST base and gateway (process-wide)."""
    Route.BASE = DISCORD_API_BASE_DEFAULT
    DiscordWebSocket.DEFAULT_GATEWAY = DISCORD_GATEWAY_DEFAULT
