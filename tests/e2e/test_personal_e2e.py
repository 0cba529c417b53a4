"""Follows, saved papers and votes end to end: the real bot process, real discord.py, the
Discord API double.

A member follows an author (``/follow``, and the Follow button on ``/author``), a new digest
is reindexed, and the member gets exactly one DM listing the matching papers -- once, even
though two follows match, and nothing again after a restart. A member whose DMs answer
50007 has their follows paused, is told privately on their next command, sees it in
``/following``, and ``/follow`` resumes them. Save / ``/saved`` / Remove / Export; votes.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from tests.discord_double import DiscordDouble
from tests.e2e.harness import run_cli_async
from tests.e2e.payloads import answer, button, embed_text, is_ephemeral
from tests.e2e.test_alerts_e2e import alert_ids, digest, paper_ids, start_bot

PERSONAL = {"follow", "following", "unfollow", "saved", "author"}


def _db(workdir: Path) -> sqlite3.Connection:
    return sqlite3.connect(workdir / "data" / "digest.db")


async def test_follow_dm_once_restart_and_closed_dms(tmp_path: Path) -> None:
    from tests.e2e.harness import copy_seeds

    digests = copy_seeds(tmp_path / "digests")
    double = DiscordDouble()
    async with double:
        bot = await start_bot(double, tmp_path, digests, identify=1)
        try:
            await double.wait_for_commands(names=PERSONAL, timeout=10)
            member, mod = double.member, double.moderator
            dm = double.dm_channel(member)

            body = await answer(
                await double.invoke_slash("follow", {"query": "author:okonkwo"}, user=member)
            )
            assert is_ephemeral(body) and "Following `author:okonkwo`" in body["content"], body
            # A second follow matching the same papers: still one DM per paper.
            body = await answer(
                await double.invoke_slash("follow", {"query": "kernels"}, user=member)
            )
            assert "Following" in body["content"], body
            bad = await answer(
                await double.invoke_slash("follow", {"query": '"unbalanced'}, user=member)
            )
            assert is_ephemeral(bad) and "quote" in bad["content"].lower(), bad

            first = digest(
                "Personal",
                [
                    ("Okonkwo kernels for attention", "Okonkwo, Ada, Lind, Per", "Kernels."),
                    ("Graph kernels", "Lind, Per", "We study kernels on graphs."),
                    ("Unrelated diffusion", "Mbeki, Thabo", "Diffusion models."),
                ],
            )
            (digests / "300_personal.txt").write_text(first, encoding="utf-8")
            ids = paper_ids(first, "300_personal.txt")
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=30)
            assert cli.returncode == 0, cli.stderr
            messages = await double.wait_for_messages(dm.id, 1, timeout=15)
            await asyncio.sleep(1.5)  # nothing more arrives
            messages = double.channel_messages(dm.id)
            assert len(messages) == 1
            got = alert_ids(messages)
            assert sorted(got) == sorted(ids[t] for t in ids if "Unrelated" not in t)
            assert len(got) == len(set(got))
            assert double.requests_matching("POST", r"/users/@me/channels")

            # /following: state, last alert, papers sent.
            text = embed_text(await answer(await double.invoke_slash("following", user=member)))
            assert "author:okonkwo" in text and "active" in text and "1 paper(s) sent" in text

            # A restart sends nothing again.
            assert await bot.stop() == 0
            await start_bot(double, tmp_path, digests, identify=2, bot=bot)
            await double.wait_for_commands(names=PERSONAL, timeout=10)
            await asyncio.sleep(2.0)
            assert len(double.channel_messages(dm.id)) == 1

            # The DM answers 50007: the member's follows are paused ...
            double.fail_channel(dm.id, 403, 50007, "Cannot send messages to this user")
            second = digest(
                "Personal 2",
                [
                    ("Okonkwo on transformers", "Okonkwo, Ada", "Attention."),
                ],
            )
            (digests / "301_personal.txt").write_text(second, encoding="utf-8")
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=30)
            assert cli.returncode == 0, cli.stderr

            def paused() -> bool:
                with _db(tmp_path) as db:
                    found = db.execute(
                        "SELECT count(*) FROM subscriptions WHERE channel_id < 0 "
                        "AND state = 'paused'"
                    ).fetchone()[0]
                return int(found) == 2

            async with asyncio.timeout(15):  # the database, not the double, changes
                while not paused():
                    await asyncio.sleep(0.1)
            # ... told privately on the next command (any command) ...
            search = await double.invoke_slash("search", {"query": "kernels"}, user=member)
            await answer(search)
            await double.wait_until(lambda: bool(search.followups), 10, "the notice")
            [notice] = search.followups
            assert is_ephemeral(notice) and "DMs are closed" in notice["content"], notice
            text = embed_text(await answer(await double.invoke_slash("following", user=member)))
            assert "paused" in text and "DMs are closed" in text, text
            # ... and /follow again resumes them; the waiting paper then arrives.
            double.restore_channel(dm.id)
            body = await answer(
                await double.invoke_slash("follow", {"query": "author:okonkwo"}, user=member)
            )
            assert "Resumed" in body["content"], body
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=30)  # a kick
            messages = await double.wait_for_messages(dm.id, 2, timeout=15)
            assert alert_ids(messages[1:]) == list(paper_ids(second, "301_personal.txt").values())

            # The Follow button on /author cards follows that author (for whoever clicks).
            card = await answer(await double.invoke_slash("author", {"name": "Lind"}, user=mod))
            clicked = await answer(
                await double.click(card, button(card, "Follow")["custom_id"], user=mod)
            )
            assert is_ephemeral(clicked) and 'author:"' in clicked["content"], clicked
            # Unfollow by autocomplete.
            typed = await double.autocomplete(
                "unfollow", {"follow": "kern"}, focused="follow", user=member
            )
            choices = await typed.choices(timeout=5)
            assert [c["name"] for c in choices] == ["kernels"], choices
            gone = await answer(
                await double.invoke_slash("unfollow", {"follow": choices[0]["value"]}, user=member)
            )
            assert "Stopped following `kernels`" in gone["content"], gone
            double.assert_no_violations()
        finally:
            double.clear_faults()
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]
        assert "Traceback" not in bot.log_text(), bot.log_text()[-4000:]


async def test_save_saved_remove_export_and_votes(tmp_path: Path) -> None:
    from tests.e2e.harness import copy_seeds
    from tests.e2e.test_alerts_e2e import subscribe

    digests = copy_seeds(tmp_path / "digests")
    double = DiscordDouble()
    async with double:
        bot = await start_bot(double, tmp_path, digests, identify=1)
        try:
            await double.wait_for_commands(names=PERSONAL | {"subscribe"}, timeout=10)
            member, mod, alerts = double.member, double.moderator, double.alerts
            await subscribe(double, "zeolite", alerts, mod)
            one = digest("Z", [("Zeolite frameworks", "Ng, Wei", "On zeolites.")])
            (digests / "400_z.txt").write_text(one, encoding="utf-8")
            [pid] = paper_ids(one, "400_z.txt").values()
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=30)
            assert cli.returncode == 0, cli.stderr
            [alert] = await double.wait_for_messages(alerts.id, 1, timeout=15)

            # Save on the alert card, twice: one save.
            save_id = button(alert, "Save")["custom_id"]
            for _ in range(2):
                saved = await answer(await double.click(alert, save_id, user=member))
                assert is_ephemeral(saved) and pid in saved["content"], saved
            listing = await answer(await double.invoke_slash("saved", user=member))
            assert is_ephemeral(listing) and "1 saved" in embed_text(listing), listing
            assert "Zeolite frameworks" in embed_text(listing)
            other = await answer(await double.invoke_slash("saved", user=mod))
            assert "Nothing saved" in embed_text(other)  # private to the member
            export = await double.click(
                listing, button(listing, "Export BibTeX")["custom_id"], user=member
            )
            await export.response(timeout=5)
            posted = [r for r in double.requests if r.files]
            assert posted and b"Zeolite" in posted[-1].files[0].data
            removed = await double.select(listing, "ds:unsave:0", [pid], user=member)
            await removed.response(timeout=5)
            listing = await answer(await double.invoke_slash("saved", user=member))
            assert "Nothing saved" in embed_text(listing), listing

            # Votes: one per member per paper per subscription; again removes; other changes.
            up, down = button(alert, "👍")["custom_id"], button(alert, "👎")["custom_id"]
            for who, cid in ((member, up), (mod, up), (member, down)):
                body = await answer(await double.click(alert, cid, user=who))
                assert is_ephemeral(body) and body["content"].startswith("Thanks — noted")
            text = embed_text(
                await answer(
                    await double.invoke_slash("subscriptions", {"channel": alerts}, user=mod)
                )
            )
            assert "👍 1 · 👎 1" in text, text
            body = await answer(await double.click(alert, down, user=member))
            assert "removed" in body["content"], body
            text = embed_text(
                await answer(
                    await double.invoke_slash("subscriptions", {"channel": alerts}, user=mod)
                )
            )
            assert "👍 1 · 👎 0" in text, text
            double.assert_no_violations()
        finally:
            code = await bot.stop()
        assert code == 0, bot.log_text()[-3000:]
        assert "Traceback" not in bot.log_text(), bot.log_text()[-4000:]
