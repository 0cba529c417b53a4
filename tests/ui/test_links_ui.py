"""Links on cards: linked titles, link buttons, Cite and Full abstract, alert views.

Every message built here is checked with the Discord double's own limit rules
(``tests.discord_double.limits.check_message``): five rows of five, link buttons with a url
of at most 512 characters and no custom_id, unique custom_ids, the 6,000-character budget.
"""

from __future__ import annotations

import re
from typing import Any

import discord
import pytest

from bot.core.identifiers import arxiv_pdf_url
from bot.core.models import (
    NO_IDENTIFIERS,
    Author,
    DigestInfo,
    Hit,
    Identifiers,
    LatestPage,
    Paper,
    PaperDetail,
    SearchPage,
    Segment,
    StoredPaper,
)
from bot.ui import actions
from bot.ui.alerts import AlertItem, alert_message, alert_view
from bot.ui.cards import (
    ABSTRACT_SHOWN,
    abstract_embeds,
    abstract_excerpt,
    cite_text,
    latest_card,
    paper_card,
    search_card,
)
from bot.ui.limits import MESSAGE_CONTENT
from bot.ui.links import link_targets, markdown_url, masked
from tests.discord_double.limits import check_message

ARXIV = Identifiers(arxiv_id="2412.01234", pdf_url=arxiv_pdf_url("2412.01234"))
FULL = Identifiers(
    url="https://openreview.net/forum?id=x(1)",
    arxiv_id="2412.01234",
    doi="10.1000/A_B",
    pdf_url=arxiv_pdf_url("2412.01234"),
)
DIGEST = DigestInfo(
    "arxiv-2025-01-31.txt", "Clay County", "h", "2025-02-01T10:00:00Z", date="2025-01-31"
)


def paper(
    n: int = 1,
    ids: Identifiers = NO_IDENTIFIERS,
    *,
    title: str = "",
    abstract: str = "We study it. " * 120,
    authors: int = 3,
    venue: str = "arXiv.org Machine Learning",
) -> StoredPaper:
    people = tuple(
        Author(f"First{i} Last{i}", f"Last{i}", f"First{i}", f"k{i}") for i in range(authors)
    )
    p = Paper(
        id=f"abcd{n:04d}",
        key=f"k{n}",
        title=title or f"Paper [{n}] about *Scaling*",
        authors=people,
        authors_raw="",
        venue=venue,
        abstract=abstract,
        identifiers=ids,
    )
    return StoredPaper(paper=p, first_seen="2025-02-01T10:00:00.000000Z", digests=(DIGEST,))


def body(
    embeds: list[discord.Embed], view: discord.ui.View | None, content: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"embeds": [e.to_dict() for e in embeds]}
    if view is not None:
        out["components"] = view.to_components()
    if content:
        out["content"] = content
    return out


def buttons(view: discord.ui.View | None) -> list[dict[str, Any]]:
    assert view is not None
    return [c for row in view.to_components() for c in row["components"] if c["type"] == 2]


def test_masked_links_cannot_be_broken() -> None:
    assert (
        masked("**T [x]**", "https://a.org/p(1) q") == "[**T \\[x\\]**](https://a.org/p%281%29%20q)"
    )
    assert masked("T", None) == "T"
    assert masked("T", "https://a.org/" + "x" * 600) == "T"  # longer than Discord allows
    assert markdown_url("https://a.org/<a>`b`") == "https://a.org/%3Ca%3E%60b%60"


def test_link_targets() -> None:
    assert link_targets(paper(ids=FULL).paper) == [
        ("Abstract", "https://arxiv.org/abs/2412.01234"),
        ("PDF", "https://arxiv.org/pdf/2412.01234"),
        ("DOI", "https://doi.org/10.1000/A_B"),
    ]
    only_url = paper(ids=Identifiers(url="https://x.org/p")).paper
    assert link_targets(only_url) == [("Abstract", "https://x.org/p")]
    [(label, url)] = link_targets(paper().paper)
    assert label == "Search arXiv for this title"
    assert url.startswith("https://arxiv.org/search/?query=%22Paper%20%5B1%5D")
    other = paper(venue="Neural Information Processing Systems").paper
    assert link_targets(other)[0][0] == "Search Semantic Scholar for this title"


