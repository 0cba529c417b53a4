"""Feed -> digest conversion (pure): what is written reads back right with the real parser."""

from __future__ import annotations

from typing import Any

import feedparser
import pytest

from bot.core.parser import parse_authors, parse_text
from bot.feeds.convert import (
    FeedEntry,
    NotAFeed,
    authors_line,
    digest_text,
    feed_entries,
    feed_to_digest,
    html_paragraphs,
    merge_digest,
    name_parts,
    split_names,
)
from bot.feeds.importer import exclude_types
from tests.feeds.server import fixture


def parsed(name: str) -> Any:
    return feedparser.parse(fixture(name))


def read_back(name: str, **kwargs: Any) -> Any:
    text = feed_to_digest(parsed(name), "Heading", **kwargs)
    report = parse_text(text, "feed.txt")
    assert not report.diagnostics, report.diagnostics
    assert report.heading == "Heading"
    return report


# (title, authors as displayed, venue, abstract paragraphs)
ARXIV_API = [
    (
        "Sparse Feature Circuits in Deep Residual Networks: A Mean-Field Perspective",
        ["Vincent van der Berg", "Zihan Yao", "Jean-Baptiste Le Gall"],
        "arXiv cs.LG",
        ["We study how sparse feature circuits form in deep residual networks trained with "
         "stochastic gradient descent. Using a mean-field description of the residual stream, "
         "we show that circuits with $k$ active features emerge when the learning rate exceeds "
         "$\\eta_c \\propto 1/\\sqrt{L}$, and that depth $L < 64$ suffices for the transition "
         "to be sharp. Experiments on vision and language models confirm the predicted "
         "scaling."],
    ),
    (
        "Optimal Learning of a Multi-Layer Perceptron near Interpolation",
        ["Jean Barbier", "Francesco Camilli", "Minh-Toan Nguyen", "Mauro Pastore"],
        "arXiv stat.ML",
        ["For four decades statistical physics has provided a framework to analyse neural "
         "networks. We study the supervised learning of a multi-layer perceptron whose width "
         "scales with the input dimension, in the regime where the number of parameters and "
         "of data are comparable.",
         "We identify the sufficient statistics of the Bayes-optimal estimator and a sequence "
         "of learning transitions as the data budget grows."],
    ),
    (
        "Multi-Electron Production at High Transverse Momenta in ep Collisions at HERA",
        ["H1 Collaboration"],
        "arXiv hep-ex",
        ["Multi-electron production is studied at high electron transverse momentum in "
         "positron- and electron-proton collisions using the H1 detector at HERA. The data "
         "correspond to an integrated luminosity of 115 pb-1. Di-electron and tri-electron "
         "event yields are measured. Cross sections are derived in a restricted phase space "
         "region dominated by photon-photon collisions. In general good agreement is found "
         "with the Standard Model predictions."],
    ),
]  # fmt: skip
ARXIV_RSS_AUTHORS = [
    ["Noa Rubin", "Orit Davidovich", "Maria de la Cruz", "Zohar Ringel"],
    ["Antonin Monteil", "Paul Pegon"],
    ["Robert L. Jones Jr.", "Ana Dos Santos"],
    ["Zihan Yao", "Ruoyu Wu", "Tianxiang Gao"],
    ["Keiko Tanaka", "Lars van Dijk"],
]
GENERIC = [
    ("Curriculum Effects in Online Learning of Sparse Parities", ["Amélie Fontaine",
     "Kwame Mensah"], ["We study how the order of training examples affects online SGD on "
     "sparse parity tasks. Curricula that start from low-noise examples cut the sample "
     "complexity by a polynomial factor.", "We prove matching lower bounds for any "
     "curriculum-free algorithm & confirm the rates numerically."]),
    ("A Note on Implicit Bias of Adam", ["Ludwig von Steinberg"], ["Adam's implicit bias "
     "differs from that of gradient descent: on separable data it converges in direction to "
     "a maximum-margin solution for the l-infinity norm."]),
    # No author: the short first paragraph gets a full stop, or it would read as the venue.
    ("Editorial: Five Years of Learning Dynamics", [], ["Looking back at five years of the "
     "journal, its most cited papers and what comes next."]),
]  # fmt: skip
# (url, arxiv_id, doi, pdf_url) as IDFORMAT.md says the parser stores them.
IDS = {
    "arxiv_api.xml": [
        (None, "2412.01234", "10.1103/PhysRevE.110.064301", "https://arxiv.org/pdf/2412.01234"),
        (None, "2412.00777", None, "https://arxiv.org/pdf/2412.00777"),
        (None, "hep-ex/0307015", None, "https://arxiv.org/pdf/hep-ex/0307015"),
    ],
    "arxiv_rss.xml": [
        (None, "2412.01501", None, "https://arxiv.org/pdf/2412.01501"),
        (None, "2412.01502", "10.5802/jep.257", "https://arxiv.org/pdf/2412.01502"),
        (None, "2412.00433", None, "https://arxiv.org/pdf/2412.00433"),
        (None, "2411.09876", None, "https://arxiv.org/pdf/2411.09876"),
        (None, "2305.11111", None, "https://arxiv.org/pdf/2305.11111"),
    ],
    "generic_rss.xml": [
        ("https://journals.example.org/jld/articles/2024.118", None, "10.5555/jld.2024.118",
         None),
        ("https://journals.example.org/jld/articles/2024.119", None, None, None),
        ("https://journals.example.org/jld/articles/2024.120", None, None, None),
    ],
}  # fmt: skip


