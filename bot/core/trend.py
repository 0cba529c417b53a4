"""Trends: how many papers of a set appeared in each digest over time (pure).

The store counts, per digest, the papers of a set (a query's matches, or every paper) and,
per venue as written, how many of them there are; :func:`count_trend` turns those counts
into a time series by digest date (digests of one date are added together; digests with no
match count 0, so the series shows the quiet dates too) and the top venues (spelling,
case and spacing of a venue folded; no venue is left out of the ranking, not counted).
A digest's date is the one people see (:mod:`bot.core.digests`): the ``YYYY-MM-DD`` in its
file name, else the date stored with it; a digest without either is counted as undated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from bot.core.digests import date_from_name

TOP_VENUES = 5


@dataclass(frozen=True, slots=True)
class DatedDigest:
    """A digest in the folder: its path and the date stored with it (``YYYY-MM-DD``)."""

    path: str
    date: str | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: date
    count: int  # papers of the set in the digests of that date
    digests: int  # digests of that date


@dataclass(frozen=True, slots=True)
class Trend:
    """Counts by digest date (ascending, every dated digest's date) and the top venues."""

    points: tuple[TrendPoint, ...]
    venues: tuple[tuple[str, int], ...]  # (venue, papers), most papers first
    papers: int  # papers in the set (each once, however many digests hold it)
    undated: int = 0  # appearances in digests with no date

    @property
    def appearances(self) -> int:
        """Papers counted over every digest (a paper in two digests counts twice)."""
        return sum(p.count for p in self.points) + self.undated

    @property
    def active(self) -> int:
        """Dates with at least one paper."""
        return sum(1 for p in self.points if p.count)

    @property
    def peak(self) -> TrendPoint | None:
        """The date with the most papers (the earliest of equals), None when all are 0."""
        best: TrendPoint | None = None
        for point in self.points:
            if point.count and (best is None or point.count > best.count):
                best = point
        return best


def digest_day(digest: DatedDigest) -> date | None:
    """The date a digest is shown with: from its file name, else its stored date."""
    named = date_from_name(digest.path)
    if named is not None:
        return named
    if not digest.date:
        return None
    try:
        return date.fromisoformat(digest.date)
    except ValueError:
        return None


def count_trend(
    digests: Iterable[DatedDigest],
    counts: Iterable[tuple[str, int]],
    venues: Iterable[tuple[str, int]] = (),
    *,
    papers: int,
    top: int = TOP_VENUES,
) -> Trend:
    """The trend of a set of ``papers``: ``counts`` are (digest path, papers of the set in it)
    and ``venues`` (venue as written, papers of the set) -- either may repeat a key (counts
    made in chunks are added). Digests in ``counts`` but not in ``digests`` are ignored."""
    per_digest: Counter[str] = Counter()
    for path, n in counts:
        per_digest[path] += n
    by_day: dict[date, list[int]] = {}
    undated = 0
    for digest in digests:
        n = per_digest.pop(digest.path, 0)
        day = digest_day(digest)
        if day is None:
            undated += n
            continue
        slot = by_day.setdefault(day, [0, 0])
        slot[0] += n
        slot[1] += 1
    points = tuple(TrendPoint(day, n, k) for day, (n, k) in sorted(by_day.items()))
    return Trend(points, top_venues(venues, top), papers, undated)


def top_venues(
    venues: Iterable[tuple[str, int]], top: int = TOP_VENUES
) -> tuple[tuple[str, int], ...]:
    """The ``top`` venues by papers (ties: by name); spellings differing only in case or
    spacing are one venue, shown as its most frequent spelling; no venue is not one."""
    totals: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for venue, n in venues:
        shown = " ".join(venue.split())
        if not shown or n <= 0:
            continue
        key = shown.casefold()
        totals[key] += n
        spellings.setdefault(key, Counter())[shown] += n
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[: max(0, top)]
    return tuple((_most_common(spellings[key]), n) for key, n in ranked)


def _most_common(spellings: Mapping[str, int]) -> str:
    return min(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0]
