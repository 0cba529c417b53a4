"""``digest-bot generate`` and ``digest-bot bench``.

``generate --papers N --out DIR [--seed S] [--per-file K]`` writes seeded synthetic digests
(:mod:`bot.core.generate`). ``bench [--sizes 10000,100000,1000000] [--out docs/benchmarks.md]``
measures, at each size, on a generated corpus through the real store and index:

* ingest (``bot.ingest.reindex`` into a fresh SQLite database), index build from the store
  (read, tokenize, build, save), the main process's peak RSS;
* in a fresh process: start to first answer (load the saved index, parse, search), RSS after
  the query mix (steady), the index's array bytes; search latency p50/p95/max over a fixed
  seeded query mix (common, rare, multi-term, phrase, author, venue, exclusion), and the same
  through ``Catalogue.search`` (store fetch and snippets included);
* adding one 1,000-paper digest (``Catalogue.reindex``: ingest + incremental index update +
  save);
* in another fresh process, plain rank-bm25 (``BM25Okapi.get_scores`` + sort) on the same token
  lists, with the top-10 ids and scores of every query checked against the index's; and, when
  installed, rank-bm25-rs and tantivy as speed references.

Sections can be added with :func:`register_section` (e.g. alert matching): each gets the
size's context and returns rows for the report.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import resource
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.cli.common import EXIT_OK, EXIT_USAGE, print_error

# name -> function(context) -> list of (label, value) rows; see register_section
SECTIONS: dict[str, Callable[[BenchContext], list[tuple[str, str]]]] = {}


@dataclass
class BenchContext:
    """What a bench section gets: the size, the seed and the run's files."""

    size: int
    seed: int
    corpus: Path
    database: Path
    index_dir: Path
    extra_digest: Path
    results: dict[str, Any] = field(default_factory=dict)


def register_section(name: str, fn: Callable[[BenchContext], list[tuple[str, str]]]) -> None:
    """Add a section to every size's report (e.g. "alert matching")."""
    SECTIONS[name] = fn


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
        help="benchmark ingest, index and search",
        description="Benchmark at several corpus sizes and write the results as Markdown.",
    )
    bench.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated sizes")
    bench.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"), metavar="FILE")
    bench.add_argument("--seed", type=int, default=0, metavar="S")
    bench.add_argument(
        "--work", type=Path, default=Path("/tmp/digest-bot-bench"), metavar="DIR",
        help="where corpora (reused between runs), databases and indexes go",
    )  # fmt: skip
    bench.add_argument("--repeat", type=int, default=3, help="runs of each query")
    bench.add_argument(
        "--rank-bm25-max", type=int, default=1_000_000, metavar="N",
        help="largest size at which plain rank-bm25 runs (its memory: ~4 GB at 1M)",
    )  # fmt: skip
    bench.add_argument(
        "--rank-bm25-queries", type=int, default=40, metavar="Q",
        help="at most this many queries for rank-bm25 at sizes above 100k",
    )  # fmt: skip
    bench.set_defaults(func=cmd_bench)


def cmd_generate(args: argparse.Namespace) -> int:
    from bot.core.generate import write_digests

    if args.papers < 1 or args.per_file < 1:
        print_error("--papers and --per-file must be at least 1")
        return EXIT_USAGE
    started = time.perf_counter()
    files = write_digests(
        args.out, args.papers, seed=args.seed, per_file=args.per_file, workers=args.workers
    )
    print(
        f"wrote {args.papers:,} papers in {len(files)} files to {args.out} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# measuring helpers
# --------------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size now (MB), from /proc (0 when unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _lat(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {
        "p50": percentile(ms, 0.5),
        "p95": percentile(ms, 0.95),
        "max": max(ms) if ms else float("nan"),
    }


# --------------------------------------------------------------------------------------------
# the query mix
# --------------------------------------------------------------------------------------------


