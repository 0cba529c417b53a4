"""bot.feeds.importer in process: validators and their state file, the folder lock, file names,
and how a reindex report tells what the feed import before it did."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from datetime import date
from pathlib import Path

from bot.core.models import FileOutcome, ReindexReport
from bot.core.parser import parse_digest
from bot.feeds.importer import digest_file_name, import_feeds, source_slug, with_feeds
from bot.feeds.state import LOCK_NAME, STATE_NAME
from bot.ui.reindex import summary as render
from tests.feeds.server import FeedServer, Page, fixture

DAY = date(2024, 12, 3)


async def test_validators_are_dropped_when_the_file_they_vouch_for_is_gone(
    tmp_path: Path,
) -> None:
    async with FeedServer() as server:
        url = server.serve("rss", Page(fixture("arxiv_rss.xml"), etag='"v1"'))
        first = await import_feeds([url], tmp_path, today=DAY)
        assert first.outcomes[0].status == "imported"
        state = json.loads((tmp_path / STATE_NAME).read_text())
        name = digest_file_name(url, DAY)
        assert state["sources"][url] == {"etag": '"v1"', "last_modified": None, "file": name}

        (tmp_path / name).unlink()  # someone emptied the folder, but the state stayed
        again = await import_feeds([url], tmp_path, today=DAY)
        assert "If-None-Match" not in server.seen("rss")[1].headers
        assert again.outcomes[0].added == 5 and (tmp_path / name).is_file()

        forced = await import_feeds([url], tmp_path, today=DAY, force=True)
        assert "If-None-Match" not in server.seen("rss")[2].headers
        assert forced.outcomes[0].status == "unchanged"
        normal = await import_feeds([url], tmp_path, today=DAY)
        assert server.seen("rss")[3].headers.get("If-None-Match") == '"v1"'
        assert normal.outcomes[0].status == "not_modified"


async def test_a_corrupt_state_file_means_full_fetches(tmp_path: Path) -> None:
    (tmp_path / STATE_NAME).write_text("{not json", encoding="utf-8")
    async with FeedServer() as server:
        url = server.serve("rss", Page(fixture("arxiv_rss.xml"), etag='"v1"'))
        report = await import_feeds([url], tmp_path, today=DAY)
    assert report.outcomes[0].added == 5
    assert json.loads((tmp_path / STATE_NAME).read_text())["sources"][url]["etag"] == '"v1"'


async def test_concurrent_imports_into_one_folder_take_turns(tmp_path: Path) -> None:
    """The bot's periodic import and a cron'd CLI import of the same feed: the folder lock
    makes the second wait for the first (its fetch starts after the first is done), so the
    day's file gets each paper once."""
    async with FeedServer() as server:
        url = server.serve("rss", Page(fixture("arxiv_rss.xml"), delay_s=0.4))
        reports = await asyncio.gather(
            import_feeds([url], tmp_path, today=DAY), import_feeds([url], tmp_path, today=DAY)
        )
        first, second = server.seen("rss")
    assert second.at - first.at >= 0.4
    assert sorted(r.outcomes[0].status for r in reports) == ["imported", "unchanged"]
    report = parse_digest((tmp_path / digest_file_name(url, DAY)).read_bytes(), "x.txt")
    assert len(report.papers) == 5 and not report.diagnostics


async def test_a_held_lock_fails_every_source_with_the_reason(tmp_path: Path) -> None:
    fd = os.open(tmp_path / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        report = await import_feeds(["/some/feed.xml"], tmp_path, lock_wait_s=0.2)
    finally:
        os.close(fd)
    [outcome] = report.outcomes
    assert outcome.status == "failed" and "another import into" in outcome.message


async def test_an_unusable_folder_fails_every_source(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    report = await import_feeds(["/a.xml", "/b.xml"], blocker / "digests")
    assert [o.status for o in report.outcomes] == ["failed", "failed"]
    assert "cannot create the digest folder" in report.outcomes[0].message


async def test_a_hand_edited_days_file_that_is_not_utf8(tmp_path: Path) -> None:
    source = str(Path(__file__).parent / "fixtures" / "generic_rss.xml")
    (tmp_path / digest_file_name(source, DAY)).write_bytes(b"caf\xe9\n")
    report = await import_feeds([source], tmp_path, today=DAY)
    assert report.outcomes[0].status == "failed"
    assert "is not UTF-8 text" in report.outcomes[0].message
    assert (tmp_path / digest_file_name(source, DAY)).read_bytes() == b"caf\xe9\n"


def test_file_names() -> None:
    assert digest_file_name("https://rss.arxiv.org/rss/cs.LG", DAY) == (
        "feed-rss-arxiv-org-rss-cs-lg-2024-12-03.txt"
    )
    assert source_slug("http://www.example.org:8080/feed.xml") == "example-org-8080-feed-xml"
    assert source_slug("/srv/feeds/Nature Physics.rss") == "nature-physics-rss"
    q1 = "https://export.arxiv.org/api/query?search_query=cat:cs.LG&start=0&max_results=200"
    q2 = "https://export.arxiv.org/api/query?search_query=cat:cs.LG&start=200&max_results=200"
    s1, s2 = source_slug(q1), source_slug(q2)
    assert len(s1) <= 60 and len(s2) <= 60 and s1 != s2
    assert s1.startswith("export-arxiv-org-api-query-search-query-cat-cs-lg")


def test_the_reindex_summary_tells_about_the_feeds() -> None:
    from bot.feeds.importer import ImportReport, SourceOutcome

    feeds = ImportReport((
        SourceOutcome("https://a.org/rss", "imported", "feed-a.txt", 4, 4),
        SourceOutcome("https://b.org/rss", "failed", message="HTTP 500 Internal Server Error"),
    ))  # fmt: skip
    report = ReindexReport(
        added=4, updated=0, unchanged=8, removed=0, total=12,
        files=(FileOutcome("feed-a.txt", "indexed", 4),), diagnostics=(),
        extra={"files_indexed": 1, "files_unchanged": 1},
    )  # fmt: skip
    text = render(with_feeds(report, feeds), Path("digests"))
    assert "Feeds (FEEDS): 2 imported first — 4 new entries, 1 failed" in text
    assert "https://b.org/rss: error: feed not imported: HTTP 500 Internal Server Error" in text


async def test_a_body_that_names_a_local_file_is_not_read_as_that_file(tmp_path: Path) -> None:
    """feedparser.parse(bytes) tries open(bytes) first: a server answering with a path must not
    make the importer read a local file."""
    local = Path(__file__).parent / "fixtures" / "arxiv_rss.xml"
    async with FeedServer() as server:
        url = server.serve("path", Page(str(local).encode(), "text/plain"))
        report = await import_feeds([url], tmp_path / "digests", today=DAY)
    [outcome] = report.outcomes
    assert outcome.status == "failed" and outcome.message.startswith("not "), outcome
    assert list((tmp_path / "digests").glob("*.txt")) == []
