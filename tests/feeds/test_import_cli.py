"""``python -m bot import`` as a real subprocess, fetching feeds from a loopback HTTP server.

The fixture feeds are hand-written copies of the documented shapes: an arXiv API Atom
response, an arXiv RSS listing (rss.arxiv.org, with ``arxiv:announce_type``) and a generic
RSS 2.0 feed. The expected digest bodies in ``fixtures/expected/`` were checked entry by
entry against those feeds.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.core.parser import parse_digest
from bot.feeds.importer import digest_file_name
from tests.e2e.harness import CliResult, run_cli_async
from tests.feeds.server import FIXTURES, FeedServer, Page, fixture, refused_url

NBSP = "\u00a0"
SHAPES = {
    # name: (fixture, feed title in the heading, number of entries)
    "arxiv-api": ("arxiv_api.xml", "ArXiv Query: search_query=cat:cs.LG&id_list=&start=0"
                  "&max_results=3", 3),
    "arxiv-rss": ("arxiv_rss.xml", "cs.LG updates on arXiv.org", 5),
    "generic": ("generic_rss.xml", "Journal of Learning Dynamics – Latest Articles", 3),
}  # fmt: skip


def environ(tmp_path: Path, **extra: str) -> dict[str, str]:
    """Only what the test sets counts: no DIGEST_DIR / DATABASE_PATH / FEEDS from outside."""
    skip = {"DIGEST_DIR", "DATABASE_PATH", "INDEX_DIR", "FEEDS", "FEEDS_EXCLUDE"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    env["DATABASE_PATH"] = str(tmp_path / "data" / "digest.db")
    env.update(extra)
    return env


async def cli(tmp_path: Path, *args: str, **env: str) -> CliResult:
    return await run_cli_async(list(args), environ(tmp_path, **env), tmp_path, timeout=60)


def as_json(result: CliResult) -> dict[str, Any]:
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def today_file(source: str) -> str:
    return digest_file_name(source, datetime.now(UTC).date())


@pytest.mark.parametrize("shape", sorted(SHAPES))
async def test_import_each_shape_over_http(tmp_path: Path, shape: str) -> None:
    name, title, count = SHAPES[shape]
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        url = server.serve(shape, Page(fixture(name), "application/xml; charset=utf-8"))
        result = await cli(tmp_path, "import", url, "--digests", str(digests), "--json")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        request = server.seen(shape)[0]
    assert request.headers["User-Agent"].startswith("digest-bot/")
    data = as_json(result)
    [outcome] = data["sources"]
    file = today_file(url)
    assert outcome["status"] == "imported" and outcome["file"] == file
    assert (outcome["entries"], outcome["added"]) == (count, count)
    assert sorted(p.name for p in digests.iterdir() if not p.name.startswith(".")) == [file]
    assert file.startswith("feed-127-0-0-1-") and file.endswith(".txt")

    text = (digests / file).read_text(encoding="utf-8")
    heading, body = text.split("\n\n\n", 1)
    assert heading == f"{NBSP}{title} — {datetime.now(UTC).date().isoformat()}"
    expected = (FIXTURES / "expected" / name.replace(".xml", ".txt")).read_text("utf-8")
    assert body == expected


async def test_human_output_and_exclusion(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        url = server.serve("rss", Page(fixture("arxiv_rss.xml")))
        result = await cli(tmp_path, "import", url, "--digests", str(digests),
                           "--exclude", "replace", "--exclude", "cross")  # fmt: skip
    assert result.returncode == 0, result.stderr
    # new, new, cross, replace, replace-cross: only the two new ones are kept.
    assert f"{url}: 2 new paper(s) of 2 -> {today_file(url)} (3 excluded)" in result.stdout
    assert "Feeds into" in result.stdout and "2 new paper(s) from 1 feed(s), 0 failed" in (
        result.stdout
    )
    report = parse_digest((digests / today_file(url)).read_bytes(), "x.txt")
    assert [p.title for p in report.papers] == [
        "Grokking as a First-Order Phase Transition in Two-Layer Networks",
        "Mass concentration in rescaled first order integral functionals",
    ]


async def test_feeds_setting_and_feeds_exclude(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        rss = server.serve("rss", Page(fixture("arxiv_rss.xml")))
        api = server.serve("api", Page(fixture("arxiv_api.xml")))
        result = await cli(tmp_path, "import", "--json", DIGEST_DIR=str(digests),
                           FEEDS=f"{rss}, {api}", FEEDS_EXCLUDE="cross")  # fmt: skip
    assert result.returncode == 0, result.stderr
    outcomes = {o["source"]: o for o in as_json(result)["sources"]}
    assert outcomes[rss]["added"] == 3 and outcomes[rss]["excluded"] == 2  # cross, replace-cross
    assert outcomes[api]["added"] == 3
    assert (digests / today_file(rss)).is_file() and (digests / today_file(api)).is_file()


async def test_reindex_makes_the_papers_searchable(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        url = server.serve("rss", Page(fixture("arxiv_rss.xml")))
        result = await cli(tmp_path, "import", url, "--digests", str(digests), "--reindex")
    assert result.returncode == 0, result.stderr
    assert "5 new paper(s) of 5" in result.stdout
    assert "5 added, 0 updated, 0 unchanged, 0 gone" in result.stdout  # the reindex summary

    found = await cli(tmp_path, "search", "grokking", "phase", "transition", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["title"] == "Grokking as a First-Order Phase Transition in Two-Layer Networks"
    by_author = await cli(tmp_path, "search", 'author:"maria de la cruz"', "--json")
    assert by_author.returncode == 0, by_author.stderr
    assert len(json.loads(by_author.stdout)) == 1


async def test_second_import_adds_nothing(tmp_path: Path) -> None:
    """ETag / Last-Modified: the second fetch is conditional and its 304 writes nothing; a
    feed without validators is read again, and the day's file gains nothing."""
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        tagged = server.serve("tagged", Page(fixture("arxiv_rss.xml"), etag='"v1"'))
        dated = server.serve(
            "dated", Page(fixture("arxiv_api.xml"), last_modified="Tue, 03 Dec 2024 05:00:23 GMT")
        )
        plain = server.serve("plain", Page(fixture("generic_rss.xml")))
        args = ("import", tagged, dated, plain, "--digests", str(digests), "--json")
        first = await cli(tmp_path, *args, "--reindex")
        assert first.returncode == 0, first.stderr
        assert as_json(first)["reindex"]["added"] == 11
        files = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in digests.glob("*.txt")}

        second = await cli(tmp_path, *args, "--reindex")
        assert second.returncode == 0, second.stderr
        assert server.seen("tagged")[1].headers.get("If-None-Match") == '"v1"'
        assert server.seen("dated")[1].headers.get("If-Modified-Since") == (
            "Tue, 03 Dec 2024 05:00:23 GMT"
        )
        assert "If-None-Match" not in server.seen("plain")[1].headers
        assert sorted(r.status for r in server.requests[3:]) == [200, 304, 304]
    data = as_json(second)
    statuses = {o["source"]: (o["status"], o["added"]) for o in data["sources"]}
    assert statuses == {
        tagged: ("not_modified", 0),
        dated: ("not_modified", 0),
        plain: ("unchanged", 0),
    }
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in digests.glob("*.txt")}
    assert after == files  # not even rewritten
    reindex = data["reindex"]
    assert (reindex["added"], reindex["updated"], reindex["unchanged"]) == (0, 0, 11)
    assert {f["status"] for f in reindex["files"]} == {"unchanged"}


