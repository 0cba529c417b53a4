"""Shared fixtures (keep small and additive: other test modules add their own here too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store.db import Database

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO / "seeds"
SEED_FILE = SEED_DIR / "000_3fb66f32c462d8d6.txt"
DIGEST_FIXTURES = Path(__file__).resolve().parent / "digests"


@pytest.fixture
def seed_path() -> Path:
    """The real seed digest (read-only: copy it before changing anything)."""
    return SEED_FILE


@pytest.fixture
def digest_fixtures() -> Path:
    """tests/digests: ``good/`` and ``bad/`` fixture digests (read-only)."""
    return DIGEST_FIXTURES


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, migrated database file in ``tmp_path``, closed after the test."""
    database = await Database.open(tmp_path / "db" / "digest.db")
    try:
        yield database
    finally:
        await database.close()
