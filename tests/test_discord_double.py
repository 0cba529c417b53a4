"""End-to-end tests of the Discord API double, driving a real discord.py ``commands.Bot``.

Each test starts a fresh double on 127.0.0.1 and a small demo bot (defined here, not the
product bot) that reaches it the way the product bot will: ``configure_api_base`` before login
and ``configure_gateway`` in ``setup_hook`` (``GET /gateway/bot``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord_endpoints import (
    DISCORD_API_BASE_DEFAULT,
    DISCORD_GATEWAY_DEFAULT,
    configure_api_base,
    configure_gateway,
    reset_endpoints,
)
from tests.discord_double import (
    DiscordDouble,
    InteractionFailedError,
    InvalidOptionError,
    NotInvocableError,
    StalledSend,
    UnknownCommandError,
)
from tests.discord_double import limits as double_limits

TIMEOUT = 5.0


# ---------------------------------------------------------------------------- the demo bot


class CardView(discord.ui.View):
    """A persistent view: ``timeout=None`` and fixed custom_ids, re-added in setup_hook."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.primary, custom_id="card:next")
    async def next_card(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[CardView]
    ) -> None:
        await interaction.response.edit_message(embed=discord.Embed(title="Card 2"), view=self)

    @discord.ui.select(
        custom_id="card:sort",
        options=[
            discord.SelectOption(label="Newest", value="new"),
            discord.SelectOption(label="Oldest", value="old"),
        ],
    )
    async def sort(
        self, interaction: discord.Interaction[Any], select: discord.ui.Select[CardView]
    ) -> None:
        await interaction.response.send_message(f"sorted by {select.values[0]}", ephemeral=True)


class DemoBot(commands.Bot):
    def __init__(self, double: DiscordDouble, *, guild_sync: bool = False) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=0.05,
        )
        self.double = double
        self.guild_sync = guild_sync
        self.resumed = asyncio.Event()
        self.release_late = asyncio.Event()
        add_demo_commands(self)

    async def setup_hook(self) -> None:
        await configure_gateway(self, self.double.api_base, None)
        self.add_view(CardView())
        if self.guild_sync:
            guild = discord.Object(self.double.guild.id)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every non-initial IDENTIFY (identify rate limit);
        # skip that here so the re-identify test stays fast.
        return None