def starts_with_paragraphs(abstract: str, paragraphs: list[str]) -> bool:
    """The abstract's first paragraphs are exactly these (what follows, until the parser knows
    identifier lines, is the identifier block)."""
    return abstract.split("\n\n")[: len(paragraphs)] == paragraphs


def test_arxiv_api_reads_back() -> None:
    report = read_back("arxiv_api.xml")
    assert len(report.papers) == len(ARXIV_API)
    for paper, (title, authors, venue, abstract) in zip(report.papers, ARXIV_API, strict=True):
        assert paper.title == title
        assert [a.display for a in paper.authors] == authors
        assert paper.venue == venue
        assert starts_with_paragraphs(paper.abstract, abstract), paper.abstract
    assert [a.last for a in report.papers[0].authors] == ["van der Berg", "Yao", "Le Gall"]


def test_arxiv_rss_reads_back_without_the_announcement_prefix() -> None:
    report = read_back("arxiv_rss.xml")
    assert [[a.display for a in p.authors] for p in report.papers] == ARXIV_RSS_AUTHORS
    assert [p.venue for p in report.papers] == [
        "arXiv cs.LG",
        "arXiv math.AP",
        "arXiv q-bio.BM",
        "arXiv cs.LG",
        "arXiv physics.flu-dyn",
    ]
    first = report.papers[0].abstract
    assert first.startswith("A sharp transition from memorisation to generalisation")
    assert "Announce Type" not in first and "Abstract:" not in first
    assert [a.last for a in report.papers[2].authors] == ["Jones Jr.", "Dos Santos"]


def test_arxiv_rss_exclusion() -> None:
    only_new = read_back("arxiv_rss.xml", exclude=exclude_types(["replace", "cross"]))
    assert len(only_new.papers) == 2
    no_replacements = feed_entries(parsed("arxiv_rss.xml"), exclude=exclude_types(["replace"]))
    assert [e.announce_type for e in no_replacements.entries] == ["new", "new", "cross"]
    assert no_replacements.excluded == 2


def test_generic_rss_reads_back() -> None:
    report = read_back("generic_rss.xml")
    venue = "Journal of Learning Dynamics – Latest Articles"
    assert len(report.papers) == len(GENERIC)
    for paper, (title, authors, abstract) in zip(report.papers, GENERIC, strict=True):
        assert (paper.title, [a.display for a in paper.authors], paper.venue) == (
            title,
            authors,
            venue,
        )
        assert starts_with_paragraphs(paper.abstract, abstract), paper.abstract