def query_mix(index_dir: Path, seed: int) -> list[tuple[str, str]]:
    """A fixed, seeded mix of (kind, query) drawn from the indexed corpus."""
    import numpy as np

    from bot.core.index import Index
    from bot.core.query import QueryError, parse_query
    from bot.core.text import STOPWORDS, surface_words

    index = Index.load(index_dir)
    rng = random.Random(seed)
    docnos = index.docnos()
    df = np.diff(index._ptr)
    out: list[tuple[str, str]] = []

    def ok(text: str) -> bool:
        try:
            return index.search(parse_query(text), 1).total > 0
        except QueryError:
            return False

    def words_of(docno: int) -> list[str]:
        return [w for w in surface_words(index.title(docno)) if w not in STOPWORDS and w.isalpha()]

    by_df = np.argsort(-df, kind="stable")
    common = [index.term(int(t)) for t in by_df[:60]]
    rng.shuffle(common)
    out += [("common", t) for t in common if t.isalpha() and ok(t)][:20]
    rare_ids = np.flatnonzero((df >= 2) & (df <= 50))
    rare = [index.term(int(t)) for t in rng.sample(list(rare_ids), min(200, len(rare_ids)))]
    out += [("rare", t) for t in rare if t.isalpha() and ok(t)][:20]
    tries = 0
    while sum(1 for k, _ in out if k == "multi-term") < 40 and tries < 2000:
        tries += 1
        words = words_of(int(docnos[rng.randrange(len(docnos))]))
        if len(words) >= 2:
            q = " ".join(rng.sample(words, min(len(words), rng.choice((2, 2, 3)))))
            if ok(q):
                out.append(("multi-term", q))
    tries = 0
    while sum(1 for k, _ in out if k == "phrase") < 20 and tries < 2000:
        tries += 1
        words = words_of(int(docnos[rng.randrange(len(docnos))]))
        if len(words) >= 2:
            i = rng.randrange(len(words) - 1)
            q = f'"{words[i]} {words[i + 1]}"'
            if rng.random() < 0.3:
                q += " " + rng.choice(common)
            if ok(q):
                out.append(("phrase", q))
    tries = 0
    names = index.author_names()
    while sum(1 for k, _ in out if k == "author") < 20 and tries < 2000:
        tries += 1
        aid = rng.randrange(len(names))
        last = names[aid].split()[-1] if names[aid].split() else ""
        if not last or not any(c.isalpha() for c in last):
            continue
        q = f'author:"{last}"' if rng.random() < 0.5 else f'author:"{names[aid]}"'
        if rng.random() < 0.5:
            q += " " + rng.choice(common)
        if ok(q):
            out.append(("author", q))
    for venue in ("neurips", "icml", "iclr", "arxiv", "cvpr", "acl", "tmlr", "ml", "ai", "colt"):
        q = f"venue:{venue} {rng.choice(common)}"
        if ok(q):
            out.append(("venue", q))
    tries = 0
    while sum(1 for k, _ in out if k == "exclusion") < 10 and tries < 500:
        tries += 1
        q = f"{rng.choice(common)} -{rng.choice(common)}"
        if ok(q):
            out.append(("exclusion", q))
    return out


# --------------------------------------------------------------------------------------------
# the probe: a fresh process that loads the saved index and answers the mix
# --------------------------------------------------------------------------------------------


