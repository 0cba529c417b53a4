"""``digest-bot search / paper / author`` as subprocesses: output and exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    digests = root / "digests"
    digests.mkdir()
    shutil.copy(REPO / "seeds" / "000_3fb66f32c462d8d6.txt", digests)
    environ = {
        **os.environ,
        "DIGEST_DIR": str(digests),
        "DATABASE_PATH": str(root / "digest.db"),
        "INDEX_DIR": str(root / "index"),
        "PYTHONPATH": str(REPO),
    }
    done = _run(["reindex"], environ)
    assert done.returncode == 0, done.stderr
    return environ


def test_search_json(env: dict[str, str]) -> None:
    out = _run(["search", "scaling laws", "--json"], env)
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)
    assert len(hits) == 2
    assert hits[0]["title"].startswith("Understanding Scaling Laws")
    assert hits[0]["authors"][:2] == ["Zihan Yao", "Ruoyu Wu"]
    assert hits[0]["venue"] == "arXiv.org Machine Learning"
    assert hits[0]["score"] > hits[1]["score"] > 0
    assert {"id", "snippet", "digests"} <= set(hits[0])


def test_search_human_and_limit(env: dict[str, str]) -> None:
    out = _run(["search", "learning", "--limit", "2"], env)
    assert out.returncode == 0
    assert "papers match" in out.stdout and "1. " in out.stdout and "3. " not in out.stdout


def test_search_not_found_and_did_you_mean(env: dict[str, str]) -> None:
    out = _run(["search", "scalling", "lwas"], env)
    assert out.returncode == 1
    assert "did you mean: scaling laws" in out.stderr and out.stdout == ""


def test_search_bad_query_exit_2(env: dict[str, str]) -> None:
    out = _run(["search", '"feature learning'], env)
    assert out.returncode == 2
    assert "Unbalanced quote" in out.stderr


def test_paper_json_by_title_and_id(env: dict[str, str]) -> None:
    out = _run(["paper", "scalling laws feature learnig dynamics", "--json"], env)
    assert out.returncode == 0, out.stderr
    paper = json.loads(out.stdout)
    assert paper["title"].startswith("Understanding Scaling Laws")
    assert paper["authors"][0] == "Zihan Yao"
    assert paper["venue"] and paper["abstract"].startswith("The empirical success")
    assert paper["digests"][0]["path"].endswith("000_3fb66f32c462d8d6.txt")
    again = _run(["paper", paper["id"].upper()], env)
    assert again.returncode == 0 and paper["title"] in again.stdout
    missing = _run(["paper", "zzzzzzzz"], env)
    assert missing.returncode == 1 and "no paper" in missing.stderr


def test_author_json(env: dict[str, str]) -> None:
    out = _run(["author", "Z.", "Yao", "--json"], env)
    assert out.returncode == 0, out.stderr
    author = json.loads(out.stdout)
    assert author["name"] == "Zihan Yao"
    assert author["papers"][0]["title"].startswith("Understanding Scaling Laws")
    assert {"id", "title"} <= set(author["papers"][0])
    missing = _run(["author", "Nobody", "Atall"], env)
    assert missing.returncode == 1


def test_empty_catalogue_says_reindex(tmp_path: Path) -> None:
    environ = {
        **os.environ,
        "DATABASE_PATH": str(tmp_path / "none.db"),
        "INDEX_DIR": str(tmp_path / "ix"),
        "PYTHONPATH": str(REPO),
    }
    out = _run(["search", "anything"], environ)
    assert out.returncode == 1 and "digest-bot reindex" in out.stderr


def test_a_query_starting_with_a_dash_is_a_query(env: dict[str, str]) -> None:
    only = _run(["search", "-chemistry"], env)
    assert only.returncode == 2, only.stderr
    assert "only excludes" in only.stderr and "Traceback" not in only.stderr
    mixed = _run(["search", "--limit", "3", "learning", "-laws", "--json"], env)
    assert mixed.returncode == 0, mixed.stderr
    hits = json.loads(mixed.stdout)
    plain = json.loads(_run(["search", "learning", "--json"], env).stdout)
    assert 0 < len(hits) < len(plain)  # the exclusion took effect
    assert all("laws" not in h["title"].lower() for h in hits)
    assert any("laws" in h["title"].lower() for h in plain)
    dashes = _run(["search", "--json", "--", "learning", "-laws"], env)
    assert json.loads(dashes.stdout) == hits


@pytest.mark.parametrize(
    ("query", "says"), [("title:scaling", "title:"), ("scaling OR laws", "OR")]
)
def test_what_the_language_lacks_exits_2_saying_what_it_has(
    env: dict[str, str], query: str, says: str
) -> None:
    out = _run(["search", query], env)
    assert out.returncode == 2, out.stderr
    assert says in out.stderr and "author:" in out.stderr and "venue:" in out.stderr
    assert "no papers match" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--limit", "0"], "argument --limit: must be between 1 and 100"),
        (["--limit", "101"], "argument --limit: must be between 1 and 100"),
        (["--limit", "ten"], "argument --limit: must be a whole number between 1 and 100"),
        (["--offset", "-1"], "argument --offset: must be 0 or more"),
    ],
)
def test_limit_outside_its_range_is_an_error_naming_the_range(
    env: dict[str, str], args: list[str], says: str
) -> None:
    out = _run(["search", "learning", *args], env)
    assert out.returncode == 2
    assert says in out.stderr, out.stderr
    assert out.stdout == ""


def test_query_after_options_keeps_options_and_moves_the_query() -> None:
    from bot.cli.search import query_after_options

    assert query_after_options(["scaling", "-chemistry", "--limit", "3"]) == [
        "--limit",
        "3",
        "--",
        "scaling",
        "-chemistry",
    ]
    assert query_after_options(["--lim=2", "-x", "--js", "--db", "a.db"]) == [
        "--lim=2",
        "--js",
        "--db",
        "a.db",
        "--",
        "-x",
    ]
    assert query_after_options(["a", "--", "--json"]) == ["--", "a", "--json"]
    assert query_after_options(["--json"]) == ["--json"]  # no query: argparse says so


@pytest.mark.parametrize(
    ("command", "typed", "field", "expected"),
    [
        ("paper", "scalng laws", "title", "Understanding Scaling Laws"),
        ("paper", "superchme", "title", "SUPERChem"),
        ("author", "camili", "name", "Francesco Camilli"),
    ],
)
def test_paper_and_author_with_typos(
    env: dict[str, str], command: str, typed: str, field: str, expected: str
) -> None:
    out = _run([command, typed, "--json"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[field].startswith(expected)
