"""``digest-bot run`` / ``sync`` as a user meets them: exit codes and one-line messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.discord_double import DiscordDouble
from tests.e2e.harness import BotProcess, bot_env, copy_seeds, run_cli, run_cli_async
from tests.e2e.payloads import data, is_ephemeral


def _one_line_error(stderr: str, needle: str) -> None:
    assert "Traceback" not in stderr, stderr
    last = stderr.strip().splitlines()[-1]
    assert needle in last, stderr
    assert last.startswith("digest-bot: ")


@pytest.mark.parametrize("args", [["run"], []])
def test_missing_token_exits_2_with_one_line(tmp_path: Path, args: list[str]) -> None:
    env = bot_env(tmp_path, token="", api_base=None, digest_dir=copy_seeds(tmp_path / "d"))
    result = run_cli(args, env, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    _one_line_error(result.stderr, "DISCORD_TOKEN is not set")
    assert not (tmp_path / "data").exists()  # nothing was started


async def test_rejected_token_exits_2_with_one_line(tmp_path: Path) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token="not.the.right.token",
            api_base=double.api_base,
            digest_dir=copy_seeds(tmp_path / "d"),
            extra={"LOG_LEVEL": "WARNING"},
        )
        result = await run_cli_async(["run"], env, tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().count("\n") == 0, result.stderr
        _one_line_error(result.stderr, "Discord rejected DISCORD_TOKEN (401 Unauthorized)")
        assert "not.the.right.token" not in result.stderr + result.stdout
        assert double.requests_matching("GET", r"^/users/@me$")
        assert not double.requests_matching("PUT", "commands")


async def test_sync_pushes_the_commands_to_a_guild_and_exits(tmp_path: Path) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=copy_seeds(tmp_path / "d"),
        )
        guild = double.guild.id
        result = await run_cli_async(["sync", "--guild", str(guild)], env, tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"synced application commands to guild {guild}" in result.stdout
        assert double.command_overwrites(guild) == 1
        assert double.command_overwrites(None) == 0
        assert {c["name"] for c in double.commands(guild)} >= {"search", "paper", "author"}
        # Forced: a second sync uploads again even though nothing changed.
        again = await run_cli_async(["sync", "--guild", str(guild)], env, tmp_path)
        assert again.returncode == 0 and double.command_overwrites(guild) == 2
        assert double.token not in result.stderr + again.stderr
        double.assert_no_violations()


def _newer_database(path: Path) -> None:
    """A database stamped with a schema version this code does not know."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    conn.close()


@pytest.mark.parametrize("args", [["run"], ["sync", "--guild", "1"]], ids=["run", "sync"])
async def test_database_newer_than_the_code_exits_3_with_one_line(
    tmp_path: Path, args: list[str]
) -> None:
    async with DiscordDouble() as double:
        env = bot_env(
            tmp_path,
            token=double.token,
            api_base=double.api_base,
            digest_dir=copy_seeds(tmp_path / "d"),
            extra={"LOG_LEVEL": "WARNING"},
        )
        _newer_database(Path(env["DATABASE_PATH"]))
        result = await run_cli_async(args, env, tmp_path)
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip().count("\n") == 0, result.stderr
        _one_line_error(result.stderr, "schema version 999")
        assert not double.requests_matching("PUT", "commands")


@pytest.mark.parametrize("folder", ["missing", "empty"])
async def test_run_with_a_missing_or_empty_digest_folder_serves_and_says_so_in_its_log(
    tmp_path: Path, folder: str
) -> None:
    """The bot is a service: a missing or empty DIGEST_DIR is a warning in its log saying what
    to do (``/reindex`` and the periodic job pick the files up once they are there), not an
    exit; ``/search`` on the empty catalogue says it is empty and what the operator should
    do, not "check the spelling"."""
    async with DiscordDouble() as double:
        digests = tmp_path / "digests"
        if folder == "empty":
            digests.mkdir()
        env = bot_env(tmp_path, token=double.token, api_base=double.api_base, digest_dir=digests)
        bot = BotProcess(tmp_path, env, tmp_path / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(double, identify=1)
            await double.wait_for_commands(names={"search"}, timeout=10)
            handle = await double.invoke_slash("search", {"query": "scaling laws"})
            body = data(await handle.response(timeout=3))
        finally:
            code = await bot.stop()
        assert code == 0
        [warning] = [line for line in bot.log_text().splitlines() if "DIGEST_DIR" in line]
        assert "WARNING" in warning and str(digests) in warning, warning
        said = "does not exist" if folder == "missing" else "has no digest files (*.txt)"
        assert said in warning and "the catalogue is empty" in warning, warning
        assert "/reindex" in warning and "digest-bot reindex" in warning, warning
        assert "Traceback" not in bot.log_text()
        assert is_ephemeral(body), body
        content = body["content"]
        assert "The catalogue is empty" in content and "/reindex" in content, content
        assert "spelling" not in content
