"""Identifiers in the catalogue: stored, gained, never lost; one paper per arXiv id or DOI."""

from __future__ import annotations

import asyncio
import os
from functools import partial
from pathlib import Path

import pytest

from bot.core.models import Identifiers
from bot.ingest import reindex
from bot.store.db import Database, StoreError
from bot.store.papers import PaperStore
from tests.store.test_ingest import digest, entry


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


async def one(store: PaperStore) -> Identifiers:
    [(_, paper)] = [item async for batch in store.iter_papers() for item in batch]
    return paper.identifiers


async def test_a_paper_gains_identifiers_and_never_loses_them(db: Database, tmp_path: Path) -> None:
    store = PaperStore(db)
    folder = tmp_path / "digests"
    write(folder, "a.txt", digest(entry("Scaling Laws")))
    first = await reindex(db, folder)
    [paper_id] = first.report.new_paper_ids
    assert not await one(store)

    write(folder, "b.txt", digest(entry("Scaling Laws") + "\n\narXiv:2412.01234v2"))
    second = await reindex(db, folder)
    assert second.report.added == 0 and second.report.updated == 1
    assert await one(store) == Identifiers(
        arxiv_id="2412.01234", pdf_url="https://arxiv.org/pdf/2412.01234"
    )

    # A later digest without identifiers (or with other ones) loses none of them.
    write(folder, "c.txt", digest(entry("Scaling Laws") + "\n\nhttps://example.org/p"))
    await reindex(db, folder)
    (folder / "b.txt").unlink()
    write(folder, "a.txt", digest(entry("Scaling Laws", abstract="Changed. " * 30)))
    await reindex(db, folder)
    assert await one(store) == Identifiers(
        url="https://example.org/p",
        arxiv_id="2412.01234",
        pdf_url="https://arxiv.org/pdf/2412.01234",
    )
    stored = await store.get_paper(paper_id)
    assert stored is not None and stored.paper.abstract.startswith("Changed.")


async def test_a_retitled_paper_with_the_same_arxiv_id_keeps_its_id(
    db: Database, tmp_path: Path
) -> None:
    store = PaperStore(db)
    folder = tmp_path / "digests"
    write(
        folder, "a.txt", digest(entry("Scaling Laws v1") + "\n\nhttps://arxiv.org/abs/2412.01234")
    )
    [paper_id] = (await reindex(db, folder)).report.new_paper_ids

    write(folder, "b.txt", digest(entry("Scaling Laws, Revised") + "\n\narXiv:2412.01234v3"))
    result = await reindex(db, folder)
    assert result.report.added == 0 and result.report.new_paper_ids == ()
    assert (await store.stats()).papers == 1
    stored = await store.get_paper(paper_id)
    assert stored is not None
    assert stored.paper.title == "Scaling Laws, Revised"  # the last digest's text wins
    assert [d.path for d in stored.digests] == ["a.txt", "b.txt"]


async def test_entries_sharing_a_doi_in_one_reindex_are_one_paper(
    db: Database, tmp_path: Path
) -> None:
    store = PaperStore(db)
    folder = tmp_path / "digests"
    write(folder, "a.txt", digest(entry("First Title", "Roe, Rick") + "\n\ndoi:10.1000/ABC"))
    write(folder, "b.txt", digest(entry("Second Title") + "\n\nDOI: 10.1000/abc\nhttps://x.org/1"))
    result = await reindex(db, folder)
    assert result.report.added == 1
    assert (await store.stats()).papers == 1
    assert await one(store) == Identifiers(url="https://x.org/1", doi="10.1000/abc")


async def test_identifiers_are_not_an_update_when_unchanged(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "digests"
    write(folder, "a.txt", digest(entry("Scaling Laws") + "\n\narXiv:2412.01234"))
    await reindex(db, folder)
    path = folder / "a.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    os.utime(path, (1, 1))
    again = await reindex(db, folder)
    assert again.report.updated == 0 and again.report.added == 0


async def test_a_digest_date_from_its_name_else_its_modification_time(
    db: Database, tmp_path: Path
) -> None:
    store = PaperStore(db)
    folder = tmp_path / "digests"
    write(folder, "digest-2025-01-31.txt", digest(entry("One")))
    write(folder, "plain.txt", digest(entry("Two")))
    os.utime(folder / "plain.txt", (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC
    await reindex(db, folder)
    dates = {d.path: d.date for d in await store.digests()}
    assert dates == {"digest-2025-01-31.txt": "2025-01-31", "plain.txt": "2023-11-14"}


async def test_read_papers_by_identifier_in_a_worker_thread_is_papers_by_identifier(
    db: Database, tmp_path: Path
) -> None:
    store = PaperStore(db)
    folder = tmp_path / "digests"
    write(
        folder,
        "a.txt",
        digest(
            entry("Scaling Laws") + "\n\narXiv:2412.01234v2",
            entry("Other Title", "Roe, Rick") + "\n\ndoi:10.1000/ABC\nhttps://example.org/p",
        ),
    )
    await reindex(db, folder)
    asked: list[dict[str, str]] = [
        {"arxiv_id": "2412.01234"},
        {"doi": "10.1000/abc"},
        {"url": "https://example.org/p"},
        {"arxiv_id": "2412.01234", "doi": "10.1000/ABC"},
        {"arxiv_id": "9999.99999"},
        {},
    ]
    for kw in asked:
        in_thread = await asyncio.to_thread(partial(store.read_papers_by_identifier, **kw))
        assert in_thread == await store.papers_by_identifier(**kw)
    both = await asyncio.to_thread(
        lambda: store.read_papers_by_identifier(arxiv_id="2412.01234", doi="10.1000/ABC")
    )
    assert [p.paper.title for p in both] == ["Scaling Laws", "Other Title"]
    with pytest.raises(StoreError):
        store.read_papers_by_identifier(arxiv_id="2412.01234")  # on the event loop: refused
