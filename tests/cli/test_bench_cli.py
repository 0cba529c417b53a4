"""``digest-bot generate`` and ``digest-bot bench``: the whole benchmark runs, on a tiny corpus.

No figure is asserted (performance is never asserted by tests); what is checked is that
every measurement runs through the real code (fresh processes included), that the index's
top 10 equals rank-bm25's on every checked query, and the CLI's usage errors.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.parser import parse_digest

REPO = Path(__file__).resolve().parents[2]


def test_generate_writes_digests_in_the_real_format(tmp_path: Path) -> None:
    out = tmp_path / "digests"
    assert main(["generate", "--papers", "25", "--out", str(out), "--per-file", "10",
                 "--workers", "2", "--seed", "3"]) == 0  # fmt: skip
    files = sorted(out.glob("*.txt"))
    assert len(files) == 3
    reports = [parse_digest(f.read_bytes(), f.name) for f in files]
    assert [len(r.papers) for r in reports] == [10, 10, 5]
    assert not [d for r in reports for d in r.diagnostics]


def test_generate_refuses_zero_papers(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["generate", "--papers", "0", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_bench_runs_every_section_at_a_tiny_size(tmp_path: Path) -> None:
    out = tmp_path / "bench.md"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--sizes", "300", "--out", str(out),
         "--work", str(tmp_path / "work"), "--repeat", "1", "--counts", "20"],
        capture_output=True, text=True, cwd=REPO, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {out}\n"
    (result,) = json.loads(out.with_suffix(".json").read_text())
    assert result["papers"] == 300 and result["docs_after"] == 300 + result["add_digest_added"]
    assert result["add_digest_added"] == result["add_next_added"] == 1000
    assert result["probe"]["n_docs"] == 300
    identity = result["references"]["identity"]
    assert identity["checked"] > 0 and identity["mismatches"] == []
    assert identity["same_top10"] == identity["checked"]
    assert identity["same_top10_or"] == identity["checked_or"] == identity["queries"]
    rows = dict(result["sections"]["alert matching"])
    assert "20 subscriptions" in rows and "same alerts: yes" in rows["20 subscriptions"]
    report = out.read_text()
    assert "## 300 papers" in report and "alert matching: verdict" in report
    assert "a running bot's next reindex" in report
    if importlib.util.find_spec("tantivy") is not None:
        refs = result["references"]
        kinds = set(result["probe"]["latency_by_kind"])
        assert set(refs["tantivy_latency_by_kind"]) == kinds
        # the same queries: tantivy counts as many hits for the plain and phrase queries
        for kind in ("common", "multi-term", "phrase"):
            if kind in refs["tantivy_same_count"]:
                same, n = refs["tantivy_same_count"][kind]
                assert same >= n * 0.8, (kind, same, n)
        assert "(tantivy " in report


def test_only_alerts_appends_its_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "notes.md"
    target.write_text("# Notes\n")
    argv = ["bench", "--only", "alerts", "--counts", "10", "--new-papers", "20",
            "--catalogue", "60", "--repeat", "1", "--append", str(target)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("## Alert matching")
    assert target.read_text() == "# Notes\n\n" + printed.removesuffix("\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--append", "x.md"],
        ["bench", "--new-papers", "5"],
        ["bench", "--counts", "10,ten"],
        ["bench", "--counts", "0"],
        ["bench", "--sizes", "1e4"],
        ["bench", "--only", "alerts", "--new-papers", "0"],
    ],
)
def test_bench_usage_errors_are_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("digest-bot: ") and err.count("\n") == 1


def test_bench_only_relevance_prints_its_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "relevance.md"
    args = ["bench", "--only", "relevance", "--sizes", "400", "--queries", "20",
            "--weights", "2/1/0-,10/3/0", "--append", str(out)]  # fmt: skip
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Known-item relevance (400 generated papers)" in text
    rows = [line for line in text.splitlines() if line.startswith("| 2/1/0 | bm25 ")]
    assert [r.split(" | ")[2] for r in rows] == ["title", "title+typo", "author+title"]
    assert sum(1 for line in text.splitlines() if line.startswith("| 10/3/0 | tiers ")) == 3
    assert out.read_text().strip() == text.strip()


@pytest.mark.parametrize("weights", ["0/1/0", "2/1", "a/b/c", ","])
def test_bench_relevance_refuses_bad_weights(
    weights: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--only", "relevance", "--sizes", "10", "--weights", weights]) == 2
    assert capsys.readouterr().err.count("\n") == 1