def add_demo_commands(bot: DemoBot) -> None:
    tree = bot.tree

    @tree.command(description="Search the digests")
    @app_commands.describe(query="What to look for", limit="How many results")
    async def search(
        interaction: discord.Interaction[Any], query: str, limit: app_commands.Range[int, 1, 25] = 5
    ) -> None:
        embed = discord.Embed(title=f"Results for {query}", description=f"top {limit}")
        embed.add_field(name="1. Graph papers", value="by someone @everyone")
        await interaction.response.send_message(embed=embed)

    @search.autocomplete("query")
    async def search_complete(
        interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        n = 30 if current == "many" else 3
        return [
            app_commands.Choice(name=f"{current} {i}", value=f"{current}-{i}") for i in range(n)
        ]

    @tree.command(description="A slow answer: defer, then a follow-up")
    async def slow(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0)  # the slow work would run here (in a thread)
        await interaction.followup.send(embed=discord.Embed(title="Slow result"))
        await interaction.followup.send("and a second follow-up", ephemeral=True)

    @tree.command(description="Show a card with buttons")
    async def card(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(
            embed=discord.Embed(title="Card 1"), view=CardView()
        )

    @tree.command(description="Post an alert to a channel")
    async def post(interaction: discord.Interaction[Any], channel: discord.TextChannel) -> None:
        target = interaction.client.get_channel(channel.id)
        assert isinstance(target, discord.TextChannel)
        await target.send("New paper for @everyone", embed=discord.Embed(title="Alert"))
        await interaction.response.send_message(f"posted to {channel.mention}", ephemeral=True)

    @tree.command(description="Moderators only")
    @app_commands.default_permissions(manage_channels=True)
    async def purge(interaction: discord.Interaction[Any]) -> None:
        perms = interaction.permissions
        if not perms.manage_channels:  # default_permissions is only a hint: check in code
            await interaction.response.send_message("no permission", ephemeral=True)
            return
        await interaction.response.send_message("purged", ephemeral=True)

    topics = app_commands.Group(name="topics", description="Topic subscriptions")

    @topics.command(name="add", description="Subscribe someone to a topic")
    async def topics_add(
        interaction: discord.Interaction[Any],
        who: discord.Member,
        role: discord.Role,
        note: str | None = None,
    ) -> None:
        await interaction.response.send_message(
            f"{type(who).__name__} {who.display_name} {role.name} {note}"
        )

    tree.add_command(topics)

    @tree.command(description="Where am I?")
    async def where(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message(
            f"{type(interaction.channel).__name__} guild={interaction.guild}"
        )

    @tree.command(description="Answers too late")
    async def late(interaction: discord.Interaction[Any]) -> None:
        await bot.release_late.wait()
        with contextlib.suppress(discord.NotFound):  # 10062 Unknown interaction
            await interaction.response.send_message("too late")


@asynccontextmanager
async def running(bot: DemoBot, double: DiscordDouble) -> AsyncIterator[DemoBot]:
    task = asyncio.create_task(bot.start(double.token))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            ready.cancel()
            task.result()  # raises what start() raised
            raise AssertionError("bot.start() returned before READY")
        if ready not in done:
            ready.cancel()
            raise AssertionError("the bot did not become ready")
        yield bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, TIMEOUT)


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    d = DiscordDouble()
    await d.start()
    configure_api_base(d.api_base)
    try:
        yield d
    finally:
        await d.stop()
        reset_endpoints()


@pytest.fixture
async def bot(double: DiscordDouble) -> AsyncIterator[DemoBot]:
    async with running(DemoBot(double), double) as b:
        await double.wait_for_commands(timeout=TIMEOUT)
        yield b


def _sent_channel(bot: DemoBot, channel_id: int) -> discord.TextChannel:
    ch = bot.get_channel(channel_id)
    assert isinstance(ch, discord.TextChannel)
    return ch


# ---------------------------------------------------------------------------- endpoints module


async def test_configure_endpoints_module() -> None:
    try:
        configure_api_base(None)
        assert Route.BASE == DISCORD_API_BASE_DEFAULT
        configure_api_base("http://127.0.0.1:9/api/v10/")
        assert Route.BASE == "http://127.0.0.1:9/api/v10"
        with pytest.raises(ValueError):
            configure_api_base("127.0.0.1:9/api/v10")
        client = discord.Client(intents=discord.Intents.none())
        await configure_gateway(client, None, None)
        assert DiscordWebSocket.DEFAULT_GATEWAY == DISCORD_GATEWAY_DEFAULT
        await configure_gateway(client, "http://ignored", "ws://127.0.0.1:9/gw?v=9")
        expected = yarl.URL("ws://127.0.0.1:9/gw")
        assert expected == DiscordWebSocket.DEFAULT_GATEWAY
        assert isinstance(DiscordWebSocket.DEFAULT_GATEWAY, yarl.URL)
        with pytest.raises(ValueError):
            await configure_gateway(client, None, "http://127.0.0.1:9/gw")
    finally:
        reset_endpoints()
    assert Route.BASE == DISCORD_API_BASE_DEFAULT
    assert DiscordWebSocket.DEFAULT_GATEWAY == DISCORD_GATEWAY_DEFAULT


# ---------------------------------------------------------------------------- login + gateway


async def test_login_gateway_and_startup_routes(double: DiscordDouble, bot: DemoBot) -> None:
    assert bot.user is not None and bot.user.id == double.bot_user.id
    assert bot.application_id == double.application_id
    assert [g.id for g in bot.guilds] == [double.guild.id]
    assert _sent_channel(bot, double.alerts.id).name == "alerts"
    # The routes discord.py 2.7.1 + our setup_hook hit, in order, before the first event.
    assert [r.route for r in double.requests] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
        "GET /gateway/bot",
        "PUT /applications/{application_id}/commands",
    ]
    assert await bot.is_owner(await bot.fetch_user(double.owner.id))
    assert not await bot.is_owner(await bot.fetch_user(double.guild_owner.id))
    conn = double.gateway.connections[0]
    assert conn.path == "/gateway"
    assert conn.query["v"] == "10" and conn.query["encoding"] == "json"
    # zlib-stream here; zstd-stream when zstandard (or Python 3.14's compression.zstd) exists.
    assert conn.query["compress"] in ("zlib-stream", "zstd-stream")
    if conn.query["compress"] == "zlib-stream":
        assert conn.compression == "zlib-stream"
    assert double.gateway.identify_count == 1
    assert double.gateway.heartbeat_count >= 1
    double.assert_no_unknown_routes()
    double.assert_no_violations()


async def test_gateway_disconnect_resume_and_reidentify(
    double: DiscordDouble, bot: DemoBot
) -> None:
    await double.disconnect_gateway(code=4000)
    await double.wait_for_resume(1, timeout=TIMEOUT)
    await asyncio.wait_for(bot.resumed.wait(), TIMEOUT)
    assert double.gateway.connections[-1].path == "/gateway/resume"  # resume_gateway_url
    assert double.gateway.identify_count == 1

    # An event sent while the socket is down is replayed on RESUME.
    double.drop_gateway()
    handle = await double.invoke_slash("search", {"query": "outage"})
    callback = await handle.response(timeout=TIMEOUT)
    assert callback["data"]["embeds"][0]["title"] == "Results for outage"
    await double.wait_for_resume(2, timeout=TIMEOUT)

    # A session the gateway refuses to resume makes the bot IDENTIFY again.
    double.invalidate_next_resume()
    await double.disconnect_gateway(code=4000)
    await double.wait_for_identify(2, timeout=TIMEOUT)
    await double.wait_for_gateway_ready(timeout=TIMEOUT)
    assert double.gateway.invalid_session_count == 1
    handle = await double.invoke_slash("search", {"query": "after"})
    assert (await handle.response(timeout=TIMEOUT))["type"] == 4
    double.assert_no_violations()


async def test_raw_gateway_protocol(double: DiscordDouble) -> None:
    """The gateway without discord.py: zlib-stream frames, auth, READY, heartbeats."""
    url = f"{double.gateway_url}?v=10&encoding=json&compress=zlib-stream"
    inflate = zlib.decompressobj()

    async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        buffer = b""
        while True:
            msg = await ws.receive(timeout=TIMEOUT)
            assert msg.type is aiohttp.WSMsgType.BINARY, msg
            buffer += msg.data
            if buffer.endswith(b"\x00\x00\xff\xff"):
                payload: dict[str, Any] = json.loads(inflate.decompress(buffer))
                return payload

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await receive(ws)
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}})
            closed = await ws.receive(timeout=TIMEOUT)
            assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4004
        inflate = zlib.decompressobj()
        async with session.ws_connect(url) as ws:
            assert (await receive(ws))["op"] == 10
            await ws.send_json(
                {"op": 2, "d": {"token": double.token, "intents": 513, "properties": {}}}
            )
            ready = await receive(ws)
            assert ready["t"] == "READY" and ready["s"] == 1
            assert ready["d"]["resume_gateway_url"] == double.resume_gateway_url
            assert ready["d"]["guilds"] == [{"id": str(double.guild.id), "unavailable": True}]
            guild = await receive(ws)
            assert guild["t"] == "GUILD_CREATE"
            assert guild["d"]["owner_id"] == str(double.guild_owner.id)
            # Without the GUILD_MEMBERS intent only the bot's own member is sent.
            assert [m["user"]["id"] for m in guild["d"]["members"]] == [str(double.bot_user.id)]
            await ws.send_json({"op": 1, "d": 2})
            assert (await receive(ws))["op"] == 11
        async with session.ws_connect(f"{double.gateway_url}?v=9&encoding=json") as ws:
            closed = await ws.receive(timeout=TIMEOUT)
            assert closed.type is aiohttp.WSMsgType.CLOSE and closed.data == 4012


