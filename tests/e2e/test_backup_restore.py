"""Backups of the real bot's database while it writes, and restoring one: nothing lost, and no
restore under a running bot (the real bot process, the CLI, the Discord double)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.core.index import Index
from tests.discord_double import DiscordDouble
from tests.e2e.conftest import COMMANDS
from tests.e2e.harness import BotProcess, bot_env, copy_seeds, run_cli_async
from tests.e2e.payloads import embed

MAX_TOPICS = 400


def _queries(database: Path) -> list[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT query FROM subscriptions ORDER BY id").fetchall()
    conn.close()
    return [str(r[0]) for r in rows]


def _catalogue_version(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'catalogue_version'").fetchone()
    conn.close()
    return int(row[0])


def _one_line(stderr: str, needle: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert stderr.strip().count("\n") == 0, stderr
    assert stderr.startswith("digest-bot: ") and needle in stderr, stderr


async def test_backup_while_the_bot_writes_then_restore_loses_nothing(tmp_path: Path) -> None:
    digests = copy_seeds(tmp_path / "digests")
    backup = tmp_path / "backups" / "digest-backup.db"
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=digests,
            extra={
                "MAX_SUBSCRIPTIONS_PER_CHANNEL": str(MAX_TOPICS),
                "MAX_SUBSCRIPTIONS_PER_GUILD": str(MAX_TOPICS),
            },
        )
        database = Path(env["DATABASE_PATH"])
        bot = BotProcess(tmp_path, env, tmp_path / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(double, identify=1)
            await double.wait_for_commands(names=COMMANDS | {"subscribe"}, timeout=10)
            queries: list[str] = []  # the subscriptions the bot confirmed, in order
            backed_up = asyncio.Event()

            async def subscribe_until_backed_up() -> None:
                """The bot writes: one /subscribe after another (each its own transaction)
                until the backup is done, then a few more; at most MAX_TOPICS."""
                after = 0
                while after < 3 and len(queries) < MAX_TOPICS:
                    query = f"learning topic{len(queries)}"
                    handle = await double.invoke_slash(
                        "subscribe", {"query": query}, user=double.moderator, channel=double.alerts
                    )
                    answer = await handle.wait_for_message(timeout=10)
                    assert "Subscribed" in str(embed(answer).get("title")), answer
                    queries.append(query)
                    after += backed_up.is_set()

            writer = asyncio.create_task(subscribe_until_backed_up())
            await double.wait_until(lambda: len(queries) >= 3, 20, "3 subscriptions")
            before = len(queries)
            result = await run_cli_async(["backup", str(backup)], env, tmp_path)
            backed_up.set()
            await writer
            assert result.returncode == 0, result.stderr
            assert len(queries) < MAX_TOPICS, "the backup outlasted the writes"
            assert "integrity ok" in result.stdout and "8 papers" in result.stdout

            saved = _queries(backup)
            # A consistent snapshot: every subscription confirmed before the backup began,
            # and the ones after it in the order they were made, with no gap.
            assert saved == queries[: len(saved)]
            assert before <= len(saved) < len(queries)
            assert f"{len(saved)} subscriptions" in result.stdout

            # No restore under the running bot: refused, nothing changed.
            refused = await run_cli_async(["restore", str(backup)], env, tmp_path)
            assert refused.returncode == 3
            _one_line(refused.stderr, "in use by another digest-bot process")
            assert _queries(database) == queries
            assert not Path(f"{database}.before-restore").exists()
        finally:
            assert await bot.stop() == 0

        restored = await run_cli_async(["restore", str(backup)], env, tmp_path)
        assert restored.returncode == 0, restored.stderr
        assert _queries(database) == saved
        kept = Path(f"{database}.before-restore")
        assert _queries(kept) == queries  # the database it replaced, whole
        assert f"kept as {kept}" in restored.stdout
        # The saved index belongs to the restored catalogue.
        assert Index.saved_version(Path(env["INDEX_DIR"])) == _catalogue_version(database)

        bot.start()
        try:
            await bot.wait_ready(double, identify=2)
            listed = await double.invoke_slash("subscriptions", user=double.moderator)
            card = embed(await listed.wait_for_message(timeout=5))
            names = [str(f["name"]).split(" · ", 1)[1] for f in card.get("fields", [])]
            assert names and names == saved[: len(names)], card  # the restored ones
            if len(names) < len(saved):
                assert f"{len(saved) - len(names)} more" in str(card.get("footer")), card
            search = await double.invoke_slash("search", {"query": "learning"})
            assert embed(await search.wait_for_message(timeout=5))
            double.assert_no_violations()
        finally:
            assert await bot.stop() == 0
        log = bot.log_text()
        assert "Traceback" not in log, log[-3000:]
        assert "cannot load the saved index" not in log


async def test_a_second_bot_on_the_same_database_is_refused(tmp_path: Path) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=copy_seeds(tmp_path / "digests"),
        )
        first = BotProcess(tmp_path, env, tmp_path / "bot.log")
        first.start()
        try:
            await first.wait_ready(double, identify=1)
            second = await run_cli_async(["run"], {**env, "LOG_LEVEL": "WARNING"}, tmp_path)
            assert second.returncode == 3
            _one_line(second.stderr, "in use by another digest-bot process")
            assert first.running()
        finally:
            assert await first.stop() == 0
