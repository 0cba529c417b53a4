"""PaperStore reads: the API the search index, the CLI and the cogs code against."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.parser import parse_digest
from bot.ingest import reindex
from bot.store.db import Database, StoreError
from bot.store.papers import PaperStore, normalise_paper_id

SEED_NAME = "000_3fb66f32c462d8d6.txt"


@pytest.fixture
def store(db: Database) -> PaperStore:
    return PaperStore(db)


@pytest.fixture
async def indexed(db: Database, tmp_path: Path, seed_path: Path) -> Path:
    folder = tmp_path / "digests"
    folder.mkdir()
    shutil.copy(seed_path, folder / SEED_NAME)
    await reindex(db, folder)
    return folder


async def test_empty_catalogue(store: PaperStore) -> None:
    stats = await store.stats()
    assert (stats.papers, stats.authors, stats.digests, stats.removed_papers) == (0, 0, 0, 0)
    assert stats.last_indexed_at is None and stats.version == 0
    assert await store.catalogue_version() == 0
    assert await store.latest_digest() is None
    assert await store.digests() == []
    assert await store.authors() == []
    assert await store.get_paper("8t72zh2v") is None
    assert [batch async for batch in store.iter_papers()] == []


async def test_iter_papers_yields_what_the_parser_read(
    store: PaperStore, indexed: Path, seed_path: Path
) -> None:
    parsed = parse_digest(seed_path.read_bytes(), SEED_NAME).papers
    batches = [batch async for batch in store.iter_papers(batch_size=3)]
    assert [len(b) for b in batches] == [3, 3, 2]
    flat = [item for batch in batches for item in batch]
    assert [rowid for rowid, _ in flat] == list(range(1, 9))
    assert [paper for _, paper in flat] == list(parsed)  # authors, order, text, line: all equal
    with pytest.raises(ValueError):
        [b async for b in store.iter_papers(batch_size=0)]


async def test_get_paper_and_get_papers(store: PaperStore, indexed: Path) -> None:
    paper = await store.get_paper("8t72zh2v")
    assert paper is not None
    assert paper.id == "8t72zh2v"
    assert [a.display for a in paper.paper.authors] == ["Zihan Yao", "Ruoyu Wu", "Tianxiang Gao"]
    assert not paper.removed
    assert [(d.path, d.heading, d.paper_count) for d in paper.digests] == [
        (SEED_NAME, "Clay County", 8)
    ]
    # Typed ids are forgiving: case, spaces, Crockford's o -> 0 and i / l -> 1.
    assert await store.get_paper(" 8T72ZH2V ") == paper
    assert normalise_paper_id("6B0Z17R6") == normalise_paper_id("6bOzL7r6") == "6b0z17r6"
    assert (await store.get_paper("6bOzl7r6")) is not None
    found = await store.get_papers(["X15KKTZR", "nothere1", "rc8h0ww3", "x15kktzr", ""])
    assert set(found) == {"x15kktzr", "rc8h0ww3"}
    assert found["rc8h0ww3"].paper.authors == ()
    many = await store.get_papers([f"zz{i:06d}" for i in range(1200)] + ["8t72zh2v"])
    assert list(many) == ["8t72zh2v"]


async def test_read_papers_in_a_worker_thread_is_get_papers(
    store: PaperStore, indexed: Path
) -> None:
    asked = ["X15KKTZR", "nothere1", "rc8h0ww3", "8t72zh2v", ""]
    assert await asyncio.to_thread(store.read_papers, asked) == await store.get_papers(asked)
    many = [f"zz{i:06d}" for i in range(1200)] + ["8t72zh2v"]
    assert list(await asyncio.to_thread(store.read_papers, many)) == ["8t72zh2v"]
    with pytest.raises(StoreError, match="worker thread"):
        store.read_papers(asked)  # on the event loop: refused, it would block


async def test_read_papers_at_rowids_is_get_papers(
    db: Database, store: PaperStore, indexed: Path
) -> None:
    rowid_of = {str(i): int(r) for r, i in await db.fetchall("SELECT rowid, id FROM papers")}
    asked = ["x15kktzr", "rc8h0ww3", "8t72zh2v"]
    rowids = [rowid_of[i] for i in asked]
    by_rowid = await asyncio.to_thread(store.read_papers_at, [*rowids, rowids[0], 10**9])
    assert sorted(by_rowid) == sorted(rowids)  # once each; unknown rowids left out
    by_id = await store.get_papers(asked)
    assert {sp.id: sp for sp in by_rowid.values()} == by_id
    many = [*range(10**6, 10**6 + 1200), rowids[2]]  # more than one IN (...) list
    assert [sp.id for sp in (await asyncio.to_thread(store.read_papers_at, many)).values()] == [
        "8t72zh2v"
    ]
    with pytest.raises(StoreError, match="worker thread"):
        store.read_papers_at(rowids)  # on the event loop: refused, it would block


async def test_papers_by_author_newest_first(
    db: Database, store: PaperStore, indexed: Path
) -> None:
    (indexed / "001_later.txt").write_text(
        "Goto\n\n\u00a0Later County\n\n\n"
        "A Later Paper by Zihan Yao\n\nYao, Zihan\n\narXiv.org Machine Learning\n\n"
        + "A later abstract that is long enough to be an abstract and not a venue line. " * 3
        + "\n",
        encoding="utf-8",
    )
    await reindex(db, indexed)
    papers = await store.papers_by_author("zihan yao")
    assert [p.paper.title for p in papers] == [
        "A Later Paper by Zihan Yao",
        "Understanding Scaling Laws in Deep Neural Networks via Feature Learning Dynamics",
    ]
    assert papers[0].first_seen > papers[1].first_seen
    assert await store.papers_by_author("ZIHAN  Yáo") == papers  # folded like the key
    assert await store.papers_by_author("nobody") == []
    summary = {a.key: a for a in await store.authors()}
    assert summary["zihan yao"].paper_count == 2
    assert summary["zihan yao"].display == "Zihan Yao"
    keys = [a.key for a in await store.authors()]
    assert keys[:3] == ["zihan yao", "ruoyu wu", "tianxiang gao"]  # first seen first
    assert len(keys) == len(set(keys))


async def test_digests_latest_and_file_order(
    db: Database, store: PaperStore, indexed: Path, seed_path: Path
) -> None:
    latest = await store.latest_digest()
    assert latest is not None
    assert (latest.path, latest.heading, latest.paper_count, latest.present) == (
        SEED_NAME,
        "Clay County",
        8,
        True,
    )
    titles = [p.paper.title for p in await store.digest_papers(SEED_NAME)]
    assert titles == [p.title for p in parse_digest(seed_path.read_bytes(), "x").papers]
    assert await store.digest_papers("no-such-digest.txt") == []

    # A digest indexed later is the latest, whatever its name.
    (indexed / "0000_early_name.txt").write_text(
        "Goto\n\n\u00a0Newer County\n\n\nOne\n\nA, B\n\nVenue\n\n" + "Text words. " * 30,
        encoding="utf-8",
    )
    await reindex(db, indexed)
    latest = await store.latest_digest()
    assert latest is not None and latest.path == "0000_early_name.txt"
    assert [d.path for d in await store.digests()] == ["0000_early_name.txt", SEED_NAME]


async def test_meta_round_trip(store: PaperStore) -> None:
    assert await store.get_meta("command_tree_hash") is None
    await store.set_meta("command_tree_hash", "abc")
    await store.set_meta("command_tree_hash", "def")
    assert await store.get_meta("command_tree_hash") == "def"


async def test_stats_after_index(store: PaperStore, indexed: Path) -> None:
    stats = await store.stats()
    assert (stats.papers, stats.digests, stats.removed_papers, stats.version) == (8, 1, 0, 1)
    assert stats.authors == 58
    assert stats.last_indexed_at is not None and stats.last_indexed_at.endswith("Z")
    latest = await store.latest_digest()
    assert latest is not None and latest.indexed_at == stats.last_indexed_at


async def test_stored_paper_model_is_the_parsed_one(
    store: PaperStore, indexed: Path, seed_path: Path
) -> None:
    parsed = {p.id: p for p in parse_digest(seed_path.read_bytes(), SEED_NAME).papers}
    stored = await store.get_papers(list(parsed))
    assert {k: v.paper for k, v in stored.items()} == parsed
    toc = stored["rc8h0ww3"].paper
    assert toc == replace(parsed["rc8h0ww3"])


def _entries(specs: list[tuple[str, str, str]]) -> str:
    """A digest's text from (title, authors as "Last, First, Last, First", venue) entries."""
    body = "".join(
        f"{title}\n\n{authors}\n\n{venue}\n\n"
        + f"An abstract about {title.lower()} that is long enough not to be a venue line. " * 2
        + "\n\n\n"
        for title, authors, venue in specs
    )
    return "Goto\n\n\u00a0Paging County\n\n\n" + body


