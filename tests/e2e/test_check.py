"""``digest-bot check`` against the Discord double: the token, the application, the invite URL and
whether the bot can post in each subscribed channel (discord.py's permission computation over
the double's roles and overwrites); and the local checks with their exit codes."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from bot.store.alerts import AlertStore
from bot.store.db import Database, load_migrations
from tests.discord_double import DiscordDouble
from tests.e2e.harness import bot_env, copy_seeds, run_cli_async

GONE_CHANNEL = 4242


async def _subscribe(database: Path, guild_id: int, channels: list[int]) -> None:
    async with await Database.open(database) as db:
        store = AlertStore(db)
        for channel in channels:
            await store.add(
                guild_id=guild_id,
                channel_id=channel,
                query="learning",
                created_by=1,
                max_per_channel=10,
                max_per_guild=50,
            )


def _findings(stdout: str) -> dict[str, dict[str, Any]]:
    data = json.loads(stdout)
    return {f["check"]: f for f in data["findings"]}


async def test_check_reports_discord_and_each_subscribed_channel(tmp_path: Path) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=copy_seeds(tmp_path / "digests"),
        )
        assert (await run_cli_async(["reindex"], env, tmp_path)).returncode == 0
        guild = double.guild.id
        await _subscribe(
            Path(env["DATABASE_PATH"]), guild, [double.general.id, double.locked.id, GONE_CHANNEL]
        )

        result = await run_cli_async(["check", "--json"], env, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr  # nothing blocks
        found = _findings(result.stdout)
        assert json.loads(result.stdout)["ok"] is True
        assert found["settings"]["status"] == "ok"
        assert found["digest folder"]["detail"].endswith(": 1 digest file")
        schema = len(load_migrations())  # the newest migration this code has
        assert f"schema version {schema}, 8 papers, 3 subscriptions" in found["database"]["detail"]
        # The CLI reindex leaves the search index built and saved, bound to the database.
        assert found["search index"]["status"] == "ok"
        assert found["discord token"] == {
            "check": "discord token",
            "status": "ok",
            "fix": "",
            "detail": f"valid: bot digest-bot (id {double.bot_user.id})",
        }
        assert found["application id"]["detail"] == str(double.application_id)
        invite = urlparse(found["invite URL"]["detail"])
        query = parse_qs(invite.query)
        assert invite.netloc == "discord.com" and invite.path == "/oauth2/authorize"
        assert query["client_id"] == [str(double.application_id)]
        assert query["permissions"] == ["274877926400"]  # what the README documents
        assert query["scope"] == ["bot applications.commands"]

        general = found[f"channel {double.general.id} (server {guild})"]
        assert (general["status"], general["detail"]) == ("ok", "#general: the bot can post alerts")
        locked = found[f"channel {double.locked.id} (server {guild})"]
        assert locked["status"] == "warn"
        # The overwrite denies Send Messages; without it Discord (and discord.py) drop Embed
        # Links too. The bot still sees the channel.
        assert "missing Send Messages, Embed Links" in locked["detail"]
        assert "View Channel" not in locked["detail"]
        assert "give the bot's role Send Messages, Embed Links in #locked" in locked["fix"]
        gone = found[f"channel {GONE_CHANNEL} (server {guild})"]
        assert gone["status"] == "warn" and "no longer exists" in gone["detail"]

        # The text form: one line a finding, each problem with what to do.
        text = await run_cli_async(["check"], env, tmp_path)
        lines = text.stdout.strip().splitlines()
        assert text.returncode == 0 and len(lines) == len(found)
        assert lines[0] == "ok    settings: valid"
        assert any(
            line.startswith("warn  channel") and " -- give the bot's role" in line for line in lines
        )
        assert double.token not in text.stdout + text.stderr + result.stdout
        double.assert_no_violations()
        double.assert_no_unknown_routes()


async def test_check_fails_on_a_rejected_token_and_a_database_it_cannot_use(
    tmp_path: Path,
) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path, token="wrong.token", api_base=double.api_base, digest_dir=tmp_path / "missing"
        )
        database = Path(env["DATABASE_PATH"])
        database.parent.mkdir(parents=True)
        with sqlite3.connect(database) as conn:
            conn.execute("PRAGMA user_version = 999")
        conn.close()
        result = await run_cli_async(["check", "--json"], env, tmp_path)
        assert result.returncode == 3, result.stdout + result.stderr
        found = _findings(result.stdout)
        assert json.loads(result.stdout)["ok"] is False
        assert found["digest folder"]["status"] == "warn"
        assert "does not exist" in found["digest folder"]["detail"]
        assert found["database"]["status"] == "fail"
        assert "schema version 999" in found["database"]["detail"]
        assert "upgrade digest-bot" in found["database"]["fix"]
        assert found["discord token"]["status"] == "fail"
        assert "rejected" in found["discord token"]["detail"]
        assert "search index" not in found

        missing = await run_cli_async(["check"], {**env, "DISCORD_TOKEN": ""}, tmp_path)
        assert missing.returncode == 3
        assert (
            "FAIL  discord token: DISCORD_TOKEN is not set -- copy the bot token" in missing.stdout
        )


async def test_check_a_bad_setting_is_one_failing_line(tmp_path: Path) -> None:
    env = bot_env(
        tmp_path,
        token="t",
        api_base=None,
        digest_dir=copy_seeds(tmp_path / "d"),
        extra={"HEALTH_PORT": "http"},
    )
    result = await run_cli_async(["check"], env, tmp_path)
    assert result.returncode == 3
    assert result.stdout.strip().splitlines() == [
        "FAIL  settings: HEALTH_PORT must be a whole number, got 'http' -- fix that setting in "
        ".env or the environment (see .env.example)"
    ]
    assert not (tmp_path / "data").exists()
    shutil.rmtree(tmp_path / "d")
