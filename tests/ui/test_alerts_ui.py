"""Alert messages, subscription lists and the subscribe button: within Discord's limits."""

from __future__ import annotations

import pytest

from bot.core.models import Author, Paper
from bot.ui import actions
from bot.ui.alerts import (
    AlertItem,
    SubscriptionLine,
    alert_message,
    reindex_message,
    subscribe_embed,
    subscriptions_embed,
    topic_code,
)
from bot.ui.limits import EMBED_TOTAL, MESSAGE_CONTENT, dlen
from bot.ui.views import SUBSCRIBE_LABEL, ActionItem, subscribe_button


def nasty_paper(n: int) -> Paper:
    authors = tuple(
        Author(f"Quintessa{i} Zyx{i}", f"Zyx{i}", f"Quintessa{i}", f"q{i}") for i in range(60)
    )
    return Paper(
        id=f"abcd{n:04d}",
        key=f"k{n}",
        title=f"@everyone **Bold** _claims_ <@123456789012345678> number {n} " + "x" * 400,
        authors=authors,
        authors_raw="",
        venue="Journal of *Pathological* Inputs",
        abstract="We study `code` and @here pings. " * 500,
    )


def test_ten_nasty_cards_fit_one_message_and_ping_nobody() -> None:
    items = [AlertItem(nasty_paper(n), ("hyperbolic stress",)) for n in range(12)]
    content, embeds = alert_message(items)
    assert content == "10 new papers for `hyperbolic stress`"
    assert len(embeds) == 10
    assert sum(len(e) for e in embeds) <= EMBED_TOTAL
    for card in embeds:
        assert card.title is not None and "\\*\\*Bold\\*\\*" in card.title
        text = f"{card.title}\n{card.description}"
        assert "@everyone" not in text and "@here" not in text
        assert "<@123456789012345678>" not in text
        assert card.footer.text is not None and card.footer.text.startswith("id abcd")


def test_a_paper_matching_two_topics_names_both() -> None:
    paper = nasty_paper(1)
    content, embeds = alert_message(
        [AlertItem(paper, ("zeolite", "author:okonkwo")), AlertItem(nasty_paper(2), ("zeolite",))]
    )
    assert content == "2 new papers for `zeolite` and `author:okonkwo`"
    assert embeds[0].footer.text is not None and "zeolite, author:okonkwo" in embeds[0].footer.text


def test_topics_cannot_break_out_of_inline_code() -> None:
    assert topic_code("a `b` @everyone") == "`a 'b' @\u200beveryone`"
    many = [f"topic number {n} " + "y" * 80 for n in range(40)]
    content, _ = alert_message([AlertItem(nasty_paper(1), tuple(many))])
    assert dlen(content) <= MESSAGE_CONTENT and "more topics" in content


def test_subscription_list_and_confirmation_fit() -> None:
    lines = [
        SubscriptionLine(
            i,
            100 + i,
            "q " * 150,
            i % 2 == 0,
            "I cannot see this channel " * 20,
            None,
            i,
            3,
            "2025-01-01T00:00:00.000000Z",
        )
        for i in range(30)
    ]
    embed = subscriptions_embed(lines, last_reindexed_at=None, scope="Guild")
    assert len(embed) <= EMBED_TOTAL and len(embed.fields) <= 25
    assert "paused" in (embed.fields[1].value or "")
    assert embed.footer.text and "10 more" in embed.footer.text
    empty = subscriptions_embed([], last_reindexed_at=None, scope="Guild")
    assert "No subscriptions yet" in (empty.description or "")
    confirm = subscribe_embed("zeolite", 5, matches_today=2, top=[nasty_paper(1), nasty_paper(2)])
    assert "starts from now" in (confirm.description or "").lower()
    assert len(confirm) <= EMBED_TOTAL


def test_reindex_message_is_the_cli_summary_trimmed() -> None:
    summary = "\n".join(
        ["Digest folder x: 1 file(s)", "Papers: 3 added"]
        + [f"digests/f.txt:{n}: error: entry cut short" for n in range(300)]
    )
    text = reindex_message(summary, alerts_queued=4)
    assert dlen(text) <= MESSAGE_CONTENT
    assert "Alerts queued: 4" in text and "more line(s)" in text
    assert text.count("```") == 2


@pytest.mark.parametrize("query", ["zeolite", "x" * 300, 'a "b c" -d author:e'])
def test_subscribe_button_custom_id_round_trips(query: str) -> None:
    ref, _ = actions.make_ref("search", 10, query)
    button = subscribe_button(ref)
    component = button.to_component_dict()
    custom_id = component["custom_id"]
    assert custom_id == button.custom_id and len(custom_id) <= 100
    assert actions.parse(custom_id) == actions.SubscribeAction(ref)
    # The one component router claims it (one answer per click: no second template).
    assert isinstance(button, ActionItem) and actions.TEMPLATE.fullmatch(custom_id) is not None
    assert component["label"] == SUBSCRIBE_LABEL and component["style"] == 3  # green