def _prolific(first: int, count: int) -> list[tuple[str, str, str]]:
    """``count`` papers by Ada Prolific with rotating co-authors and venues."""
    coauthors = ["Turing, Alan", "Hopper, Grace", "Liskov, Barbara"]
    venues = ["NeurIPS", "ICML", "NeurIPS", ""]
    return [
        (
            f"Prolific Paper Number {i}",
            "Prolific, Ada, " + ", ".join(coauthors[: 1 + i % 3]),
            venues[i % 4] or "arXiv.org Machine Learning",
        )
        for i in range(first, first + count)
    ]


async def test_author_paging_counts_and_aggregates(
    db: Database, store: PaperStore, tmp_path: Path
) -> None:
    folder = tmp_path / "paging"
    folder.mkdir()
    (folder / "001_first.txt").write_text(_entries(_prolific(0, 7)), encoding="utf-8")
    await reindex(db, folder)
    (folder / "002_second.txt").write_text(_entries(_prolific(7, 5)), encoding="utf-8")
    await reindex(db, folder)

    every = await store.papers_by_author("ada prolific")
    assert len(every) == 12
    assert await store.author_paper_counts("Ada  PROLIFIC") == (12, 12)
    assert await store.author_paper_counts("nobody") == (0, 0)
    # pages, newest first seen first, join up to the whole list
    pages = [await store.papers_by_author("ada prolific", limit=5, offset=o) for o in (0, 5, 10)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [p for page in pages for p in page] == every
    assert await store.papers_by_author("ada prolific", limit=5, offset=12) == []
    assert await store.papers_by_author("ada prolific", limit=0) == []

    # the aggregates count what a scan of every paper counts
    co: dict[str, int] = {}
    venues: dict[str, int] = {}
    for sp in every:
        venues[sp.paper.venue] = venues.get(sp.paper.venue, 0) + 1
        for a in sp.paper.authors:
            if a.key != "ada prolific":
                co[a.display] = co.get(a.display, 0) + 1
    assert await store.author_coauthors("ada prolific") == sorted(co.items(), key=lambda x: -x[1])
    assert dict(await store.author_venues("ada prolific")) == venues
    assert [n for _, n in await store.author_venues("ada prolific")] == sorted(
        venues.values(), reverse=True
    )
    assert await store.author_coauthors("ada prolific", 1) == [("Alan Turing", 12)]
    assert await store.author_coauthors("nobody") == []
    assert await store.author_venues("nobody") == []

    # removed papers: counted apart, and left out of pages and aggregates with live_only
    (folder / "002_second.txt").unlink()
    await reindex(db, folder)
    assert await store.author_paper_counts("ada prolific") == (7, 12)
    live = await store.papers_by_author("ada prolific", live_only=True)
    assert [p.paper.title for p in live] == [f"Prolific Paper Number {i}" for i in range(6, -1, -1)]
    assert not any(p.removed for p in live)
    assert len(await store.papers_by_author("ada prolific")) == 12
    assert await store.papers_by_author("ada prolific", limit=3, offset=6, live_only=True) == [
        live[6]
    ]
    live_co = dict(await store.author_coauthors("ada prolific", live_only=True))
    assert live_co == {"Alan Turing": 7, "Grace Hopper": 4, "Barbara Liskov": 2}
    assert sum(n for _, n in await store.author_venues("ada prolific", live_only=True)) == 7


async def test_digest_papers_paged(
    db: Database, store: PaperStore, indexed: Path, seed_path: Path
) -> None:
    titles = [p.title for p in parse_digest(seed_path.read_bytes(), "x").papers]
    assert await store.digest_paper_count(SEED_NAME) == 8
    assert await store.digest_paper_count("no-such-digest.txt") == 0
    pages = [await store.digest_papers(SEED_NAME, offset, 3) for offset in (0, 3, 6, 9)]
    assert [[p.paper.title for p in page] for page in pages] == [
        titles[0:3],
        titles[3:6],
        titles[6:8],
        [],
    ]
    assert [p.paper.title for p in await store.digest_papers(SEED_NAME, 5)] == titles[5:]
    assert await store.digest_papers(SEED_NAME, 0, 0) == []
