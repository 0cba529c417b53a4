"""/help lists the commands the member can use here, within Discord's limits."""

from __future__ import annotations

import re

import pytest

from bot.ui.info import help_embed
from bot.ui.limits import EMBED_TOTAL, FIELD_VALUE


def commands(**who: bool) -> list[str]:
    field = help_embed(**who).fields[0]
    return re.findall(r"\*\*(/\w+)", field.value or "")


def test_members_moderators_and_owners_see_what_they_can_use() -> None:
    base = ["/search", "/paper", "/author", "/latest", "/stats", "/trend", "/follow"]
    assert commands() == [*base, "/help"]  # e.g. in a DM
    assert commands(alerts=True) == [*base, "/subscriptions", "/help"]
    assert commands(alerts=True, moderator=True) == [
        *base,
        "/subscriptions",
        "/subscribe",
        "/unsubscribe",
        "/help",
    ]
    assert commands(alerts=True, moderator=True, owner=True)[-2:] == ["/reindex", "/help"]
    assert commands(owner=True) == [*base, "/reindex", "/help"]


@pytest.mark.parametrize("owner", [False, True])
def test_the_fullest_card_fits(owner: bool) -> None:
    embed = help_embed(alerts=True, moderator=True, owner=owner)
    assert all(len(f.value or "") <= FIELD_VALUE for f in embed.fields)
    assert len(embed) <= EMBED_TOTAL
    assert (embed.fields[0].value or "").endswith("**/help** — This card.")
