"""Topic alerts end to end: the real bot process, real discord.py, the Discord API double.

Subscribe (Manage Channels checked in code), drop new digests, reindex by ``/reindex`` and
by the CLI while the bot runs, and see exactly the matching papers arrive once per channel;
403 pauses a channel's subscriptions (shown by /subscriptions) while others still get theirs;
a 429 is waited out; a crash between Discord creating a message and the bot recording it
sends nothing twice after the restart; a 5xx is retried after a backoff.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.parser import parse_digest
from tests.discord_double import DiscordDouble
from tests.e2e.harness import BotProcess, bot_env, copy_seeds, run_cli_async
from tests.e2e.payloads import answer, button, embed_text, is_ephemeral, select

JSON = dict[str, Any]
NBSP = "\u00a0"
TOPIC = "zeolite"
AUTHOR_TOPIC = "author:okonkwo"
ALERTS_COMMANDS = {"subscribe", "unsubscribe", "subscriptions", "reindex"}


def digest(heading: str, entries: Sequence[tuple[str, str, str]]) -> str:
    """A digest in the real format: (title, authors line, abstract) entries."""
    lines = ["Goto", "", "Collaborating Authors", "", f"{NBSP}{heading}"]
    for title, authors, abstract in entries:
        lines += ["", "", title, "", authors, "", "arXiv.org Machine Learning", "", abstract]
    return "\n".join(lines) + "\n"


def paper_ids(text: str, name: str) -> dict[str, str]:
    """title -> paper id, as the catalogue will assign them."""
    return {p.title: p.id for p in parse_digest(text.encode(), name).papers}


def alert_ids(messages: Sequence[JSON]) -> list[str]:
    """The paper ids of every alert card in ``messages`` (from the cards' footers)."""
    out: list[str] = []
    for message in messages:
        for card in message.get("embeds") or []:
            found = re.match(r"id (\S+)", (card.get("footer") or {}).get("text") or "")
            assert found, card
            out.append(found.group(1))
    return out


async def start_bot(
    double: DiscordDouble,
    workdir: Path,
    digests: Path,
    identify: int,
    bot: BotProcess | None = None,
) -> BotProcess:
    if bot is None:
        env = bot_env(
            workdir,
            token=double.token,
            api_base=double.api_base,
            digest_dir=digests,
            extra={"WATCH_INTERVAL": "1"},
        )
        bot = BotProcess(workdir, env, workdir / "bot.log")
    bot.start()
    await bot.wait_ready(double, identify=identify)
    return bot


async def subscribe(double: DiscordDouble, query: str, channel: Any, user: Any) -> JSON:
    return await answer(
        await double.invoke_slash(
            "subscribe",
            {"query": query, "channel": channel},
            user=user,
            ignore_default_permissions=True,
        )
    )


async def test_subscribe_reindex_deliver_pause_and_rate_limit(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    double = DiscordDouble()
    async with double:
        bot = await start_bot(double, tmp_path, digests, identify=1)
        try:
            await double.wait_for_commands(names=ALERTS_COMMANDS, timeout=10)
            mod, member, owner = double.moderator, double.member, double.owner
            alerts, general, locked = double.alerts, double.general, double.locked

            # A member without Manage Channels is refused, privately, even when a server
            # admin made the command visible to everyone.
            refused = await double.invoke_slash(
                "subscribe",
                {"query": TOPIC, "channel": alerts},
                user=member,
                ignore_default_permissions=True,
            )
            body = await answer(refused)
            assert is_ephemeral(body) and "Manage Channels" in body["content"], body
            # The bot checks it can post there before accepting a subscription.
            no_post = await double.invoke_slash(
                "subscribe",
                {"query": TOPIC, "channel": locked},
                user=mod,
                ignore_default_permissions=True,
            )
            body = await answer(no_post)
            assert is_ephemeral(body) and "Send Messages" in body["content"], body
            # A bad query gets the parser's explanation.
            bad = await double.invoke_slash(
                "subscribe",
                {"query": '"unbalanced', "channel": alerts},
                user=mod,
                ignore_default_permissions=True,
            )
            body = await answer(bad)
            assert is_ephemeral(body) and "quote" in body["content"].lower(), body

            confirmation = await subscribe(double, TOPIC, alerts, mod)
            text = embed_text(confirmation)
            assert "starts from now" in text.lower() and "0 matching papers" in text, text
            await subscribe(double, AUTHOR_TOPIC, alerts, mod)
            await subscribe(double, TOPIC, general, mod)

            # A non-owner's /reindex is refused privately.
            nope = await double.invoke_slash("reindex", user=mod)
            body = await answer(nope)
            assert is_ephemeral(body) and "owners" in body["content"], body

            # -- a new digest, reindexed by the owner with /reindex -----------------------
            first = digest(
                "Zeolites",
                [
                    (
                        "Zeolite frameworks for sparse attention",
                        "Okonkwo, Ada, Lind, Per",
                        "We study zeolite inspired sparsity.",
                    ),
                    (
                        "Graph networks predict zeolite adsorption",
                        "Lind, Per",
                        "Adsorption in zeolite pores.",
                    ),
                    ("An unrelated paper on kernels", "Okonkwo, Ada", "Kernels and nothing else."),
                    ("Another unrelated paper on diffusion", "Mbeki, Thabo", "Diffusion models."),
                ],
            )
            (digests / "100_zeolites.txt").write_text(first, encoding="utf-8")
            ids = paper_ids(first, "100_zeolites.txt")
            double.fail_channel(general.id, 403, 50001, "Missing Access")

            reindex = await double.invoke_slash("reindex", user=owner)
            await reindex.response(timeout=5)
            done = await reindex.wait_for_message(
                timeout=20, predicate=lambda m: "Reindex done" in (m.get("content") or "")
            )
            summary = done["content"]
            assert "4 added" in summary and "Alerts queued: 5" in summary, summary
            assert is_ephemeral(done)

            messages = await double.wait_for_messages(alerts.id, 1, timeout=10)
            expected = sorted(ids[t] for t in ids if "unrelated" not in t or "kernels" in t)
            assert sorted(alert_ids(messages)) == expected
            # The paper matching both topics is named once, with both topics.
            assert messages[0]["content"] == (f"3 new papers for `{TOPIC}` and `{AUTHOR_TOPIC}`"), (
                messages[0]["content"]
            )
            sent = double.requests_matching("POST", rf"/channels/{alerts.id}/messages")
            assert all(r.json["allowed_mentions"] == {"parse": []} for r in sent)

            # #general answered 403: its subscription is paused, not retried.
            async def general_paused() -> str:
                listing = await double.invoke_slash("subscriptions", {"channel": general}, user=mod)
                return embed_text(await answer(listing))

            async with asyncio.timeout(10):
                while "paused" not in (listing := await general_paused()):
                    await asyncio.sleep(0.1)
            assert "Missing Access" in listing, listing
            posts_to_general = len(
                double.requests_matching("POST", rf"/channels/{general.id}/messages")
            )
            assert posts_to_general == 1
            assert double.channel_messages(general.id) == []

            # -- another digest, reindexed by the CLI while the bot runs; a 429 on the way --
            second = digest(
                "More zeolites",
                [
                    ("Zeolite catalysis at scale", "Ng, Wei", "Zeolite catalysts."),
                    ("Okonkwo on transformers", "Okonkwo, Ada", "Attention is studied."),
                    ("Plain spectral methods", "Ng, Wei", "Spectra."),
                ],
            )
            (digests / "101_more.txt").write_text(second, encoding="utf-8")
            ids2 = paper_ids(second, "101_more.txt")
            limited = double.rate_limit_next(
                "POST", rf"/channels/{alerts.id}/messages", retry_after=0.3
            )
            # ... and then a 503, which the bot retries after a backoff (2 s).
            unavailable = double.fail_next("POST", rf"/channels/{alerts.id}/messages", 503)
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=30)
            assert cli.returncode == 0, cli.stderr
            assert "Alerts queued: 2" in cli.stdout, cli.stdout
            messages = await double.wait_for_messages(alerts.id, 2, timeout=15)
            assert len(limited.hits) == 1  # the 429 was answered ... and waited out
            assert len(unavailable.hits) == 1
            posts = double.requests_matching("POST", rf"/channels/{alerts.id}/messages")
            assert posts[-1].at - unavailable.hits[0].at >= 1.9  # backed off before retrying
            assert posts[-1].json["nonce"] == unavailable.hits[0].json["nonce"]
            assert sorted(alert_ids(messages[1:])) == sorted(
                ids2[t] for t in ids2 if "Plain" not in t
            )
            # Exactly once, everything: no duplicates anywhere.
            everything = alert_ids(double.channel_messages(alerts.id))
            assert len(everything) == len(set(everything)) == 5
            await asyncio.sleep(1.5)  # a watch interval later, nothing more arrives
            assert len(double.channel_messages(alerts.id)) == 2
            assert (
                len(double.requests_matching("POST", rf"/channels/{general.id}/messages"))
                == posts_to_general
            )

            # /subscriptions shows counts; /unsubscribe by autocomplete removes one.
            listed = await double.invoke_slash("subscriptions", {"channel": alerts}, user=mod)
            text = embed_text(await answer(listed))
            assert text.count("3 papers alerted") == 2 and "active" in text, text
            typed = await double.autocomplete(
                "unsubscribe", {"subscription": "okon"}, focused="subscription", user=mod
            )
            choices = await typed.choices(timeout=5)
            assert len(choices) == 1 and AUTHOR_TOPIC in choices[0]["name"], choices
            gone = await double.invoke_slash(
                "unsubscribe",
                {"subscription": choices[0]["value"]},
                user=mod,
                ignore_default_permissions=True,
            )
            body = await answer(gone)
            assert "Unsubscribed" in body["content"], body

            # "Subscribe this channel" under /search results: Manage Channels checked too.
            search = await double.invoke_slash(
                "search", {"query": "spectral"}, user=mod, channel=alerts
            )
            results = await answer(search)
            custom_id = button(results, "Subscribe this channel")["custom_id"]
            assert custom_id == "ds:sub:=spectral"
            denied = await answer(await double.click(results, custom_id, user=member))
            assert is_ephemeral(denied) and "Manage Channels" in denied["content"], denied
            clicked = await answer(await double.click(results, custom_id, user=mod))
            assert "Subscribed: spectral" in embed_text(clicked), clicked
            listed = await double.invoke_slash("subscriptions", {"channel": alerts}, user=mod)
            assert "spectral" in embed_text(await answer(listed))
            double.assert_no_violations()
        finally:
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]
        assert "Traceback" not in bot.log_text(), bot.log_text()[-4000:]


