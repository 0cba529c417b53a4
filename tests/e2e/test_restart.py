"""Buttons from before a restart, and command sync only when the tree changed."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.discord_double import DiscordDouble
from tests.e2e.harness import BotProcess, bot_env, copy_seeds
from tests.e2e.payloads import button, data, footer, is_ephemeral

# Longer than fits in a custom_id: its buttons carry a hash kept in the database.
LONG_QUERY = (
    'learning -"quantum chromodynamics on the lattice" -"protein folding dynamics" '
    '-"galaxy cluster surveys"'
)


async def _start(bot: BotProcess, double: DiscordDouble, identify: int) -> None:
    bot.start()
    await bot.wait_ready(double, identify=identify)


async def test_buttons_survive_a_restart_or_say_expired(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    async with DiscordDouble() as double:
        env = bot_env(tmp_path, token=double.token, api_base=double.api_base, digest_dir=digests)
        bot = BotProcess(tmp_path, env, tmp_path / "bot.log")
        try:
            await _start(bot, double, identify=1)
            await double.wait_for_commands(names={"search"}, timeout=10)
            assert double.command_overwrites() == 1

            short = await double.invoke_slash("search", {"query": "learning", "limit": 1})
            short_msg = await short.wait_for_message(timeout=3)
            long_ = await double.invoke_slash("search", {"query": LONG_QUERY, "limit": 1})
            long_msg = await long_.wait_for_message(timeout=3)
            long_next = button(long_msg, "Next")["custom_id"]
            assert len(long_next) <= 100 and "#" in long_next

            # Restart on the same database: same command tree, so no new sync.
            assert await bot.stop() == 0
            await _start(bot, double, identify=2)
            assert double.command_overwrites() == 1
            assert "application commands unchanged" in bot.log_text()

            for message in (short_msg, long_msg):
                click = await double.click(message, button(message, "Next")["custom_id"])
                assert (await click.response(timeout=3))["type"] == 7
                page = double.message(int(message["id"]))
                assert page is not None and footer(page).startswith("page 2/")

            # Restart on a fresh database: the long query's state is gone -> "expired";
            # the short query's state is in its custom_id -> still works.
            assert await bot.stop() == 0
            shutil.rmtree(tmp_path / "data")
            await _start(bot, double, identify=3)
            await double.wait_for_commands(names={"search"}, timeout=10)
            assert double.command_overwrites() == 2  # a new database has no hash: sync

            current = double.message(int(long_msg["id"]))
            assert current is not None
            expired = await double.click(current, button(current, "Next")["custom_id"])
            body = data(await expired.response(timeout=3))
            assert is_ephemeral(body)
            assert body["content"] == "This result expired — run the command again."

            current_short = double.message(int(short_msg["id"]))
            assert current_short is not None
            works = await double.click(current_short, button(current_short, "Next")["custom_id"])
            assert (await works.response(timeout=3))["type"] == 7
            double.assert_no_violations()
        finally:
            code = await bot.stop()
        assert code == 0
        assert "Traceback" not in bot.log_text(), bot.log_text()[-3000:]
