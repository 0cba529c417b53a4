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