@pytest.mark.parametrize("name", sorted(IDS))
def test_identifiers_and_exact_abstracts_read_back(name: str) -> None:
    report = read_back(name)
    got = [
        (p.identifiers.url, p.identifiers.arxiv_id, p.identifiers.doi, p.identifiers.pdf_url)
        for p in report.papers
    ]  # fmt: skip
    assert got == IDS[name]
    abstracts = {
        "arxiv_api.xml": [a for *_, a in ARXIV_API],
        "generic_rss.xml": [a for *_, a in GENERIC],
    }
    for paper, paragraphs in zip(report.papers, abstracts.get(name, []), strict=False):
        assert paper.abstract == "\n\n".join(paragraphs)


def test_identifier_lines_follow_the_contract() -> None:
    entries = feed_entries(parsed("arxiv_api.xml")).entries
    assert entries[0].identifier_lines() == [
        "http://arxiv.org/abs/2412.01234v2", "arXiv:2412.01234v2",
        "doi:10.1103/PhysRevE.110.064301",
    ]  # fmt: skip
    assert entries[2].identifier_lines() == [
        "http://arxiv.org/abs/hep-ex/0307015v1",
        "arXiv:hep-ex/0307015v1",
    ]
    rss = feed_entries(parsed("arxiv_rss.xml")).entries
    assert rss[1].identifier_lines() == [
        "https://arxiv.org/abs/2412.01502",
        "arXiv:2412.01502v1",
        "doi:10.5802/jep.257",
    ]
    generic = feed_entries(parsed("generic_rss.xml")).entries
    assert generic[0].identifier_lines() == [
        "https://journals.example.org/jld/articles/2024.118",
        "doi:10.5555/jld.2024.118",
    ]


@pytest.mark.parametrize(
    ("name", "last", "first"),
    [
        ("Vincent van der Berg", "van der Berg", "Vincent"),
        ("Maria de la Cruz", "de la Cruz", "Maria"),
        ("Ludwig von Beethoven", "von Beethoven", "Ludwig"),
        ("Jean-Baptiste Le Gall", "Le Gall", "Jean-Baptiste"),
        ("Martin Luther King Jr.", "King Jr.", "Martin Luther"),
        ("G. G. Kacprzak", "Kacprzak", "G. G."),
        ("Plato", "Plato", ""),
        ("H1 Collaboration", "H1 Collaboration", ""),
        ("The ATLAS Collaboration", "The ATLAS Collaboration", ""),
        ("Smith, John", "Smith", "John"),
        ("Zoë Ångström", "Ångström", "Zoë"),
        ("Zihan Yao", "Yao", "Zihan"),
        ("Smith Jr", "Smith Jr", ""),
        ("Dr Smith", "Smith", ""),
        ("O'Neil Brown", "Brown", "O'Neil"),
        ("Minh-Toan Nguyen", "Nguyen", "Minh-Toan"),
    ],
)
def test_name_parts(name: str, last: str, first: str) -> None:
    assert name_parts(name) == (last, first)


@pytest.mark.parametrize(
    "names",
    [
        ["Vincent van der Berg", "Zihan Yao"],
        ["Plato"],
        ["Zihan Yao", "Plato", "Ruoyu Wu"],
        ["Plato", "Aristotle"],
        ["H1 Collaboration", "Jean Barbier"],
        ["Martin Luther King Jr.", "Ana Dos Santos"],
        ["Smith, John"],  # a comma inside a name: written without it
        ["Ann O'Neil; Jr", "Bo Li"],  # a semicolon inside a name
    ],
)
def test_authors_line_reads_back(names: list[str]) -> None:
    parts = [name_parts(n) for n in names]
    line = authors_line(parts)
    assert [(a.last, a.first) for a in parse_authors(line)] == parts


def test_authors_line_shapes() -> None:
    assert authors_line([("van der Berg", "Vincent"), ("Yao", "Zihan")]) == (
        "van der Berg, Vincent, Yao, Zihan"
    )
    assert authors_line([("Yao", "Zihan"), ("Plato", "")]) == "Yao, Zihan; Plato"