def test_paper_card_puts_who_and_where_first_and_links_the_paper() -> None:
    stored = paper(ids=FULL)
    card = paper_card(PaperDetail(stored, "id", similar=(paper(2),)))
    embed = card.embed
    assert embed.url == "https://openreview.net/forum?id=x(1)"
    assert embed.description is None
    names = [f.name for f in embed.fields]
    assert names[:5] == ["Authors (3)", "Venue", "Id", "First seen", "In 1 digest"]
    assert names.index("Abstract") == 5
    assert embed.fields[4].value is not None
    assert embed.fields[4].value.startswith("2025-01-31 · arxiv-2025-01-31.txt · indexed")
    assert "Clay County" not in str(embed.to_dict())
    abstract = embed.fields[5].value or ""
    assert abstract.endswith(". …") and len(abstract) <= ABSTRACT_SHOWN
    row0 = [b for b in buttons(card.view)]
    assert [b.get("label") for b in row0] == [
        "Abstract",
        "PDF",
        "DOI",
        "Cite",
        "Full abstract",
        "Save",  # Save: its own row
    ]
    assert row0[5]["custom_id"] == f"ds:save:{stored.id}"
    assert all(b["style"] == 5 and "custom_id" not in b for b in row0[:3])
    assert row0[3]["custom_id"] == actions.custom_id(actions.PaperAction("cite", stored.id))
    assert row0[4]["custom_id"] == actions.custom_id(actions.PaperAction("full", stored.id))
    assert check_message(body([embed], card.view)) == []


def test_a_paper_without_identifiers_gets_a_labelled_search_and_a_short_abstract_no_button() -> (
    None
):
    card = paper_card(PaperDetail(paper(abstract="Short."), "id"))
    assert card.embed.url is None
    labels = [b.get("label") for b in buttons(card.view)]
    assert labels == ["Search arXiv for this title", "Cite", "Save"]
    assert check_message(body([card.embed], card.view)) == []


def test_abstract_excerpt_cuts_at_a_sentence() -> None:
    text, cut = abstract_excerpt("One sentence here. " * 100, 100)
    assert cut and text == ("One sentence here. " * 5).strip() + " …"
    assert abstract_excerpt("Short.", 100) == ("Short.", False)