async def test_a_changed_feed_merges_into_the_days_file(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    full = fixture("arxiv_rss.xml")
    # The same listing, earlier in the day: only its first two items.
    cut = full.index(b"<item>", full.index(b"<item>", full.index(b"<item>") + 1) + 1)
    early = full[:cut] + b"</channel>\n</rss>\n"
    async with FeedServer() as server:
        url = server.serve("rss", Page(early, etag='"early"'))
        first = await cli(tmp_path, "import", url, "--digests", str(digests), "--json")
        assert [o["added"] for o in as_json(first)["sources"]] == [2]
        server.pages["rss"] = Page(full, etag='"late"')
        second = await cli(tmp_path, "import", url, "--digests", str(digests), "--json")
        assert server.seen("rss")[1].headers.get("If-None-Match") == '"early"'
    [outcome] = as_json(second)["sources"]
    assert (outcome["status"], outcome["added"], outcome["duplicates"]) == ("imported", 3, 2)
    report = parse_digest((digests / today_file(url)).read_bytes(), "x.txt")
    assert len(report.papers) == 5 and not report.diagnostics
    expected = (FIXTURES / "expected" / "arxiv_rss.txt").read_text("utf-8")
    assert (digests / today_file(url)).read_text("utf-8").split("\n\n\n", 1)[1] == expected


async def test_bad_sources_fail_alone_with_the_reason(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    big = fixture("arxiv_rss.xml") * 3
    async with FeedServer() as server:
        good = server.serve("good", Page(fixture("generic_rss.xml"), etag='"g"'))
        down = server.serve("down", Page(b"", status=500))
        html = server.serve("html", Page(b"<!DOCTYPE html><html><head><title>Journal</title>"
                                         b"</head><body><p>Welcome</p></body></html>",
                                         "text/html; charset=utf-8"))  # fmt: skip
        broken = fixture("arxiv_rss.xml").replace(b"</title>", b"</titel>", 3)
        malformed = server.serve("malformed", Page(broken))
        large = server.serve("large", Page(big))
        streamed = server.serve("streamed", Page(big, chunked=True))
        slow = server.serve("slow", Page(fixture("generic_rss.xml"), delay_s=5))
        refused = refused_url()
        missing = str(tmp_path / "missing.xml")
        sources = [refused, down, good, html, malformed, large, streamed, slow, missing]
        result = await cli(tmp_path, "import", *sources, "--digests", str(digests),
                           "--max-bytes", str(len(big) - 1), "--timeout", "1",
                           "--json", "--reindex")  # fmt: skip
    assert result.returncode == 0, result.stderr  # one source imported
    errors = result.stderr.strip().splitlines()
    reasons = {
        refused: "cannot connect: Connection refused",
        down: "HTTP 500 Internal Server Error",
        html: "not a feed: the address answered with an HTML page",
        malformed: "malformed feed: mismatched tag at line 4, column ",
        large: "larger than the",
        streamed: "larger than the",
        slow: "no complete answer within 1 s",
        missing: "no such file",
    }
    assert len(errors) == len(reasons), errors
    for source, reason in reasons.items():
        [line] = [e for e in errors if e.startswith(f"digest-bot: import {source}: ")]
        assert reason in line, line
    assert "announced" in next(e for e in errors if f" {large}: " in e)
    assert "Traceback" not in result.stderr
    data = as_json(result)
    assert data["failed"] == len(reasons) and data["added"] == 3
    # Only the good feed's file; the catalogue has only its papers.
    assert [p.name for p in digests.glob("*.txt")] == [today_file(good)]
    assert data["reindex"]["added"] == 3 and data["reindex"]["total"] == 3
    state = json.loads((digests / ".feeds-state.json").read_text())
    assert set(state["sources"]) == {good}


async def test_nothing_imported_exits_3_and_bad_usage_exits_2(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        down = server.serve("down", Page(b"", status=503))
        result = await cli(tmp_path, "import", down, refused_url(), "--digests", str(digests))
    assert result.returncode == 3
    assert "0 new paper(s) from 0 feed(s), 2 failed" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "HTTP 503 Service Unavailable" in lines[0]
    assert list(digests.glob("*.txt")) == []

    usage = await cli(tmp_path, "import", "ftp://example.org/feed", "--digests", str(digests))
    assert usage.returncode == 2
    assert usage.stderr.strip() == (
        "digest-bot: unsupported source 'ftp://example.org/feed': give an http(s) URL or a "
        "file path"
    )
    nothing = await cli(tmp_path, "import", "--digests", str(digests))
    assert nothing.returncode == 2 and "set FEEDS" in nothing.stderr
    bad_setting = await cli(tmp_path, "import", FEEDS="gopher://x")
    assert bad_setting.returncode == 2 and "FEEDS" in bad_setting.stderr


async def test_a_file_source(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    source = FIXTURES / "generic_rss.xml"
    result = await cli(tmp_path, "import", str(source), "--digests", str(digests), "--json")
    assert result.returncode == 0, result.stderr
    [outcome] = as_json(result)["sources"]
    assert outcome["file"] == today_file(str(source)) and outcome["added"] == 3
    assert outcome["file"].startswith("feed-generic-rss-xml-")


async def test_an_imported_feed_gives_linked_papers_and_the_alerts_they_match(
    tmp_path: Path,
) -> None:
    """import --reindex: the papers carry the feed's identifiers (arXiv id, PDF link) and a
    channel subscribed to a topic gets exactly the matching paper queued."""
    from bot.store.alerts import AlertStore
    from bot.store.db import Database

    database = tmp_path / "data" / "digest.db"
    database.parent.mkdir()
    async with await Database.open(database) as db:
        await AlertStore(db).add(
            guild_id=1, channel_id=10, query="grokking", created_by=5,
            max_per_channel=10, max_per_guild=50,
        )  # fmt: skip
    digests = tmp_path / "digests"
    async with FeedServer() as server:
        url = server.serve("rss", Page(fixture("arxiv_rss.xml")))
        result = await cli(tmp_path, "import", url, "--digests", str(digests), "--reindex",
                           "--json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert as_json(result)["reindex"]["alerts_queued"] == 1

    found = await cli(tmp_path, "search", "grokking", "--json")
    hit = json.loads(found.stdout)[0]
    paper = await cli(tmp_path, "paper", hit["id"], "--json")
    assert paper.returncode == 0, paper.stderr
    data = json.loads(paper.stdout)
    assert (data["arxiv_id"], data["pdf_url"]) == ("2412.01501", "https://arxiv.org/pdf/2412.01501")
