"""Counts for trends (:mod:`bot.core.trend`): papers of a set per digest and per venue.

A set of papers is given by document numbers (``papers.rowid``, the search index's docnos),
sent in chunks as one JSON list each (one bound parameter, no limit on host parameters).
Only appearances in a digest's latest content (``paper_digests.present``) in digests still
in the folder are counted. SQL lives here (and in the other ``bot.store`` modules) only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.core.trend import DatedDigest
from bot.store.db import Database

CHUNK = 50_000  # document numbers per query


class TrendStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def digests(self) -> list[DatedDigest]:
        """Every digest in the folder, with its stored date."""
        rows = await self.db.fetchrows("SELECT path, date FROM digests WHERE present = 1")
        return [DatedDigest(str(path), None if d is None else str(d)) for path, d in rows]

    async def digest_sizes(self) -> list[tuple[str, int]]:
        """(path, papers in its latest content) of every digest in the folder."""
        rows = await self.db.fetchrows("SELECT path, paper_count FROM digests WHERE present = 1")
        return [(str(path), int(n)) for path, n in rows]

    async def digest_counts(self, docnos: Sequence[int]) -> list[tuple[str, int]]:
        """(digest path, how many of ``docnos`` it holds), one row per digest and chunk."""
        out: list[tuple[str, int]] = []
        for start in range(0, len(docnos), CHUNK):
            chunk = json.dumps([int(d) for d in docnos[start : start + CHUNK]])
            # CROSS JOIN fixes the join order: from the papers asked, never a scan.
            rows = await self.db.fetchrows(
                "SELECT d.path, count(*) FROM json_each(?) j "
                "CROSS JOIN paper_digests pd ON pd.paper = j.value AND pd.present = 1 "
                "CROSS JOIN digests d ON d.id = pd.digest AND d.present = 1 "
                "GROUP BY d.id",
                (chunk,),
            )
            out.extend((str(path), int(n)) for path, n in rows)
        return out

    async def venue_counts(self, docnos: Sequence[int]) -> list[tuple[str, int]]:
        """(venue as written, how many of ``docnos`` have it), one row per venue and chunk."""
        out: list[tuple[str, int]] = []
        for start in range(0, len(docnos), CHUNK):
            chunk = json.dumps([int(d) for d in docnos[start : start + CHUNK]])
            rows = await self.db.fetchrows(
                "SELECT p.venue, count(*) FROM json_each(?) j "
                "CROSS JOIN papers p ON p.rowid = j.value GROUP BY p.venue",
                (chunk,),
            )
            out.extend((str(venue), int(n)) for venue, n in rows)
        return out
