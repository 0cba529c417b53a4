"""The alert-matching benchmark: 1,000 new papers x 1k / 10k / 100k subscriptions.

Subscriptions are synthetic but shaped like people's: each is drawn (seeded) from a paper of
the existing catalogue, the way a member subscribes to a topic they have seen -- one to three
words of its title, a phrase of its title, one of its authors, its venue, a word with an
author or venue filter -- sometimes with an exclusion. :func:`bench_matching` times the
indexed matcher (:mod:`bot.core.alerts`) and the naive loop over every pair (on a sample of
the subscriptions, scaled up: the naive cost is linear in the subscriptions), and checks on
the sample that both give the same alerts.

Two ways to run it, both from ``digest-bot bench``:

* the "alert matching" section of every corpus size (:func:`corpus_section`): the new papers
  are the bench's extra 1,000-paper digest, the subscriptions are drawn from the corpus's
  first digests;
* alone, ``digest-bot bench --only alerts`` (:func:`bench_generated` + :func:`markdown`): on
  generated digests, printed (or appended to a file) as a Markdown section.
"""

from __future__ import annotations

import os
import platform
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.bench.generate import digest_text
from bot.core.alerts import (
    Subscription,
    SubscriptionIndex,
    batch_frequencies,
    compile_subscription,
    match,
    match_naive,
    match_targets,
    prepare,
)
from bot.core.models import Paper
from bot.core.parser import parse_digest
from bot.core.query import QueryError, parse_query
from bot.core.text import query_terms

DEFAULT_COUNTS = (1_000, 10_000, 100_000)
TARGET_S = 0.5  # at 100k subscriptions, 1,000 new papers
CATALOGUE_SAMPLE = 2_000  # papers of the corpus the synthetic subscriptions are drawn from

_VENUE_FILTERS = ("neurips", "icml", "iclr", "arxiv", "aaai", "cvpr", "acl", "colt", "prl")


def generated_papers(seed: int, file_index: int, count: int) -> list[Paper]:
    """The papers of one generated digest, parsed exactly as a real digest is."""
    data = digest_text(seed, file_index, count).encode("utf-8")
    return list(parse_digest(data, f"generated-{file_index}.txt").papers)


GENERIC_SHARE = 0.005  # a word in more than 0.5% of the catalogue is too generic a topic


def _title_words(paper: Paper, generic: frozenset[str]) -> list[str]:
    """The words of a paper's title a member would use as a topic (not generic ones)."""
    out: list[str] = []
    for raw in paper.title.split():
        word = raw.strip(":,.")
        terms = query_terms(word)
        if terms and not any(t in generic for t in terms):
            out.append(word)
    return out


def synthetic_query(
    rng: random.Random, paper: Paper, generic: frozenset[str] = frozenset()
) -> str | None:
    """One query a member might save after seeing ``paper`` (``None``: nothing specific)."""
    words = _title_words(paper, generic)
    if not words:
        return None
    last = paper.authors[0].last if paper.authors else ""
    roll = rng.random()
    if roll < 0.55:
        parts = rng.sample(words, min(len(words), rng.randint(1, 3)))
    elif roll < 0.70 and len(words) >= 2:
        start = rng.randrange(len(words) - 1)
        parts = ['"' + " ".join(words[start : start + 2]) + '"']
    elif roll < 0.82 and last:
        parts = [f'author:"{last}"']
    elif roll < 0.90 and last:
        parts = [rng.choice(words), f'author:"{last}"']
    elif roll < 0.97:
        parts = [rng.choice(words), "venue:" + rng.choice(_VENUE_FILTERS)]
    else:
        parts = ["venue:" + rng.choice(_VENUE_FILTERS), rng.choice(words)]
    if rng.random() < 0.15:
        parts.append("-" + rng.choice(["survey", "chemistry", "quantum", "medical", "video"]))
    return " ".join(parts)


