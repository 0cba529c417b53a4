"""Typo-tolerant lookups: ``/paper`` by a misspelt title, and the autocompletes.

:func:`typo_queries` draws (seeded) from the indexed corpus what people type with typos:

* titles: a real title with one or two edits (substitution, deletion, insertion, swap of two
  neighbours) in one or two of its words (one edit in words of 4-5 letters, one or two in
  longer ones: what :mod:`bot.core.lookup` forgives); a third of them with the last word cut
  to a prefix, as while still typing;
* authors: a real full name, typo'd the same way, some with the last word cut.

:func:`probe` (in a fresh process) times, over every query, ``--repeat`` times:
``Catalogue.paper(title)`` whole (title lookup, store reads, similar papers), its parts
(``lookup.find_titles``; ``Index.similar`` on the paper's terms; ``Catalogue.paper`` by id:
a store read + the similar papers), ``lookup.suggest_papers``, ``lookup.suggest_authors``
and ``lookup.find_authors``; and how often the meant paper or author is the first answer or
among the choices.
"""

from __future__ import annotations

import asyncio
import os
import random
import string
import time
from pathlib import Path
from typing import Any

from bot.bench.measure import latency

TITLES = 120  # typo'd titles drawn
AUTHORS = 120  # typo'd names drawn
CUT_SHARE = 1 / 3  # of them with the last word cut to a prefix (still typing)

# targets (ms, p95) at every size: issue 11
TARGETS = {"paper": 5.0, "lookup": 20.0}


def typo(rng: random.Random, word: str) -> str:
    """``word`` with one edit (two in words longer than 5 letters, half the time)."""
    edits = 1 if len(word) <= 5 else rng.choice((1, 2))
    out = word
    for _ in range(edits):
        i = rng.randrange(len(out))
        op = rng.choice(("sub", "del", "ins", "swap"))
        letter = rng.choice(string.ascii_lowercase)
        if op == "sub":
            out = out[:i] + letter + out[i + 1 :]
        elif op == "del":
            out = out[:i] + out[i + 1 :]
        elif op == "ins":
            out = out[:i] + letter + out[i:]
        elif i + 1 < len(out):
            out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
    return out if out != word else word[:-1]


def _misspell(rng: random.Random, words: list[str], cut: bool, minimum: int) -> str | None:
    """``words`` with 1-2 of them (of ``minimum``+ letters) typo'd, the last one maybe cut."""
    candidates = [i for i, w in enumerate(words) if len(w) >= minimum and w.isalpha()]
    if not candidates:
        return None
    out = list(words)
    for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 2)))):
        out[i] = typo(rng, out[i])
    if cut:
        last = out[-1]
        if len(last) < 5:
            return None
        out[-1] = last[: rng.randrange(3, len(last) - 1)]
    return " ".join(out)


def typo_queries(
    index_dir: Path, seed: int
) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str]]]:
    """Seeded typo'd queries: ``(kind, query, meant paper id, meant title)`` for titles and
    ``(kind, query, meant author key, meant display name)`` for authors; kind is ``typed``
    (complete words) or ``cut`` (the last word cut to a prefix)."""
    from bot.core.index import Index
    from bot.core.text import STOPWORDS, surface_words

    index = Index.load(index_dir)
    rng = random.Random(seed + 11)
    docnos = index.docnos()
    titles: list[tuple[str, str, str, str]] = []
    tries = 0
    while len(titles) < TITLES and tries < TITLES * 20:
        tries += 1
        docno = int(docnos[rng.randrange(len(docnos))])
        title = index.title(docno)
        words = surface_words(title)
        if sum(1 for w in words if w not in STOPWORDS) < 2:
            continue
        cut = rng.random() < CUT_SHARE
        q = _misspell(rng, words, cut, 4)
        if q is not None:
            titles.append(("cut" if cut else "typed", q, index.paper_id(docno), title))
    known = index.vocabulary
    names = known.author_names()
    authors: list[tuple[str, str, str, str]] = []
    tries = 0
    while len(authors) < AUTHORS and tries < AUTHORS * 20:
        tries += 1
        aid = rng.randrange(len(names))
        words = names[aid].split()
        if len(words) < 2 or known.author_paper_count(aid) == 0:
            continue
        cut = rng.random() < CUT_SHARE
        q = _misspell(rng, [w.lower() for w in words], cut, 4)
        if q is not None:
            authors.append(("cut" if cut else "typed", q, known.author_key(aid), names[aid]))
    return titles, authors


def _timed(fn: Any, times: list[float]) -> Any:
    c0 = time.thread_time()
    out = fn()
    times.append(time.thread_time() - c0)
    return out


def _rate(hits: list[bool]) -> float:
    return sum(hits) / len(hits) if hits else float("nan")


