"""Counting a trend: per digest date (file-name date wins), zeros kept, top venues."""

from __future__ import annotations

from datetime import date

from bot.core.trend import DatedDigest, count_trend, digest_day, top_venues

DIGESTS = [
    DatedDigest("digest-2025-01-31.txt", "2020-01-01"),  # the name's date wins
    DatedDigest("feeds/arxiv 2025-01-31 evening.txt", None),  # same date: added up
    DatedDigest("000_abc.txt", "2025-01-10"),  # no date in the name: the stored one
    DatedDigest("quiet-2025-02-07.txt", None),  # no match: 0, still a point
    DatedDigest("undated.txt", None),
]


def test_counts_by_digest_date_with_zeros_and_chunks_added() -> None:
    counts = [
        ("digest-2025-01-31.txt", 3),
        ("feeds/arxiv 2025-01-31 evening.txt", 2),
        ("000_abc.txt", 4),
        ("digest-2025-01-31.txt", 1),
        ("undated.txt", 5),
        ("gone-2025-03-01.txt", 9),
    ]  # not in the folder: ignored
    trend = count_trend(DIGESTS, counts, papers=12)
    assert [(p.day, p.count, p.digests) for p in trend.points] == [
        (date(2025, 1, 10), 4, 1),
        (date(2025, 1, 31), 6, 2),
        (date(2025, 2, 7), 0, 1),
    ]
    assert trend.undated == 5
    assert trend.appearances == 15 and trend.papers == 12
    assert trend.active == 2
    assert trend.peak is not None and trend.peak.day == date(2025, 1, 31)


def test_no_match_anywhere() -> None:
    trend = count_trend(DIGESTS, [], papers=0)
    assert [p.count for p in trend.points] == [0, 0, 0]
    assert trend.peak is None and trend.venues == ()
    assert count_trend([], [], papers=0).points == ()


def test_a_digest_date_from_the_name_else_stored_else_none() -> None:
    assert digest_day(DatedDigest("a-2024-06-01.txt", "2020-01-01")) == date(2024, 6, 1)
    assert digest_day(DatedDigest("a.txt", "2020-01-02")) == date(2020, 1, 2)
    assert digest_day(DatedDigest("a.txt", "not a date")) is None
    assert digest_day(DatedDigest("a.txt", None)) is None


def test_top_venues_fold_case_and_spacing_and_skip_blank() -> None:
    venues = [
        ("NeurIPS", 5),
        ("neurips ", 2),
        ("ICML", 7),
        ("", 30),
        ("  ", 4),
        ("ICLR", 3),
        ("AISTATS", 3),
        ("TMLR", 1),
        ("COLT", 1),
        ("ICML", 0),
    ]
    assert top_venues(venues, 5) == (
        ("ICML", 7),
        ("NeurIPS", 7),
        ("AISTATS", 3),
        ("ICLR", 3),
        ("COLT", 1),
    )
    assert top_venues(venues, 0) == ()
    trend = count_trend([], [], venues, papers=3, top=2)
    assert trend.venues == (("ICML", 7), ("NeurIPS", 7))  # ties: by name