def test_full_abstract_fits_one_message() -> None:
    for length in (50, 5000, 20_000):
        embeds = abstract_embeds(paper(ids=ARXIV, abstract="word " * (length // 5)))
        assert embeds[0].url == "https://arxiv.org/abs/2412.01234"
        assert check_message(body(embeds, None)) == []
    long = abstract_embeds(paper(abstract="word " * 4000))
    assert len(long) == 2 and "digest-bot paper" in (long[-1].description or "")


def test_cite_is_one_code_block_within_a_message() -> None:
    text = cite_text(paper(ids=FULL))
    assert text.startswith("BibTeX for `abcd0001`:\n```bibtex\n@misc{abcd0001,")
    assert "eprint        = {2412.01234}" in text and "year          = {2025}" in text
    assert text.endswith("```") and text.count("```") == 2
    crowded = cite_text(paper(authors=300, title="`Ticks` ```in``` the title"))
    assert len(crowded) <= MESSAGE_CONTENT and "and others" in crowded
    assert crowded.count("```") == 2 and "First 40 of 300 authors" in crowded


def test_search_results_link_their_titles() -> None:
    hits = tuple(
        Hit(
            paper=paper(n, FULL if n % 2 else NO_IDENTIFIERS, title="T" * 250),
            score=1.0,
            snippet=(Segment("word " * 300),),
        )
        for n in range(10)
    )
    page = SearchPage("q", "q", 10, 0, 10, hits)
    card = search_card(page, ref="=q", subscribe=True)
    values = [f.value or "" for f in card.embed.fields]
    assert [f.name for f in card.embed.fields] == [f"{n}." for n in range(1, 11)]
    assert (
        values[1].startswith("[**TTT")
        and "](https://openreview.net/forum?id=x%281%29)" in (values[1])
    )
    assert values[0].startswith("**TTT")  # no identifier: no link
    assert check_message(body([card.embed], card.view)) == []


def test_latest_is_named_by_date_and_file_and_links_titles() -> None:
    page = LatestPage(
        DIGEST, tuple(paper(n, ARXIV if n == 1 else NO_IDENTIFIERS) for n in range(1, 9)), 20, 0
    )
    card = latest_card(page, per=8)
    assert card.embed.title == "Latest digest: 2025-01-31 · arxiv-2025-01-31.txt"
    description = card.embed.description or ""
    assert "**1.** [Paper \\[1\\] about \\*Scaling\\*](https://arxiv.org/abs/2412.01234)" in (
        description
    )
    assert "**2.** Paper [2] about \\*Scaling\\*" in description
    assert check_message(body([card.embed], card.view)) == []


@pytest.mark.parametrize("count", [1, 2, 4, 5, 7, 10])
def test_alert_views_fit_and_match_the_numbered_cards(count: int) -> None:
    items = [
        AlertItem(paper(n, FULL if n % 3 else NO_IDENTIFIERS).paper, ("topic",))
        for n in range(1, count + 1)
    ]
    content, embeds = alert_message(items)
    view = alert_view(items)
    assert check_message(body(embeds, view, content)) == []
    assert view is not None
    rows = view.to_components()
    assert len(rows) <= 5 and all(len(r["components"]) <= 5 for r in rows)
    links = [b for b in buttons(view) if b["style"] == 5]
    assert all("custom_id" not in b and len(b["url"]) <= 512 for b in links)
    if count == 1:
        [item] = items
        assert embeds[0].url == "https://openreview.net/forum?id=x(1)"
        assert embeds[0].title == item.paper.title.replace("*", "\\*")  # not numbered
        labels = [b["label"] for b in buttons(view)]
        assert labels == ["Abstract", "PDF", "DOI", "Open", "Save", "👍", "👎"]
        assert buttons(view)[3]["custom_id"] == actions.custom_id(
            actions.PaperAction("view", item.paper.id)
        )
        assert buttons(view)[5]["custom_id"] == f"ds:vote:up:{item.paper.id}"
        bare = AlertItem(paper(3).paper, ("topic",))
        assert [b["label"] for b in buttons(alert_view([bare]))] == [
            "Search arXiv for this title",
            "Open",
            "Save",
            "👍",
            "👎",
        ]
        return
    assert [e.title.split(".")[0] for e in embeds if e.title] == [
        str(n) for n in range(1, count + 1)
    ]
    assert embeds[0].url == "https://openreview.net/forum?id=x(1)"
    select = rows[0]["components"][0]
    assert select["type"] == 3 and actions.parse(select["custom_id"]) == actions.OpenAction("alert")
    assert [o["value"] for o in select["options"]] == [i.paper.id for i in items]
    numbers = {int(re.match(r"(\d+) · ", b["label"])[1]) for b in links}  # type: ignore[index]
    assert numbers == set(range(1, count + 1))  # every paper has at least one link button
    votes = rows[1]["components"][0]  # a menu to vote 👍 / 👎 on any paper of the message
    assert votes["custom_id"] == "ds:vote:al" and len(votes["options"]) == 2 * count
    if count <= 3:
        assert [len(r["components"]) for r in rows[2:]] == [
            len(link_targets(i.paper)) for i in items
        ]