# ---------------------------------------------------------------------------- interactions


async def test_slash_command_from_registered_tree(double: DiscordDouble, bot: DemoBot) -> None:
    registered = {c["name"]: c for c in double.commands()}
    assert {"search", "slow", "card", "post", "purge", "late", "topics"} <= set(registered)
    assert registered["search"]["options"][0]["autocomplete"] is True

    handle = await double.invoke_slash("search", {"query": "graph neural", "limit": 3})
    data = handle.payload["data"]
    assert data["id"] == registered["search"]["id"]
    assert data["options"] == [
        {"type": 3, "name": "query", "value": "graph neural"},
        {"type": 4, "name": "limit", "value": 3},
    ]
    callback = await handle.response(timeout=TIMEOUT)
    assert callback["type"] == 4
    embed = callback["data"]["embeds"][0]
    assert embed["title"] == "Results for graph neural"
    assert embed["description"] == "top 3"
    assert handle.latency is not None and 0 <= handle.latency < 3.0
    assert double.latencies("/search") == [handle.latency]
    message = handle.message
    assert message is not None and message["interaction_metadata"]["name"] == "search"
    double.assert_no_violations()


async def test_client_side_refusals(double: DiscordDouble, bot: DemoBot) -> None:
    with pytest.raises(UnknownCommandError):
        await double.invoke_slash("nope")
    with pytest.raises(InvalidOptionError):
        await double.invoke_slash("search", {"query": "x", "bogus": 1})
    with pytest.raises(InvalidOptionError):
        await double.invoke_slash("search", {})  # required option missing
    with pytest.raises(InvalidOptionError):
        await double.invoke_slash("search", {"query": 42})
    with pytest.raises(InvalidOptionError):
        await double.invoke_slash("search", {"query": "x", "limit": 99})  # max_value 25
    # default_member_permissions hides /purge from a plain member ...
    with pytest.raises(NotInvocableError):
        await double.invoke_slash("purge", user=double.member)
    ok = await double.invoke_slash("purge", user=double.moderator)
    assert (await ok.response(timeout=TIMEOUT))["data"]["content"] == "purged"
    # ... unless a server admin overrides it; then only the check in code protects.
    overridden = await double.invoke_slash(
        "purge", user=double.member, ignore_default_permissions=True
    )
    assert (await overridden.response(timeout=TIMEOUT))["data"]["content"] == "no permission"
    double.assert_no_violations()


