"""Benchmarks and synthetic data: what ``digest-bot generate`` and ``digest-bot bench`` run.

Nothing the bot runs imports this package; it uses the real core, store and catalogue.

* :mod:`bot.bench.generate`  seeded synthetic digests in the real format
* :mod:`bot.bench.runner`    one corpus size: ingest, index build, add a digest, sections
* :mod:`bot.bench.search`    the query mix, the fresh-process probe, rank-bm25 and references
* :mod:`bot.bench.alerts`    the alert-matching benchmark (a section of the bench, or alone)
* :mod:`bot.bench.measure`   RSS, percentiles, running a function in a fresh process
* :mod:`bot.bench.report`    the Markdown report (``docs/benchmarks.md``)
"""
