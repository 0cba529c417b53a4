"""One Discord double and one real bot process per test module (module-scoped fixtures)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from tests.discord_double import DiscordDouble
from tests.e2e.fixtures import stress_digest
from tests.e2e.harness import BotProcess, bot_env, copy_seeds

COMMANDS = {"search", "paper", "author", "latest", "stats", "help"}


@dataclass
class Running:
    double: DiscordDouble
    bot: BotProcess
    workdir: Path


@asynccontextmanager
async def serving(
    workdir: Path, digests: Path, extra: Mapping[str, str] | None = None
) -> AsyncIterator[Running]:
    """The double on loopback and ``python -m bot run`` connected to it, commands synced;
    the bot is stopped with SIGTERM afterwards and must exit 0. ``extra``: more settings."""
    async with DiscordDouble() as double:
        env = bot_env(
            workdir,
            token=double.token,
            api_base=double.api_base,
            digest_dir=digests,
            extra=dict(extra or {}),
        )
        bot = BotProcess(workdir, env, workdir / "bot.log")
        bot.start()
        try:
            await bot.wait_ready(double, identify=1)
            await double.wait_for_commands(names=COMMANDS, timeout=10)
            yield Running(double, bot, workdir)
        finally:
            code = await bot.stop()
        assert code == 0, f"the bot exited with {code} on SIGTERM:\n{bot.log_text()[-3000:]}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def running(workdir: Path) -> AsyncIterator[Running]:
    """The double on loopback and ``python -m bot run`` connected to it, commands synced."""
    digests = copy_seeds(workdir / "digests", {"zz_stress.txt": stress_digest()})
    async with serving(workdir, digests) as running:
        yield running
