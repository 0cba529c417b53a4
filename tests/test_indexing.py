"""The store-to-index build (bot.indexing): worker processes or not, small tasks or one, the
same index as the document-by-document build; the removed papers left out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bot.indexing as indexing
from bot.bench.generate import write_digests
from bot.core.index import Index
from bot.core.index.persist import ARRAYS
from bot.core.index.tokens import source
from bot.indexing import BuildTimes, build_index
from bot.ingest import reindex
from bot.store.db import Database
from bot.store.papers import PaperStore


async def test_worker_build_is_the_plain_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests = tmp_path / "digests"
    write_digests(digests, 1200, seed=3)
    db = await Database.open(tmp_path / "db.sqlite")
    try:
        result = await reindex(db, digests)
        store = PaperStore(db)
        papers = [x for batch in [b async for b in store.iter_papers()] for x in batch]
        lean = [x async for batch in store.iter_index_sources(batch_size=7) for x in batch]
        assert lean == [source(d, p) for d, p in papers]
        removed = {papers[5][0], papers[700][0]}
        plain = Index.from_papers([(d, p) for d, p in papers if d not in removed], version=9)
        monkeypatch.setattr(indexing, "TASK", 250)
        monkeypatch.setattr(indexing, "IN_FLIGHT", 2)
        seen: list[tuple[int, int]] = []
        for workers in (0, 2):
            times = BuildTimes()
            built = await build_index(
                store, 9, removed=removed, total=result.report.total, workers=workers,
                times=times, progress=lambda _stage, done, total: seen.append((done, total)),
            )  # fmt: skip
            assert times.workers == workers
            assert built.n_docs == len(papers) - 2
            for name in ARRAYS:
                assert np.array_equal(np.asarray(built._a[name]), np.asarray(plain._a[name]))
            assert built._meta == plain._meta
        assert seen[-1] == (len(papers) - 2, result.report.total)
    finally:
        await db.close()


async def test_large_reindex_rebuilds_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.catalogue as catalogue_module
    from bot.catalogue import Catalogue
    from bot.settings import Settings

    digests = tmp_path / "digests"
    write_digests(digests, 600, seed=4)
    built = {}
    for name, rebuild_at in (("update", 10**9), ("rebuild", 1)):
        monkeypatch.setattr(catalogue_module, "REBUILD_AT", rebuild_at)
        settings = Settings(
            digest_dir=digests,
            database_path=tmp_path / f"{name}.sqlite",
            index_dir=tmp_path / f"{name}-index",
        )
        catalogue = await Catalogue.open(settings)
        try:
            report = await catalogue.reindex()
            assert report.added == 600 and catalogue.index.n_docs == 600
            assert Index.saved_version(settings.index_dir) == catalogue.index.version
            built[name] = catalogue.index
        finally:
            await catalogue.close()
    for name in ARRAYS:
        a, b = np.asarray(built["update"]._a[name]), np.asarray(built["rebuild"]._a[name])
        assert np.array_equal(a, b), name
