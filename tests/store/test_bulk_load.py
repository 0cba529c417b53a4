"""The bulk load (the first reindex of an empty catalogue, bot.ingest.bulk) writes exactly the
catalogue the general path writes: same rows in every table (times aside), same report."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bot.bench.generate import write_digests
from bot.ingest import IngestResult, bulk, reindex
from bot.store.db import Database

REPO = Path(__file__).resolve().parents[2]
_TIMES = {"indexed_at", "first_seen", "updated_at"}


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    con = sqlite3.connect(path)
    try:
        out = {}
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cols = [r[1] for r in con.execute(f"PRAGMA table_info({table})") if r[1] not in _TIMES]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2").fetchall()
            if table == "meta":
                rows = [r for r in rows if r[0] == "catalogue_version"]
            out[table] = rows
        return out
    finally:
        con.close()


async def _ingest(folder: Path, database: Path, *, use_bulk: bool) -> IngestResult:
    db = await Database.open(database)
    try:
        return await reindex(db, folder, bulk=use_bulk)
    finally:
        await db.close()


def _same_report(a: IngestResult, b: IngestResult) -> None:
    ra, rb = a.report, b.report
    assert (ra.added, ra.total, ra.updated, ra.removed, ra.applied) == (
        rb.added, rb.total, rb.updated, rb.removed, rb.applied,
    )  # fmt: skip
    assert ra.files == rb.files
    assert ra.diagnostics == rb.diagnostics
    assert ra.new_paper_ids == rb.new_paper_ids
    assert a.changed == b.changed
    assert a.version == b.version


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Generated digests, the seed, a digest with a bad entry and an unreadable file."""
    path = tmp_path / "digests"
    write_digests(path, 2_500, seed=3, per_file=900)
    shutil.copy(REPO / "seeds" / "000_3fb66f32c462d8d6.txt", path / "seed-2024-05-01.txt")
    shutil.copy(REPO / "tests" / "digests" / "bad" / "latin1.txt", path / "zz-latin1.txt")
    (path / "sub").mkdir()
    text = (REPO / "seeds" / "000_3fb66f32c462d8d6.txt").read_text(encoding="utf-8")
    lonely = "\n\n\n\nA Title With Nothing Else\n\n\n\n"  # an entry skipped, with a diagnostic
    (path / "sub" / "half.txt").write_text(text.replace("a", "e") + lonely, encoding="utf-8")
    return path


@pytest.mark.parametrize("pool", [False, True])
async def test_bulk_load_writes_what_the_general_path_writes(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pool: bool
) -> None:
    if pool:
        monkeypatch.setattr(bulk, "POOL_BYTES", 0)  # parse in worker processes
    loaded = await _ingest(folder, tmp_path / "bulk.db", use_bulk=True)
    general = await _ingest(folder, tmp_path / "general.db", use_bulk=False)
    assert loaded.report.total == general.report.total > 2_500
    assert any(f.status == "rejected" for f in loaded.report.files)
    assert any(d.file == "sub/half.txt" for d in loaded.report.diagnostics)
    _same_report(loaded, general)
    assert _dump(tmp_path / "bulk.db") == _dump(tmp_path / "general.db")


async def test_a_paper_twice_leaves_it_to_the_general_path(folder: Path, tmp_path: Path) -> None:
    first = sorted(folder.glob("0*.txt"))[0]
    shutil.copy(first, folder / "zz-2030-01-01-again.txt")  # every paper of it twice, newer
    loaded = await _ingest(folder, tmp_path / "bulk.db", use_bulk=True)
    general = await _ingest(folder, tmp_path / "general.db", use_bulk=False)
    _same_report(loaded, general)
    assert _dump(tmp_path / "bulk.db") == _dump(tmp_path / "general.db")


async def test_many_papers_are_not_listed(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "LIST_AT", 1_000)
    loaded = await _ingest(folder, tmp_path / "bulk.db", use_bulk=True)
    assert loaded.unlisted and not loaded.changed
    assert len(loaded.report.new_paper_ids) == loaded.report.total


async def test_a_catalogue_with_papers_takes_the_general_path(folder: Path, tmp_path: Path) -> None:
    first = await _ingest(folder, tmp_path / "db.db", use_bulk=True)
    again = await _ingest(folder, tmp_path / "db.db", use_bulk=True)
    assert first.report.added > 0 and again.report.added == 0
    assert again.report.unchanged == first.report.total
