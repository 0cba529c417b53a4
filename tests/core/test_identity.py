"""One paper-id normaliser: the rule, and that every path that reads a typed id uses it."""

from __future__ import annotations

import pytest

from bot.core import identity, lookup
from bot.core.identity import normalise_paper_id
from bot.store import papers


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("8t72zh2v", "8t72zh2v"),
        (" 8T72ZH2V\t", "8t72zh2v"),  # trimmed, case-free
        ("8T72-ZH2V", "8t72zh2v"),  # Crockford: hyphens are ignored
        ("-8t72-zh2v-", "8t72zh2v"),
        ("6bOzL7r6", "6b0z17r6"),  # reading aids: o -> 0, i / l -> 1
        ("OIL", "011"),
        ("8t72 zh2v", "8t72 zh2v"),  # a space is kept: words, not an id (see the module)
        ("", ""),
    ],
)
def test_the_rule(typed: str, normalised: str) -> None:
    assert normalise_paper_id(typed) == normalised
    assert normalise_paper_id(normalised) == normalised  # idempotent
    # the store's lookup and the autocomplete read it the same way
    assert papers.normalise_paper_id(typed) == normalised
    assert lookup.normalise_id(typed) == normalised


def test_the_store_has_no_rule_of_its_own() -> None:
    assert papers.normalise_paper_id is identity.normalise_paper_id
