"""The lookup benchmark: seeded typo'd queries, the probe's figures and the report's lines."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from rapidfuzz.distance import OSA

from bot.bench import lookups
from bot.bench.generate import write_digests
from bot.catalogue import Catalogue
from bot.settings import Settings


def test_typo_is_one_or_two_edits_away() -> None:
    rng = random.Random(3)
    for word in ["scaling", "laws", "superchem", "camille", "barbier"] * 40:
        typo = lookups.typo(rng, word)
        assert typo != word and 1 <= OSA.distance(typo, word) <= (1 if len(word) <= 5 else 2)


class _Pipe:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send(self, value: dict[str, Any]) -> None:
        self.sent.append(value)

    def close(self) -> None:
        pass


def test_probe_on_a_small_catalogue(tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    write_digests(digests, 400, seed=1, per_file=200)
    settings = Settings(
        digest_dir=digests, database_path=tmp_path / "d.db", index_dir=tmp_path / "index"
    )

    async def build() -> None:
        catalogue = await Catalogue.open(settings)
        await catalogue.reindex()
        await catalogue.close()

    asyncio.run(build())
    titles, authors = lookups.typo_queries(tmp_path / "index", 0)
    assert len(titles) == lookups.TITLES and len(authors) > 50
    assert (titles, authors) == lookups.typo_queries(tmp_path / "index", 0)  # seeded
    assert {k for k, *_ in titles} == {"typed", "cut"}
    pipe = _Pipe()
    lookups.probe(str(tmp_path / "index"), str(tmp_path / "d.db"), 0, 1, pipe)
    res = pipe.sent[0]
    assert set(res["cpu"]) >= {"paper", "find_titles", "similar", "suggest_authors"}
    # on 400 papers, the meant paper is found for nearly every typo'd title
    assert res["hit_rate"]["/paper first (all)"] >= 0.9
    assert res["hit_rate"]["find_authors among"] >= 0.8
    rows = dict(lookups.rows(res))
    assert "hit rate: /paper first (all)" in rows
    lines = lookups.targets(res, heading=True)
    assert lines[1] == "Targets:" and any("/paper by a typo'd title" in x for x in lines)
    assert lookups.rows(None) == [] and lookups.targets(None) == []
