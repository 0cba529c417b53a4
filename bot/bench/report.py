"""The benchmark's Markdown report (``docs/benchmarks.md``), with the targets per size."""

from __future__ import annotations

import os
import platform
from typing import Any

from bot.bench import lookups

TARGETS = {
    100_000: {"p50": 0.5, "p95": 3.0, "rss": 250.0, "whole_p50": 1.0, "whole_p95": 2.5},
    1_000_000: {
        "p50": 3.0, "p95": 20.0, "rss": 1000.0, "ingest": 180.0, "build_rss": 2048.0,
        "add": 3.0, "start": 5.0, "whole_p50": 1.5, "whole_p95": 5.0,
    },
}  # fmt: skip
# How the report names the parts of Catalogue.search (bot.core.models.SearchTimings).
_PART_NAMES = {
    "parse": "parse the query",
    "index": "index: BM25 top 50 + known-item order (in a worker thread)",
    "fetch": "store: the page's papers, authors and digests (one SQLite statement)",
    "snippets": "snippets of the page's abstracts",
}


def _add_parts(r: dict[str, Any], key: str = "add_digest") -> str:
    """The ingest's share of adding a digest, when the run timed it (``progress``)."""
    ingest = r.get(f"{key}_ingest_s", 0.0)
    if not 0.0 < ingest < r[f"{key}_s"]:  # not timed (runs before it was)
        return ""
    rest = r[f"{key}_s"] - ingest
    return f"ingest {ingest:.1f} s, index update + save {rest:.1f} s; "


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _kind_rows(r: dict[str, Any], p: dict[str, Any], ref: dict[str, Any]) -> list[tuple[str, str]]:
    """Our latency per query kind, with tantivy's for the same queries when measured."""
    theirs = ref.get("tantivy_latency_by_kind", {})
    rows = []
    for kind, v in p.get("latency_by_kind", {}).items():
        value = f"{v['p50']:.3f} / {v['p95']:.3f} / {v['max']:.1f} ms"
        t = theirs.get(kind)
        if t:
            value += f" (tantivy {t['p50']:.3f} / {t['p95']:.3f} / {t['max']:.1f} ms)"
        rows.append((f"  {kind} ({r['query_kinds'].get(kind, 0)})", value))
    return rows


def report(results: list[dict[str, Any]], command: str, elapsed: float) -> str:
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
        "`--repeat` times after one untimed pass over the mix (steady state, as for tantivy); "
        "p50/p95/max are over all runs. *Wall clock* includes waiting for a CPU: this machine "
        "is shared with other sessions (the load average is shown), so the "
        "CPU time of the searching thread is given too.",
        "- rank-bm25 scores every document (`get_scores`) then sorts; the check compares our "
        "top 10 (ids and float scores, exact equality) with rank-bm25's best 10 among the "
        "documents that hold every query term and, for queries with phrases, filters or "
        "exclusions, among our match set; the OR line compares with plain `get_scores` "
        "ranking over documents holding any term. rank-bm25 is skipped above "
        "`--rank-bm25-max` (its `BM25Okapi` holds a dict per document: ~4 GB at 1M).",
        "- tantivy (when installed) indexes the same token lists with positions (each field "
        "copy a value of the field, so no phrase spans two), plus an author field (name words) "
        "and a venue field (words and initials); it answers the same queries with required "
        "terms, real phrase queries, author words, venue alternatives and exclusions, top 10 "
        "with the count, `--repeat` times after one untimed pass (its wall clock per kind in "
        "brackets next to ours; its query objects are built before the clock starts, ours are "
        "parsed inside it).",
        "- A phrase over very many candidates (more than 8,000 documents holding all its "
        "words) is verified best score first; its top 10 stays exact and its total is an "
        "estimate (`SearchPage.total_exact` is False).",
        "- *lookups* (`bot.bench.lookups`, a fresh process): seeded misspelt titles (1-2 "
        "edits in 1-2 words of a real title, a third with the last word cut as while typing) "
        "and author names; CPU time per call; the hit rate is how often the meant paper or "
        "person is the first answer (find) or among the choices (suggest).",
        "- *adding a digest*: the bench's process opens the catalogue it built and adds one "
        "generated 1,000-paper digest (the first add of a fresh process, as `digest-bot "
        "reindex` makes it), then another (a running bot's next add: the process's caches, "
        "and the memory the first add let go, are in use). On a virtual machine whose memory "
        "is backed when first touched, the first add pays for much of its new memory.",
        "- *alert matching*: the size's extra 1,000-paper digest against seeded synthetic "
        "subscriptions drawn from the corpus's first 2,000 papers (`--catalogue`; "
        "`--counts`: how many); `digest-bot bench --only alerts` runs this part alone, on "
        "generated digests, and prints its own section (see `docs/alerts.md`).",
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
            ("peak RSS, ingest process", f"{r.get('peak_rss_ingest_mb', 0):.0f} MB"),
            ("peak RSS, index build process (fresh)", f"{r['peak_rss_build_mb']:.0f} MB"),
            ("peak RSS of a tokenizing worker (processes)",
             f"{r.get('peak_rss_worker_mb', 0):.0f} MB ({r.get('index_workers', 0)})"),
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
        rows += _kind_rows(r, p, ref)
        cl = p.get("catalogue_latency", {})
        if cl:
            rows.append(
                ("`Catalogue.search`, the whole answer: parse + index + known-item order + "
                 "store fetch + snippets (p50 / p95 / max)",
                 f"{cl['p50']:.3f} / {cl['p95']:.3f} / {cl['max']:.1f} ms")
            )  # fmt: skip
        for part, v in p.get("catalogue_parts", {}).items():
            rows.append(
                (f"  {_PART_NAMES.get(part, part)}",
                 f"{v['p50']:.3f} / {v['p95']:.3f} / {v['max']:.1f} ms")
            )  # fmt: skip
        rows.append(
            ("add one 1,000-paper digest (`Catalogue.reindex`: ingest + index update + save; "
             "the first of a fresh process, as `digest-bot reindex`)",
             f"{r['add_digest_s']:.1f} s ({_add_parts(r)}{r['add_digest_added']} added)")
        )  # fmt: skip
        if "add_next_s" in r:
            rows.append(
                ("add the next 1,000-paper digest (the same process: a running bot's next "
                 "reindex)",
                 f"{r['add_next_s']:.1f} s ({_add_parts(r, 'add_next')}"
                 f"{r['add_next_added']} added)")
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
                 f"{ident.get('same_top10_or')}/{ident.get('checked_or')} queries"),
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
                ("tantivy top-10 and count, same queries (phrases, filters, exclusions), "
                 f"wall clock; build {ref['tantivy_build_s']:.1f} s",
                 f"{rl['p50']:.3f} / {rl['p95']:.3f} / {rl['max']:.1f} ms")
            )  # fmt: skip
        rows += [(f"lookups: {k}", v) for k, v in lookups.rows(r.get("lookups"))]
        for name, section in r.get("sections", {}).items():
            rows += [(f"{name}: {k}", v) for k, v in section]
        lines += [f"| {a} | {b} |" for a, b in rows]
        mism = ref.get("identity", {}).get("mismatches")
        if mism:
            lines += ["", "Mismatches: " + "; ".join(mism)]
        target = TARGETS.get(r["size"])
        if target:
            lines += _targets(r, target)
        lines += lookups.targets(r.get("lookups"), heading=not target)
        lines.append("")
    return "\n".join(lines) + "\n"


