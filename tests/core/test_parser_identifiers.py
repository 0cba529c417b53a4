"""Identifier lines in digest entries (docs/digest-format.md): parsed, kept out of abstracts."""

from __future__ import annotations

from pathlib import Path

from bot.core.models import NO_IDENTIFIERS, Identifiers, Paper
from bot.core.parser import parse_digest, parse_text
from tests.core.test_parser import SEED_IDS

ENTRY = """Scaling Laws for Everything

Doe, Jane, Roe, Rick

arXiv.org Machine Learning

We study scaling. Code: https://github.com/doe/scaling is public.
"""


def parse(text: str) -> list[Paper]:
    return list(parse_text(text, "t.txt").papers)


def test_the_seed_parses_as_before_with_no_identifiers(seed_path: Path) -> None:
    report = parse_digest(seed_path.read_bytes(), seed_path.name)
    assert [p.id for p in report.papers] == SEED_IDS
    assert all(p.identifiers is NO_IDENTIFIERS for p in report.papers)
    superchem = report.papers[3]
    # A URL inside abstract prose stays in the abstract.
    assert "https://huggingface.co/datasets/ZehuaZhao/SUPERChem" in superchem.abstract


def test_an_identifier_block_at_the_end_of_an_entry() -> None:
    text = ENTRY + "\nhttps://arxiv.org/abs/2412.01234v2\ndoi:10.1000/XYZ\n"
    [paper] = parse(text)
    assert paper.identifiers == Identifiers(
        url=None,
        arxiv_id="2412.01234",
        doi="10.1000/XYZ",
        pdf_url="https://arxiv.org/pdf/2412.01234",
    )
    assert paper.abstract == "We study scaling. Code: https://github.com/doe/scaling is public."
    # The id is the same as without identifiers: it never depends on them.
    [plain] = parse(ENTRY)
    assert plain.id == paper.id and plain.identifiers is NO_IDENTIFIERS


def test_identifier_lines_at_the_end_of_the_last_block() -> None:
    text = ENTRY.rstrip("\n") + "\nhttps://example.org/paper\n  arXiv:hep-th/9901001  \n"
    report = parse_text(text, "t.txt")
    [paper] = report.papers
    assert report.diagnostics == ()
    assert paper.abstract == "We study scaling. Code: https://github.com/doe/scaling is public."
    assert paper.identifiers.url == "https://example.org/paper"
    assert paper.identifiers.arxiv_id == "hep-th/9901001"


def test_a_url_ending_a_prose_line_is_not_an_identifier() -> None:
    text = ENTRY.rstrip("\n") + " See https://example.org/x\n"
    [paper] = parse(text)
    assert paper.identifiers is NO_IDENTIFIERS
    assert paper.abstract.endswith("See https://example.org/x")


def test_identifiers_with_no_abstract() -> None:
    text = "A Title\n\nDoe, Jane\n\nSome Venue\n\narXiv:2412.01234\n"
    report = parse_text(text, "t.txt")
    [paper] = report.papers
    assert paper.venue == "Some Venue" and paper.abstract == ""
    assert paper.identifiers.arxiv_id == "2412.01234"
    assert [d.message for d in report.diagnostics] == ["entry has no abstract (cut short?)"]


def test_identifiers_set_apart_by_two_blank_lines_join_the_paper_above() -> None:
    text = ENTRY + "\n\nDOI: 10.5555/12345\n"
    report = parse_text(text, "t.txt")
    [paper] = report.papers
    assert paper.identifiers.doi == "10.5555/12345"
    assert report.diagnostics[0].severity == "warning"
    assert "kept with the paper above" in report.diagnostics[0].message


def test_two_entries_that_share_an_arxiv_id_are_one_paper() -> None:
    second = ENTRY.replace("Scaling Laws for Everything", "Scaling Laws for Everything (v2)")
    text = (
        ENTRY + "\narXiv:2412.01234\n\n\n" + second + "\nhttps://arxiv.org/abs/2412.01234v2\n"
        "doi:10.1000/x\n"
    )
    report = parse_text(text, "t.txt")
    [paper] = report.papers
    assert paper.title == "Scaling Laws for Everything"
    assert paper.identifiers.doi == "10.1000/x"  # it gains what the repeat knew
    assert any("same arXiv id or DOI" in d.message for d in report.diagnostics)


def test_two_entries_that_share_a_doi_in_another_case_are_one_paper() -> None:
    second = ENTRY.replace("Scaling Laws for Everything", "Another Title Entirely")
    text = ENTRY + "\ndoi:10.1000/ABC\n\n\n" + second + "\nDOI: 10.1000/abc\n"
    assert len(parse(text)) == 1


def test_a_repeat_with_the_same_title_gains_the_identifiers() -> None:
    text = ENTRY + "\n\n" + ENTRY + "\nhttps://openreview.net/forum?id=1\n"
    report = parse_text(text, "t.txt")
    [paper] = report.papers
    assert paper.identifiers.url == "https://openreview.net/forum?id=1"
    assert any("kept once" in d.message for d in report.diagnostics)


def test_conflicting_identifiers_are_reported() -> None:
    text = ENTRY + "\narXiv:2412.01234\narXiv:2412.09999\n"
    report = parse_text(text, "t.txt")
    [paper] = report.papers
    assert paper.identifiers.arxiv_id == "2412.01234"
    assert [d.line for d in report.diagnostics] == [9]
    assert "second arXiv id 2412.09999 ignored" in report.diagnostics[0].message


def test_a_title_that_is_a_url_is_still_a_title() -> None:
    text = "https://example.org/a-title\n\nDoe, Jane\n\nVenue\n\nAn abstract about it.\n"
    [paper] = parse(text)
    assert paper.title == "https://example.org/a-title"
    assert paper.identifiers is NO_IDENTIFIERS
