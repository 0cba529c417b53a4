"""What every builder puts on screen from hostile digest text and queries.

A database indexed before format characters were dropped at parse time, or a query a member
typed, can still hold zero-width and bidi characters and mention markup with short ids; no
card, menu or message may show them raw.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

import discord

from bot.core.models import (
    Author,
    AuthorProfile,
    AuthorSummary,
    DigestInfo,
    Hit,
    LatestPage,
    Paper,
    PaperDetail,
    SearchPage,
    Segment,
    StoredPaper,
)
from bot.ui.alerts import (
    AlertItem,
    SubscriptionLine,
    alert_message,
    subscribe_embed,
    subscriptions_embed,
)
from bot.ui.cards import (
    author_card,
    latest_card,
    no_results_text,
    not_found_author_text,
    not_found_paper_text,
    paper_card,
    search_card,
)
from bot.ui.format import ZWSP

MENTIONS = (
    "<@&999>",
    "<@1>",
    "<@!1>",
    "<#12>",
    "</cmd:1>",
    "<:x:1>",
    "<a:y:2>",
    "<t:1:R>",
    "<id:customize>",
)
HOSTILE = " ".join(MENTIONS) + " @everyone @here"
TITLE = f"Zero\u200bWidth \u202eTXT.EXE\u202c {HOSTILE}"
NAME = "M\u200dax \u2066Power\u2069"
VENUE = f"\u200eJournal {HOSTILE}"
ABSTRACT = f"We study multi\u00adlayer nets {HOSTILE} and Zero\u200bWidth words."
QUERY = f"zero\u200bwidth \u202e{HOSTILE}"


def _paper(n: int = 0) -> StoredPaper:
    paper = Paper(
        id=f"ab{n:06d}",
        key=f"k{n}",
        title=TITLE,
        authors=(Author(NAME, "Power", "M\u200dax", "max power"),),
        authors_raw="",
        venue=VENUE,
        abstract=ABSTRACT,
    )
    digest = DigestInfo(
        path="d.txt",
        heading=f"\u202e{HOSTILE}",
        content_hash="h",
        indexed_at="2025-01-01T00:00:00Z",
    )
    return StoredPaper(paper=paper, first_seen="2025-01-01T00:00:00Z", digests=(digest,))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _shown(
    embed: discord.Embed | None = None, view: discord.ui.View | None = None
) -> tuple[list[str], list[str]]:
    """(text Discord renders Markdown and mentions in, text it shows literally)."""
    rendered: list[str] = []
    literal: list[str] = []
    if embed is not None:
        data = embed.to_dict()
        literal += _strings(data.pop("footer", None))
        rendered += _strings(data)
    if view is not None:  # labels and descriptions; custom_ids ("ds…") are never shown
        literal += [s for s in _strings(view.to_components()) if not s.startswith("ds")]
    return rendered, literal


def _assert_inert(rendered: Sequence[str], literal: Sequence[str] = ()) -> None:
    for text in [*rendered, *literal]:
        for index, ch in enumerate(text):
            if unicodedata.category(ch) == "Cf":
                # The only invisible character left is the one that breaks a mention.
                assert ch == ZWSP and text[index - 1] in "<@", (index, text)
    for text in rendered:
        outside_code = re.sub(r"`[^`]*`", "", text)  # nothing renders inside inline code
        for mention in MENTIONS:
            assert mention not in outside_code, (mention, text)
        assert "@everyone" not in outside_code and "@here" not in outside_code, text


def test_search_card_and_its_menu() -> None:
    stored = _paper()
    hit = Hit(
        paper=stored,
        score=1.0,
        snippet=(Segment("We study "), Segment("Zero\u200bWidth", True), Segment(f" {HOSTILE}")),
    )
    page = SearchPage(query=QUERY, canonical=QUERY, total=1, offset=0, limit=5, hits=(hit,))
    card = search_card(page, ref="=x", subscribe=True)
    rendered, literal = _shown(card.embed, card.view)
    _assert_inert(rendered, literal)
    assert any("ZeroWidth" in t for t in rendered) and any("ZeroWidth" in t for t in literal)
    _assert_inert([no_results_text(page)])


def test_paper_card() -> None:
    detail = PaperDetail(
        paper=_paper(), matched_by="id", similar=(_paper(1),), candidates=(_paper(2),)
    )
    card = paper_card(detail)
    _assert_inert(*_shown(card.embed, card.view))
    assert card.embed.title is not None and card.embed.title.startswith("ZeroWidth TXT.EXE")


def test_author_and_latest_cards() -> None:
    profile = AuthorProfile(
        key="max power",
        name=NAME,
        papers=(_paper(), _paper(1)),
        coauthors=((NAME, 2),),
        venues=((VENUE, 2),),
        other_matches=(AuthorSummary(key="m", display=NAME, paper_count=1),),
    )
    card = author_card(profile, page=0, per=5, ref="=m")
    _assert_inert(*_shown(card.embed, card.view))
    assert card.embed.title == "Max Power"
    latest = LatestPage(digest=_paper().digests[0], papers=(_paper(),), total=1, offset=0)
    lcard = latest_card(latest, per=5)
    _assert_inert(*_shown(lcard.embed, lcard.view))


def test_not_found_messages_echo_the_query_inert() -> None:
    _assert_inert([not_found_paper_text(QUERY, [TITLE]), not_found_author_text(QUERY, [NAME])])


def test_alert_cards_and_subscription_embeds() -> None:
    content, embeds = alert_message([AlertItem(_paper().paper, (QUERY,))])
    _assert_inert([content])
    for embed in embeds:
        _assert_inert(*_shown(embed))
    _assert_inert(*_shown(subscribe_embed(QUERY, 5, matches_today=1, top=[_paper().paper])))
    line = SubscriptionLine(
        1, 5, QUERY, False, f"paused {HOSTILE}", None, 0, 0, "2025-01-01T00:00:00Z"
    )
    rendered, literal = _shown(subscriptions_embed([line], last_reindexed_at=None, scope="G"))
    # The list names the subscription's channel on purpose: that mention is the bot's own.
    _assert_inert([t.replace("<#5>", "") for t in rendered], literal)