@pytest.mark.parametrize(
    ("raw", "names", "comma_list"),
    [
        ("Antonin Monteil, Paul Pegon", ["Antonin Monteil", "Paul Pegon"], False),
        ("Ada Lovelace, Alan Turing and Grace Hopper",
         ["Ada Lovelace", "Alan Turing", "Grace Hopper"], False),
        ("Ada Lovelace, Alan Turing, and Grace Hopper",
         ["Ada Lovelace", "Alan Turing", "Grace Hopper"], False),
        ("Smith, John", ["Smith, John"], False),
        ("Smith, John", ["Smith", "John"], True),
        ("editor@journal.org (Jane Doe)", ["Jane Doe"], False),
        ("Doe, Jane; Roe, Richard", ["Doe, Jane", "Roe, Richard"], False),
        ("  ", [], False),
    ],
)  # fmt: skip
def test_split_names(raw: str, names: list[str], comma_list: bool) -> None:
    assert split_names(raw, comma_list=comma_list) == names


def test_html_paragraphs() -> None:
    html = (
        "<p>First <b>bold</b> &amp; <i>italic</i>.</p><p>Second<br/>line</p>"
        "<script>alert(1)</script><ul><li>item</li></ul>tail &lt;x&gt;"
    )
    assert html_paragraphs(html) == ["First bold & italic.", "Second", "line", "item",
                                     "tail <x>"]  # fmt: skip


def feed_of(*items: str, title: str = "A feed") -> Any:
    body = "".join(f"<item>{i}</item>" for i in items)
    return feedparser.parse(
        f'<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<channel><title>{title}</title>{body}</channel></rss>".encode()
    )


def test_entries_the_format_cannot_hold_are_skipped_with_a_reason() -> None:
    converted = feed_entries(feed_of(
        "<description>No title at all, only words.</description>",
        "<title>Title only</title><link>https://x.org/1</link>",
        "<title>Kept</title><dc:creator>Ada Lovelace</dc:creator>",
    ))  # fmt: skip
    assert [e.title for e in converted.entries] == ["Kept"]
    assert converted.skipped == (
        "entry 1: no title; skipped",
        "entry 2 ('Title only'): neither authors nor an abstract (the digest format needs "
        "one); skipped",
    )


def test_no_abstract_and_an_author_ending_in_a_full_stop() -> None:
    # (title, authors, venue): the parser wants the author line not to end in ".".
    converted = feed_entries(feed_of(
        "<title>Short note</title><dc:creator>Ada Lovelace</dc:creator>"
        "<dc:creator>Jones, Robert L.</dc:creator>",
    ))  # fmt: skip
    text = digest_text(converted.entries, "Heading")
    assert "\n\nLovelace, Ada; Jones, Robert L.;\n\nA feed\n" in text
    report = parse_text(text, "x.txt")
    [paper] = report.papers
    assert [a.display for a in paper.authors] == ["Ada Lovelace", "Robert L. Jones"]
    assert paper.venue == "A feed" and paper.abstract == ""


def test_repeated_entries_in_a_feed_are_kept_once() -> None:
    item = (
        "<title>Same</title><dc:creator>Ada Lovelace</dc:creator><description>Words.</description>"
    )
    assert len(feed_entries(feed_of(item, item)).entries) == 1


def test_arxiv_api_error_is_not_a_feed() -> None:
    error = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>ArXiv Query: search_query=&amp;id_list=1234.12345</title>
  <id>http://arxiv.org/api/kvuntZ8c9a4Eq5CF7KY03nMug+Q</id>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.12345</summary>
    <author><name>arXiv api core</name></author>
  </entry>
