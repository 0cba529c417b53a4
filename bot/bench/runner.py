"""The benchmark at one corpus size, on a generated corpus through the real store and index.

* ingest (``bot.ingest.reindex`` into a fresh SQLite database), index build from the store
  (read, tokenize, build, save), the main process's peak RSS;
* the search measurements (:mod:`bot.bench.search`): the seeded query mix, the fresh-process
  probe, rank-bm25 and the speed references;
* the typo-tolerant lookups (:mod:`bot.bench.lookups`): ``/paper`` by a misspelt title, the
  autocompletes, their hit rates;
* adding one 1,000-paper digest (``Catalogue.reindex``: ingest + incremental index update +
  save);
* the alert-matching section (:func:`bot.bench.alerts.corpus_section`).

:func:`run` does every size and writes the report (:mod:`bot.bench.report`) after each.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bench import alerts, lookups
from bot.bench.generate import write_digests
from bot.bench.measure import in_process, peak_rss_children_mb, peak_rss_mb, say
from bot.bench.report import report
from bot.bench.search import probe, query_mix, references


@dataclass(frozen=True)
class Options:
    """How to run the benchmark (``digest-bot bench``'s options)."""

    work: Path = Path("/tmp/digest-bot-bench")  # corpora (reused), databases, indexes
    seed: int = 0
    repeat: int = 3  # runs of each query; best of this many for alert matching
    rank_bm25_max: int = 1_000_000  # largest size at which plain rank-bm25 runs
    rank_bm25_queries: int = 40  # at most this many queries for rank-bm25 above 100k
    alert_counts: Sequence[int] = alerts.DEFAULT_COUNTS
    alert_catalogue: int = alerts.CATALOGUE_SAMPLE


@dataclass
class BenchContext:
    """One size's files: the corpus, the run's database and index, the digest to add."""

    size: int
    seed: int
    corpus: Path
    database: Path
    index_dir: Path
    extra_digest: Path
    next_digest: Path | None = None  # added after extra_digest, by the same process


def _corpus(work: Path, size: int, seed: int) -> tuple[Path, Path, Path]:
    corpus = work / f"corpus-s{seed}-{size}"
    marker = corpus / ".complete"
    if not marker.exists():
        shutil.rmtree(corpus, ignore_errors=True)
        write_digests(corpus, size, seed=seed, workers=min(2, os.cpu_count() or 1))
        marker.write_text("ok")
    added: list[Path] = []
    for name, after in (("extra", 0), ("next", 1)):  # the digests added, in turn, after it
        folder = work / f"{name}-s{seed}-{size}"
        if not (folder / ".complete").exists():
            shutil.rmtree(folder, ignore_errors=True)
            write_digests(folder, 1000, seed=seed, start=(size + 999) // 1000 + after)
            (folder / ".complete").write_text("ok")
        added.append(next(folder.glob("*.txt")))
    return corpus, added[0], added[1]


async def _ingest(ctx: BenchContext, digests: Path) -> dict[str, Any]:
    from bot.ingest import reindex
    from bot.store.db import Database

    out: dict[str, Any] = {}
    db = await Database.open(ctx.database)
    try:
        t0 = time.perf_counter()
        result = await reindex(db, digests, follow_symlinks=True)  # links to the cached corpus
        out["ingest_s"] = time.perf_counter() - t0
        out["papers"] = result.report.total
    finally:
        await db.close()
    out["peak_rss_ingest_mb"] = peak_rss_mb()
    return out


async def _build(database: Path, index_dir: Path) -> dict[str, Any]:
    """The bot's build from the store (Catalogue's rebuild: bot.indexing.build_index, worker
    processes when large), then the save."""
    from bot.indexing import BuildTimes, build_index
    from bot.store.db import Database
    from bot.store.papers import PaperStore

    out: dict[str, Any] = {}
    db = await Database.open(database)
    try:
        store = PaperStore(db)
        state = await store.catalogue_state()
        t0 = time.perf_counter()
        times = BuildTimes()
        index = await build_index(
            store,
            state.version,
            removed=await store.removed_rowids(),
            total=(await store.stats()).papers,
            times=times,
        )
        out["index_arrays_s"] = times.arrays_s
        out["index_read_s"] = times.read_s
        out["index_tokenize_s"] = times.tokenize_s
        out["index_workers"] = times.workers
        t2 = time.perf_counter()
        index.save(index_dir, stamp=state.stamp)  # bound to the database, as the bot does
        out["index_save_s"] = time.perf_counter() - t2
        out["index_build_s"] = time.perf_counter() - t0
        files = [f for f in index_dir.rglob("*") if f.is_file()]
        out["index_disk_mb"] = sum(f.stat().st_size for f in files) / 1e6
    finally:
        await db.close()
    return out


def _build_process(database: str, index_dir: str, conn: Any) -> None:
    """:func:`_build` in a fresh process (as a bot start without a saved index): its own
    peak RSS and its workers'."""
    out = asyncio.run(_build(Path(database), Path(index_dir)))
    out["peak_rss_build_mb"] = peak_rss_mb()
    out["peak_rss_worker_mb"] = peak_rss_children_mb()  # each worker's, at most
    conn.send(out)
    conn.close()


def _ingest_and_build(ctx: BenchContext, digests: Path) -> dict[str, Any]:
    out = asyncio.run(_ingest(ctx, digests))
    out.update(in_process(_build_process, str(ctx.database), str(ctx.index_dir)))
    return out


async def _add_digest(ctx: BenchContext, digests: Path) -> dict[str, Any]:
    from bot.catalogue import Catalogue
    from bot.settings import Settings

    settings = Settings(
        digest_dir=digests,
        database_path=ctx.database,
        index_dir=ctx.index_dir,
        follow_symlinks=True,  # the digests are links to the cached corpus
    )
    catalogue = await Catalogue.open(settings)
    try:
        before = catalogue.index.n_docs
        out: dict[str, Any] = {"docs_before": before}
        # the first add of a fresh process (as `digest-bot reindex`), then the next one (a
        # running bot's): the second finds the process's caches and memory in use
        for key, digest in (("add_digest", ctx.extra_digest), ("add_next", ctx.next_digest)):
            if digest is None:
                continue
            (digests / digest.name).symlink_to(digest.resolve())
            ingested = [0.0]

            def progress(stage: str, _done: int, _total: int, at: list[float] = ingested) -> None:
                if stage != "index":  # the ingest's stages (parse, write), then the index's
                    at[0] = time.perf_counter()

            t0 = time.perf_counter()
            reindexed = await catalogue.reindex(progress=progress)
            out[f"{key}_s"] = time.perf_counter() - t0
            # until the ingest's last report (its last write), then the index update + save
            out[f"{key}_ingest_s"] = max(0.0, ingested[0] - t0)
            out[f"{key}_added"] = reindexed.added
            if key == "add_digest":
                out["docs_after"] = catalogue.index.n_docs
        return out
    finally:
        await catalogue.close()


def bench_size(options: Options, size: int) -> dict[str, Any]:
    """Every measurement at one size (the corpus is generated once and kept in ``work``)."""
    work = options.work
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    corpus, extra, after = _corpus(work, size, options.seed)
    gen_s = time.perf_counter() - t0
    run_dir = work / f"run-{size}"
    shutil.rmtree(run_dir, ignore_errors=True)
    digests = run_dir / "digests"
    digests.mkdir(parents=True)
    for f in sorted(corpus.glob("*.txt")):
        (digests / f.name).symlink_to(f.resolve())
    ctx = BenchContext(
        size=size, seed=options.seed, corpus=corpus, database=run_dir / "digest.db",
        index_dir=run_dir / "index", extra_digest=extra, next_digest=after,
    )  # fmt: skip
    res: dict[str, Any] = {"size": size, "generate_s": gen_s, "repeat": options.repeat}
    say(f"[{size:,}] ingest + index build ...")
    res.update(_ingest_and_build(ctx, digests))
    say(f"[{size:,}] query mix ...")
    queries = query_mix(ctx.index_dir, options.seed)
    res["queries"] = len(queries)
    res["query_kinds"] = {k: sum(1 for x, _ in queries if x == k) for k, _ in queries}
    say(f"[{size:,}] probe (fresh process) ...")
    res["probe"] = in_process(probe, str(ctx.index_dir), queries, options.repeat, str(ctx.database))
    if size <= options.rank_bm25_max and "tops" in res["probe"]:
        say(f"[{size:,}] rank-bm25 and references (fresh process) ...")
        cap = len(queries) if size <= 100_000 else options.rank_bm25_queries
        # rank-bm25 checks a spread of every kind when capped; tantivy answers every query
        res["references"] = in_process(
            references, str(ctx.database), res["probe"]["tops"], cap, options.repeat
        )
    say(f"[{size:,}] typo-tolerant lookups (fresh process) ...")
    res["lookups"] = in_process(
        lookups.probe, str(ctx.index_dir), str(ctx.database), options.seed, options.repeat
    )
    say(f"[{size:,}] add a 1,000-paper digest, then another ...")
    res.update(asyncio.run(_add_digest(ctx, digests)))
    say(f"[{size:,}] alert matching ...")
    alert_rows = alerts.corpus_section(
        ctx.corpus,
        ctx.extra_digest,
        seed=options.seed,
        counts=options.alert_counts,
        catalogue_papers=options.alert_catalogue,
        repeat=options.repeat,
    )
    res["sections"] = {"alert matching": alert_rows}
    res["probe"].pop("tops", None)
    return res


def run(sizes: Sequence[int], options: Options, out: Path, command: str) -> list[dict[str, Any]]:
    """Every size in turn; after each, the raw results (``out`` as .json) and the report."""
    started = time.perf_counter()
    results = []
    raw = out.with_suffix(".json")
    for size in sizes:
        results.append(bench_size(options, size))
        out.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(results, indent=1, default=str))
        out.write_text(report(results, command, time.perf_counter() - started))
    return results
