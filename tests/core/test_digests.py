"""A digest's date and the name it is shown by."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.core.digests import date_from_name, digest_date, digest_name, digest_year
from bot.core.models import DigestInfo

MTIME = datetime(2024, 3, 5, 23, 30, tzinfo=UTC).timestamp()


def test_the_date_comes_from_the_file_name() -> None:
    assert digest_date("digest-2025-01-31.txt", MTIME) == date(2025, 1, 31)
    assert digest_date("2025-01-31_ml.txt", MTIME) == date(2025, 1, 31)
    assert digest_date("feeds/arxiv 2025-02-01 evening.txt", MTIME) == date(2025, 2, 1)


def test_else_from_the_modification_time_in_utc() -> None:
    assert digest_date("000_3fb66f32c462d8d6.txt", MTIME) == date(2024, 3, 5)
    assert digest_date("digest-2025-13-45.txt", MTIME) == date(2024, 3, 5)  # not a date
    assert digest_date("x12025-01-311.txt", MTIME) == date(2024, 3, 5)  # digits run on
    assert digest_date("2025-01-31/notes.txt", MTIME) == date(2024, 3, 5)  # folder, not name


def test_the_first_valid_date_in_the_name_wins() -> None:
    assert date_from_name("2025-99-01 then 2025-02-03.txt") == date(2025, 2, 3)


def test_names() -> None:
    info = DigestInfo(
        "sub/000_3fb6.txt", "Clay County", "h", "2025-01-01T00:00:00Z", date="2024-03-05"
    )
    assert digest_name(info) == "2024-03-05 · 000_3fb6.txt"
    feed = DigestInfo("feeds/ml.txt", None, "h", "x", date="2025-02-01", title="arXiv cs.LG")
    assert digest_name(feed) == "arXiv cs.LG · 2025-02-01"
    assert digest_name(DigestInfo("a.txt", "Chrome", "h", "x")) == "a.txt"


def test_year_of_the_earliest_dated_digest() -> None:
    digests = [
        DigestInfo("b.txt", None, "h", "x", date="2025-01-02"),
        DigestInfo("a.txt", None, "h", "x", date="2024-12-31"),
        DigestInfo("c.txt", None, "h", "x"),
    ]
    assert digest_year(digests) == 2024
    assert digest_year([]) is None
