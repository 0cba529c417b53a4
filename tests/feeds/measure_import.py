"""Measure the feed import on big feeds: ``python -m tests.feeds.measure_import [--entries N]``.

Generates an arXiv RSS listing and an arXiv API response of N entries (default 2,000) in the
shape of the fixtures, serves them over loopback, and imports each into a fresh folder:
wall time of the first import (fetch + parse + convert + write), of a second one answered
304, of one without validators (every entry already in the day's file), and peak memory
(tracemalloc: Python allocations during the import; ru_maxrss: the process's peak RSS).
Not a test: figures only (performance is never asserted by timed tests).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from bot.feeds.importer import import_feeds
from tests.feeds.server import FeedServer, Page

WORDS = [
    "scaling", "laws", "feature", "learning", "residual", "networks", "kernel", "regime",
    "gradient", "descent", "sparse", "attention", "transformer", "diffusion", "models", "mean",
    "field", "replica", "theory", "phase", "transition", "generalisation", "memorisation",
    "curriculum", "optimisation", "stochastic", "dynamics", "infinite", "width", "depth",
    "limit", "spectral", "bias", "implicit", "regularisation", "benchmark", "protein",
]  # fmt: skip
FIRST = ["Ada", "Noa", "Zihan", "Maria", "Jean", "Paul", "Keiko", "Lars", "Ana", "Kwame"]
LAST = ["Yao", "de la Cruz", "van der Berg", "Le Gall", "Barbier", "Rubin", "Tanaka", "Mensah"]
DAY = date(2024, 12, 3)


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


SYLLABLES = [
    "ka", "lo", "mi", "ra", "ne", "su", "to", "vi", "ze", "ha", "jo", "lu", "ma", "no", "pe",
    "ri", "sa", "te", "wu", "yi",
]  # fmt: skip


def _name(rng: random.Random) -> str:
    """Mostly unique names, as in a real listing (so no cache flatters the figures)."""
    if rng.random() < 0.2:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"  # with particles, "Le Gall", ...
    first = "".join(rng.choice(SYLLABLES) for _ in range(2)).capitalize()
    last = "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()
    middle = f" {rng.choice('ABCDEFGHJK')}." if rng.random() < 0.15 else ""
    return f"{first}{middle} {last}"


def _names(rng: random.Random) -> list[str]:
    return [_name(rng) for _ in range(rng.randint(2, 8))]


def arxiv_rss(entries: int, seed: int = 1) -> bytes:
    rng = random.Random(seed)
    items = []
    for n in range(entries):
        arxiv_id = f"2412.{10000 + n:05d}"
        kind = rng.choice(["new", "new", "new", "cross", "replace", "replace-cross"])
        abstract = escape(_text(rng, 170))
        items.append(
            f"""    <item>
      <title>{escape(_text(rng, 10).capitalize())} {n}</title>
      <link>https://arxiv.org/abs/{arxiv_id}</link>
      <description>arXiv:{arxiv_id}v1 Announce Type: {kind} \nAbstract: {abstract}.</description>
      <guid isPermaLink="false">oai:arXiv.org:{arxiv_id}v1</guid>
      <category>cs.LG</category>
      <category>stat.ML</category>
      <pubDate>Tue, 03 Dec 2024 00:00:00 -0500</pubDate>
      <arxiv:announce_type>{kind}</arxiv:announce_type>
      <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
      <dc:creator>{escape(", ".join(_names(rng)))}</dc:creator>
    </item>"""
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:arxiv="http://arxiv.org/schemas/atom"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">\n  <channel>\n'
        "    <title>cs.LG updates on arXiv.org</title>\n"
        "    <link>http://rss.arxiv.org/rss/cs.LG</link>\n"
        "    <description>cs.LG updates on the arXiv.org e-print archive.</description>\n"
        + "\n".join(items)
        + "\n  </channel>\n</rss>\n"
    ).encode()


def arxiv_api(entries: int, seed: int = 2) -> bytes:
    rng = random.Random(seed)
    out = []
    for n in range(entries):
        arxiv_id = f"2411.{10000 + n:05d}v{rng.randint(1, 3)}"
        authors = "".join(f"<author><name>{escape(a)}</name></author>" for a in _names(rng))
        out.append(
            f"""  <entry>
    <id>http://arxiv.org/abs/{arxiv_id}</id>
    <updated>2024-12-02T17:41:09Z</updated>
    <published>2024-12-01T09:12:44Z</published>
    <title>{escape(_text(rng, 10).capitalize())} {n}</title>
    <summary>  {escape(_text(rng, 170))}.
</summary>
    {authors}
    <arxiv:doi xmlns:arxiv="http://arxiv.org/schemas/atom">10.1000/x.{n}</arxiv:doi>
    <link href="http://arxiv.org/abs/{arxiv_id}" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/{arxiv_id}" rel="related" type="application/pdf"/>
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
  </entry>"""
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        "  <title>ArXiv Query: search_query=cat:cs.LG</title>\n"
        "  <id>http://arxiv.org/api/measure</id>\n" + "\n".join(out) + "\n</feed>\n"
    ).encode()


async def measure(name: str, body: bytes) -> None:
    async with FeedServer() as server:
        url = server.serve(name, Page(body, etag='"m"'))
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            first = await import_feeds([url], folder, today=DAY)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            again = await import_feeds([url], folder, today=DAY)
            again_s = time.perf_counter() - started
            started = time.perf_counter()
            full = await import_feeds([url], folder, today=DAY, force=True)
            full_s = time.perf_counter() - started
            written = sum(p.stat().st_size for p in folder.glob("*.txt"))
        with tempfile.TemporaryDirectory() as tmp:
            tracemalloc.start()
            await import_feeds([url], Path(tmp), today=DAY)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    [o1], [o2], [o3] = first.outcomes, again.outcomes, full.outcomes
    print(f"{name}: {len(body) / 1e6:.2f} MB feed, {o1.entries + o1.excluded:,} entries")
    print(f"  first import   {first_s:6.2f} s  {o1.status}: {o1.added:,} papers written "
          f"({written / 1e6:.2f} MB digest file)")  # fmt: skip
    print(f"  again (304)    {again_s:6.2f} s  {o2.status}")
    print(f"  again (--force){full_s:6.2f} s  {o3.status}: {o3.duplicates:,} already there")
    print(f"  peak traced Python memory during an import: {peak / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(measure("arxiv-rss", arxiv_rss(args.entries)))
    asyncio.run(measure("arxiv-api", arxiv_api(args.entries)))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"process peak RSS (everything above, libraries included): {rss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
