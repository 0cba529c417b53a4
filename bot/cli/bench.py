"""``digest-bot generate`` and ``digest-bot bench``: the command-line face of :mod:`bot.bench`.

``generate --papers N --out DIR [--seed S] [--per-file K]`` writes seeded synthetic digests
(:mod:`bot.bench.generate`). ``bench [--sizes 10000,100000,1000000] [--out docs/benchmarks.md]``
measures ingest, index build, search (against rank-bm25) and alert matching at each size on a
generated corpus (:mod:`bot.bench.runner`) and writes the Markdown report after each size.
``bench --only alerts`` runs only the alert-matching benchmark, on generated digests, and
prints its Markdown section (``--append FILE`` also appends it to a file).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.bench.alerts import CATALOGUE_SAMPLE, DEFAULT_COUNTS
from bot.cli.common import EXIT_NOT_APPLIED, EXIT_OK, EXIT_USAGE, print_error

if TYPE_CHECKING:
    from bot.core.text import FieldWeights


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gen = subparsers.add_parser(
        "generate",
        help="write seeded synthetic digests",
        description="Write N synthetic papers as digest files in the real format.",
    )
    gen.add_argument("--papers", type=int, required=True, metavar="N")
    gen.add_argument("--out", type=Path, required=True, metavar="DIR")
    gen.add_argument("--seed", type=int, default=0, metavar="S")
    gen.add_argument("--per-file", type=int, default=1000, metavar="K")
    gen.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    gen.set_defaults(func=cmd_generate)

    bench = subparsers.add_parser(
        "bench",
        help="benchmark ingest, index, search and alert matching",
        description="Benchmark at several corpus sizes and write the results as Markdown.",
    )
    bench.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated sizes")
    bench.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"), metavar="FILE")
    bench.add_argument("--seed", type=int, default=0, metavar="S")
    bench.add_argument(
        "--work", type=Path, default=Path("/tmp/digest-bot-bench"), metavar="DIR",
        help="where corpora (reused between runs), databases and indexes go",
    )  # fmt: skip
    bench.add_argument(
        "--repeat", type=int, default=3,
        help="runs of each query; best of this many for alert matching",
    )  # fmt: skip
    bench.add_argument(
        "--rank-bm25-max", type=int, default=1_000_000, metavar="N",
        help="largest size at which plain rank-bm25 runs (its memory: ~4 GB at 1M)",
    )  # fmt: skip
    bench.add_argument(
        "--rank-bm25-queries", type=int, default=40, metavar="Q",
        help="at most this many queries for rank-bm25 at sizes above 100k",
    )  # fmt: skip
    alerts = bench.add_argument_group("alert matching")
    alerts.add_argument(
        "--only", choices=("alerts", "relevance"),
        help="run only the alert-matching benchmark (alerts) or the known-item relevance "
        "benchmark (relevance, at each of --sizes), on generated digests, and print its "
        "Markdown section (--out, --work and --rank-bm25-* are then not used)",
    )  # fmt: skip
    alerts.add_argument(
        "--counts", default=",".join(map(str, DEFAULT_COUNTS)), metavar="N,N,...",
        help="subscription counts (default %(default)s)",
    )  # fmt: skip
    alerts.add_argument(
        "--catalogue", type=int, default=CATALOGUE_SAMPLE, metavar="N",
        help="papers the synthetic subscriptions are drawn from (default %(default)s)",
    )  # fmt: skip
    alerts.add_argument(
        "--new-papers", type=int, metavar="N",
        help="with --only alerts: new papers matched against them (default 1000)",
    )  # fmt: skip
    alerts.add_argument(
        "--append", type=Path, metavar="FILE",
        help="with --only alerts or relevance: also append the section to FILE",
    )  # fmt: skip
    relevance = bench.add_argument_group("known-item relevance (--only relevance)")
    relevance.add_argument(
        "--queries", type=int, default=1000, metavar="Q",
        help="queries of each kind (default %(default)s)",
    )  # fmt: skip
    relevance.add_argument(
        "--weights", default=None, metavar="T/A/V,...",
        help="field weightings to compare: title/authors/venue copies (default: the current "
        "one, and 2/1/0 without the known-item order as the baseline)",
    )  # fmt: skip
    bench.set_defaults(func=cmd_bench)


def cmd_generate(args: argparse.Namespace) -> int:
    from bot.bench.generate import write_digests

    if args.papers < 1 or args.per_file < 1:
        print_error("--papers and --per-file must be at least 1")
        return EXIT_USAGE
    started = time.perf_counter()
    try:
        files = write_digests(
            args.out, args.papers, seed=args.seed, per_file=args.per_file, workers=args.workers
        )
    except OSError as exc:
        print_error(f"cannot write to {args.out}: {exc.strerror or exc}")
        return EXIT_NOT_APPLIED
    print(
        f"wrote {args.papers:,} papers in {len(files)} files to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return EXIT_OK


def _numbers(text: str) -> list[int] | None:
    """``10000,100_000`` -> [10000, 100000]; None unless every one is a positive integer."""
    try:
        numbers = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        return None
    return numbers if numbers and all(n >= 1 for n in numbers) else None


def cmd_bench(args: argparse.Namespace) -> int:
    counts = _numbers(args.counts)
    if counts is None:
        print_error(f"--counts must be comma-separated positive numbers, got {args.counts!r}")
        return EXIT_USAGE
    if args.catalogue < 1 or args.repeat < 1:
        print_error("--catalogue and --repeat must be at least 1")
        return EXIT_USAGE
    if args.only == "alerts":
        return _bench_alerts(args, counts)
    if args.only == "relevance":
        return _bench_relevance(args)
    if args.new_papers is not None or args.append is not None:
        print_error("--new-papers and --append go with --only alerts")
        return EXIT_USAGE
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print_error(f"--sizes must be comma-separated numbers, got {args.sizes!r}")
        return EXIT_USAGE
    from bot.bench.runner import Options, run

    options = Options(
        work=args.work,
        seed=args.seed,
        repeat=args.repeat,
        rank_bm25_max=args.rank_bm25_max,
        rank_bm25_queries=args.rank_bm25_queries,
        alert_counts=counts,
        alert_catalogue=args.catalogue,
    )
    command = "digest-bot " + " ".join(sys.argv[1:]) if sys.argv[1:] else "digest-bot bench"
    run(sizes, options, args.out, command)
    print(f"wrote {args.out}")
    return EXIT_OK


def _bench_alerts(args: argparse.Namespace, counts: list[int]) -> int:
    from bot.bench.alerts import bench_generated, markdown

    new_papers = 1_000 if args.new_papers is None else args.new_papers
    if new_papers < 1:
        print_error("--new-papers must be at least 1")
        return EXIT_USAGE
    results = bench_generated(
        seed=args.seed,
        counts=counts,
        new_papers=new_papers,
        catalogue_papers=args.catalogue,
        repeat=args.repeat,
    )
    command = "digest-bot bench --only alerts" + (f" --seed {args.seed}" if args.seed else "")
    text = markdown(results, command, args.repeat)
    if args.append is not None:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    print(text)
    return EXIT_OK


def _weightings(text: str | None) -> list[tuple[FieldWeights, bool]] | None:
    """``10/3/0,2/1/0-`` -> [(weights, known-item order)]: a trailing ``-`` is BM25 order."""
    from bot.core.text import FIELD_WEIGHTS, FieldWeights

    if text is None:
        return [(FieldWeights(2, 1, 0), False), (FIELD_WEIGHTS, True)]
    out: list[tuple[FieldWeights, bool]] = []
    for spec in (s.strip() for s in text.split(",") if s.strip()):
        parts = spec.rstrip("-").split("/")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            return None
        title, authors, venue = map(int, parts)
        if title < 1:
            return None
        out.append((FieldWeights(title, authors, venue), not spec.endswith("-")))
    return out or None


def _bench_relevance(args: argparse.Namespace) -> int:
    from bot.bench.relevance import corpus, markdown, measure

    sizes = _numbers(args.sizes)
    weightings = _weightings(args.weights)
    if sizes is None or weightings is None or args.queries < 1:
        print_error(
            "--sizes must be positive numbers, --weights like 10/3/0,2/1/0- (title at least 1; "
            "a trailing - without the known-item order), --queries at least 1"
        )
        return EXIT_USAGE
    texts = []
    for size in sizes:
        papers = corpus(size, args.seed)
        rows = []
        for weights, tiers in weightings:
            by_kind, _ = measure(papers, weights, args.queries, args.seed, tiers=tiers)
            rows.append((weights, tiers, by_kind))
        texts.append(markdown(size, rows))
    text = "\n".join(texts)
    if args.append is not None:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    print(text)
    return EXIT_OK
