"""Known-item relevance: does a search find the paper a user has in mind?

On a seeded generated corpus (:mod:`bot.bench.generate`), seeded known-item queries are drawn
from papers of the corpus and searched as ``/search`` runs them (``Index.search`` of the
parsed query; when nothing matches, the "did you mean" respelling the user is offered):

* ``title``: 2-4 distinct words of a paper's title (in title order);
* ``title+typo``: the same with one edit (deletion, substitution, transposition or
  insertion) in one word of at least 5 letters;
* ``author+title``: an author's last name and one title word.

Reported per kind: MRR (reciprocal rank of the paper within the top 10, 0 beyond), the rate
at which the first result's title holds every query word, the paper's rank when at most 3
(at most 10) titles hold the words, and top-10. ``digest-bot bench --only relevance``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.bench.generate import digest_name, digest_text
from bot.core.index import Index, index_doc
from bot.core.models import Paper
from bot.core.text import STOPWORDS, FieldWeights, query_terms, surface_words
from bot.core.text import terms as doc_terms

KINDS = ("title", "title+typo", "author+title")
TOP = 10
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Query:
    kind: str
    text: str
    docno: int  # the paper the query was drawn from
    words: tuple[str, ...]  # the intended (typo-free) words


@dataclass(slots=True)
class Tally:
    """Outcomes of the queries of one kind."""

    n: int = 0
    rr: float = 0.0  # sum of reciprocal ranks
    titled: int = 0  # queries of title words only (the next rates are over them)
    top1_all: int = 0  # first result's title holds every query word
    top10: int = 0
    le3: int = 0  # queries whose words at most 3 titles hold ...
    le3_top3: int = 0  # ... and the paper is in the top 3
    le10: int = 0
    le10_top10: int = 0
    misses: list[str] = field(default_factory=list)

    def row(self) -> dict[str, float]:
        def rate(a: int, b: int) -> float:
            return a / b if b else float("nan")

        return {
            "queries": self.n,
            "mrr": self.rr / self.n if self.n else float("nan"),
            "top1_all_words": rate(self.top1_all, self.titled),
            "le3_in_top3": rate(self.le3_top3, self.le3),
            "le3_queries": self.le3,
            "le10_in_top10": rate(self.le10_top10, self.le10),
            "le10_queries": self.le10,
            "in_top10": rate(self.top10, self.n),
        }


def corpus(n_papers: int, seed: int = 0, per_file: int = 1000) -> list[Paper]:
    """The first ``n_papers`` papers of the seeded generated corpus (parsed, deduplicated)."""
    from bot.core.parser import parse_digest

    papers: list[Paper] = []
    seen: set[str] = set()
    index = 0
    while len(papers) < n_papers:
        count = min(per_file, n_papers - len(papers))
        text = digest_text(seed, index, count)
        for p in parse_digest(text.encode(), digest_name(seed, index)).papers:
            if p.id not in seen and len(papers) < n_papers:
                seen.add(p.id)
                papers.append(p)
        index += 1
    return papers


def build(papers: Sequence[Paper], weights: FieldWeights) -> Index:
    return Index.build(index_doc(i, p, weights) for i, p in enumerate(papers))


def _title_words(paper: Paper) -> list[str]:
    words = [w for w in surface_words(paper.title) if w not in STOPWORDS and w.isalpha()]
    return list(dict.fromkeys(w for w in words if query_terms(w)))


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)  # never the first letter (people rarely miss it)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1 :]
    if op == 1:
        c = rng.choice([c for c in _LETTERS if c != word[i]])
        return word[:i] + c + word[i + 1 :]
    if op == 2 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:i] + rng.choice(_LETTERS) + word[i:]


def queries(papers: Sequence[Paper], per_kind: int, seed: int = 0) -> list[Query]:
    """``per_kind`` seeded queries of each kind (see the module's docstring)."""
    rng = random.Random(seed)
    out: list[Query] = []
    counts = dict.fromkeys(KINDS, 0)
    while min(counts.values()) < per_kind:
        docno = rng.randrange(len(papers))
        paper = papers[docno]
        words = _title_words(paper)
        if len(words) < 2:
            continue
        n = rng.randint(2, min(4, len(words)))
        picked = sorted(rng.sample(range(len(words)), n))
        chosen = tuple(words[i] for i in picked)
        if counts["title"] < per_kind:
            out.append(Query("title", " ".join(chosen), docno, chosen))
            counts["title"] += 1
        long = [i for i, w in enumerate(chosen) if len(w) >= 5]
        if long and counts["title+typo"] < per_kind:
            j = rng.choice(long)
            typed = list(chosen)
            typed[j] = _typo(rng, chosen[j])
            if typed[j] != chosen[j]:
                out.append(Query("title+typo", " ".join(typed), docno, chosen))
                counts["title+typo"] += 1
        lasts = [surface_words(a.last)[-1] for a in paper.authors if surface_words(a.last)]
        if lasts and counts["author+title"] < per_kind:
            pair = (rng.choice(lasts), rng.choice(words))
            out.append(Query("author+title", " ".join(pair), docno, pair))
            counts["author+title"] += 1
    return out


class _TitleTerms:
    """Which documents' titles hold given terms (the truth the rates are measured against)."""

    def __init__(self, papers: Sequence[Paper]) -> None:
        self.of_doc = [frozenset(doc_terms(p.title)) for p in papers]
        self.docs: dict[str, set[int]] = {}
        for d, held in enumerate(self.of_doc):
            for t in held:
                self.docs.setdefault(t, set()).add(d)

    def holding(self, terms: Sequence[str]) -> int:
        sets = sorted((self.docs.get(t, set()) for t in terms), key=len)
        if not sets:
            return 0
        return len(set.intersection(*sets))


def run_queries(
    index: Index, papers: Sequence[Paper], qs: Sequence[Query], *, tiers: bool = True
) -> dict[str, Tally]:
    """Search every query as the catalogue does (``tiers``: with the known-item order of
    :mod:`bot.core.rerank`); the tallies by kind."""
    from bot.core import lookup
    from bot.core.query import QueryError, parse_query
    from bot.core.rerank import WINDOW, known_item_order
    from bot.core.rerank import tiers as tiers_of

    truth = _TitleTerms(papers)
    tallies = {k: Tally() for k in KINDS}
    for q in qs:
        t = tallies[q.kind]
        t.n += 1
        try:
            parsed = parse_query(q.text)
            result = index.search(parsed, WINDOW)
            if result.total == 0:
                again = lookup.did_you_mean(index, parsed)
                if again is not None:
                    parsed = parse_query(again)
                    result = index.search(parsed, WINDOW)
        except QueryError:
            continue
        hits = list(result.hits)
        if tiers:
            head = [h.docno for h in hits[:WINDOW]]
            features = index.known_item_features(head, parsed.terms)
            titles = [index.title(d) for d in head]
            ranks = tiers_of(parsed, features, titles.__getitem__)
            hits = known_item_order(parsed, hits, ranks, features.abstract_adjacent)
        docnos = [h.docno for h in hits[:TOP]]
        rank = docnos.index(q.docno) + 1 if q.docno in docnos else 0
        if rank:
            t.rr += 1 / rank
            t.top10 += 1
        elif len(t.misses) < 5:
            t.misses.append(q.text)
        terms = [x for w in q.words for x in query_terms(w)]
        if q.kind != "author+title":
            t.titled += 1
            if docnos and all(x in truth.of_doc[docnos[0]] for x in terms):
                t.top1_all += 1
            holding = truth.holding(terms)
            if holding <= 3:
                t.le3 += 1
                t.le3_top3 += 0 < rank <= 3
            if holding <= 10:
                t.le10 += 1
                t.le10_top10 += 0 < rank <= 10
    return tallies


def measure(
    papers: Sequence[Paper],
    weights: FieldWeights,
    per_kind: int,
    seed: int = 0,
    *,
    tiers: bool = True,
) -> tuple[dict[str, dict[str, float]], float]:
    """The rows of one weighting (by kind) and its index build time."""
    started = time.perf_counter()
    index = build(papers, weights)
    built = time.perf_counter() - started
    tallies = run_queries(index, papers, queries(papers, per_kind, seed), tiers=tiers)
    return {k: v.row() for k, v in tallies.items()}, built


def markdown(
    size: int, rows: Sequence[tuple[FieldWeights, bool, dict[str, dict[str, float]]]]
) -> str:
    """The relevance section: one line per (weighting, kind)."""

    def pct(x: float) -> str:
        return "n/a" if x != x else f"{100 * x:.1f}%"

    out = [
        f"## Known-item relevance ({size:,} generated papers)",
        "",
        "Weights: title/authors/venue copies in the BM25 token list (docs/search.md); "
        "`bm25`: BM25 order, `tiers`: the known-item order the catalogue uses. "
        "`all words@1`: the first result's title holds every query word; `<=3: top 3`: "
        "the paper in the top 3 when at most 3 titles hold the words (how many such queries "
        "in brackets); likewise `<=10: top 10`.",
        "",
        "| weights | order | queries | n | MRR | all words@1 | <=3: top 3 | <=10: top 10 "
        "| top 10 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for w, tiers, by_kind in rows:
        for kind, r in by_kind.items():
            out.append(
                f"| {w.title}/{w.authors}/{w.venue} | {'tiers' if tiers else 'bm25'} | {kind} "
                f"| {int(r['queries'])} "
                f"| {r['mrr']:.3f} | {pct(r['top1_all_words'])} "
                f"| {pct(r['le3_in_top3'])} ({int(r['le3_queries'])}) "
                f"| {pct(r['le10_in_top10'])} ({int(r['le10_queries'])}) "
                f"| {pct(r['in_top10'])} |"
            )
    return "\n".join(out) + "\n"
