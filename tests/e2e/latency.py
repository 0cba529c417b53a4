"""Interaction -> first response latency of the real bot, with N interactions in flight.

Not part of pytest (it takes minutes at 100k papers). Run from the repository root::

    python -m tests.e2e.latency                      # the seed digest
    python -m tests.e2e.latency --papers 100000      # a synthetic 100k-paper digest folder

It starts the Discord API double and ``python -m bot run`` (a fresh database, so the bot
ingests the folder on start), then sends ``--rounds`` waves of ``--in-flight`` interactions
at once — a mix of /search, /paper, /author, autocomplete and Next-button clicks — and
reports, per kind and overall, the time from INTERACTION_CREATE leaving the double to the
bot's first callback (``InteractionHandle.latency``), plus the time until the answer is
complete (a deferred answer completes with its follow-up).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.models import Paper
from bot.core.parser import parse_digest
from tests.discord_double import DiscordDouble, InteractionHandle
from tests.e2e.harness import SEEDS, BotProcess, bot_env
from tests.e2e.payloads import button, components

KINDS = ("search", "paper", "author", "autocomplete paper", "autocomplete author", "next")


@dataclass
class Sample:
    kind: str
    first: float  # seconds to the first callback
    complete: float  # seconds until the answer is complete
    deferred: bool


def _papers(folder: Path, limit: int = 2000) -> list[Paper]:
    out: list[Paper] = []
    for path in sorted(folder.glob("*.txt")):
        out.extend(parse_digest(path.read_bytes(), path.name).papers)
        if len(out) >= limit:
            break
    return out


def _queries(papers: list[Paper], rng: random.Random, n: int) -> list[str]:
    """One- and two-word queries made of title words (so most of them find something)."""
    queries: list[str] = []
    while len(queries) < n:
        words = [w.strip(":,.()") for w in rng.choice(papers).title.split()]
        words = [w for w in words if len(w) > 3 and w.isalpha()]
        if words:
            k = min(1 + len(queries) % 2, len(words))
            queries.append(" ".join(rng.sample(words, k)).lower())
    return queries


def _generate(papers: int, work: Path) -> Path:
    out = work / f"digests-{papers}"
    if out.is_dir() and any(out.glob("*.txt")):
        print(f"reusing {out}", flush=True)
        return out
    print(f"generating {papers:,} papers in {out} ...", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "generate",
            "--papers",
            str(papers),
            "--out",
            str(out),
            "--per-file",
            str(max(papers // 10, 1000)),
        ],
        check=True,
    )
    return out


async def _timed(kind: str, start: Callable[[], Awaitable[InteractionHandle]]) -> Sample:
    handle = await start()
    callback = await handle.response(timeout=10)
    deferred = callback["type"] in (5, 6)
    if callback["type"] == 5:
        await handle.wait_for_message(timeout=30)
    done = time.perf_counter() - (handle.dispatched_at or handle.created_at)
    assert handle.latency is not None
    return Sample(kind, handle.latency, done if deferred else handle.latency, deferred)


async def measure(
    digests: Path,
    *,
    rounds: int,
    in_flight: int,
    seed: int,
    work: Path,
    kinds: tuple[str, ...] = KINDS,
    warmup: int = 0,
    verbose: bool = False,
    bot_extra: dict[str, str] | None = None,
) -> list[Sample]:
    rng = random.Random(seed)
    papers = _papers(digests)
    queries = _queries(papers, rng, 200)
    # Schema validation (jsonschema, in the double's request handler) would be counted in
    # the bot's latency; the size-limit checks stay on.
    async with DiscordDouble(validate_schema=False) as double:
        env = bot_env(
            work,
            token=double.token,
            api_base=double.api_base,
            digest_dir=digests,
            extra={"LOG_LEVEL": "WARNING", **(bot_extra or {})},
        )
        bot = BotProcess(work, env, work / "bot.log")
        started = time.perf_counter()
        bot.start()
        try:
            await bot.wait_ready(double, identify=1, timeout=1800)
            await double.wait_for_commands(names={"search"}, timeout=60)
            print(
                f"bot ready in {time.perf_counter() - started:.1f} s (ingest + index)", flush=True
            )
            # Messages with a Next button to click.
            pages: list[dict[str, Any]] = []
            for q in [q.split()[0] for q in queries[:40]]:
                h = await double.invoke_slash("search", {"query": q, "limit": 3})
                msg = await h.wait_for_message(timeout=30)
                if any(
                    c.get("label") == "Next ▶" and not c.get("disabled") for c in components(msg)
                ):
                    pages.append(msg)
            if not pages:
                raise SystemExit("no multi-page search result to click Next on")
            double.clear_violations()

            def start_one(i: int) -> Awaitable[Sample]:
                kind = kinds[i % len(kinds)]
                paper = rng.choice(papers)
                if kind == "search":
                    q = rng.choice(queries)
                    return _timed(kind, lambda: double.invoke_slash("search", {"query": q}))
                if kind == "paper":
                    return _timed(kind, lambda: double.invoke_slash("paper", {"paper": paper.id}))
                if kind == "author":
                    name = paper.authors[0].display if paper.authors else "a"
                    return _timed(kind, lambda: double.invoke_slash("author", {"name": name}))
                if kind == "autocomplete paper":
                    typed = paper.title[: rng.randint(3, 12)]
                    return _timed(
                        kind,
                        lambda: double.autocomplete("paper", {"paper": typed}, focused="paper"),
                    )
                if kind == "autocomplete author":
                    typed = (paper.authors[0].last if paper.authors else "a")[:4]
                    return _timed(
                        kind, lambda: double.autocomplete("author", {"name": typed}, focused="name")
                    )
                msg = rng.choice(pages)
                custom_id = str(button(msg, "Next")["custom_id"])
                return _timed(kind, lambda: double.click(msg, custom_id, user=double.moderator))

            samples: list[Sample] = []
            for r in range(warmup + rounds):
                wave = await asyncio.gather(
                    *(start_one(r * in_flight + i) for i in range(in_flight))
                )
                if r >= warmup:
                    samples.extend(wave)
                if verbose:
                    worst = max(wave, key=lambda w: w.first)
                    print(f"wave {r}: max {worst.first * 1000:.0f} ms ({worst.kind})", flush=True)
            double.assert_no_violations()
            return samples
        finally:
            await bot.stop()


def _row(name: str, values: list[float]) -> str:
    ms = sorted(v * 1000 for v in values)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    return f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {p95:.1f} | {ms[-1]:.1f} |"


def report(samples: list[Sample], title: str) -> str:
    lines = [
        f"### {title}",
        "",
        "| interactions | n | median ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    by_kind: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_kind[s.kind].append(s)
    for kind in KINDS:
        if by_kind[kind]:
            lines.append(_row(kind, [s.first for s in by_kind[kind]]))
    lines.append(_row("**all (first response)**", [s.first for s in samples]))
    lines.append(_row("all (answer complete)", [s.complete for s in samples]))
    deferred = sum(s.deferred for s in samples)
    lines += ["", f"{deferred} of {len(samples)} answers were deferred."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--papers", type=int, default=0, help="synthetic corpus size (0: the seed digest)"
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--in-flight", type=int, default=20)
    parser.add_argument("--verbose", action="store_true", help="print each wave's worst")
    parser.add_argument(
        "--asyncio-debug",
        action="store_true",
        help="run the bot with PYTHONASYNCIODEBUG=1 (logs event-loop stalls "
        "over 100 ms to its log)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="waves sent first and not counted (lazy caches of a fresh index)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--kinds", default=",".join(KINDS), help=f"comma-separated subset of: {', '.join(KINDS)}"
    )
    parser.add_argument(
        "--digests",
        type=Path,
        default=None,
        help="use this digest folder (e.g. from `digest-bot generate`)",
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="working folder (corpora are reused from here)"
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="digest-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.digests is not None:
        digests = args.digests
    else:
        digests = _generate(args.papers, work) if args.papers else SEEDS
    # The bot's database and index live here; a second run on the same folder reuses them
    # (no ingest at start), so only the first run pays for indexing.
    run_dir = work / f"run-{digests.name}"
    run_dir.mkdir(exist_ok=True)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        parser.error(f"unknown kinds: {sorted(unknown)}")
    samples = asyncio.run(
        measure(
            digests,
            rounds=args.rounds,
            in_flight=args.in_flight,
            seed=args.seed,
            work=run_dir,
            kinds=kinds,
            warmup=args.warmup,
            verbose=args.verbose,
            bot_extra={"PYTHONASYNCIODEBUG": "1"} if args.asyncio_debug else None,
        )
    )
    size = f"{args.papers:,} synthetic papers" if args.papers else f"digests in {digests}"
    warm = f", after {args.warmup} warm-up waves" if args.warmup else ""
    print(report(samples, f"{size}, {args.in_flight} in flight × {args.rounds} rounds{warm}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
