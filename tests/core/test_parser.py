"""The digest parser on the real seed and on good / bad fixture digests (tests/digests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.models import ParseReport
from bot.core.parser import ID_LENGTH, content_hash, parse_authors, parse_digest, short_id

SEED_TITLES = [
    "Understanding Scaling Laws in Deep Neural Networks via Feature Learning Dynamics",
    "Statistical physics of deep learning: Optimal learning of a multi-layer perceptron "
    "near interpolation",
    "Mitigating the Curse of Detail: Scaling Arguments for Feature Learning and Sample Complexity",
    "SUPERChem: A Multimodal Reasoning Benchmark in Chemistry",
    "Every Token Counts: Generalizing 16M Ultra-Long Context in Large Language Models",
    "A Dynamics-Informed Gaussian Process Framework for 2D Stochastic Navier-Stokes via "
    "Quasi-Gaussianity",
    "From Scaling to Structured Expressivity: Rethinking Transformers for CTR Prediction",
    "T able of Contents",
]
SEED_VENUES = [
    "arXiv.org Machine Learning",
    "arXiv.org Machine Learning",
    "arXiv.org Machine Learning",
    "arXiv.org Artificial Intelligence",
    "arXiv.org Artificial Intelligence",
    "arXiv.org Machine Learning",
    "arXiv.org Artificial Intelligence",
    "Neural Information Processing Systems",
]
SEED_LINES = [8, 17, 26, 35, 44, 53, 63, 72]
SEED_IDS = [
    "8t72zh2v",
    "x15kktzr",
    "wsfa5te2",
    "fc36wb34",
    "vygbywnp",
    "ec1x9tfd",
    "6b0z17r6",
    "rc8h0ww3",
]
CROCKFORD = set("0123456789abcdefghjkmnpqrstvwxyz")


def parse_file(path: Path) -> ParseReport:
    return parse_digest(path.read_bytes(), path.name)


@pytest.fixture
def seed(seed_path: Path) -> ParseReport:
    return parse_file(seed_path)


# -- the seed ----------------------------------------------------------------------------------


def test_seed_has_eight_papers_in_order(seed: ParseReport) -> None:
    assert seed.ok
    assert seed.diagnostics == ()
    assert [p.title for p in seed.papers] == SEED_TITLES
    assert [p.venue for p in seed.papers] == SEED_VENUES
    assert [p.line for p in seed.papers] == SEED_LINES


def test_seed_heading_and_header_lines_are_not_papers(seed: ParseReport) -> None:
    assert seed.heading == "Clay County"
    titles = {p.title for p in seed.papers}
    for header in ("Goto", "Collaborating Authors", "Clay County", "\u00a0Clay County"):
        assert header not in titles
    assert all("Goto" not in p.abstract for p in seed.papers)


def test_seed_first_paper_authors(seed: ParseReport) -> None:
    first = seed.papers[0]
    assert [a.display for a in first.authors] == ["Zihan Yao", "Ruoyu Wu", "Tianxiang Gao"]
    assert [(a.last, a.first) for a in first.authors] == [
        ("Yao", "Zihan"),
        ("Wu", "Ruoyu"),
        ("Gao", "Tianxiang"),
    ]
    assert [a.key for a in first.authors] == ["zihan yao", "ruoyu wu", "tianxiang gao"]
    assert first.authors_raw == "Yao, Zihan, Wu, Ruoyu, Gao, Tianxiang"
    assert first.venue == "arXiv.org Machine Learning"
    assert first.abstract.startswith("The empirical success of deep learning")
    assert first.abstract.endswith("stronger performance in deeper ResNets.")


def test_seed_author_counts(seed: ParseReport) -> None:
    assert [len(p.authors) for p in seed.papers] == [3, 5, 3, 31, 6, 2, 8, 0]
    barbier = seed.papers[1].authors
    assert [a.display for a in barbier] == [
        "Jean Barbier",
        "Francesco Camilli",
        "Minh-Toan Nguyen",
        "Mauro Pastore",
        "Rudy Skerk",
    ]
    assert seed.papers[3].authors[-1].display == "Jian Pei"


def test_seed_entry_without_authors(seed: ParseReport) -> None:
    toc = seed.papers[-1]
    assert toc.title == "T able of Contents"
    assert toc.authors == ()
    assert toc.authors_raw == ""
    assert toc.venue == "Neural Information Processing Systems"
    assert toc.abstract.startswith("Failure cases of GET .")


def test_seed_abstract_starting_mid_sentence_is_kept_whole(seed: ParseReport) -> None:
    gp = seed.papers[5]
    assert gp.abstract.startswith("Yet a fundamental gap remains:")
    assert gp.abstract.endswith("even when individual realizations are not.")


def test_seed_ids_are_short_stable_and_unique(seed: ParseReport, seed_path: Path) -> None:
    assert [p.id for p in seed.papers] == SEED_IDS
    for paper in seed.papers:
        assert len(paper.id) == ID_LENGTH == 8
        assert set(paper.id) <= CROCKFORD
        assert paper.id == short_id(paper.key)
        assert len(paper.key) == 64
    again = parse_digest(seed_path.read_bytes(), "renamed.txt")
    assert [p.key for p in again.papers] == [p.key for p in seed.papers]
    assert len({p.id for p in seed.papers}) == 8


def test_seed_content_hash(seed: ParseReport, seed_path: Path) -> None:
    assert seed.content_hash == content_hash(seed_path.read_bytes())
    assert len(seed.content_hash) == 64


# -- good fixtures -----------------------------------------------------------------------------


def test_crlf_bom_trailing_spaces_no_final_newline(digest_fixtures: Path) -> None:
    data = (digest_fixtures / "good" / "crlf_bom.txt").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and not data.endswith(b"\n")
    report = parse_digest(data, "crlf_bom.txt")
    assert report.ok and report.diagnostics == ()
    assert report.heading == "Line Ending County"
    first, second = report.papers
    assert first.title == "Robust Estimation under Heavy Tails"
    assert [a.display for a in first.authors] == ["Gábor Lugosi", "Shahar Mendelson"]
    assert first.authors[0].key == "gabor lugosi"
    assert first.venue == "arXiv.org Statistics"
    assert first.abstract.startswith("Heavy tailed data are common. We study")
    assert "\r" not in first.abstract and "\u00a0" not in first.abstract
    assert second.title == "Second Entry With No-Break Spaces"
    assert second.abstract.endswith("sees an abstract here.")
    assert (first.line, second.line) == (8, 17)


def test_crlf_and_lf_versions_have_the_same_identity(digest_fixtures: Path) -> None:
    data = (digest_fixtures / "good" / "crlf_bom.txt").read_bytes()
    lf = data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n") + b"\n"
    a, b = parse_digest(data, "a.txt"), parse_digest(lf, "b.txt")
    assert [(p.id, p.title, p.abstract) for p in a.papers] == [
        (p.id, p.title, p.abstract) for p in b.papers
    ]
    assert a.content_hash != b.content_hash


def test_names_diacritics_apostrophes_particles_hyphens_single_words(
    digest_fixtures: Path,
) -> None:
    report = parse_file(digest_fixtures / "good" / "names.txt")
    assert report.ok and report.diagnostics == ()
    names, plato, curly = report.papers
    assert [(a.display, a.last, a.first, a.key) for a in names.authors] == [
        ("Hans Müller", "Müller", "Hans", "hans muller"),
        ("Seán O'Brien", "O'Brien", "Seán", "sean o'brien"),
        ("María García-López", "García-López", "María", "maria garcia-lopez"),
        ("Anna van der Berg", "van der Berg", "Anna", "anna van der berg"),
        ("Plato", "Plato", "", "plato"),
    ]
    assert [(a.display, a.key) for a in plato.authors] == [("Plato", "plato")]
    # A typographic apostrophe folds to the same identity as a straight one.
    assert curly.authors[0].display == "Seán O’Brien"
    assert curly.authors[0].key == names.authors[1].key
    assert [a.key for a in curly.authors[1:]] == ["thi minh nguyen", "jan lukasiewicz"]


def test_odd_author_lists_and_missing_authors(digest_fixtures: Path) -> None:
    report = parse_file(digest_fixtures / "good" / "odd_authors.txt")
    assert report.ok and report.diagnostics == ()
    odd, semicolons, missing = report.papers
    assert [a.display for a in odd.authors] == ["John Smith", "Doe"]
    assert [a.display for a in semicolons.authors] == ["Marie Curie", "Emmy Noether", "Euclid"]
    assert missing.title == "A Paper Without an Authors Line"
    assert missing.authors == () and missing.authors_raw == ""
    assert missing.venue == "Neural Information Processing Systems"
    assert missing.abstract.startswith("We study a problem")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", []),
        ("Plato", ["Plato"]),
        ("Smith, John, Doe", ["John Smith", "Doe"]),
        ("Smith,  John ,, Doe, Jane", ["John Smith", "Jane Doe"]),
        ("Curie, Marie; Euclid", ["Marie Curie", "Euclid"]),
    ],
)
def test_parse_authors_never_crashes(raw: str, expected: list[str]) -> None:
    assert [a.display for a in parse_authors(raw)] == expected


def test_markdown_and_mentions_are_kept_verbatim(digest_fixtures: Path) -> None:
    report = parse_file(digest_fixtures / "good" / "markdown.txt")
    assert report.ok and report.diagnostics == ()
    md, _ = report.papers
    assert md.title == "Escaping *Markdown* in __Titles__ & <Tags>"
    for fragment in (
        "**bold**",
        "_underscored_",
        "`code`",
        "~~strike~~",
        "[link](https://example.org)",
        "@everyone",
        "@here",
        "<@123456789>",
        "# not-a-heading",
    ):
        assert fragment in md.abstract


def test_three_blank_lines_and_multi_paragraph_abstract(digest_fixtures: Path) -> None:
    report = parse_file(digest_fixtures / "good" / "markdown.txt")
    multi = report.papers[1]
    assert multi.title == "A Multi-Paragraph Abstract"  # after three blank lines
    assert [a.display for a in multi.authors] == ["Richard Roe", "Edgar Poe"]
    paragraphs = multi.abstract.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("First paragraph.")
    assert paragraphs[1].startswith("Second paragraph, after one blank line.")
    assert paragraphs[2].startswith("> Third paragraph")


def test_entry_cut_short_is_an_error_with_its_line_and_the_rest_parses(
    digest_fixtures: Path,
) -> None:
    report = parse_file(digest_fixtures / "good" / "cut_short.txt")
    assert report.ok
    assert [p.title for p in report.papers] == [
        "The First Complete Entry",
        "The Last Complete Entry",
    ]
    assert len(report.diagnostics) == 1
    problem = report.diagnostics[0]
    assert (problem.file, problem.line, problem.severity) == ("cut_short.txt", 15, "error")
    assert str(problem).startswith("cut_short.txt:15: error: ")
    lines = (digest_fixtures / "good" / "cut_short.txt").read_text(encoding="utf-8").splitlines()
    assert lines[problem.line - 1] == "A Title Whose Entry Was Cut Short"


def test_same_paper_in_two_digests_has_the_same_identity(
    seed: ParseReport, digest_fixtures: Path
) -> None:
    later = parse_file(digest_fixtures / "good" / "repeat_later.txt")
    assert later.ok and later.diagnostics == ()
    repeated, new = later.papers
    original = seed.papers[1]
    assert (repeated.id, repeated.key) == (original.id, original.key)
    assert repeated.abstract == original.abstract
    assert repeated.line != original.line
    assert new.id not in {p.id for p in seed.papers}


# -- bad fixtures ------------------------------------------------------------------------------


def test_non_utf8_file_is_rejected_with_the_line(digest_fixtures: Path) -> None:
    report = parse_file(digest_fixtures / "bad" / "latin1.txt")
    assert not report.ok
    assert report.papers == ()
    (problem,) = report.diagnostics
    assert (problem.file, problem.line, problem.severity) == ("latin1.txt", 6, "error")
    assert "not UTF-8" in problem.message and "0xe9" in problem.message


def test_binary_file_is_rejected(digest_fixtures: Path) -> None:
    report = parse_file(digest_fixtures / "bad" / "binary.txt")
    assert not report.ok
    assert report.papers == ()
    (problem,) = report.diagnostics
    assert problem.file == "binary.txt" and problem.severity == "error"
    assert "not a text file" in problem.message


def test_empty_file_is_a_warning_not_a_crash() -> None:
    report = parse_digest(b"", "empty.txt")
    assert report.ok and report.papers == ()
    assert [d.severity for d in report.diagnostics] == ["warning"]


def test_invisible_format_characters_are_removed_from_every_field() -> None:
    """Zero-width and bidi characters are invisible: the paper is the one its text shows."""
    dirty = (
        "\u00a0Invisible\u200b County\n\n\n"
        "Zero\u200bWidth \u202eTXT.EXE\u202c Networks\n\n"
        "M\u00fcl\u200dler, Anna\u2066, \u200eO'Brien, Sean\n\n"
        "arXiv.org \u2067Machine\u2069 Learning\n\n"
        "We train multi\u00adlayer nets\ufeff. \u200f\n"
    )
    clean = (
        "\u00a0Invisible County\n\n\n"
        "ZeroWidth TXT.EXE Networks\n\n"
        "Müller, Anna, O'Brien, Sean\n\n"
        "arXiv.org Machine Learning\n\n"
        "We train multilayer nets.\n"
    )
    got = parse_digest(dirty.encode(), "dirty.txt")
    want = parse_digest(clean.encode(), "clean.txt")
    assert got.ok and got.heading == "Invisible County"
    (paper,) = got.papers
    (expected,) = want.papers
    assert paper.title == "ZeroWidth TXT.EXE Networks"
    assert [a.display for a in paper.authors] == ["Anna Müller", "Sean O'Brien"]
    assert [a.key for a in paper.authors] == ["anna muller", "sean o'brien"]
    assert paper.authors_raw == "Müller, Anna, O'Brien, Sean"
    assert paper.venue == "arXiv.org Machine Learning"
    assert paper.abstract == "We train multilayer nets."
    assert (paper.id, paper.key) == (expected.id, expected.key)


def test_a_line_of_only_invisible_characters_is_blank() -> None:
    text = (
        "Title One\n\nDoe, Jane\n\nVenue\n\nAbstract one.\n\u200b\n\u2060\n"
        "Title Two\n\nRoe, Rick\n\nVenue\n\nAbstract two.\n"
    )
    report = parse_digest(text.encode(), "x.txt")
    assert [p.title for p in report.papers] == ["Title One", "Title Two"]
