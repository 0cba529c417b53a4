"""Digests as people read them: a date and a name, never the page chrome (pure).

A digest's date comes from its file name (``…YYYY-MM-DD…``, the last valid one), else from
the file's modification time (UTC). It is shown as "2025-01-31 · digest-2025-01-31.txt", or,
for a digest made from a feed, "Feed title · 2025-01-31".
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import PurePosixPath

from bot.core.models import DigestInfo

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def date_from_name(name: str) -> date | None:
    """The last valid ``YYYY-MM-DD`` in a file name (its last path part), or None
    (``weekly-2024-06-01-to-2024-06-07.txt`` is the digest of 2024-06-07)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    for match in reversed(list(_DATE_IN_NAME.finditer(base))):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def digest_date(name: str, mtime: float) -> date:
    """A digest's date: from its file name, else its modification time (seconds, UTC)."""
    found = date_from_name(name)
    if found is not None:
        return found
    try:
        return datetime.fromtimestamp(mtime, UTC).date()
    except (OverflowError, OSError, ValueError):
        return datetime.fromtimestamp(0, UTC).date()


def digest_name(digest: DigestInfo) -> str:
    """How a digest is shown: "Feed title · date", else "date · file name"."""
    file_name = PurePosixPath(digest.path).name
    title = " ".join((digest.title or "").split())
    if title:
        return f"{title} · {digest.date}" if digest.date else title
    return f"{digest.date} · {file_name}" if digest.date else file_name


def digest_year(digests: tuple[DigestInfo, ...] | list[DigestInfo]) -> int | None:
    """The year of the earliest dated digest (a paper's year, when nothing better is known)."""
    dates = sorted(d.date for d in digests if d.date)
    if not dates:
        return None
    try:
        return int(dates[0][:4])
    except ValueError:
        return None