async def test_subcommands_resolved_options_and_dm(double: DiscordDouble, bot: DemoBot) -> None:
    mods = double.guild.roles[1]
    handle = await double.invoke_slash(
        "topics add", {"who": double.moderator, "role": mods}, user=double.moderator
    )
    [sub] = handle.payload["data"]["options"]
    assert (sub["type"], sub["name"]) == (1, "add")
    assert [o["type"] for o in sub["options"]] == [6, 8]  # user, role; "note" omitted
    resolved = handle.payload["data"]["resolved"]
    assert set(resolved) == {"users", "members", "roles"}
    answer = await handle.response(timeout=TIMEOUT)
    assert answer["data"]["content"] == "Member Moderator Moderators None"
    with pytest.raises(UnknownCommandError):
        await double.invoke_slash("topics")  # a group needs its subcommand
    with pytest.raises(UnknownCommandError):
        await double.invoke_slash("topics remove")

    dm = await double.invoke_slash("where", dm=True, user=double.owner)
    assert "member" not in dm.payload and dm.payload["context"] == 1
    assert (await dm.response(timeout=TIMEOUT))["data"]["content"] == "DMChannel guild=None"
    double.assert_no_violations()


async def test_deferred_response_and_followups(double: DiscordDouble, bot: DemoBot) -> None:
    handle = await double.invoke_slash("slow")
    assert (await handle.response(timeout=TIMEOUT))["type"] == 5
    message = await handle.wait_for_message(timeout=TIMEOUT)  # "thinking" replaced
    assert message["embeds"][0]["title"] == "Slow result"
    followups = await handle.wait_for_followups(2, timeout=TIMEOUT)
    assert followups[0]["id"] == message["id"]  # first follow-up edits the deferred message
    assert followups[1]["content"] == "and a second follow-up"
    assert followups[1]["flags"] & 64  # ephemeral
    double.assert_no_violations()


async def test_autocomplete(double: DiscordDouble, bot: DemoBot) -> None:
    handle = await double.autocomplete("search", {"query": "gra"}, focused="query")
    assert handle.payload["type"] == 4
    assert handle.payload["data"]["options"][0]["focused"] is True
    choices = await handle.choices(timeout=TIMEOUT)
    assert [c["value"] for c in choices] == ["gra-0", "gra-1", "gra-2"]
    with pytest.raises(NotInvocableError):
        await double.autocomplete("search", {"query": "x"}, focused="limit")

    # 30 choices break the 25 limit: Discord answers 400, the double records it.
    too_many = await double.autocomplete("search", {"query": "many"}, focused="query")
    await double.wait_until(
        lambda: any(v.kind == "limit" for v in double.violations), TIMEOUT, "the limit violation"
    )
    assert too_many.callback is None
    assert any("choices" in v.detail for v in double.violations)


async def test_persistent_view_button_and_select(double: DiscordDouble, bot: DemoBot) -> None:
    handle = await double.invoke_slash("card")
    await handle.response(timeout=TIMEOUT)
    card_message = handle.message
    assert card_message is not None

    click = await double.click(card_message, "card:next", user=double.moderator)
    callback = await click.response(timeout=TIMEOUT)
    assert callback["type"] == 7
    updated = double.message(int(card_message["id"]))
    assert updated is not None and updated["embeds"][0]["title"] == "Card 2"

    pick = await double.select(card_message, "card:sort", ["old"])
    answer = await pick.response(timeout=TIMEOUT)
    assert answer["data"]["content"] == "sorted by old"
    assert answer["data"]["flags"] & 64
    with pytest.raises(NotInvocableError):
        await double.select(card_message, "card:sort", ["sideways"])
    with pytest.raises(NotInvocableError):
        await double.click(card_message, "card:missing")
    double.assert_no_violations()


