"""Run the real bot (``python -m bot run``) as a subprocess against the Discord API double.

Shared by the end-to-end tests and the latency script. The bot gets its settings from the
environment only (the working directory is a temporary folder without ``.env``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.discord_double import DiscordDouble

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def bot_env(
    workdir: Path,
    *,
    token: str,
    api_base: str | None,
    digest_dir: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a bot process: every setting explicit, nothing from ``.env``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DIGEST_"))}
    env.update(
        PYTHONPATH=str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""),
        PYTHONUNBUFFERED="1",
        DISCORD_TOKEN=token,
        DIGEST_DIR=str(digest_dir),
        DATABASE_PATH=str(workdir / "data" / "digest.db"),
        INDEX_DIR=str(workdir / "data" / "index"),
        LOG_LEVEL="INFO",
        REINDEX_INTERVAL="0",
        WATCH_INTERVAL="0",
        OWNER_IDS="",
        DEV_GUILD_ID="",
        # Tests drive many interactions as one member; the cooldown has its own tests.
        COOLDOWN_COMMANDS="0",
    )
    if api_base is not None:
        env["DISCORD_API_BASE"] = api_base
    env.update(extra or {})
    return env


def run_cli(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` to completion (for exit-code tests)."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


async def run_cli_async(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 30.0
) -> CliResult:
    """``python -m bot ARGS`` without blocking the event loop (the double runs on it)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=dict(env),
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return CliResult(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


@dataclass
class BotProcess:
    """One ``python -m bot run`` process; its output goes to ``log_path``."""

    workdir: Path
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def wait_ready(
        self, double: DiscordDouble, identify: int, timeout: float = START_TIMEOUT
    ) -> None:
        """Wait for the ``identify``-th IDENTIFY and a ready session (or the process dying)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running():
                raise AssertionError(f"the bot exited early:\n{self.log_text()[-4000:]}")
            try:
                await double.wait_for_identify(identify, timeout=0.25)
                await double.wait_for_gateway_ready(timeout=0.25)
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the bot did not connect within {timeout:g}s:\n{self.log_text()[-4000:]}"
                    ) from None

    async def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait for a clean exit; returns the exit code."""
        proc = self.proc
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
            raise AssertionError(f"the bot did not stop within {timeout:g}s of SIGTERM")
        return proc.returncode


def copy_seeds(target: Path, extra_files: Mapping[str, str] | None = None) -> Path:
    """A digest folder: the seed digests plus ``extra_files`` (name -> text)."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SEEDS.glob("*.txt"):
        shutil.copy(path, target / path.name)
    for name, text in (extra_files or {}).items():
        (target / name).write_text(text, encoding="utf-8")
    return target
