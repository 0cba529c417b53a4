"""Migration 0003 (identifiers, digest dates) upgrades an existing catalogue in place.

The fixture is a real schema-2 catalogue: the seed digest indexed by the code before 0003
(tests/store/fixtures/schema2_seed.sql). After the migration every paper keeps its id, rowid
and text, and a reindex with identifier lines adds them without changing an id.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from bot.core.models import NO_IDENTIFIERS
from bot.ingest import reindex
from bot.store.db import Database, load_migrations
from bot.store.papers import PaperStore
from tests.core.test_parser import SEED_IDS

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schema2_seed.sql"


def old_catalogue(path: Path) -> dict[str, tuple[object, ...]]:
    """Write the schema-2 catalogue to ``path``; return its papers' rows by id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(FIXTURE.read_text(encoding="utf-8"))
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        rows = conn.execute(
            "SELECT id, rowid, key, title, authors_raw, venue, abstract, first_seen, removed "
            "FROM papers"
        ).fetchall()
    finally:
        conn.close()
    return {str(r[0]): tuple(r[1:]) for r in rows}


async def test_an_existing_catalogue_upgrades_in_place_and_keeps_every_id(
    tmp_path: Path, seed_path: Path
) -> None:
    path = tmp_path / "db" / "digest.db"
    before = old_catalogue(path)
    assert sorted(before) == sorted(SEED_IDS)
    assert [m.version for m in load_migrations()][:3] == [1, 2, 3]

    db = await Database.open(path)
    try:
        assert db.schema_version == len(load_migrations())
        rows = await db.fetchall(
            "SELECT id, rowid, key, title, authors_raw, venue, abstract, first_seen, removed, "
            "url, arxiv_id, doi, pdf_url FROM papers"
        )
        after = {str(r[0]): tuple(r[1:9]) for r in rows}
        assert after == before
        assert all(tuple(r[9:]) == (None, None, None, None) for r in rows)
        store = PaperStore(db)
        papers = await store.get_papers(SEED_IDS)
        assert sorted(papers) == sorted(SEED_IDS)
        assert all(sp.paper.identifiers is NO_IDENTIFIERS for sp in papers.values())
        [digest] = await store.digests()
        assert digest.date is not None  # from the stored modification time

        # The seed again, now with identifier lines: same ids, identifiers gained.
        folder = tmp_path / "digests"
        folder.mkdir()
        text = seed_path.read_text(encoding="utf-8")
        first_abstract_end = text.index("\n\n\nStatistical physics")
        text = (
            text[:first_abstract_end]
            + "\n\nhttps://arxiv.org/abs/2412.01234v1\n"
            + text[first_abstract_end:]
        )
        shutil.copy(seed_path, folder / seed_path.name)
        (folder / seed_path.name).write_text(text, encoding="utf-8")
        result = await reindex(db, folder)
        assert result.report.added == 0 and result.report.updated == 1
        again = await store.get_papers(SEED_IDS)
        assert sorted(again) == sorted(SEED_IDS)
        assert again[SEED_IDS[0]].paper.identifiers.arxiv_id == "2412.01234"
        assert again[SEED_IDS[0]].paper.abstract == papers[SEED_IDS[0]].paper.abstract
    finally:
        await db.close()