async def test_persistent_view_survives_restart(double: DiscordDouble) -> None:
    async with running(DemoBot(double), double):
        handle = await double.invoke_slash("card")
        await handle.response(timeout=TIMEOUT)
        message_id = handle.original_message_id
        assert message_id is not None
    async with running(DemoBot(double), double):  # a new process: same app, new session
        assert double.gateway.identify_count == 2
        click = await double.click(message_id, "card:next")
        assert (await click.response(timeout=TIMEOUT))["type"] == 7
    double.assert_no_violations()


async def test_ack_deadline_and_double_ack(double: DiscordDouble, bot: DemoBot) -> None:
    double.ack_deadline = 0.2
    late = await double.invoke_slash("late")
    with pytest.raises(InteractionFailedError):
        await late.response(timeout=TIMEOUT)
    assert late.failed
    bot.release_late.set()
    await double.wait_until(
        lambda: any(v.kind == "late_ack" for v in double.violations), TIMEOUT, "the late callback"
    )
    assert {v.kind for v in double.violations} == {"ack_timeout", "late_ack"}
    double.clear_violations()

    double.ack_deadline = 3.0
    handle = await double.invoke_slash("search", {"query": "twice"})
    await handle.response(timeout=TIMEOUT)
    url = f"{double.api_base}/interactions/{handle.id}/{handle.token}/callback"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp,
    ):
        assert resp.status == 400
        assert resp.headers["Content-Type"] == "application/json"
        assert (await resp.json())["code"] == 40060
    assert [v.kind for v in double.violations] == ["double_ack"]


# ---------------------------------------------------------------------------- channel messages


async def test_channel_message_via_command(double: DiscordDouble, bot: DemoBot) -> None:
    handle = await double.invoke_slash("post", {"channel": double.alerts})
    assert handle.payload["data"]["resolved"]["channels"][str(double.alerts.id)]["name"] == "alerts"
    answer = await handle.response(timeout=TIMEOUT)
    assert answer["data"]["flags"] & 64
    [alert] = await double.wait_for_messages(double.alerts.id, 1, timeout=TIMEOUT)
    assert alert["embeds"][0]["title"] == "Alert"
    assert alert["mention_everyone"] is False  # AllowedMentions.none() on the client
    post = double.requests_matching("POST", r"^/channels/\d+/messages$")[-1]
    assert post.json["allowed_mentions"] == {"parse": []}
    assert double.channel_messages(double.general.id) == []
    double.assert_no_violations()


async def test_multipart_upload(double: DiscordDouble, bot: DemoBot) -> None:
    channel = _sent_channel(bot, double.general.id)
    sent = await channel.send("report", file=discord.File(io.BytesIO(b"a,b\n1,2\n"), "r.csv"))
    assert sent.attachments[0].filename == "r.csv"
    assert await sent.attachments[0].read() == b"a,b\n1,2\n"
    rec = double.requests_matching("POST", r"^/channels/\d+/messages$")[-1]
    assert rec.multipart and rec.json["content"] == "report"
    assert rec.files[0].field == "files[0]"
    double.assert_no_violations()


async def test_rate_limit_is_waited_out(double: DiscordDouble, bot: DemoBot) -> None:
    channel = _sent_channel(bot, double.alerts.id)
    rule = double.rate_limit_next("POST", r"^/channels/\d+/messages$", retry_after=0.2)
    await channel.send("after the 429")
    assert len(rule.hits) == 1
    first, second = double.requests_matching("POST", r"^/channels/\d+/messages$")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.18  # waited retry_after before retrying
    assert [m["content"] for m in double.channel_messages(double.alerts.id)] == ["after the 429"]

    # Without a Via header discord.py assumes a Cloudflare ban and does not retry.
    double.rate_limit_next("POST", r"^/channels/\d+/messages$", via=False)
    with pytest.raises(discord.HTTPException) as info:
        await channel.send("no retry")
    assert info.value.status == 429
    double.assert_no_violations()


async def test_forbidden_and_not_found(double: DiscordDouble, bot: DemoBot) -> None:
    alerts = _sent_channel(bot, double.alerts.id)
    double.fail_channel(double.alerts.id)  # 403 Missing Access, forever
    for _ in range(2):
        with pytest.raises(discord.Forbidden) as forbidden:
            await alerts.send("x")
        assert forbidden.value.code == 50001
    double.restore_channel(double.alerts.id)
    await alerts.send("back")

    double.fail_next(
        "POST",
        rf"^/channels/{double.alerts.id}/messages$",
        404,
        {"message": "Unknown Channel", "code": 10003},
    )
    with pytest.raises(discord.NotFound) as missing:
        await alerts.send("x")
    assert missing.value.code == 10003

    with pytest.raises(discord.Forbidden) as no_send:  # the bot is denied Send Messages
        await _sent_channel(bot, double.locked.id).send("x")
    assert no_send.value.code == 50013

    rule = double.fail_next("POST", r"^/channels/\d+/messages$", 500)
    await alerts.send("retried after a 500")  # discord.py retries 5xx (after 1 s)
    assert len(rule.hits) == 1
    double.assert_no_violations()


