"""Known-item relevance through the real search path (Catalogue on SQLite, seed + generated)."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.bench.generate import write_digests
from bot.catalogue import Catalogue
from bot.settings import Settings


async def test_seed_paper_first_for_scaling_laws_among_generated(
    tmp_path: Path, seed_path: Path
) -> None:
    digests = tmp_path / "digests"
    digests.mkdir()
    shutil.copy(seed_path, digests / seed_path.name)
    write_digests(digests, 2000, seed=0, per_file=1000, start=1)
    settings = Settings(
        digest_dir=digests, database_path=tmp_path / "db.sqlite", index_dir=tmp_path / "index"
    )
    catalogue = await Catalogue.open(settings)
    try:
        await catalogue.reindex()
        page = await catalogue.search("scaling laws")
        assert page.total > 50  # the generated papers compete
        ranked = [h.paper.paper.title for h in page.hits]
        assert ranked[0].startswith("Understanding Scaling Laws"), ranked
        second = await catalogue.search("scaling laws", limit=3, offset=1)
        assert [h.paper.paper.title for h in second.hits] == ranked[1:4]
    finally:
        await catalogue.close()
