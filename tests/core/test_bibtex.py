"""BibTeX entries: every one read back by bibtexparser (v2 API: ``bibtexparser.entrypoint``)
and, when installed, biber."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from bibtexparser.entrypoint import parse_string
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts

from bot.core import bibtex
from bot.core.models import NO_IDENTIFIERS, Identifiers, Paper
from bot.core.parser import paper_key, parse_authors, parse_digest, short_id
from tests.e2e.fixtures import stress_digest

NASTY_TITLE = 'SUPERChem: {Odd} 100% & #1 $x$ a_b ^ ~ \\ @everyone "q" }{ ```code```'
NASTY_AUTHORS = "Müller, Jörg, O'Brien, Pat, van der Berg, Jan, García-López, Ana, Plato"
_UNESCAPE = {v: k for k, v in bibtex._ESCAPES.items()}
_UNESCAPE_RE = re.compile("|".join(re.escape(v) for v in sorted(_UNESCAPE, key=len, reverse=True)))


def make(title: str, authors: str, venue: str, ids: Identifiers = NO_IDENTIFIERS) -> Paper:
    parsed = parse_authors(authors)
    key = paper_key(title, parsed)
    return Paper(short_id(key), key, title, parsed, authors, venue, "", identifiers=ids)


def papers(seed_path: Path) -> list[Paper]:
    found = list(parse_digest(seed_path.read_bytes(), "seed.txt").papers)
    found += parse_digest(stress_digest().encode(), "stress.txt").papers
    found.append(
        make(
            NASTY_TITLE,
            NASTY_AUTHORS,
            "Journal of *Pathological* Inputs & More",
            Identifiers(
                url="https://x.org/a b{c}",
                arxiv_id="hep-th/9901001",
                doi="10.1000/a_b%c<d>",
                pdf_url="https://arxiv.org/pdf/hep-th/9901001",
            ),
        )
    )
    found.append(make("no authors at all", "", ""))
    return found


def unescape(value: str) -> str:
    """Undo the escaping and the capital-protecting braces (what a reader sees)."""
    pieces = re.split(f"({_UNESCAPE_RE.pattern})", value)
    return "".join(
        _UNESCAPE[piece] if piece in _UNESCAPE else piece.replace("{", "").replace("}", "")
        for piece in pieces
    )


def test_an_entry_has_the_documented_fields() -> None:
    paper = make(
        "Scaling Laws in GPT-4",
        "Yao, Zihan, Wu, Ruoyu",
        "arXiv.org Machine Learning",
        Identifiers(
            arxiv_id="2412.01234", doi="10.1/X", pdf_url="https://arxiv.org/pdf/2412.01234"
        ),
    )
    assert bibtex.entry(paper, 2025) == (
        f"@misc{{{paper.id},\n"
        "  title         = {{Scaling} {Laws} in {GPT-4}},\n"
        "  author        = {Yao, Zihan and Wu, Ruoyu},\n"
        "  year          = {2025},\n"
        "  howpublished  = {arXiv.org Machine Learning},\n"
        "  url           = {https://arxiv.org/abs/2412.01234},\n"
        "  doi           = {10.1/X},\n"
        "  eprint        = {2412.01234},\n"
        "  archivePrefix = {arXiv}\n"
        "}"
    )
    journal = make("A", "Doe, Jane", "Physical Review Letters")
    assert bibtex.entry(journal).startswith("@article{") and "journal " in bibtex.entry(journal)


def test_bibtexparser_reads_every_entry_back(seed_path: Path) -> None:
    items = papers(seed_path)
    text = "".join(bibtex.entries((p, 2025) for p in items))
    library = parse_string(text, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    assert library.failed_blocks == []
    assert [e.key for e in library.entries] == [p.id for p in items]
    for paper, parsed in zip(items, library.entries, strict=True):
        values = parsed.fields_dict
        assert unescape(values["title"].value) == " ".join(paper.title.split())
        assert values["year"].value == "2025"
        if paper.authors:
            names = values["author"].value
            assert len(names) == len(paper.authors)
            for author, split in zip(paper.authors, names, strict=True):
                assert unescape(" ".join([*split.von, *split.last])) == author.last
                assert unescape(" ".join(split.first)) == author.first
        else:
            assert "author" not in values
        venue_field = "journal" if bibtex.entry_type(paper.venue) == "article" else "howpublished"
        if paper.venue:
            assert unescape(values[venue_field].value) == paper.venue
        ids = paper.identifiers
        if ids.arxiv_id:
            assert values["eprint"].value == ids.arxiv_id
            assert values["archivePrefix"].value == "arXiv"
        if ids.doi:
            assert values["doi"].value == ids.doi
    nasty = library.entries[-2].fields_dict
    assert nasty["url"].value == "https://x.org/a%20b%7Bc%7D"


@pytest.mark.skipif(shutil.which("biber") is None, reason="biber is not installed")
def test_biber_reads_every_entry_back(seed_path: Path, tmp_path: Path) -> None:
    items = papers(seed_path)
    source = tmp_path / "export.bib"
    source.write_text("".join(bibtex.entries((p, 2025) for p in items)), encoding="utf-8")
    out = tmp_path / "biber.bib"
    run = subprocess.run(
        ["biber", "--tool", "--output-file", str(out), str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log
    assert "ERROR" not in log and "WARN" not in log, log
    library = parse_string(out.read_text(encoding="utf-8"))
    assert sorted(e.key for e in library.entries) == sorted(p.id for p in items)
    by_key = {e.key: e.fields_dict for e in library.entries}
    for paper in items:
        title = by_key[paper.id]["TITLE"].value
        assert unescape(title) == " ".join(paper.title.split())


def test_a_long_author_list_can_end_with_and_others() -> None:
    paper = make("T", ", ".join(f"Last{i}, First{i}" for i in range(30)), "")
    text = bibtex.entry(paper, max_authors=3)
    assert "author = {Last0, First0 and Last1, First1 and Last2, First2 and others}" in (
        " ".join(text.split())
    )
    [parsed] = parse_string(text).entries
    assert parsed.fields_dict["author"].value.endswith(" and others")
    assert "`" not in bibtex.entry(make("```x```", "A, B", "```v"))