async def test_enforce_nonce_returns_the_existing_message(
    double: DiscordDouble, bot: DemoBot
) -> None:
    alerts = _sent_channel(bot, double.alerts.id)
    first = await alerts.send("once", nonce="batch-1")
    again = await alerts.send("once, retried", nonce="batch-1")
    assert again.id == first.id and again.content == "once"  # Discord's copy, not the retry
    posts = double.requests_matching("POST", rf"^/channels/{alerts.id}/messages$")
    # discord.py 2.7.1 sends the nonce as a string and always sets enforce_nonce.
    assert [(p.json["nonce"], p.json["enforce_nonce"], p.status) for p in posts] == [
        ("batch-1", True, 200)
    ] * 2
    assert double.deduplicated == [posts[1]]

    other = await alerts.send("twice", nonce="batch-2")  # another nonce: another message
    assert other.id != first.id
    no_nonce = [await alerts.send("same text") for _ in range(2)]  # random nonces
    assert no_nonce[0].id != no_nonce[1].id
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=alerts.id)
    loose = await bot.http.request(
        route,
        json={
            "content": "not enforced",
            "nonce": "batch-1",
            "enforce_nonce": False,
            "allowed_mentions": {"parse": []},
        },
    )
    assert loose["id"] != str(first.id) and loose["nonce"] == "batch-1"
    elsewhere = await _sent_channel(bot, double.general.id).send("x", nonce="batch-2")
    assert elsewhere.id != other.id  # the check is per channel
    assert [m["content"] for m in double.channel_messages(alerts.id)] == [
        "once",
        "twice",
        "same text",
        "same text",
        "not enforced",
    ]
    assert len(double.deduplicated) == 1
    double.assert_no_violations()


async def test_nonce_window_and_deleted_message(double: DiscordDouble, bot: DemoBot) -> None:
    alerts = _sent_channel(bot, double.alerts.id)
    assert double.nonce_window == 300.0  # "a few minutes"
    first = await alerts.send("a", nonce="n")
    assert (await alerts.send("a", nonce="n")).id == first.id
    double.nonce_window = 0.0  # every earlier message is now outside the window
    later = await alerts.send("a", nonce="n")
    assert later.id != first.id
    double.nonce_window = 300.0
    await later.delete()
    with pytest.raises(discord.NotFound) as info:  # as discord.py documents for send()
        await alerts.send("a", nonce="n")
    assert info.value.code == 10008
    assert len(double.channel_messages(alerts.id)) == 1
    double.assert_no_violations()


async def test_stall_channel_holds_sends_until_released(
    double: DiscordDouble, bot: DemoBot
) -> None:
    alerts = _sent_channel(bot, double.alerts.id)
    # Held before the create: nothing exists until the release.
    double.stall_channel(alerts.id)
    send = asyncio.create_task(alerts.send("held", nonce="held-1"))
    [stall] = await double.wait_for_stalled(alerts.id, 1, timeout=TIMEOUT)
    assert stall.held and not stall.after_create and stall.message is None
    assert stall.request.json["nonce"] == "held-1" and stall.request.status == 0
    assert double.channel_messages(alerts.id) == [] and not send.done()
    await _sent_channel(bot, double.general.id).send("other channels are not held")
    assert double.release_channel(alerts.id) == [stall]
    sent = await asyncio.wait_for(send, TIMEOUT)
    assert stall.state == "released" and stall.request.status == 200
    assert [m["id"] for m in double.channel_messages(alerts.id)] == [str(sent.id)]
    await asyncio.wait_for(alerts.send("not stalled any more"), TIMEOUT)

    # Held after the create: the message is there, the answer is not (the crash window).
    double.stall_channel(alerts.id, after_create=True)
    send = asyncio.create_task(alerts.send("created", nonce="window-1"))
    [stall] = await double.wait_for_stalled(alerts.id, timeout=TIMEOUT)
    assert stall.after_create and stall.message is not None
    assert stall.message["nonce"] == "window-1"
    assert double.channel_messages(alerts.id)[-1] is stall.message and not send.done()
    double.release_channel(alerts.id)
    sent = await asyncio.wait_for(send, TIMEOUT)
    assert str(sent.id) == stall.message["id"] and stall.state == "released"
    assert double.stalled() == [] and len(double.stalls) == 2
    double.assert_no_violations()


