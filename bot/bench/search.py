"""Search measurements: the seeded query mix, the fresh-process probe, and the references.

* :func:`query_mix`: a fixed, seeded mix of queries drawn from the indexed corpus (common,
  rare, multi-term, phrase, author, venue, exclusion);
* :func:`probe` (in a fresh process): start to first answer, RSS after the query mix,
  latencies of ``Index.search`` and of ``Catalogue.search`` (store fetch and snippets);
* :func:`references` (in another fresh process): plain rank-bm25 on the same token lists,
  with the top 10 of every query checked against the index's; and, when installed,
  rank-bm25-rs and tantivy as speed references.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from pathlib import Path
from typing import Any

from bot.bench.measure import latency, rss_mb

# The parts of Catalogue.search the probe reports (bot.core.models.SearchTimings' fields).
PARTS = ("parse", "index", "fetch", "snippets")

# --------------------------------------------------------------------------------------------
# the query mix
# --------------------------------------------------------------------------------------------


# One seeded draw per kind, in a fixed order: splitting it would change the rng sequence,
# hence the queries, hence every published figure.
def query_mix(index_dir: Path, seed: int) -> list[tuple[str, str]]:  # noqa: C901
    """A fixed, seeded mix of (kind, query) drawn from the indexed corpus."""
    import numpy as np

    from bot.core.index import Index
    from bot.core.query import QueryError, parse_query
    from bot.core.text import STOPWORDS, surface_words

    index = Index.load(index_dir)
    rng = random.Random(seed)
    docnos = index.docnos()
    df = index.doc_freqs()
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


def probe(index_dir: str, queries: list[tuple[str, str]], repeat: int, db: str, conn: Any) -> None:
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
    async def through_catalogue() -> dict[str, list[float]]:
        from bot.catalogue import Catalogue
        from bot.settings import Settings

        settings = Settings(database_path=Path(db), index_dir=Path(index_dir))
        catalogue = await Catalogue.open(settings)
        out: dict[str, list[float]] = {part: [] for part in ("whole", *PARTS)}
        try:
            for _, q in queries:  # once untimed: the store's pages, as a live bot has them
                await catalogue.search(q, limit=10)
            for _ in range(repeat):
                for _, q in queries:
                    t0 = time.perf_counter()
                    page = await catalogue.search(q, limit=10)
                    out["whole"].append(time.perf_counter() - t0)
                    if page.timings is not None:
                        for part in PARTS:
                            out[part].append(getattr(page.timings, part))
        finally:
            await catalogue.close()
        return out

    cat = asyncio.run(through_catalogue())
    cat_times = cat.pop("whole")
    conn.send(
        {
            "start_to_first_answer_s": start_to_answer,
            "first_total": first.total,
            "rss_after_first_mb": rss_first,
            "rss_steady_mb": steady,
            "index_bytes_mb": index.nbytes() / 1e6,
            "latency": latency(all_times),
            "cpu_latency": latency(cpu_times),
            "load": (load_before, os.getloadavg()[0]),
            "latency_by_kind": {k: latency(v) for k, v in times.items()},
            "catalogue_latency": latency(cat_times),
            "catalogue_parts": {part: latency(v) for part, v in cat.items() if v},
            "tops": tops,
            "n_docs": index.n_docs,
        }
    )
    conn.close()


# --------------------------------------------------------------------------------------------
# rank-bm25 and the speed references, in their own process
# --------------------------------------------------------------------------------------------


# A straight script in a child process: corpus, rank-bm25 check, optional references.
def references(  # noqa: C901
    db: str, tops: list[dict[str, Any]], max_queries: int, conn: Any
) -> None:
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
                        document_stream(
                            p.title, p.abstract, [a.display for a in p.authors], p.venue
                        )[0]
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
    out["rank_bm25_latency"] = latency(times)
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
        out["rank_bm25_rs_latency"] = latency(rtimes)
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
    return {"tantivy_build_s": build, "tantivy_latency": latency(times)}
