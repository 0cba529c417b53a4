"""Identifier lines: what each line yields, and the links a paper's identifiers give."""

from __future__ import annotations

import pytest

from bot.core import identifiers
from bot.core.identifiers import LineIdentifier, collect, merge, parse_line, title_search
from bot.core.models import NO_IDENTIFIERS, Identifiers


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "https://arxiv.org/abs/2412.01234v2",
            LineIdentifier(url="https://arxiv.org/abs/2412.01234v2", arxiv_id="2412.01234"),
        ),
        (
            "https://arxiv.org/pdf/2412.01234v2",
            LineIdentifier(url="https://arxiv.org/pdf/2412.01234v2", arxiv_id="2412.01234"),
        ),
        (
            "http://export.arxiv.org/pdf/2412.01234.pdf",
            LineIdentifier(url="http://export.arxiv.org/pdf/2412.01234.pdf", arxiv_id="2412.01234"),
        ),
        (
            "https://arxiv.org/abs/hep-th/9901001",
            LineIdentifier(url="https://arxiv.org/abs/hep-th/9901001", arxiv_id="hep-th/9901001"),
        ),
        (
            "https://arxiv.org/abs/math.GT/0309136v1",
            LineIdentifier(
                url="https://arxiv.org/abs/math.GT/0309136v1", arxiv_id="math.GT/0309136"
            ),
        ),
        ("  arXiv:2412.01234  ", LineIdentifier(arxiv_id="2412.01234")),
        ("arXiv:2412.01234v2", LineIdentifier(arxiv_id="2412.01234")),
        ("ARXIV:hep-th/9901001", LineIdentifier(arxiv_id="hep-th/9901001")),
        ("arXiv:0704.0001", LineIdentifier(arxiv_id="0704.0001")),
        (
            "doi:10.1103/PhysRevLett.116.061102",
            LineIdentifier(doi="10.1103/PhysRevLett.116.061102"),
        ),
        ("DOI: 10.1000/xyz(1)", LineIdentifier(doi="10.1000/xyz(1)")),
        (
            "https://doi.org/10.1145/3292500.3330701",
            LineIdentifier(
                url="https://doi.org/10.1145/3292500.3330701", doi="10.1145/3292500.3330701"
            ),
        ),
        (
            "http://dx.doi.org/10.1000%2Fab%3C1%3E",
            LineIdentifier(url="http://dx.doi.org/10.1000%2Fab%3C1%3E", doi="10.1000/ab<1>"),
        ),
        (
            "https://openreview.net/forum?id=abc_123",
            LineIdentifier(url="https://openreview.net/forum?id=abc_123"),
        ),
        (
            "https://arxiv.org/list/cs.LG/recent",  # an arXiv page that is no paper: a plain URL
            LineIdentifier(url="https://arxiv.org/list/cs.LG/recent"),
        ),
    ],
)
def test_identifier_lines(line: str, expected: LineIdentifier) -> None:
    assert parse_line(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        "",
        "Code is at https://github.com/x/y",
        "https://github.com/x/y and more",
        "see arXiv:2412.01234",
        "arXiv:2412.1",  # not an arXiv id
        "doi:11.1000/x",  # a DOI starts with 10.
        "ftp://example.org/x",
        "https://",
        "arXiv.org Machine Learning",
        "10.1000/xyz",  # a bare DOI is not one of the three forms
    ],
)
def test_lines_that_are_not_identifier_lines(line: str) -> None:
    assert parse_line(line) is None


def test_collect_takes_the_first_of_each_kind_and_derives_the_pdf() -> None:
    ids, warnings = collect(
        [
            "https://arxiv.org/abs/2412.01234v3",
            "https://example.org/paper",
            "doi:10.1000/ABC",
            "arXiv:2501.00001",
            "https://other.org/x",
        ]
    )
    assert ids == Identifiers(
        url="https://example.org/paper",
        arxiv_id="2412.01234",
        doi="10.1000/ABC",
        pdf_url="https://arxiv.org/pdf/2412.01234",
    )
    assert warnings == ["second arXiv id 2501.00001 ignored (kept 2412.01234)"]


def test_collect_keeps_a_pdf_link_when_there_is_no_arxiv_id() -> None:
    ids, _ = collect(["https://proceedings.mlr.press/v1/a.PDF", "DOI: 10.5555/1"])
    assert ids == Identifiers(
        url="https://proceedings.mlr.press/v1/a.PDF",
        doi="10.5555/1",
        pdf_url="https://proceedings.mlr.press/v1/a.PDF",
    )
    assert identifiers.abstract_url(ids) is None  # its only page is the PDF
    assert identifiers.title_url(ids) == "https://proceedings.mlr.press/v1/a.PDF"


def test_collect_of_nothing_is_no_identifiers() -> None:
    assert collect([]) == (NO_IDENTIFIERS, [])
    assert not NO_IDENTIFIERS


def test_merge_never_loses_an_identifier() -> None:
    old = Identifiers(url="https://a.org", doi="10.1/x")
    new = Identifiers(arxiv_id="2412.01234", pdf_url="https://arxiv.org/pdf/2412.01234")
    assert merge(old, new) == Identifiers(
        url="https://a.org",
        arxiv_id="2412.01234",
        doi="10.1/x",
        pdf_url="https://arxiv.org/pdf/2412.01234",
    )
    assert merge(old, NO_IDENTIFIERS) is old
    assert merge(NO_IDENTIFIERS, new) is new
    assert merge(old, Identifiers(url="https://a.org")) is old


def test_identity_keys_compare_dois_case_insensitively() -> None:
    a = Identifiers(doi="10.1000/ABC")
    b = Identifiers(doi="10.1000/abc")
    assert identifiers.identity_keys(a) == identifiers.identity_keys(b) == ["doi:10.1000/abc"]


def test_links() -> None:
    arxiv = Identifiers(arxiv_id="2412.01234", pdf_url="https://arxiv.org/pdf/2412.01234")
    assert identifiers.title_url(arxiv) == "https://arxiv.org/abs/2412.01234"
    assert identifiers.abstract_url(arxiv) == "https://arxiv.org/abs/2412.01234"
    with_url = Identifiers(url="https://x.org/p", arxiv_id="2412.01234")
    assert identifiers.title_url(with_url) == "https://x.org/p"
    doi = Identifiers(doi="10.1000/a b<c>")
    assert identifiers.title_url(doi) == "https://doi.org/10.1000/a%20b%3Cc%3E"
    assert identifiers.title_url(NO_IDENTIFIERS) is None


def test_title_search_is_exact_and_fits() -> None:
    found = title_search("Scaling Laws & You", "arXiv.org Machine Learning")
    assert found is not None and found.site == "arXiv"
    assert found.url == (
        "https://arxiv.org/search/?query=%22Scaling%20Laws%20%26%20You%22&searchtype=title"
    )
    other = title_search("T able of Contents", "Neural Information Processing Systems")
    assert other is not None and other.site == "Semantic Scholar"
    assert other.url == "https://www.semanticscholar.org/search?q=%22T%20able%20of%20Contents%22"
    long = title_search("word " * 200, "arXiv")
    assert long is not None and len(long.url) <= identifiers.URL_MAX
    assert title_search("   ") is None