async def _post_message(
    session: aiohttp.ClientSession, double: DiscordDouble, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    url = f"{double.api_base}/channels/{double.alerts.id}/messages"
    headers = {"Authorization": f"Bot {double.token}"}
    async with session.post(url, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_stalled_send_dropped_when_the_client_goes(double: DiscordDouble) -> None:
    channel_id = double.alerts.id
    body = {
        "content": "lost?",
        "nonce": "gone-1",
        "enforce_nonce": True,
        "allowed_mentions": {"parse": []},
    }

    async def abandon() -> StalledSend:
        async with aiohttp.ClientSession() as session:
            post = asyncio.create_task(_post_message(session, double, body))
            [stall] = await double.wait_for_stalled(channel_id, timeout=TIMEOUT)
            post.cancel()  # the client dies while its request is held
            with contextlib.suppress(asyncio.CancelledError):
                await post
        await double.wait_until(lambda: stall.state == "dropped", TIMEOUT, "the drop")
        return stall

    # Held before the create: nothing is created, not even after the release.
    double.stall_channel(channel_id)
    await abandon()
    assert double.release_channel(channel_id) == []
    assert double.channel_messages(channel_id) == []

    # Held after the create: the message stays, and a retry with the same nonce gets it.
    double.stall_channel(channel_id, after_create=True)
    stall = await abandon()
    assert stall.message is not None
    double.release_channel(channel_id)
    async with aiohttp.ClientSession() as session:
        status, message = await _post_message(session, double, body)
    assert status == 200 and message["id"] == stall.message["id"]
    assert double.channel_messages(channel_id) == [stall.message]
    assert [r.json["nonce"] for r in double.deduplicated] == ["gone-1"]


async def test_stop_drops_held_sends() -> None:
    double = DiscordDouble()
    await double.start()
    double.stall_channel(double.alerts.id)
    async with aiohttp.ClientSession() as session:
        post = asyncio.create_task(_post_message(session, double, {"content": "x"}))
        [stall] = await double.wait_for_stalled(double.alerts.id, timeout=TIMEOUT)
        await asyncio.wait_for(double.stop(), TIMEOUT)
        assert stall.state == "dropped"
        with pytest.raises(aiohttp.ClientError):  # disconnected, never answered
            await asyncio.wait_for(post, TIMEOUT)
    assert double.channel_messages(double.alerts.id) == []


async def test_limit_and_schema_violations_are_recorded(
    double: DiscordDouble, bot: DemoBot
) -> None:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=double.general.id)
    with pytest.raises(discord.HTTPException) as info:
        await bot.http.request(
            route, json={"embeds": [{"title": "x" * 300}], "allowed_mentions": {"parse": []}}
        )
    assert info.value.status == 400 and info.value.code == 50035
    # The size check rejects it (like Discord); the published schema agrees.
    assert sorted(v.kind for v in double.violations) == ["limit", "schema"]
    assert any("embeds.0.title" in v.detail for v in double.violations if v.kind == "limit")
    with pytest.raises(AssertionError):
        double.assert_no_violations()
    double.clear_violations()

    # Accepted by Discord, but against the rules of this bot / the published schema.
    await bot.http.request(route, json={"content": "no allowed_mentions"})
    long_url = "https://example.org/" + "a" * 2100  # the spec caps embed urls at 2048
    await bot.http.request(
        route,
        json={
            "content": "long url",
            "embeds": [{"title": "t", "url": long_url}],
            "allowed_mentions": {"parse": []},
        },
    )
    kinds = sorted(v.kind for v in double.violations)
    assert kinds == ["allowed_mentions", "schema"]
    assert double.channel_messages(double.general.id)[0]["content"] == "no allowed_mentions"
    double.clear_violations()

    # Unknown routes answer 404 JSON and are recorded.
    with pytest.raises(discord.NotFound):
        await bot.http.request(Route("GET", "/nowhere/{x}", x=1))
    assert [r.path for r in double.unknown_routes] == ["/nowhere/1"]
    with pytest.raises(AssertionError):
        double.assert_no_unknown_routes()


async def test_guild_scoped_commands(double: DiscordDouble) -> None:
    async with running(DemoBot(double, guild_sync=True), double):
        commands_ = await double.wait_for_commands(
            double.guild.id, names=["search"], timeout=TIMEOUT
        )
        assert all(c["guild_id"] == str(double.guild.id) for c in commands_)
        assert double.commands() == []
        handle = await double.invoke_slash("search", {"query": "guild"})
        assert handle.payload["data"]["guild_id"] == str(double.guild.id)
        assert (await handle.response(timeout=TIMEOUT))["type"] == 4
        with pytest.raises(UnknownCommandError):
            await double.invoke_slash("search", {"query": "dm"}, dm=True)
    double.assert_no_violations()


# ---------------------------------------------------------------------------- pure checks


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "t"}] * 11}, "embeds"),
        ({"embeds": [{"description": "d" * 4097}]}, "embeds.0.description"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}, "embeds.0.fields"),
        ({"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}, "embeds.0.fields.0.name"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "embeds.0.fields.0.value"),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text"),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, "embeds.0.author.name"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "custom_id": f"b{i}", "label": "b"}
                            for i in range(6)
                        ],
                    }
                ]
            },
            "components.0.components",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 1, "custom_id": "c" * 101, "label": "b"}
                        ],
                    }
                ]
            },
            "components.0.components.0.custom_id",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 3,
                                "custom_id": "s",
                                "options": [{"label": str(i), "value": str(i)} for i in range(26)],
                            }
                        ],
                    }
                ]
            },
            "components.0.components.0.options",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [{"type": 2, "style": 1, "custom_id": "b", "label": "b"}],
                    }
                ]
                * 6
            },
            "components",
        ),
        ({}, "<body>"),
        # Link buttons: style 5, a url of at most 512 characters, and no custom_id.
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 2,
                                "style": 5,
                                "label": "PDF",
                                "url": "https://x.org/a",
                                "custom_id": "c",
                            }
                        ],
                    }
                ]
            },
            "components.0.components.0.custom_id",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 2,
                                "style": 5,
                                "label": "PDF",
                                "url": "https://x.org/" + "a" * 499,
                            }
                        ],
                    }
                ]
            },
            "components.0.components.0.url",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {"type": 2, "style": 5, "label": "PDF", "url": "javascript:alert(1)"}
                        ],
                    }
                ]
            },
            "components.0.components.0.url",
        ),
        (
            {
                "components": [
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 2,
                                "style": 1,
                                "label": "PDF",
                                "url": "https://x.org",
                                "custom_id": "c",
                            }
                        ],
                    }
                ]
            },
            "components.0.components.0.url",
        ),
        ({"embeds": [{"title": "t", "url": "not a url"}]}, "embeds.0.url"),
    ],
)
def test_message_limits(body: dict[str, Any], where: str) -> None:
    problems = double_limits.check_message(body)
    assert where in [p.where() for p in problems], problems