async def test_crash_between_send_and_record_sends_once_after_restart(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    double = DiscordDouble()
    async with double:
        bot = await start_bot(double, tmp_path, digests, identify=1)
        try:
            await double.wait_for_commands(names=ALERTS_COMMANDS, timeout=10)
            alerts = double.alerts
            await subscribe(double, TOPIC, alerts, double.moderator)

            text = digest(
                "Zeolites",
                [(f"Zeolite study number {n}", "Ng, Wei", "On zeolites.") for n in range(12)],
            )
            (digests / "100_zeolites.txt").write_text(text, encoding="utf-8")
            ids = sorted(paper_ids(text, "100_zeolites.txt").values())

            # Discord creates the first message, but the bot never hears back; then it dies.
            double.stall_channel(alerts.id, after_create=True)
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=30)
            assert cli.returncode == 0 and "Alerts queued: 12" in cli.stdout, cli.stdout
            await double.wait_for_messages(alerts.id, 1, timeout=15)
            [stalled] = await double.wait_for_stalled(alerts.id, 1, timeout=15)
            assert stalled.message is not None
            assert double.channel_messages(alerts.id) == [stalled.message]
            assert bot.proc is not None
            bot.proc.kill()
            bot.proc.wait(5)
            # The double sees the connection go: the answer was never delivered.
            await double.wait_until(lambda: stalled.state == "dropped", 5, "the dropped send")
            double.release_channel(alerts.id)

            # The restarted bot re-sends the unconfirmed batch with the same nonce (Discord
            # returns the message it already has), then sends the rest.
            await start_bot(double, tmp_path, digests, identify=2, bot=bot)
            messages = await double.wait_for_messages(alerts.id, 2, timeout=15)
            await asyncio.sleep(1.5)
            messages = double.channel_messages(alerts.id)
            assert len(messages) == 2
            delivered = alert_ids(messages)
            assert sorted(delivered) == ids and len(delivered) == len(set(delivered))
            assert len(double.deduplicated) == 1
            # ... answered from the nonce of the send the dead bot never heard back from.
            assert double.deduplicated[0].json["nonce"] == stalled.request.json["nonce"]
            assert double.deduplicated[0].status == 200
            assert [len(m["embeds"]) for m in messages] == [10, 2]

            db = sqlite3.connect(tmp_path / "data" / "digest.db")
            try:
                pending = db.execute(
                    "SELECT count(*) FROM outbox WHERE delivered_at IS NULL"
                ).fetchone()[0]
            finally:
                db.close()
            assert pending == 0

            # REINDEX_INTERVAL: a digest dropped while the bot was down is picked up by the
            # periodic job (its first run is at start) and alerted, with nobody reindexing.
            assert await bot.stop() == 0
            late = digest("Late", [("Zeolite membranes, late", "Ng, Wei", "Zeolites.")])
            (digests / "200_late.txt").write_text(late, encoding="utf-8")
            bot.env["REINDEX_INTERVAL"] = "1"
            await start_bot(double, tmp_path, digests, identify=3, bot=bot)
            messages = await double.wait_for_messages(alerts.id, 3, timeout=15)
            assert alert_ids(messages[2:]) == list(paper_ids(late, "200_late.txt").values())
            double.assert_no_violations()
        finally:
            double.release_channel(double.alerts.id)
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]


