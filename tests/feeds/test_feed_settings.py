"""FEEDS and FEEDS_EXCLUDE: parsing and the errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError


def test_feeds_default_to_none(tmp_path: Path) -> None:
    settings = Settings.from_env({}, env_file=tmp_path / "missing.env")
    assert settings.feeds == () and settings.feeds_exclude == frozenset()


def test_feeds_are_comma_separated_urls_or_paths() -> None:
    settings = Settings.from_env(
        {
            "FEEDS": " https://rss.arxiv.org/rss/cs.LG ,feeds/local.xml,,"
            "https://export.arxiv.org/api/query?id_list=2412.01234%2C2412.00777,"
            "https://rss.arxiv.org/rss/cs.LG",
            "FEEDS_EXCLUDE": "Replace, cross",
        },
        env_file=None,
    )
    assert settings.feeds == (
        "https://rss.arxiv.org/rss/cs.LG",
        "feeds/local.xml",
        "https://export.arxiv.org/api/query?id_list=2412.01234%2C2412.00777",
    )
    assert settings.feeds_exclude == frozenset({"replace", "cross"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FEEDS", "https://ok.org/rss, ftp://example.org/feed", "neither an http"),
        ("FEEDS_EXCLUDE", "new", "FEEDS_EXCLUDE may hold replace and cross, got new"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=name) as info:
        Settings.from_env({name: value}, env_file=None)
    assert message in str(info.value)