def test_a_valid_link_button_and_embed_url_pass() -> None:
    body = {
        "embeds": [{"title": "t", "url": "https://arxiv.org/abs/2412.01234"}],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 5, "label": "PDF", "url": "https://x.org/" + "a" * 498},
                    {"type": 2, "style": 2, "label": "Cite", "custom_id": "ds:c:x"},
                ],
            }
        ],
    }
    assert double_limits.check_message(body) == []


def test_command_limits() -> None:
    bad = [
        {"name": "Search", "description": "x", "type": 1},
        {"name": "ok", "description": "", "type": 1},
        {
            "name": "opts",
            "description": "d",
            "type": 1,
            "options": [
                {"type": 3, "name": "a", "description": "a"},
                {"type": 3, "name": "b", "description": "b", "required": True},
            ],
        },
    ]
    wheres = [p.where() for p in double_limits.check_command_list(bad)]
    assert wheres == ["0.name", "1.description", "2.options.1.required"]
    assert double_limits.check_autocomplete({"choices": [{"name": "", "value": "v"}]})


def test_a_follow_up_with_a_new_file_is_valid_and_a_bad_one_is_not() -> None:
    """discord.py numbers a new upload's attachment id (``"id": 0``) where the spec says
    snowflake string; behind a webhook body's anyOf that must still count as valid (a deferred
    /stats or /trend answer carries its chart this way), while a real fault is reported."""
    from tests.discord_double.schema import validate_route

    route = "POST /webhooks/{webhook_id}/{webhook_token}"
    body = {
        "embeds": [{"title": "Catalogue", "image": {"url": "attachment://digests.png"}}],
        "allowed_mentions": {"parse": []},
        "attachments": [{"id": 0, "filename": "digests.png", "description": "chart"}],
    }
    assert validate_route(route, body) == []
    assert validate_route(route, {**body, "attachments": [{"id": 0, "filename": 5}]})
    assert validate_route(route, {**body, "embeds": [{"title": 5}]})