def probe(index_dir: str, db: str, seed: int, repeat: int, conn: Any) -> None:
    """Time the lookups on the typo'd queries (in a fresh process); send the figures."""
    from bot.core import lookup
    from bot.core.index import Index
    from bot.core.text import document_stream

    titles, authors = typo_queries(Path(index_dir), seed)
    index = Index.load(index_dir)
    lookup.warm(index)
    cpu: dict[str, list[float]] = {}
    hits: dict[str, list[bool]] = {}

    def t(name: str) -> list[float]:
        return cpu.setdefault(name, [])

    load_before = os.getloadavg()[0]
    for r in range(repeat):
        for kind, q, pid, title in titles:
            found = _timed(lambda q=q: lookup.find_titles(index, q, limit=6), t("find_titles"))
            choices = _timed(lambda q=q: lookup.suggest_papers(index, q), t("suggest_papers"))
            if r == 0:
                first = bool(found) and found[0].title.casefold() == title.casefold()
                hits.setdefault(f"find_titles first ({kind})", []).append(first)
                values = {c.value for c in choices}
                names = {c.name.rsplit(" · ", 1)[0].casefold() for c in choices}
                hits.setdefault(f"suggest_papers among ({kind})", []).append(
                    pid in values or title.casefold() in names
                )
        for kind, q, key, display in authors:
            found = _timed(lambda q=q: lookup.find_authors(index, q, limit=10), t("find_authors"))
            choices = _timed(lambda q=q: lookup.suggest_authors(index, q), t("suggest_authors"))
            if r == 0:
                keys = [m.key for m in found]
                if kind == "typed":
                    hits.setdefault("find_authors first", []).append(keys[:1] == [key])
                    hits.setdefault("find_authors among", []).append(key in keys)
                hits.setdefault(f"suggest_authors among ({kind})", []).append(
                    display in {c.value for c in choices}
                )
    # the similar papers of each meant paper: the index part of Catalogue.paper's _similar
    from bot.core.parser import LIMITS

    async def catalogue_part() -> dict[str, list[float]]:
        from bot.catalogue import Catalogue
        from bot.settings import Settings

        settings = Settings(database_path=Path(db), index_dir=Path(index_dir))
        catalogue = await Catalogue.open(settings)
        out: dict[str, list[float]] = {"paper": [], "paper_wall": [], "by_id": [], "similar": []}
        try:
            stored = await catalogue.store.get_papers([pid for _, _, pid, _ in titles])
            for r in range(repeat):
                for _, q, pid, title in titles:
                    c0, t0 = time.process_time(), time.perf_counter()
                    detail = await catalogue.paper(q)
                    out["paper"].append(time.process_time() - c0)
                    out["paper_wall"].append(time.perf_counter() - t0)
                    if r == 0:
                        ok = detail is not None and detail.paper.paper.title.casefold() == (
                            title.casefold()
                        )
                        hits.setdefault("/paper first (all)", []).append(ok)
                    c0 = time.process_time()
                    await catalogue.paper(pid)
                    out["by_id"].append(time.process_time() - c0)
                    sp = stored.get(pid)
                    docno = catalogue.index.docno_of(pid)
                    if sp is None or docno is None:
                        continue
                    p = sp.paper
                    c0 = time.thread_time()
                    terms, _ = document_stream(
                        p.title, p.abstract[: LIMITS.abstract], [a.display for a in p.authors],
                        p.venue,
                    )  # fmt: skip
                    catalogue.index.similar(docno, terms, 5)
                    out["similar"].append(time.thread_time() - c0)
        finally:
            await catalogue.close()
        return out

    cpu.update(asyncio.run(catalogue_part()))
    conn.send(
        {
            "titles": len(titles),
            "authors": len(authors),
            "examples": [q for _, q, _, _ in titles[:4]] + [q for _, q, _, _ in authors[:4]],
            "cpu": {k: latency(v) for k, v in cpu.items()},
            "hit_rate": {k: _rate(v) for k, v in hits.items()},
            "load": (load_before, os.getloadavg()[0]),
        }
    )
    conn.close()


_ROWS = (
    ("paper", "`Catalogue.paper(typo'd title)` whole, CPU of the process"),
    ("paper_wall", "`Catalogue.paper(typo'd title)` whole, wall clock"),
    ("find_titles", "  `lookup.find_titles` (its title lookup)"),
    ("by_id", "  `Catalogue.paper(id)`: store read + similar papers"),
    ("similar", "  `Index.similar` on the paper's terms (index part of the similar papers)"),
    ("suggest_papers", "`lookup.suggest_papers` (/paper autocomplete)"),
    ("suggest_authors", "`lookup.suggest_authors` (/author autocomplete)"),
    ("find_authors", "`lookup.find_authors` (/author, `digest-bot author`)"),
)


def rows(res: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The report's rows for one size (:mod:`bot.bench.report`; none without results)."""
    if res is None:
        return []
    if "error" in res:
        return [("error", str(res["error"]))]
    cpu = res.get("cpu", {})
    out = [
        ("queries", f"{res['titles']} typo'd titles, {res['authors']} typo'd names, e.g. "
         + ", ".join(f"`{q}`" for q in res.get("examples", []))),
    ]  # fmt: skip
    for key, label in _ROWS:
        v = cpu.get(key)
        if v:
            out.append((f"{label} (p50 / p95 / max)",
                        f"{v['p50']:.2f} / {v['p95']:.2f} / {v['max']:.1f} ms"))  # fmt: skip
    for name, rate in res.get("hit_rate", {}).items():
        out.append((f"hit rate: {name}", f"{rate:.0%}"))
    return out


def targets(res: dict[str, Any] | None, *, heading: bool = False) -> list[str]:
    """The report's target lines for one size (``heading``: with a "Targets:" heading)."""
    if res is None:
        return []
    cpu = res.get("cpu", {})
    out = ["", "Targets:", ""] if heading else []
    paper = cpu.get("paper", {}).get("p95", float("nan"))
    out.append(
        f"- /paper by a typo'd title p95 <= {TARGETS['paper']:.0f} ms (CPU): {paper:.2f} ms, "
        f"{'met' if paper <= TARGETS['paper'] else 'NOT met'}"
    )
    worst = max(
        (cpu.get(k, {}).get("p95", float("nan")), k)
        for k in ("find_titles", "suggest_papers", "suggest_authors", "find_authors")
    )
    verdict = "met" if worst[0] <= TARGETS["lookup"] else "NOT met"
    out.append(
        f"- typo-tolerant lookups and autocomplete p95 <= {TARGETS['lookup']:.0f} ms (CPU): "
        f"worst {worst[1]} {worst[0]:.2f} ms, {verdict}"
    )
    return out