def _probe(index_dir: str, queries: list[tuple[str, str]], repeat: int, db: str, conn: Any) -> None:
    started = time.perf_counter()
    from bot.core.index import Index
    from bot.core.query import parse_query

    index = Index.load(index_dir)
    first = index.search(parse_query(queries[0][1]), 10)
    start_to_answer = time.perf_counter() - started
    rss_first = rss_mb()
    parsed = [(kind, q, parse_query(q)) for kind, q in queries]
    times: dict[str, list[float]] = {}
    all_times: list[float] = []
    cpu_times: list[float] = []
    tops: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    for r in range(repeat):
        for kind, q, pq in parsed:
            c0 = time.thread_time()
            t0 = time.perf_counter()
            res = index.search(parse_query(q), 10)
            dt = time.perf_counter() - t0
            cpu_times.append(time.thread_time() - c0)
            times.setdefault(kind, []).append(dt)
            all_times.append(dt)
            if r == 0:
                tops.append(
                    {
                        "query": q,
                        "kind": kind,
                        "terms": list(pq.required_terms),
                        "filtered": bool(
                            pq.phrases or pq.authors or pq.venues or pq.has_exclusions
                        ),
                        "total": res.total,
                        "top": [(h.docno, h.score) for h in res.hits],
                        "or_top": [
                            (h.docno, h.score)
                            for h in index.search_terms(list(pq.required_terms), 10, mode="or").hits
                        ]
                        if pq.required_terms
                        else [],
                    }
                )
    # the match sets of filtered queries (for the rank-bm25 check), when not huge
    for t in tops:
        if t["filtered"] and t["total"] <= 200_000 and t["terms"]:
            res = index.search(parse_query(t["query"]), t["total"])
            t["match_set"] = sorted(h.docno for h in res.hits)
    steady = rss_mb()

    # through the Catalogue: store fetch + snippets (one run)
    async def through_catalogue() -> list[float]:
        from bot.catalogue import Catalogue
        from bot.settings import Settings

        settings = Settings(database_path=Path(db), index_dir=Path(index_dir))
        catalogue = await Catalogue.open(settings)
        out = []
        try:
            for _, q in queries:
                t0 = time.perf_counter()
                await catalogue.search(q, limit=10)
                out.append(time.perf_counter() - t0)
        finally:
            await catalogue.close()
        return out

    cat_times = asyncio.run(through_catalogue())
    conn.send(
        {
            "start_to_first_answer_s": start_to_answer,
            "first_total": first.total,
            "rss_after_first_mb": rss_first,
            "rss_steady_mb": steady,
            "index_bytes_mb": index.nbytes() / 1e6,
            "latency": _lat(all_times),
            "cpu_latency": _lat(cpu_times),
            "load": (load_before, os.getloadavg()[0]),
            "latency_by_kind": {k: _lat(v) for k, v in times.items()},
            "catalogue_latency": _lat(cat_times),
            "tops": tops,
            "n_docs": index.n_docs,
        }
    )
    conn.close()


# --------------------------------------------------------------------------------------------
# rank-bm25 and the speed references, in their own process
# --------------------------------------------------------------------------------------------