async def test_first_ingest_of_an_empty_catalogue_queues_alerts(tmp_path: Path) -> None:
    """A subscription made while the catalogue was empty gets the papers of the bot's
    first-start ingest: that ingest goes through the alert hook like every reindex."""
    digests = tmp_path / "digests"
    digests.mkdir()
    double = DiscordDouble()
    async with double:
        bot = await start_bot(double, tmp_path, digests, identify=1)  # nothing to index
        try:
            await double.wait_for_commands(names=ALERTS_COMMANDS, timeout=10)
            alerts = double.alerts
            confirmation = await subscribe(double, "scaling laws", alerts, double.moderator)
            assert "0 matching papers" in embed_text(confirmation)
            assert await bot.stop() == 0

            copy_seeds(digests)  # the catalogue is still empty: the next start indexes
            await start_bot(double, tmp_path, digests, identify=2, bot=bot)
            messages = await double.wait_for_messages(alerts.id, 1, timeout=10)
            # exactly the papers the query matches in the catalogue
            search = await answer(await double.invoke_slash("search", {"query": "scaling laws"}))
            expected = [o["value"] for o in select(search)["options"]]
            assert expected and sorted(alert_ids(messages)) == sorted(expected)
            double.assert_no_violations()
        finally:
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]
        assert "Traceback" not in bot.log_text(), bot.log_text()[-4000:]
