"""``digest-bot export`` and the identifiers in ``digest-bot paper --json``, as subprocesses."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bibtexparser.entrypoint import parse_string

REPO = Path(__file__).resolve().parents[2]
LINKED = """\
Scaling Laws With Links

Doe, Jane, Roe, Rick

arXiv.org Machine Learning

We study scaling laws for linked papers; the abstract is long enough to be an abstract here.

https://arxiv.org/abs/2412.01234v2
doi:10.1000/Links.1


A Journal Paper With Only A DOI

Müller, Jörg

Physical Review Letters

A paper with a DOI and nothing else, about the 100% & #1 cases of escaping in BibTeX output.

DOI: 10.1103/PhysRevLett.1
"""
PAPER_KEYS = {
    "id", "title", "authors", "venue", "abstract", "digests", "first_seen", "removed",
    "matched_by", "similar", "candidates",
}  # fmt: skip


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
    root = tmp_path_factory.mktemp("export")
    digests = root / "digests"
    digests.mkdir()
    shutil.copy(REPO / "seeds" / "000_3fb66f32c462d8d6.txt", digests)
    os.utime(digests / "000_3fb66f32c462d8d6.txt", (1_700_000_000, 1_700_000_000))  # 2023
    (digests / "links-2025-01-31.txt").write_text(LINKED, encoding="utf-8")
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


def test_paper_json_gains_exactly_the_identifier_keys(env: dict[str, str]) -> None:
    linked = json.loads(_run(["paper", "Scaling Laws With Links", "--json"], env).stdout)
    assert set(linked) == PAPER_KEYS | {"url", "arxiv_id", "doi", "pdf_url"}
    assert (linked["url"], linked["arxiv_id"], linked["doi"], linked["pdf_url"]) == (
        None,
        "2412.01234",
        "10.1000/Links.1",
        "https://arxiv.org/pdf/2412.01234",
    )
    seed = json.loads(_run(["paper", "8t72zh2v", "--json"], env).stdout)
    assert (seed["url"], seed["arxiv_id"], seed["doi"], seed["pdf_url"]) == (None,) * 4


@pytest.mark.parametrize(
    "typed",
    ["2412.01234", "arXiv:2412.01234v1", "https://arxiv.org/pdf/2412.01234", "doi:10.1000/links.1"],
)
def test_a_paper_is_found_by_its_arxiv_id_doi_or_url(env: dict[str, str], typed: str) -> None:
    out = _run(["paper", typed, "--json"], env)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["title"] == "Scaling Laws With Links" and found["matched_by"] == "identifier"


def test_export_everything_as_bibtex_on_stdout(env: dict[str, str]) -> None:
    out = _run(["export"], env)
    assert out.returncode == 0, out.stderr
    library = parse_string(out.stdout)
    assert library.failed_blocks == []
    assert len(library.entries) == 10  # the seed's 8 and the 2 linked
    by_title = {e.fields_dict["title"].value: e for e in library.entries}
    linked = by_title["{Scaling} {Laws} {With} {Links}"].fields_dict
    assert linked["year"].value == "2025"  # the digest's date, from its file name
    assert linked["eprint"].value == "2412.01234"
    assert linked["archivePrefix"].value == "arXiv"
    assert linked["doi"].value == "10.1000/Links.1"
    assert linked["url"].value == "https://arxiv.org/abs/2412.01234"
    assert linked["author"].value == "Doe, Jane and Roe, Rick"
    journal = next(e for e in library.entries if e.entry_type == "article")
    assert journal.fields_dict["journal"].value == "Physical Review Letters"
    seed = next(e for e in library.entries if e.key == "8t72zh2v").fields_dict
    assert seed["year"].value == "2023"  # the seed file's modification date
    assert "eprint" not in seed and "url" not in seed


def test_export_a_query_as_csv(env: dict[str, str]) -> None:
    out = _run(["export", "scaling", "laws", "--format", "csv"], env)
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    search = json.loads(_run(["search", "scaling laws", "--json", "--limit", "50"], env).stdout)
    assert [r["id"] for r in rows] == [h["id"] for h in search]
    linked = next(r for r in rows if r["title"] == "Scaling Laws With Links")
    assert linked["authors"] == "Jane Doe; Rick Roe" and linked["year"] == "2025"
    assert linked["doi"] == "10.1000/Links.1" and linked["url"] == ""


def test_export_jsonl_to_a_file(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "papers.jsonl"
    out = _run(["export", "author:doe", "--format", "jsonl", "--out", str(target)], env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "" and "exported 1 paper to" in out.stderr
    [line] = target.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["arxiv_id"] == "2412.01234" and record["authors"] == ["Jane Doe", "Rick Roe"]
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask  # like any file the user writes


def test_export_failures_have_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    nothing = _run(["export", "xylophone", "zeppelin"], env)
    assert nothing.returncode == 1 and "no papers match" in nothing.stderr
    assert nothing.stdout == ""
    bad = _run(["export", '"unbalanced'], env)
    assert bad.returncode == 2 and "cannot understand the query" in bad.stderr
    nowhere = _run(["export", "--out", str(tmp_path / "missing" / "x.bib")], env)
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    none_written = tmp_path / "none.bib"
    _run(["export", "xylophone", "--out", str(none_written)], env)
    assert not none_written.exists() and list(tmp_path.iterdir()) == []
    usage = _run(["export", "--format", "xml"], env)
    assert usage.returncode == 2
