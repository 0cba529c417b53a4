"""The alert-matching benchmark runs, and indexed matching agrees with the naive loop."""

from __future__ import annotations

import pytest

from bot.bench.alerts import (
    bench_generated,
    generated_papers,
    section_rows,
    synthetic_subscriptions,
)
from bot.cli import main


def test_bench_small_counts_agree_with_the_naive_loop() -> None:
    results = bench_generated(
        seed=0, new_papers=150, catalogue_papers=300, counts=(50, 300), repeat=1
    )
    assert [r.subscriptions for r in results] == [50, 300]
    assert all(r.identical for r in results)
    assert results[1].alerts > 0
    rows = dict(section_rows(results))
    assert "300 subscriptions" in rows and "target" in rows["verdict"]


def test_synthetic_subscriptions_are_seeded_and_specific() -> None:
    catalogue = generated_papers(0, 0, 300)
    a = synthetic_subscriptions(catalogue, 200, seed=9)
    b = synthetic_subscriptions(catalogue, 200, seed=9)
    assert [str(s.query) for s in a] == [str(s.query) for s in b]
    kinds = {
        ("author" if s.query.authors else "")
        + ("venue" if s.query.venues else "")
        + ("phrase" if s.query.phrases else "")
        for s in a
    }
    assert {"", "author", "venue", "phrase"} <= kinds


def test_main_prints_a_markdown_section(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "--only", "alerts", "--counts", "30", "--new-papers", "50", "--catalogue",
            "100", "--repeat", "1"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("## Alert matching") and "| 30 |" in out and "Verdict:" in out