def synthetic_subscriptions(
    catalogue: Sequence[Paper], count: int, seed: int = 0, channels: int = 5_000
) -> list[Subscription]:
    """``count`` seeded subscriptions drawn from the papers of ``catalogue``."""
    rng = random.Random(seed)
    frequencies = batch_frequencies(prepare(catalogue)).terms
    limit = max(GENERIC_SHARE * len(catalogue), 5.0)
    generic = frozenset(t for t, n in frequencies.items() if n > limit)
    out: list[Subscription] = []
    tries = 0
    while len(out) < count:
        tries += 1
        if tries > 100 * count + 1_000:
            raise ValueError("the catalogue has too few specific title words for subscriptions")
        paper = catalogue[rng.randrange(len(catalogue))]
        text = synthetic_query(rng, paper, generic)
        if text is None:
            continue
        try:
            query = parse_query(text)
        except QueryError:
            continue
        channel = rng.randrange(channels) + 1
        out.append(Subscription(len(out) + 1, channel, channel // 10 + 1, query))
    return out


@dataclass(frozen=True, slots=True)
class MatchingResult:
    """Seconds are the best of ``repeat`` runs."""

    subscriptions: int
    papers: int
    compile_s: float  # once per subscription (kept by the bot between reindexes)
    analyse_s: float  # the batch's match documents + frequencies (independent of subs)
    build_s: float  # filing the subscriptions by the batch's rarest keys
    match_s: float  # finding every (paper, subscription) pair
    alerts: int
    naive_s: float  # the every-pair loop, measured on a sample and scaled
    naive_sample: int
    identical: bool  # indexed == naive on the sample

    @property
    def matching_s(self) -> float:
        """What the target is about: filing + matching for this batch."""
        return self.build_s + self.match_s

    @property
    def total_s(self) -> float:
        return self.analyse_s + self.build_s + self.match_s


def bench_matching(
    catalogue: Sequence[Paper],
    batch: Sequence[Paper],
    *,
    seed: int = 0,
    counts: Sequence[int] = DEFAULT_COUNTS,
    naive_sample: int = 1_000,
    repeat: int = 3,
) -> list[MatchingResult]:
    """Time matching ``batch`` (new papers) against subscriptions drawn from ``catalogue``."""
    results: list[MatchingResult] = []
    for count in counts:
        subs = synthetic_subscriptions(catalogue, count, seed=seed + count)
        best = {
            "compile": float("inf"),
            "analyse": float("inf"),
            "build": float("inf"),
            "match": float("inf"),
        }
        alerts = 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            compiled = [compile_subscription(sub) for sub in subs]
            t1 = time.perf_counter()
            docs = prepare(batch)
            freq = batch_frequencies(docs)
            t2 = time.perf_counter()
            index = SubscriptionIndex.build(compiled, freq)
            t3 = time.perf_counter()
            found = match_targets(batch, index, docs)
            t4 = time.perf_counter()
            for name, spent in (
                ("compile", t1 - t0),
                ("analyse", t2 - t1),
                ("build", t3 - t2),
                ("match", t4 - t3),
            ):
                best[name] = min(best[name], spent)
            alerts = sum(len(targets) for targets in found)
        sample = subs[: min(naive_sample, len(subs))]
        started = time.perf_counter()
        naive = match_naive(batch, sample)
        naive_s = (time.perf_counter() - started) * (len(subs) / len(sample))
        indexed = match(batch, SubscriptionIndex.build(sample, batch_frequencies(prepare(batch))))
        results.append(
            MatchingResult(
                subscriptions=count,
                papers=len(batch),
                compile_s=best["compile"],
                analyse_s=best["analyse"],
                build_s=best["build"],
                match_s=best["match"],
                alerts=alerts,
                naive_s=naive_s,
                naive_sample=len(sample),
                identical=indexed == naive,
            )
        )
    return results


def bench_generated(
    *,
    seed: int = 0,
    new_papers: int = 1_000,
    catalogue_papers: int = 2_000,
    counts: Sequence[int] = DEFAULT_COUNTS,
    repeat: int = 3,
) -> list[MatchingResult]:
    """:func:`bench_matching` on generated digests (catalogue: file 0; new papers: file 1)."""
    catalogue = generated_papers(seed, 0, catalogue_papers)
    batch = generated_papers(seed, 1, new_papers)
    return bench_matching(catalogue, batch, seed=seed, counts=counts, repeat=repeat)


def format_results(results: Sequence[MatchingResult]) -> str:
    """A Markdown table of :func:`bench_matching` results."""
    lines = [
        "| subscriptions | new papers | alerts | build + match (target ≤ 0.5 s at 100k) "
        "| analyse batch | compile (once) | naive loop (est.) | same alerts as naive |",
        "|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.subscriptions:,} | {r.papers:,} | {r.alerts:,} | "
            f"{r.matching_s * 1000:.0f} ms ({r.build_s * 1000:.0f} + {r.match_s * 1000:.0f}) | "
            f"{r.analyse_s * 1000:.0f} ms | {r.compile_s * 1000:.0f} ms | "
            f"{r.naive_s:.1f} s | {'yes' if r.identical else 'NO'} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# the report: rows of the bench's table, or a Markdown section of its own
# --------------------------------------------------------------------------------------------


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
    """The bench table's rows for :func:`bench_matching` results."""
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


def corpus_section(
    corpus: Path,
    extra_digest: Path,
    *,
    seed: int = 0,
    counts: Sequence[int] = DEFAULT_COUNTS,
    catalogue_papers: int = CATALOGUE_SAMPLE,
    repeat: int = 3,
) -> list[tuple[str, str]]:
    """The bench's "alert matching" section at one size: the extra digest against the
    corpus's topics (subscriptions drawn from its first ``catalogue_papers`` papers)."""
    catalogue: list[Paper] = []
    for path in sorted(corpus.glob("*.txt")):
        catalogue.extend(_papers(path))
        if len(catalogue) >= catalogue_papers:
            break
    batch = _papers(extra_digest)
    return section_rows(bench_matching(catalogue, batch, seed=seed, counts=counts, repeat=repeat))


def markdown(results: Sequence[MatchingResult], command: str, repeat: int = 3) -> str:
    """The Markdown section ``digest-bot bench --only alerts`` prints."""
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
