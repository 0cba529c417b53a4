"""Entry bounds: an over-long abstract, title, author list, venue, heading or line is cut at
parse time with a ``file:line: warning`` and the entry kept (issue 8, item 7)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.core.models import Diagnostic, Paper, ParseReport
from bot.core.parser import LIMITS, EntryLimits, parse_digest, parse_text
from bot.core.text import cut_text

REPO = Path(__file__).resolve().parents[2]
NBSP = "\u00a0"
WORDS = "scaling laws for feature learning in deep networks "  # 51 characters


def digest(*entries: tuple[str, str, str, str], heading: str = "Bound County") -> str:
    """A digest in the real format: header, then (title, authors, venue, abstract) entries."""
    out = [f"Goto\n\n{NBSP}{heading}\n"]
    for title, authors, venue, abstract in entries:
        out.append(f"\n\n{title}\n\n{authors}\n\n{venue}\n\n{abstract}\n")
    return "".join(out)


def one(
    title: str = "A Perfectly Ordinary Title",
    authors: str = "Doe, Jane, Roe, Richard",
    venue: str = "arXiv.org Machine Learning",
    abstract: str = "We study things. They behave.",
) -> tuple[str, str, str, str]:
    return title, authors, venue, abstract


def parse(text: str, limits: EntryLimits | None = None) -> ParseReport:
    return (
        parse_digest(text.encode(), "big.txt")
        if limits is None
        else parse_text(text, "big.txt", limits=limits)
    )


def warnings(report: ParseReport) -> list[Diagnostic]:
    return [d for d in report.diagnostics if d.severity == "warning"]


def only_paper(report: ParseReport) -> Paper:
    (paper,) = report.papers
    return paper


def test_limits_leave_real_papers_alone(seed_path: Path) -> None:
    report = parse_digest(seed_path.read_bytes(), seed_path.name)
    assert report.diagnostics == () and len(report.papers) == 8
    biggest = max(len(p.abstract) for p in report.papers)
    assert LIMITS.abstract >= 50 * biggest
    assert LIMITS.title >= 5 * max(len(p.title) for p in report.papers)
    assert LIMITS.authors >= 50 * max(len(p.authors_raw) for p in report.papers)


def test_huge_abstract_is_cut_at_a_word_with_a_warning_and_the_entry_kept() -> None:
    abstract = WORDS * 4000  # 204,000 characters
    text = digest(one(abstract=abstract.strip()), one(title="The Next Paper"))
    report = parse(text)
    huge, nxt = report.papers
    assert nxt.title == "The Next Paper"  # the rest of the file still parses
    assert huge.title == "A Perfectly Ordinary Title" and len(huge.authors) == 2
    assert 99_000 < len(huge.abstract) <= 100_000
    assert abstract.startswith(huge.abstract)
    assert abstract[len(huge.abstract)] == " "  # cut between words
    (warning,) = warnings(report)
    lines = text.split("\n")
    assert lines[warning.line - 1].startswith("scaling laws")  # the abstract's line
    assert str(warning).startswith(f"big.txt:{warning.line}: warning: abstract ")
    assert "203,999 characters" in warning.message and "100,000" in warning.message
    assert "entry kept" in warning.message


def test_abstract_bound_counts_every_paragraph() -> None:
    paragraph = (WORDS * 400).strip()  # 20,399 characters
    abstract = "\n\n".join([paragraph] * 8)
    report = parse(digest(one(abstract=abstract)))
    paper = only_paper(report)
    assert len(paper.abstract) <= 100_000
    assert paper.abstract.count("\n\n") == 4  # paragraphs 1-4 whole, the 5th cut
    assert abstract.startswith(paper.abstract)
    (warning,) = warnings(report)
    assert "abstract" in warning.message


def test_paragraphs_after_two_blank_lines_stay_within_the_bound() -> None:
    paragraph = (WORDS * 900).strip()  # 45,899 characters
    text = digest(one(abstract=paragraph)) + f"\n\n{paragraph}\n\n\n{paragraph}\n\n\n{paragraph}\n"
    report = parse(text)
    paper = only_paper(report)
    assert len(paper.abstract) <= 100_000 and paper.abstract.startswith(paragraph + "\n\n")
    assert any("abstract" in w.message and "entry kept" in w.message for w in warnings(report))


def test_one_huge_line_without_spaces_is_cut_without_splitting_a_character() -> None:
    # "é" as e + combining acute: a cut between the two would change the letter.
    accented = "e\u0301"
    word = ("x" * 99_999) + accented * 10
    report = parse(digest(one(abstract=word)))
    paper = only_paper(report)
    assert paper.abstract == "x" * 99_999
    assert not unicodedata.combining(paper.abstract[-1])
    assert len(warnings(report)) == 1


@pytest.mark.parametrize("limit", [3, 5, 6, 7, 8])
def test_cut_text_keeps_emoji_sequences_whole(limit: int) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one symbol, five code points
    flag = "\U0001f1eb\U0001f1f7"  # one flag, two regional indicators
    thumbs = "\U0001f44d\U0001f3fd"  # thumbs up, skin tone
    text = "ab" + flag + thumbs + family
    cut = cut_text(text, limit)
    assert text.startswith(cut) and len(cut) <= limit
    assert cut in {"ab", "ab" + flag, "ab" + flag + thumbs}


def test_cut_text_prefers_a_word_boundary() -> None:
    assert cut_text("alpha beta gamma", 100) == "alpha beta gamma"
    assert cut_text("alpha beta gamma", 13) == "alpha beta"
    assert cut_text("alphabet\ngamma", 10) == "alphabet"
    assert cut_text("abcdefghij", 5) == "abcde"


def test_huge_title_and_author_list_are_cut_with_one_warning_each() -> None:
    title = ("Scaling " * 500).strip()  # 3,999 characters
    names = ", ".join(f"Last{i:05d}, First{i:05d}" for i in range(2000))  # ~46,000 characters
    report = parse(digest(one(title=title, authors=names)))
    paper = only_paper(report)
    assert len(paper.title) <= 1_000 and title.startswith(paper.title)
    assert len(paper.authors_raw) <= 20_000
    # cut at an author boundary: every kept author is whole ("First" names included)
    kept = paper.authors
    assert 500 < len(kept) < 2000
    assert all(a.display == f"First{i:05d} Last{i:05d}" for i, a in enumerate(kept))
    assert sorted(w.message.split(" ")[0] for w in warnings(report)) == ["author", "title"]
    assert all("entry kept" in w.message for w in warnings(report))


def test_huge_venue_is_cut() -> None:
    # Title, a long second block and an abstract: the second block is taken as the venue.
    venue = ("Proceedings of the Very Long Conference " * 100).strip()
    text = f"{NBSP}Venue County\n\n\nA Title\n\n{venue}\n\n{WORDS * 10}.\n"
    report = parse(text)
    paper = only_paper(report)
    assert len(paper.venue) <= 1_000 and venue.startswith(paper.venue)
    (warning,) = warnings(report)
    assert warning.line == 6 and warning.message.startswith("venue ")


def test_semicolon_author_list_is_cut_at_an_author() -> None:
    names = "; ".join(f"Last{i:05d}, First{i:05d}" for i in range(2000))
    paper = only_paper(parse(digest(one(authors=names))))
    assert paper.authors and all(
        a.display == f"First{i:05d} Last{i:05d}" for i, a in enumerate(paper.authors)
    )


def test_huge_heading_is_cut_with_a_warning() -> None:
    report = parse(digest(one(), heading="County " * 1000))
    assert report.heading is not None and len(report.heading) <= 1_000
    (warning,) = warnings(report)
    assert warning.line == 3 and warning.message.startswith("heading ")


def test_limits_can_be_raised_and_lowered() -> None:
    abstract = (WORDS * 4000).strip()
    raised = parse(digest(one(abstract=abstract)), EntryLimits(abstract=10**9, line=10**9))
    assert only_paper(raised).abstract == abstract and raised.diagnostics == ()
    lowered = parse(digest(one(abstract=abstract)), EntryLimits(abstract=100))
    assert len(only_paper(lowered).abstract) <= 100


def test_readme_documents_the_limits() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Reindexing", 1)[1].split("\n## ", 1)[0]
    for value in (LIMITS.abstract, LIMITS.title, LIMITS.authors, LIMITS.venue, LIMITS.line):
        assert f"{value:,}" in section, value
