"""FEEDS end to end: the real bot process imports feeds served over loopback before its
periodic reindex (REINDEX_INTERVAL; its first run is at start) and before ``/reindex``; the
papers become searchable, a conditional fetch that gets 304 imports nothing, and a feed that
is down is reported with its reason without stopping the rest."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.discord_double import DiscordDouble
from tests.e2e.harness import BotProcess, bot_env, copy_seeds
from tests.e2e.payloads import embed_text, is_ephemeral
from tests.feeds.server import FeedServer, Page, fixture

COMMANDS = {"search", "reindex"}
GROKKING = "Grokking as a First-Order Phase Transition in Two-Layer Networks"
NEW_ITEM = b"""    <item>
      <title>Zeolite Membranes Learned by Graph Networks</title>
      <link>https://arxiv.org/abs/2412.01999</link>
      <description>arXiv:2412.01999v1 Announce Type: new
Abstract: Graph networks predict which zeolite membranes separate gases best.</description>
      <guid isPermaLink="false">oai:arXiv.org:2412.01999v1</guid>
      <category>cs.LG</category>
      <arxiv:announce_type>new</arxiv:announce_type>
      <dc:creator>Wei Ng, Per Lind</dc:creator>
    </item>
  </channel>"""


async def wait_until_file(folder: Path, pattern: str, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {pattern} in {folder} within {timeout:g} s")


async def search_text(double: DiscordDouble, query: str) -> str:
    handle = await double.invoke_slash("search", {"query": query}, user=double.member)
    return embed_text(await handle.wait_for_message(timeout=10))


async def test_feeds_are_imported_before_periodic_and_owner_reindexes(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    async with FeedServer() as feeds, DiscordDouble() as double:
        rss = feeds.serve("rss", Page(fixture("arxiv_rss.xml"), etag='"v1"'))
        down = feeds.serve("down", Page(b"", status=500))
        env = bot_env(tmp_path, token=double.token, api_base=double.api_base,
                      digest_dir=digests,
                      extra={"FEEDS": f"{rss},{down}", "REINDEX_INTERVAL": "1",
                             "FEEDS_EXCLUDE": "replace"})  # fmt: skip
        bot = BotProcess(tmp_path, env, tmp_path / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(double, identify=1)
            await double.wait_for_commands(names=COMMANDS, timeout=10)
            # The periodic job's first run (at start) imported the listing, then reindexed.
            await wait_until_file(digests, "feed-127-0-0-1-*-rss-*.txt", timeout=20)
            deadline = time.monotonic() + 20
            while GROKKING not in (text := await search_text(double, "grokking")):
                assert time.monotonic() < deadline, text
                await asyncio.sleep(0.5)
            assert len(feeds.seen("rss")) == 1 and len(feeds.seen("down")) == 1

            # The listing gains an item; /reindex (an owner) imports it, then reindexes.
            feeds.pages["rss"] = Page(
                fixture("arxiv_rss.xml").replace(b"  </channel>", NEW_ITEM), etag='"v2"'
            )
            handle = await double.invoke_slash("reindex", user=double.owner)
            await handle.response(timeout=5)
            done = await handle.wait_for_message(
                timeout=30, predicate=lambda m: "Reindex done" in (m.get("content") or "")
            )
            summary = done["content"]
            assert is_ephemeral(done)
            assert "Feeds (FEEDS): 2 imported first — 1 new entries, 1 failed" in summary, summary
            assert f"{down}: error: feed not imported: HTTP 500 Internal Server Error" in summary
            assert "1 added" in summary, summary
            assert feeds.seen("rss")[1].headers.get("If-None-Match") == '"v1"'
            assert "Zeolite Membranes Learned by Graph Networks" in await search_text(
                double, "zeolite membranes"
            )

            # Nothing changed since: the fetch is answered 304 and nothing is added.
            again = await double.invoke_slash("reindex", user=double.owner)
            await again.response(timeout=5)
            done = await again.wait_for_message(
                timeout=30, predicate=lambda m: "Reindex done" in (m.get("content") or "")
            )
            assert "Feeds (FEEDS): 2 imported first — 0 new entries, 1 failed" in done["content"]
            assert "0 added" in done["content"], done["content"]
            assert feeds.seen("rss")[2].status == 304
            double.assert_no_violations()
        finally:
            code = await bot.stop()
        log = bot.log_text()
        assert code == 0, log[-3000:]
        assert f"feed {down} not imported: HTTP 500 Internal Server Error" in log
        assert "Traceback" not in log, log[-3000:]
    # FEEDS_EXCLUDE=replace: the listing's replace / replace-cross entries are not there.
    files = sorted(digests.glob("feed-*.txt"))
    assert len(files) == 1
    text = files[0].read_text(encoding="utf-8")
    assert "Understanding Scaling Laws in Deep Neural Networks" not in text
    assert text.count("\n\n\n") == 4  # heading + 4 entries: new, new, cross, the added one