def _references(db: str, tops: list[dict[str, Any]], max_queries: int, conn: Any) -> None:
    import numpy as np

    from bot.core.text import document_stream
    from bot.store.db import Database
    from bot.store.papers import PaperStore

    async def corpus() -> tuple[list[int], list[list[str]]]:
        database = await Database.open(Path(db))
        try:
            store = PaperStore(database)
            removed = await store.removed_rowids()
            docnos: list[int] = []
            docs: list[list[str]] = []
            async for batch in store.iter_papers():
                for docno, p in batch:
                    if docno in removed:
                        continue
                    docnos.append(docno)
                    docs.append(
                        document_stream(p.title, p.abstract, [a.display for a in p.authors])[0]
                    )
            return docnos, docs
        finally:
            await database.close()

    docnos, docs = asyncio.run(corpus())
    docno_arr = np.asarray(docnos)
    out: dict[str, Any] = {}
    queries = tops[:max_queries]

    def ranked(scores: Any, allowed: Any | None) -> list[tuple[int, float]]:
        idx = np.arange(len(scores)) if allowed is None else allowed
        s = scores[idx]
        order = np.lexsort((docno_arr[idx], -s))[:10]
        return [(int(docno_arr[idx][i]), float(s[i])) for i in order]

    from rank_bm25 import BM25Okapi

    t0 = time.perf_counter()
    bm = BM25Okapi(docs)
    out["rank_bm25_build_s"] = time.perf_counter() - t0
    out["rank_bm25_rss_mb"] = rss_mb()
    times: list[float] = []
    same = 0
    same_or = 0
    checked = 0
    mismatches: list[str] = []
    for t in queries:
        terms = t["terms"]
        if not terms:
            continue
        t0 = time.perf_counter()
        scores = bm.get_scores(terms)
        np.argsort(scores)[::-1][:10]
        times.append(time.perf_counter() - t0)
        # AND: documents holding every term (from rank-bm25's own term counts) ...
        has_all = np.flatnonzero([all(q in f for q in terms) for f in bm.doc_freqs])
        if t["filtered"]:
            if "match_set" not in t:
                continue
            # ... and, for filtered queries, the index's match set (phrases, authors, ...)
            allowed = np.flatnonzero(np.isin(docno_arr, np.asarray(t["match_set"], dtype=np.int64)))
            if not set(allowed.tolist()) <= set(has_all.tolist()):
                mismatches.append(f"{t['query']}: a match lacks a required term")
                continue
        else:
            allowed = has_all
        checked += 1
        expect = ranked(scores, allowed)
        got = [(int(d), float(s)) for d, s in t["top"]]
        if expect == got:
            same += 1
        else:
            mismatches.append(f"{t['query']}: {got[:3]} vs {expect[:3]}")
        has_any = np.flatnonzero([any(q in f for q in terms) for f in bm.doc_freqs])
        if [(int(d), float(s)) for d, s in t["or_top"]] == ranked(scores, has_any):
            same_or += 1
        else:
            mismatches.append(f"{t['query']} (OR)")
    out["rank_bm25_latency"] = _lat(times)
    out["identity"] = {
        "checked": checked,
        "same_top10": same,
        "same_top10_or": same_or,
        "queries": len([t for t in queries if t["terms"]]),
        "mismatches": mismatches[:10],
    }
    del bm
    try:
        import rank_bm25_rs

        t0 = time.perf_counter()
        rs = rank_bm25_rs.BM25Okapi(docs)
        out["rank_bm25_rs_build_s"] = time.perf_counter() - t0
        rtimes = []
        for t in queries:
            if t["terms"]:
                t0 = time.perf_counter()
                sc = np.asarray(rs.get_scores(t["terms"]))
                np.argsort(sc)[::-1][:10]
                rtimes.append(time.perf_counter() - t0)
        out["rank_bm25_rs_latency"] = _lat(rtimes)
        del rs
    except ImportError:
        pass
    with contextlib.suppress(ImportError):
        out.update(_tantivy(docs, tops))
    conn.send(out)
    conn.close()


def _tantivy(docs: list[list[str]], tops: list[dict[str, Any]]) -> dict[str, Any]:
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
    schema = builder.build()
    index = tantivy.Index(schema)
    t0 = time.perf_counter()
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for tokens in docs:
        writer.add_document(tantivy.Document(body=" ".join(tokens)))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    build = time.perf_counter() - t0
    searcher = index.searcher()
    times = []
    for t in tops:
        terms = [x for x in t["terms"] if x.isalnum()]
        if not terms:
            continue
        query = index.parse_query(" ".join(f"+{x}" for x in terms), ["body"])
        t0 = time.perf_counter()
        searcher.search(query, 10)
        times.append(time.perf_counter() - t0)
    return {"tantivy_build_s": build, "tantivy_latency": _lat(times)}


