"""The alert-matching benchmark, as a section of ``digest-bot bench`` and on its own.

In ``digest-bot bench`` (:func:`register_with_bench`): at each corpus size, the new papers
are the bench's extra 1,000-paper digest and the subscriptions are drawn from the corpus's
first digests (:mod:`bot.core.alerts_bench`).

On its own: ``python -m bot.cli.bench_alerts [--seed S] [--counts 1000,10000,100000]
[--append docs/benchmarks.md]`` benchmarks generated digests and prints (or appends) a
Markdown section.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.alerts_bench import (
    DEFAULT_COUNTS,
    TARGET_S,
    MatchingResult,
    bench_generated,
    bench_matching,
    format_results,
)
from bot.core.models import Paper
from bot.core.parser import parse_digest

if TYPE_CHECKING:  # bench.py may import this module to register the section
    from bot.cli.bench import BenchContext

CATALOGUE_SAMPLE = 2_000  # papers of the corpus the synthetic subscriptions are drawn from


def _papers(path: Path) -> list[Paper]:
    return list(parse_digest(path.read_bytes(), path.name).papers)


def _verdict(results: Sequence[MatchingResult]) -> str:
    at_max = max(results, key=lambda r: r.subscriptions)
    ok = at_max.matching_s <= TARGET_S
    total_ok = at_max.total_s <= TARGET_S
    return (
        f"{at_max.subscriptions:,} subscriptions x {at_max.papers:,} new papers: "
        f"{at_max.matching_s * 1000:.0f} ms to file and match (target <= {TARGET_S:g} s: "
        f"{'met' if ok else 'NOT met'}); with the batch's analysis (independent of the "
        f"subscriptions) {at_max.total_s * 1000:.0f} ms ({'also within' if total_ok else 'over'}"
        " the target)"
    )


def section_rows(results: Sequence[MatchingResult]) -> list[tuple[str, str]]:
    rows = [
        (
            f"{r.subscriptions:,} subscriptions",
            f"file + match {r.matching_s * 1000:.0f} ms, {r.alerts:,} alerts; "
            f"naive loop ~{r.naive_s:.1f} s; same alerts: {'yes' if r.identical else 'NO'}",
        )
        for r in results
    ]
    rows.append(("verdict", _verdict(results)))
    return rows


def alert_section(ctx: BenchContext) -> list[tuple[str, str]]:
    """The ``digest-bot bench`` section: the extra digest against the corpus's topics."""
    catalogue: list[Paper] = []
    for path in sorted(ctx.corpus.glob("*.txt")):
        catalogue.extend(_papers(path))
        if len(catalogue) >= CATALOGUE_SAMPLE:
            break
    batch = _papers(ctx.extra_digest)
    return section_rows(bench_matching(catalogue, batch, seed=ctx.seed))


def register_with_bench() -> None:
    """Add the "alert matching" section to ``digest-bot bench``."""
    from bot.cli.bench import register_section

    register_section("alert matching", alert_section)


def markdown(results: Sequence[MatchingResult], command: str, repeat: int = 3) -> str:
    cpu = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return "\n".join(
        [
            "## Alert matching (topic subscriptions)",
            "",
            f"`{command}` — Python {platform.python_version()}, {os.cpu_count()} CPUs ({cpu}), "
            f"load average {load} when it ended; best of {repeat}.",
            "",
            "1,000 new papers (a generated digest) against seeded synthetic subscriptions "
            "drawn from a 2,000-paper catalogue the way members pick topics: one to three "
            "specific title words, a title phrase, an author, a word with an author or a venue, "
            "sometimes an exclusion. *File + match* is the per-reindex cost "
            "(`SubscriptionIndex.build` with the batch's document frequencies, then "
            "`match_targets`); *analyse* builds the batch's match documents "
            "(`bot.core.query.match_doc`, the search pipeline) and does not depend on the "
            "subscriptions; *compile* is done once per subscription and kept by the bot. The "
            "naive loop asks `bot.core.query.matches` about every pair (timed on 1,000 "
            "subscriptions, scaled); on that sample both give identical alerts.",
            "",
            format_results(results),
            "",
            "Verdict: " + _verdict(results) + ".",
            "",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.cli.bench_alerts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--counts", default=",".join(str(c) for c in DEFAULT_COUNTS))
    parser.add_argument("--papers", type=int, default=1_000, help="new papers (default 1000)")
    parser.add_argument("--catalogue", type=int, default=2_000,
                        help="catalogue papers the subscriptions come from (default 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    parser.add_argument("--append", type=Path, metavar="FILE", help="append the section")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",") if c.strip()]
    results = bench_generated(seed=args.seed, counts=counts, new_papers=args.papers,
                              catalogue_papers=args.catalogue, repeat=args.repeat)
    command = "python -m bot.cli.bench_alerts" + (f" --seed {args.seed}" if args.seed else "")
    text = markdown(results, command, args.repeat)
    if args.append is not None:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
