"""INDEX_DIR is refused at start when it points at something digest-bot does not own.

Real subprocesses (``python -m bot search`` / ``reindex`` / ``run``) on a real catalogue: a bad
INDEX_DIR gets one line on stderr and exit 2, and nothing on disk changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalogue import Catalogue
from bot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SEED_NAME = "000_3fb66f32c462d8d6.txt"


def cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "DIGEST_", "DATABASE_", "INDEX_"))
    }
    environ["PYTHONPATH"] = str(REPO)
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,  # no .env there: only what the test sets counts
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def tree(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a hash of its content."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture
async def work(tmp_path: Path, seed_path: Path) -> Path:
    """A working folder with digests, a built catalogue (database + index) and a notes folder."""
    digests = tmp_path / "digests"
    digests.mkdir()
    shutil.copy(seed_path, digests / SEED_NAME)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.md").write_text("my notes\n")
    settings = Settings(
        digest_dir=digests,
        database_path=tmp_path / "data" / "digest.db",
        index_dir=tmp_path / "data" / "index",
    )
    catalogue = await Catalogue.open(settings)
    try:
        await catalogue.reindex()
    finally:
        await catalogue.close()
    return tmp_path


def env_for(work: Path, index_dir: str) -> dict[str, str]:
    return {
        "DIGEST_DIR": str(work / "digests"),
        "DATABASE_PATH": str(work / "data" / "digest.db"),
        "INDEX_DIR": index_dir,
    }


def assert_refused(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("digest-bot: ") and "INDEX_DIR" in lines[0], lines[0]


BAD = {
    "the digest folder": "digests",
    "the database's folder": "data",
    "a folder with notes": "notes",
    "the working folder": ".",
    "the root folder": "/",
    "the database file": "data/digest.db",
    "the database's WAL file": "data/digest.db-wal",
}


@pytest.mark.parametrize("where", list(BAD))
def test_search_refuses_an_index_dir_it_does_not_own(work: Path, where: str) -> None:
    value = BAD[where]
    index_dir = value if value in {".", "/"} else str(work / value)
    before = tree(work)
    proc = cli(["search", "learning"], work, env_for(work, index_dir))
    assert_refused(proc)
    assert tree(work) == before  # nothing deleted, replaced or created


@pytest.mark.parametrize("where", ["the digest folder", "a folder with notes"])
def test_reindex_refuses_before_touching_the_catalogue(work: Path, where: str) -> None:
    (work / "digests" / "001_more.txt").write_text(
        "Header\n\n\nA New Paper About Learning\n\nDoe, Jane\n\nSome Venue\n\nAbstract text.\n"
    )
    before = tree(work)
    proc = cli(["reindex"], work, env_for(work, str(work / BAD[where])))
    assert_refused(proc)
    assert tree(work) == before


@pytest.mark.parametrize("where", ["the digest folder", "the database's folder"])
def test_bot_refuses_at_start(work: Path, where: str) -> None:
    env = env_for(work, str(work / BAD[where]))
    # a Discord that cannot be reached: the refusal must come first
    env.update(DISCORD_TOKEN="x.y.z", DISCORD_API_BASE="http://127.0.0.1:9/api/v10")
    before = tree(work)
    proc = cli(["run"], work, env)
    assert_refused(proc)
    assert tree(work) == before
