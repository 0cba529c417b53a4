"""SIGTERM stops the real bot within 5 s in every state, and loses no queued alert.

The states: connected and idle; waiting to reconnect (the double's gateway is down and
discord.py sleeps before its next attempt, for up to minutes); in the middle of posting an
alert (the double holds the request unanswered). The alert cut short is sent after the
restart, once.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from pathlib import Path

from tests.discord_double import DiscordDouble
from tests.e2e.harness import BotProcess, bot_env, copy_seeds, run_cli_async
from tests.e2e.test_alerts_e2e import ALERTS_COMMANDS, alert_ids, digest, paper_ids, subscribe

STOP_WITHIN_S = 5.0
RECONNECT = re.compile(r"Attempting a reconnect in (\d+\.\d+)s")


async def _sigterm(bot: BotProcess) -> tuple[float, int]:
    """SIGTERM; (seconds until the process exited, exit code). Kills it after 60 s."""
    assert bot.proc is not None
    started = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    while bot.proc.poll() is None and time.monotonic() - started < 60:
        await asyncio.sleep(0.02)
    elapsed = time.monotonic() - started
    if bot.proc.poll() is None:
        bot.proc.kill()
        bot.proc.wait(5)
    return elapsed, bot.proc.returncode


async def test_sigterm_while_connected_and_while_waiting_to_reconnect(tmp_path: Path) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=copy_seeds(tmp_path / "digests"),
        )
        bot = BotProcess(tmp_path, env, tmp_path / "bot.log")
        try:
            bot.start()
            await bot.wait_ready(double, identify=1)
            elapsed, code = await _sigterm(bot)
            assert code == 0, bot.log_text()[-3000:]
            assert elapsed < STOP_WITHIN_S, f"connected: stopped after {elapsed:.1f} s"

            bot.start()
            await bot.wait_ready(double, identify=2)
            # The gateway goes away: discord.py backs off exponentially between attempts
            # (a random wait up to 2, 4, 8, 16 ... s). SIGTERM during a wait of 6 s or more.
            double.set_gateway_available(False)
            double.drop_gateway()
            seen = 0
            deadline = time.monotonic() + 120
            wait = 0.0
            while wait < STOP_WITHIN_S + 1:
                assert time.monotonic() < deadline, bot.log_text()[-3000:]
                assert bot.running(), bot.log_text()[-3000:]
                found = RECONNECT.findall(bot.log_text())
                if len(found) > seen:
                    seen, wait = len(found), float(found[-1])
                else:
                    await asyncio.sleep(0.05)
            elapsed, code = await _sigterm(bot)
            assert code == 0, bot.log_text()[-3000:]
            assert elapsed < STOP_WITHIN_S, (
                f"waiting {wait:.1f} s to reconnect: stopped after {elapsed:.1f} s"
            )
        finally:
            double.set_gateway_available(True)
            await bot.stop()


async def test_sigterm_while_posting_an_alert_loses_nothing(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=digests,
            extra={"WATCH_INTERVAL": "1"},
        )
        bot = BotProcess(tmp_path, env, tmp_path / "bot.log")
        alerts = double.alerts
        try:
            bot.start()
            await bot.wait_ready(double, identify=1)
            await double.wait_for_commands(names=ALERTS_COMMANDS, timeout=10)
            await subscribe(double, "zeolite", alerts, double.moderator)
            text = digest(
                "Zeolites", [("Zeolite cages for sparse attention", "Ng, Wei", "On zeolites.")]
            )
            (digests / "100_zeolites.txt").write_text(text, encoding="utf-8")
            expected = list(paper_ids(text, "100_zeolites.txt").values())

            double.stall_channel(alerts.id)  # the post is held, unanswered, nothing created
            cli = await run_cli_async(["reindex"], bot.env, tmp_path, timeout=60)
            assert cli.returncode == 0 and "Alerts queued: 1" in cli.stdout, cli.stdout
            [held] = await double.wait_for_stalled(alerts.id, 1, timeout=15)
            elapsed, code = await _sigterm(bot)
            assert code == 0, bot.log_text()[-3000:]
            assert elapsed < STOP_WITHIN_S, f"mid-delivery: stopped after {elapsed:.1f} s"
            await double.wait_until(lambda: held.state == "dropped", 5, "the dropped post")
            assert double.channel_messages(alerts.id) == []
            double.release_channel(alerts.id)

            bot.start()  # the alert cut short is still queued: it is sent now, once
            await bot.wait_ready(double, identify=2)
            messages = await double.wait_for_messages(alerts.id, 1, timeout=15)
            await asyncio.sleep(1.0)
            assert alert_ids(double.channel_messages(alerts.id)) == expected
            assert len(messages) == 1
        finally:
            double.release_channel(alerts.id)
            await bot.stop()
        assert "Traceback" not in bot.log_text(), bot.log_text()[-3000:]
