"""What the importer remembers between runs, kept in the digest folder itself.

``.feeds-state.json`` holds, per source, the ``ETag`` / ``Last-Modified`` validators of the
last fetch that was imported and the digest file that import wrote to (or found complete).
It lives beside the digest files rather than in the database because it describes them: the
import needs no database (it only writes files, like someone dropping digests in), and
copying, restoring or emptying the folder takes the validators along, so a folder never
claims to be up to date with a feed whose entries it does not hold. The reindex reads only
``*.txt`` files that are not hidden, so neither this file nor the lock file is a digest.

``.feeds.lock`` serialises imports into one folder across processes (the bot's periodic job
and a cron'd ``digest-bot import``), so two imports never merge into a day's file at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.feeds.fetch import FeedError, Validators

STATE_NAME = ".feeds-state.json"
LOCK_NAME = ".feeds.lock"
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class SourceState:
    validators: Validators = field(default_factory=Validators)
    file: str | None = None  # the digest file of the last import (relative to the folder)


def load_state(folder: Path) -> dict[str, SourceState]:
    """The saved state; a missing or unreadable state file is an empty state (full fetches)."""
    try:
        data = json.loads((folder / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        return {}
    state: dict[str, SourceState] = {}
    for source, entry in sources.items():
        if not isinstance(entry, dict):
            continue
        etag, modified, file = entry.get("etag"), entry.get("last_modified"), entry.get("file")
        state[str(source)] = SourceState(
            Validators(
                etag if isinstance(etag, str) else None,
                modified if isinstance(modified, str) else None,
            ),
            file if isinstance(file, str) else None,
        )
    return state


def save_state(folder: Path, state: Mapping[str, SourceState]) -> None:
    """Write the state atomically (a temporary file renamed over the old one)."""
    data = {
        "version": STATE_VERSION,
        "sources": {
            source: {
                "etag": s.validators.etag,
                "last_modified": s.validators.last_modified,
                "file": s.file,
            }
            for source, s in sorted(state.items())
        },
    }
    write_atomic(folder / STATE_NAME, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` so readers see the old content or the new, never
    a part: a hidden temporary file in the same folder, flushed, then renamed over it."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, temp = tempfile.mkstemp(prefix="." + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)  # mkstemp makes it 0600; a digest file is as readable as any
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


@contextlib.asynccontextmanager
async def folder_lock(folder: Path, wait_s: float = 120.0) -> AsyncIterator[None]:
    """Hold the folder's import lock (an advisory ``flock``), waiting up to ``wait_s``."""
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FeedError(
                        f"another import into {folder} has been running for over {wait_s:g} s"
                    ) from None
                await asyncio.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
