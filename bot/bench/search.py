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
import itertools
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
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
    for _, q, _ in parsed:  # one untimed pass, as tantivy gets: steady state, not first touch
        index.search(parse_query(q), 10)
    load_before = os.getloadavg()[0]
    for _ in range(repeat):  # timed as tantivy's are: the mix in turn, nothing in between
        for kind, q, _ in parsed:
            c0 = time.thread_time()
            t0 = time.perf_counter()
            index.search(parse_query(q), 10)
            dt = time.perf_counter() - t0
            cpu_times.append(time.thread_time() - c0)
            times.setdefault(kind, []).append(dt)
            all_times.append(dt)
    # the answers the rank-bm25 check compares, after the timing (its OR queries, run between
    # timed ones, would leave their arrays in the caches the next query finds)
    for kind, q, pq in parsed:
        res = index.search(parse_query(q), 10)
        tops.append(
            {
                "query": q,
                "kind": kind,
                "terms": list(pq.required_terms),
                "filtered": bool(pq.phrases or pq.authors or pq.venues or pq.has_exclusions),
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
    db: str, tops: list[dict[str, Any]], max_queries: int, repeat: int, conn: Any
) -> None:
    import numpy as np

    from bot.core.text import document_stream
    from bot.store.db import Database
    from bot.store.papers import PaperStore

    async def corpus() -> tuple[list[int], list[list[str]], list[_Fields]]:
        database = await Database.open(Path(db))
        try:
            store = PaperStore(database)
            removed = await store.removed_rowids()
            docnos: list[int] = []
            docs: list[list[str]] = []
            fields: list[_Fields] = []
            async for batch in store.iter_papers():
                for docno, p in batch:
                    if docno in removed:
                        continue
                    docnos.append(docno)
                    names = [a.display for a in p.authors]
                    tokens, steps = document_stream(p.title, p.abstract, names, p.venue)
                    docs.append(tokens)
                    cuts = [i for i in range(1, len(steps)) if steps[i] > 1]
                    fields.append(_Fields(cuts, names, p.venue))
            return docnos, docs, fields
        finally:
            await database.close()

    docnos, docs, fields = asyncio.run(corpus())
    docno_arr = np.asarray(docnos)
    out: dict[str, Any] = {}
    queries = tops
    if max_queries < len(tops):  # a spread of every kind
        step = len(tops) / max_queries
        queries = [tops[int(i * step)] for i in range(max_queries)]

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
    or_checked = 0  # a filtered query too big for its match set is checked in OR mode only
    mismatches: list[str] = []
    for t in queries:
        terms = t["terms"]
        if not terms:
            continue
        t0 = time.perf_counter()
        scores = bm.get_scores(terms)
        np.argsort(scores)[::-1][:10]
        times.append(time.perf_counter() - t0)
        # OR (every query, filters or not: search_terms ranks the required terms alone)
        has_any = np.flatnonzero([any(q in f for q in terms) for f in bm.doc_freqs])
        or_checked += 1
        if [(int(d), float(s)) for d, s in t["or_top"]] == ranked(scores, has_any):
            same_or += 1
        else:
            mismatches.append(f"{t['query']} (OR)")
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
    out["rank_bm25_latency"] = latency(times)
    out["identity"] = {
        "checked": checked,
        "same_top10": same,
        "same_top10_or": same_or,
        "checked_or": or_checked,
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
        out.update(_tantivy(docs, fields, tops, repeat))
    conn.send(out)
    conn.close()


@dataclass(frozen=True, slots=True)
class _Fields:
    """What tantivy needs of a paper besides its token list: where a gap separates two fields
    (or two copies of one), its authors, its venue."""

    cuts: list[int]
    authors: list[str]
    venue: str


def _segments(tokens: list[str], cuts: list[int]) -> list[str]:
    """The token list cut where a gap separates two fields (or two copies of one): tantivy
    leaves a position gap between the values of a field, so no phrase spans a cut. (A
    hyphenated word's compound shares its position with its first part in our index; here
    it takes the next position: phrases through such words can differ, rare in the mix.)"""
    bounds = [0, *cuts, len(tokens)]
    return [" ".join(tokens[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def _tantivy(  # noqa: C901
    docs: list[list[str]], fields: list[_Fields], tops: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    """tantivy on the same token lists, answering the same queries as ours: required terms
    (+term), phrases (a PhraseQuery over positions), ``author:`` (every word of the filter,
    initials left out, in an author field holding each author's name words), ``venue:`` (any
    alternative: its words as a phrase, or the acronym, in a venue field) and every exclusion
    (MustNot). Top 10 with the hit count, as ``Index.search`` gives; the query objects are
    built before the clock starts (ours are parsed inside it)."""
    import tantivy

    from bot.core.query import QueryError, name_words, parse_query, venue_words
    from bot.core.text import STOPWORDS

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace")
    builder.add_text_field("author", stored=False, tokenizer_name="whitespace")
    builder.add_text_field("venue", stored=False, tokenizer_name="whitespace")
    schema = builder.build()
    index = tantivy.Index(schema)
    t0 = time.perf_counter()
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for tokens, f in zip(docs, fields, strict=True):
        doc = tantivy.Document()
        for segment in _segments(tokens, f.cuts):
            doc.add_text("body", segment)
        for name in f.authors:
            doc.add_text("author", " ".join(sorted(name_words(name))))
        words = venue_words(f.venue)
        if words:
            initials = "".join(w[0] for w in words if w not in STOPWORDS and not w.isdigit())
            doc.add_text("venue", " ".join(words) + " " + initials)
        writer.add_document(doc)
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    build = time.perf_counter() - t0
    searcher = index.searcher()
    must, must_not, should = tantivy.Occur.Must, tantivy.Occur.MustNot, tantivy.Occur.Should

    def words_query(field: str, words: Sequence[str]) -> Any:
        if len(words) == 1:
            return tantivy.Query.term_query(schema, field, words[0])
        return tantivy.Query.phrase_query(schema, field, list(words))

    def author_query(words: Sequence[str]) -> Any | None:
        full = [w for w in words if len(w) > 1]
        if not full:
            return None
        return tantivy.Query.boolean_query([(must, words_query("author", [w])) for w in full])

    def venue_query(alternatives: Sequence[tuple[str, ...]]) -> Any:
        return tantivy.Query.boolean_query(
            [(should, words_query("venue", alt)) for alt in alternatives if alt]
        )

    def build_query(text: str) -> Any | None:
        try:
            q = parse_query(text)
        except QueryError:
            return None
        clauses: list[tuple[Any, Any]] = [(must, words_query("body", [t])) for t in q.terms]
        clauses += [(must, words_query("body", p.terms)) for p in q.phrases]
        for a in q.authors:
            aq = author_query(a.words)
            if aq is not None:
                clauses.append((must, aq))
        clauses += [(must, venue_query(v.alternatives)) for v in q.venues]
        clauses += [(must_not, words_query("body", [t])) for t in q.exclude_terms]
        clauses += [(must_not, words_query("body", p.terms)) for p in q.exclude_phrases]
        for a in q.exclude_authors:
            aq = author_query(a.words)
            if aq is not None:
                clauses.append((must_not, aq))
        clauses += [(must_not, venue_query(v.alternatives)) for v in q.exclude_venues]
        if not any(occur == must for occur, _ in clauses):
            return None
        return tantivy.Query.boolean_query(clauses)

    built = [(t, build_query(t["query"])) for t in tops]
    times: list[float] = []
    by_kind: dict[str, list[float]] = {}
    same_count: dict[str, list[int]] = {}  # kind -> [tantivy's count = our total, queries]
    for _, query in built:  # one untimed pass: tantivy's first answers pay for its warm-up
        if query is not None:
            searcher.search(query, 10)
    for r in range(max(1, repeat)):
        for t, query in built:
            if query is None:
                continue
            t0 = time.perf_counter()
            found = searcher.search(query, 10)
            dt = time.perf_counter() - t0
            times.append(dt)
            by_kind.setdefault(t["kind"], []).append(dt)
            if r == 0:
                tally = same_count.setdefault(t["kind"], [0, 0])
                tally[0] += int(getattr(found, "count", None) == t["total"])  # not in the stubs
                tally[1] += 1
    return {
        "tantivy_build_s": build,
        "tantivy_latency": latency(times),
        "tantivy_latency_by_kind": {k: latency(v) for k, v in by_kind.items()},
        "tantivy_same_count": same_count,
    }