</feed>"""
    with pytest.raises(NotAFeed, match=r"arXiv API error: incorrect id format for 1234\.12345"):
        feed_entries(feedparser.parse(error))


def entry(title: str, author: str = "Ada Lovelace") -> FeedEntry:
    return FeedEntry(title, (name_parts(author),), "Venue", ("An abstract.",), "https://x.org")


def test_merge_keeps_the_file_and_adds_only_new_papers() -> None:
    first = merge_digest(None, [entry("One"), entry("Two")], "Heading")
    assert first.text is not None and first.added == 2
    again = merge_digest(first.text, [entry("Two"), entry("One")], "Other heading")
    assert again.text is None and (again.added, again.duplicates) == (0, 2)
    more = merge_digest(first.text, [entry("Two"), entry("Three")], "Other heading")
    assert more.text is not None and more.text.startswith(first.text.rstrip())
    assert (more.added, more.duplicates) == (1, 1)
    report = parse_text(more.text, "x.txt")
    assert [p.title for p in report.papers] == ["One", "Two", "Three"]
    assert report.heading == "Heading" and not report.diagnostics
    # Same title, another first author: another paper (the parser's identity).
    other = merge_digest(more.text, [entry("One", "Alan Turing")], "Heading")
    assert other.added == 1


def test_arxiv_listing_in_atom_form() -> None:
    """rss.arxiv.org/atom/<cat>: the same listing as Atom entries."""
    atom = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">
  <id>http://rss.arxiv.org/atom/cs.AI</id>
  <title>cs.AI updates on arXiv.org</title>
  <updated>2025-08-20T04:00:00.000Z</updated>
  <entry>
    <id>oai:arXiv.org:2508.13435v1</id>
    <title>SVDformer: Direction-Aware Spectral Graph
      Embedding Learning via SVD and Transformer</title>
    <updated>2025-08-20T00:00:00-04:00</updated>
    <link href="https://arxiv.org/abs/2508.13435" rel="alternate" type="text/html"/>
    <summary>arXiv:2508.13435v1 Announce Type: new
Abstract: Directed graphs are widely used to model asymmetric relationships.</summary>
    <category term="cs.AI" scheme="http://arxiv.org/schemas/atom"/>
    <arxiv:announce_type>new</arxiv:announce_type>
    <dc:creator>Jiayu Fang, Zhiqi Shao, S T Boris Choy, Junbin Gao</dc:creator>
  </entry>
</feed>"""
    [entry] = feed_entries(feedparser.parse(atom)).entries
    assert entry.title == (
        "SVDformer: Direction-Aware Spectral Graph Embedding Learning via SVD and Transformer"
    )
    assert entry.authors_line == "Fang, Jiayu, Shao, Zhiqi, Choy, S T Boris, Gao, Junbin"
    assert entry.venue == "arXiv cs.AI" and entry.announce_type == "new"
    assert entry.abstract == ("Directed graphs are widely used to model asymmetric relationships.",)
    assert entry.identifier_lines() == ["https://arxiv.org/abs/2508.13435", "arXiv:2508.13435v1"]


def test_a_generic_atom_feed_with_xhtml_content() -> None:
    atom = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">Lab &lt;b&gt;Blog&lt;/b&gt;</title>
  <id>urn:uuid:60a76c80</id><updated>2024-12-03T00:00:00Z</updated>
  <entry>
    <title>Our new preprint on kernels</title>
    <link rel="alternate" href="https://lab.example.org/posts/kernels"/>
    <id>urn:uuid:1225c695</id><updated>2024-12-03T00:00:00Z</updated>
    <author><name>Grace Hopper</name></author><author><name>Alan Turing</name></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Kernels <em>again</em>.
      </p><p>See <a href="https://doi.org/10.1000/182">the paper</a>.</p></div></content>
  </entry>
</feed>"""
    report = parse_text(feed_to_digest(feedparser.parse(atom), "Heading"), "x.txt")
    [paper] = report.papers
    assert paper.title == "Our new preprint on kernels" and paper.venue == "Lab Blog"
    assert [a.display for a in paper.authors] == ["Grace Hopper", "Alan Turing"]
    assert starts_with_paragraphs(paper.abstract, ["Kernels again.", "See the paper."])