def _against_tantivy(p: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """Index p50 and p95 at or under tantivy's in the same run: all queries, and phrases."""
    pairs = [("all queries", p.get("latency"), ref.get("tantivy_latency"))]
    ours, theirs = p.get("latency_by_kind", {}), ref.get("tantivy_latency_by_kind", {})
    pairs.append(("phrases", ours.get("phrase"), theirs.get("phrase")))
    lines = []
    for what, mine, tantivy in pairs:
        if not mine or not tantivy:
            continue
        for q in ("p50", "p95"):
            lines.append(
                f"- index {q} <= tantivy's ({what}, wall clock): {mine[q]:.3f} ms vs "
                f"{tantivy[q]:.3f} ms, {_verdict(mine[q] <= tantivy[q])}"
            )
    return lines


def _targets(r: dict[str, Any], target: dict[str, float]) -> list[str]:
    """The size's "Targets:" lines: each target with its figure and whether it is met."""
    p = r.get("probe", {})
    ref = r.get("references", {})
    lat = p.get("latency", {})
    cpu = p.get("cpu_latency")
    lines: list[str] = []
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
    lines += _against_tantivy(p, ref)
    whole = p.get("catalogue_latency")
    if whole and "whole_p50" in target:
        for q in ("p50", "p95"):
            goal = target[f"whole_{q}"]
            lines.append(
                f"- the whole answer (`Catalogue.search`) {q} <= {goal} ms: "
                f"{whole[q]:.3f} ms, {_verdict(whole[q] <= goal)}"
            )
    steady = p.get("rss_steady_mb", 1e9)
    lines.append(
        f"- steady memory <= {target['rss']:.0f} MB: {steady:.0f} MB, "
        f"{_verdict(steady <= target['rss'])}"
    )
    if "ingest" in target:
        both = r["ingest_s"] + r["index_build_s"]
        lines.append(
            f"- ingest + index build <= {target['ingest']:.0f} s: {both:.0f} s "
            f"({r['ingest_s']:.0f} + {r['index_build_s']:.0f} s), "
            f"{_verdict(both <= target['ingest'])}"
        )
        peak = max(r.get("peak_rss_ingest_mb", 0.0), r.get("peak_rss_build_mb", 0.0))
        lines.append(
            f"- peak RSS of the ingest and of the build <= {target['build_rss'] / 1024:.0f} GB: "
            f"{peak:.0f} MB, {_verdict(peak <= target['build_rss'])}"
        )
        lines.append(
            f"- add a 1,000-paper digest <= {target['add']:.0f} s: {r['add_digest_s']:.1f} s "
            f"as the first of a fresh process, {_verdict(r['add_digest_s'] <= target['add'])}"
        )
        if "add_next_s" in r:
            lines.append(
                f"  and {r['add_next_s']:.1f} s as a running bot's next add, "
                f"{_verdict(r['add_next_s'] <= target['add'])}"
            )
        s = p.get("start_to_first_answer_s", 1e9)
        lines.append(f"- start to first answer <= 5 s: {s:.2f} s, {_verdict(s <= target['start'])}")
    ident = ref.get("identity")
    if ident:
        lines.append(
            f"- top-10 identical to rank-bm25 for every benchmark query: "
            f"{ident['same_top10']}/{ident['checked']}, "
            f"{_verdict(ident['same_top10'] == ident['checked'])}"
        )
    return lines