def _in_process(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    child.close()
    try:
        result: dict[str, Any] = parent.recv()
    except EOFError:
        result = {"error": f"{target.__name__} exited with {proc.exitcode}"}
    proc.join()
    return result


# --------------------------------------------------------------------------------------------
# one size
# --------------------------------------------------------------------------------------------


def _corpus(work: Path, size: int, seed: int) -> tuple[Path, Path]:
    from bot.core.generate import write_digests

    corpus = work / f"corpus-s{seed}-{size}"
    marker = corpus / ".complete"
    if not marker.exists():
        shutil.rmtree(corpus, ignore_errors=True)
        write_digests(corpus, size, seed=seed, workers=min(2, os.cpu_count() or 1))
        marker.write_text("ok")
    extra = work / f"extra-s{seed}-{size}"
    if not (extra / ".complete").exists():
        shutil.rmtree(extra, ignore_errors=True)
        write_digests(extra, 1000, seed=seed, start=(size + 999) // 1000)
        (extra / ".complete").write_text("ok")
    return corpus, next(extra.glob("*.txt"))


async def _ingest_and_build(ctx: BenchContext, digests: Path) -> dict[str, Any]:
    from bot.catalogue import _tokenize
    from bot.core.index import IndexBuilder
    from bot.ingest import reindex
    from bot.store.db import Database
    from bot.store.papers import PaperStore

    out: dict[str, Any] = {}
    db = await Database.open(ctx.database)
    try:
        t0 = time.perf_counter()
        result = await reindex(db, digests)
        out["ingest_s"] = time.perf_counter() - t0
        out["papers"] = result.report.total
        store = PaperStore(db)
        t0 = time.perf_counter()
        builder = IndexBuilder()
        read = tok = arrays = 0.0
        t1 = time.perf_counter()
        async for batch in store.iter_papers():
            read += time.perf_counter() - t1
            t2 = time.perf_counter()
            docs = _tokenize(batch)
            tok += time.perf_counter() - t2
            t2 = time.perf_counter()
            builder.add(docs)
            arrays += time.perf_counter() - t2
            t1 = time.perf_counter()
        t2 = time.perf_counter()
        index = builder.finish(result.version)
        out["index_arrays_s"] = arrays + time.perf_counter() - t2
        stamp = (await store.catalogue_state()).stamp  # bound to the database, as the bot does
        t2 = time.perf_counter()
        index.save(ctx.index_dir, stamp=stamp)
        out["index_save_s"] = time.perf_counter() - t2
        out["index_read_s"] = read
        out["index_tokenize_s"] = tok
        out["index_build_s"] = time.perf_counter() - t0
        files = [f for f in ctx.index_dir.rglob("*") if f.is_file()]
        out["index_disk_mb"] = sum(f.stat().st_size for f in files) / 1e6
    finally:
        await db.close()
    out["peak_rss_build_mb"] = peak_rss_mb()
    return out


async def _add_digest(ctx: BenchContext, digests: Path) -> dict[str, Any]:
    from bot.catalogue import Catalogue
    from bot.settings import Settings

    settings = Settings(digest_dir=digests, database_path=ctx.database, index_dir=ctx.index_dir)
    catalogue = await Catalogue.open(settings)
    try:
        before = catalogue.index.n_docs
        (digests / ctx.extra_digest.name).symlink_to(ctx.extra_digest.resolve())
        t0 = time.perf_counter()
        report = await catalogue.reindex()
        total = time.perf_counter() - t0
        return {
            "add_digest_s": total,
            "add_digest_ingest_s": report.duration_s,
            "add_digest_added": report.added,
            "docs_after": catalogue.index.n_docs,
            "docs_before": before,
        }
    finally:
        await catalogue.close()


def bench_size(args: argparse.Namespace, size: int) -> dict[str, Any]:
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    corpus, extra = _corpus(work, size, args.seed)
    gen_s = time.perf_counter() - t0
    run = work / f"run-{size}"
    shutil.rmtree(run, ignore_errors=True)
    digests = run / "digests"
    digests.mkdir(parents=True)
    for f in sorted(corpus.glob("*.txt")):
        (digests / f.name).symlink_to(f.resolve())
    ctx = BenchContext(
        size=size, seed=args.seed, corpus=corpus, database=run / "digest.db",
        index_dir=run / "index", extra_digest=extra,
    )  # fmt: skip
    res: dict[str, Any] = {"size": size, "generate_s": gen_s, "repeat": args.repeat}
    _say(f"[{size:,}] ingest + index build ...")
    res.update(asyncio.run(_ingest_and_build(ctx, digests)))
    _say(f"[{size:,}] query mix ...")
    queries = query_mix(ctx.index_dir, args.seed)
    res["queries"] = len(queries)
    res["query_kinds"] = {k: sum(1 for x, _ in queries if x == k) for k, _ in queries}
    _say(f"[{size:,}] probe (fresh process) ...")
    res["probe"] = _in_process(_probe, str(ctx.index_dir), queries, args.repeat, str(ctx.database))
    if size <= args.rank_bm25_max and "tops" in res["probe"]:
        _say(f"[{size:,}] rank-bm25 and references (fresh process) ...")
        cap = len(queries) if size <= 100_000 else args.rank_bm25_queries
        # a spread of every kind when capped
        tops = res["probe"]["tops"]
        if cap < len(tops):
            step = len(tops) / cap
            tops = [tops[int(i * step)] for i in range(cap)]
        res["references"] = _in_process(_references, str(ctx.database), tops, cap)
    _say(f"[{size:,}] add a 1,000-paper digest ...")
    res.update(asyncio.run(_add_digest(ctx, digests)))
    for name, fn in SECTIONS.items():
        res.setdefault("sections", {})[name] = fn(ctx)
    res["probe"].pop("tops", None)
    return res


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------

TARGETS = {
    100_000: {"p50": 0.5, "p95": 3.0, "rss": 250.0},
    1_000_000: {"p50": 3.0, "p95": 20.0, "rss": 1000.0, "ingest": 600.0, "add": 15.0, "start": 5.0},
}


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: list[dict[str, Any]], command: str, elapsed: float) -> str:
    import platform

    lines = [
        "# Benchmarks",
        "",
        "Produced by:",
        "",
        "```",
        command,
        "```",
        "",
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.machine()}; whole run {elapsed / 60:.1f} min. Latencies are per query, "
        "index only (parse + search, top 10) unless said; memory is RSS.",
        "",
        "How to read it:",
        "",
        "- *ingest* is the store's pipeline (`bot.ingest.reindex`: parse every digest, one "
        "SQLite transaction); *index build* is then read from the store, tokenize, build the "
        "numpy arrays, save. Both run in the same process, whose peak RSS is shown.",
        "- *start to first answer*, *steady RSS* and the latencies come from a fresh process "
        "that memory-maps the saved index (so RSS counts only the pages the queries touched; "
        "*index arrays* is the upper bound if every page were read).",
        "- The query mix is drawn (seeded) from the corpus: common single terms, rare terms, "
        "2-3 title words, title phrases (some with a common term), `author:` (last name or "
        "full name, some with a term), `venue:` with a term, `term -term`. Each query runs "
        "`--repeat` times; p50/p95/max are over all runs. *Wall clock* includes waiting for a "
        "CPU: this machine is shared with other sessions (the load average is shown), so the "
        "CPU time of the searching thread is given too.",
        "- rank-bm25 scores every document (`get_scores`) then sorts; the check compares our "
        "top 10 (ids and float scores, exact equality) with rank-bm25's best 10 among the "
        "documents that hold every query term and, for queries with phrases, filters or "
        "exclusions, among our match set; the OR line compares with plain `get_scores` "
        "ranking over documents holding any term. rank-bm25 is skipped above "
        "`--rank-bm25-max` (its `BM25Okapi` holds a dict per document: ~4 GB at 1M).",
        "- A phrase over very many candidates (more than 8,000 documents holding all its "
        "words) is verified best score first; its top 10 stays exact and its total is an "
        "estimate (`SearchPage.total_exact` is False).",
        "",
    ]
    for r in results:
        p = r.get("probe", {})
        lat = p.get("latency", {})
        ref = r.get("references", {})
        lines += [f"## {r['size']:,} papers", "", "| measure | value |", "| --- | --- |"]
        rows = [
            ("corpus generation (cached between runs)", f"{r['generate_s']:.1f} s"),
            ("ingest (parse + store, `bot.ingest.reindex`)", f"{r['ingest_s']:.1f} s"),
            (
                "index build from the store (read / tokenize / arrays / save)",
                f"{r['index_build_s']:.1f} s ({r['index_read_s']:.1f} / "
                f"{r['index_tokenize_s']:.1f} / {r['index_arrays_s']:.1f} / "
                f"{r['index_save_s']:.1f})",
            ),
            ("index on disk", f"{r['index_disk_mb']:.0f} MB"),
            ("peak RSS, ingest + build process", f"{r['peak_rss_build_mb']:.0f} MB"),
            ("start to first answer (fresh process: load + search)",
             f"{p.get('start_to_first_answer_s', float('nan')):.2f} s"),
            ("steady RSS after the query mix (fresh process)",
             f"{p.get('rss_steady_mb', float('nan')):.0f} MB"),
            ("index arrays (memory-mapped, upper bound)", f"{p.get('index_bytes_mb', 0):.0f} MB"),
            (f"search latency, {r['queries']} queries x {r.get('repeat', 3)}, wall clock "
             "(p50 / p95 / max)",
             f"{lat.get('p50', 0):.3f} / {lat.get('p95', 0):.3f} / {lat.get('max', 0):.1f} ms"),
        ]  # fmt: skip
        cpu = p.get("cpu_latency")
        if cpu:
            load = p.get("load", (0.0, 0.0))
            rows.append(
                ("search latency, CPU time of the searching thread (p50 / p95 / max); "
                 f"load average {load[0]:.1f} -> {load[1]:.1f} on {os.cpu_count()} CPUs",
                 f"{cpu['p50']:.3f} / {cpu['p95']:.3f} / {cpu['max']:.1f} ms")
            )  # fmt: skip
        for kind, v in p.get("latency_by_kind", {}).items():
            rows.append(
                (f"  {kind} ({r['query_kinds'].get(kind, 0)})",
                 f"{v['p50']:.3f} / {v['p95']:.3f} / {v['max']:.1f} ms")
            )  # fmt: skip
        cl = p.get("catalogue_latency", {})
        if cl:
            rows.append(
                ("`Catalogue.search` incl. store fetch + snippets (p50 / p95 / max)",
                 f"{cl['p50']:.2f} / {cl['p95']:.2f} / {cl['max']:.1f} ms")
            )  # fmt: skip
        rows.append(
            ("add one 1,000-paper digest (`Catalogue.reindex`: ingest + index update + save)",
             f"{r['add_digest_s']:.1f} s (ingest {r['add_digest_ingest_s']:.1f} s; "
             f"{r['add_digest_added']} added)")
        )  # fmt: skip
        if ref.get("rank_bm25_latency"):
            rl = ref["rank_bm25_latency"]
            ident = ref.get("identity", {})
            rows += [
                ("rank-bm25 `BM25Okapi` build", f"{ref['rank_bm25_build_s']:.1f} s, "
                 f"RSS {ref['rank_bm25_rss_mb']:.0f} MB"),
                ("rank-bm25 `get_scores` + sort (p50 / p95 / max)",
                 f"{rl['p50']:.1f} / {rl['p95']:.1f} / {rl['max']:.1f} ms"),
                ("top-10 ids and scores identical to rank-bm25 (AND; filters applied)",
                 f"{ident.get('same_top10')}/{ident.get('checked')} queries"),
                ("top-10 identical to plain `get_scores` ranking (OR mode: docs with any term)",
                 f"{ident.get('same_top10_or')}/{ident.get('queries')} queries"),
            ]  # fmt: skip
        elif "error" in ref:
            rows.append(("rank-bm25", ref["error"]))
        if ref.get("rank_bm25_rs_latency"):
            rl = ref["rank_bm25_rs_latency"]
            rows.append(
                ("rank-bm25-rs `get_scores` + sort (p50 / p95 / max)",
                 f"{rl['p50']:.2f} / {rl['p95']:.2f} / {rl['max']:.1f} ms")
            )  # fmt: skip
        if ref.get("tantivy_latency"):
            rl = ref["tantivy_latency"]
            rows.append(
                ("tantivy top-10 (AND), build " + f"{ref['tantivy_build_s']:.1f} s",
                 f"{rl['p50']:.3f} / {rl['p95']:.3f} / {rl['max']:.1f} ms")
            )  # fmt: skip
        for name, section in r.get("sections", {}).items():
            rows += [(f"{name}: {k}", v) for k, v in section]
        lines += [f"| {a} | {b} |" for a, b in rows]
        mism = ref.get("identity", {}).get("mismatches")
        if mism:
            lines += ["", "Mismatches: " + "; ".join(mism)]
        target = TARGETS.get(r["size"])
        if target:
            lines += ["", "Targets:", ""]
            lines.append(
                f"- search p50 <= {target['p50']} ms: {lat.get('p50', 0):.3f} ms, "
                f"{_verdict(lat.get('p50', 1e9) <= target['p50'])}"
            )
            lines.append(
                f"- search p95 <= {target['p95']} ms: {lat.get('p95', 0):.3f} ms, "
                f"{_verdict(lat.get('p95', 1e9) <= target['p95'])}"
            )
            if cpu:
                lines.append(
                    f"  (CPU time of the searching thread: p50 {cpu['p50']:.3f} ms, p95 "
                    f"{cpu['p95']:.3f} ms; the wall clock adds waiting for a CPU on this shared "
                    "machine)"
                )
            steady = p.get("rss_steady_mb", 1e9)
            lines.append(
                f"- steady memory <= {target['rss']:.0f} MB: {steady:.0f} MB, "
                f"{_verdict(steady <= target['rss'])}"
            )
            if "ingest" in target:
                lines.append(
                    f"- ingest <= 10 min: {r['ingest_s']:.0f} s (+ index build "
                    f"{r['index_build_s']:.0f} s), "
                    f"{_verdict(r['ingest_s'] + r['index_build_s'] <= target['ingest'])}"
                )
                lines.append(
                    f"- add a 1,000-paper digest <= 15 s: {r['add_digest_s']:.1f} s, "
                    f"{_verdict(r['add_digest_s'] <= target['add'])}"
                )
                s = p.get("start_to_first_answer_s", 1e9)
                lines.append(
                    f"- start to first answer <= 5 s: {s:.2f} s, {_verdict(s <= target['start'])}"
                )
            ident = ref.get("identity")
            if ident:
                lines.append(
                    f"- top-10 identical to rank-bm25 for every benchmark query: "
                    f"{ident['same_top10']}/{ident['checked']}, "
                    f"{_verdict(ident['same_top10'] == ident['checked'])}"
                )
        lines.append("")
    return "\n".join(lines) + "\n"


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        print_error(f"--sizes must be comma-separated numbers, got {args.sizes!r}")
        return EXIT_USAGE
    try:  # the alert-matching section, when that module is there
        from bot.cli import bench_alerts

        bench_alerts.register_with_bench()
    except ImportError:
        pass
    started = time.perf_counter()
    results = []
    raw = args.out.with_suffix(".json")
    for size in sizes:
        results.append(bench_size(args, size))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(json.dumps(results, indent=1, default=str))
        command = "digest-bot " + " ".join(sys.argv[1:]) if sys.argv[1:] else "digest-bot bench"
        args.out.write_text(report(results, command, time.perf_counter() - started))
    print(f"wrote {args.out}")
    return EXIT_OK
