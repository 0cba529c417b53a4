"""The one custom_id grammar of buttons and selects, old custom_ids included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.ui import actions
from bot.ui.actions import (
    Action,
    OpenAction,
    PageAction,
    PaperAction,
    SubscribeAction,
    custom_id,
    make_ref,
    parse,
)

LEGACY = Path(__file__).with_name("legacy_custom_ids.json")


def page_custom_id(kind: actions.PageKind, page: int, per: int, ref: str) -> str:
    return custom_id(PageAction(kind, page, per, ref))


def test_short_state_is_inline_and_round_trips() -> None:
    ref, store = make_ref("search", 5, "scaling laws")
    assert (ref, store) == ("=scaling laws", False)
    cid = page_custom_id("search", 3, 5, ref)
    assert cid == "ds:search:3:5:=scaling laws"
    assert parse(cid) == PageAction("search", 3, 5, "=scaling laws")
    assert actions.inline_text(ref) == "scaling laws"


def test_long_state_is_a_hash_that_must_be_stored() -> None:
    query = "x" * 250
    ref, store = make_ref("search", 5, query)
    assert store and ref.startswith("#") and len(ref) == 17
    cid = page_custom_id("search", 99_999, 10, ref)
    assert len(cid) <= 100
    assert actions.inline_text(ref) is None
    assert actions.ref_meta_key(ref) == "ui.ref." + actions.ref_hash(query)


def test_inline_refs_always_fit_in_100_characters() -> None:
    for kind in ("search", "author"):
        for n in range(0, 150):
            for char in ("é", "q", "😀"):
                ref, _ = make_ref(kind, 10, char * n)
                assert len(page_custom_id(kind, actions.MAX_PAGE, 10, ref)) <= 100
                # the subscribe button carries the search's ref: always shorter
                assert len(custom_id(SubscribeAction(ref))) <= 100


def test_parse_rejects_foreign_and_malformed_ids() -> None:
    assert parse("other:thing") is None
    assert parse("ds:search:1:5:") is None
    assert parse("ds:search:x:5:=q") is None
    assert parse("ds:search:1:0:=q") is None
    assert parse("ds:search:1:5:#nothex") is None
    assert parse("ds:latest:1:5:=q") is None
    assert parse("ds:z:1") is None
    assert parse("ds:zebra:1") is None
    assert parse("ds:sub:") is None and parse("ds:sub:=") is None
    assert parse("ds:sub:#nothex") is None
    assert parse("ds:open:") is None and parse("ds:open:UPPER") is None
    assert parse("ds:latest:2:5:") == PageAction("latest", 2, 5, "")
    assert parse("ds:open:search") == OpenAction("search")
    assert parse("ds:sub:=q" + "q" * 120) is None  # over 100 characters: not ours


def test_paper_actions_round_trip() -> None:
    for kind in actions.PAPER_KINDS:
        cid = custom_id(PaperAction(kind, "8t72zh2v"))
        assert cid == f"ds:{kind}:8t72zh2v"
        assert parse(cid) == PaperAction(kind, "8t72zh2v")
        assert PaperAction(kind, "x").kind == kind
    assert parse("ds:cite:") is None
    assert parse("ds:cite:UPPER") is None
    assert parse("ds:x:8t72zh2v") is None
    assert OpenAction("search").kind == "open"
    assert PageAction("author", 0, 5, "=x").kind == "author"
    assert SubscribeAction("=x").kind == "sub"


EXAMPLES: list[Action] = [
    PageAction("search", 0, 5, "=scaling laws"),
    PageAction("search", 99_999, 10, "#0123456789abcdef"),
    PageAction("author", 2, 5, "=jean barbier"),
    PageAction("latest", 1, 8, ""),
    OpenAction("alert"),
    PaperAction("view", "8t72zh2v"),
    PaperAction("cite", "8t72zh2v"),
    PaperAction("full", "8t72zh2v"),
    SubscribeAction("=scaling laws"),
    SubscribeAction("#0123456789abcdef"),
    actions.NamedAction("follow", "a=barbier"),
    actions.NamedAction("vote", "up:8t72zh2v"),
    actions.NamedAction("savedbib", ""),
    actions.RetryAction(5, "=scaling laws"),
    actions.RetryAction(10, "#0123456789abcdef"),
]


@pytest.mark.parametrize("action", EXAMPLES, ids=lambda a: custom_id(a))
def test_every_kind_round_trips_with_its_name(action: Action) -> None:
    cid = custom_id(action)
    assert cid.startswith(f"ds:{action.kind}:") and len(cid) <= 100
    assert parse(cid) == action
    assert actions.TEMPLATE.fullmatch(cid) is not None  # the one router claims it
    assert actions.kind_of(cid) == action.kind


@pytest.mark.parametrize(
    "cid", ["ds:retry:0:=x", "ds:retry:5:", "ds:retry:5:=", "ds:retry:x:=a", "ds:retry:5:#12"]
)
def test_bad_retry_ids_do_not_parse(cid: str) -> None:
    assert parse(cid) is None


def test_every_kind_has_a_name_and_the_old_letters_are_only_aliases() -> None:
    assert set(actions.KINDS) == {
        "search",
        "author",
        "latest",
        "open",
        "view",
        "cite",
        "full",
        "sub",
        "retry",
        *actions.NAMED_KINDS,
    }
    assert set(actions.NAMED_KINDS) == {"follow", "save", "unsave", "saved", "savedbib", "vote"}
    # every head older versions sent is still read (the personal kinds and retry, newer than
    # the letters, never had one)
    assert set(actions.ALIASES.values()) == (
        set(actions.KINDS) - set(actions.NAMED_KINDS) - {"retry"}
    )
    assert all(len(kind) > 1 for kind in actions.KINDS)


# -- custom_ids on messages already posted ----------------------------------------------------

# Literal ids as the builders made them before the named kinds (see legacy_custom_ids.json).
OLD_IDS: list[tuple[str, Action]] = [
    ("ds:s:1:2:=learning", PageAction("search", 1, 2, "=learning")),
    ("ds:s:3:10:#162406433872a270", PageAction("search", 3, 10, "#162406433872a270")),
    ("ds:a:2:5:=jean barbier", PageAction("author", 2, 5, "=jean barbier")),
    ("ds:l:0:8:", PageAction("latest", 0, 8, "")),
    ("ds:o:s", OpenAction("s")),
    ("ds:o:al", OpenAction("al")),
    ("ds:v:8t72zh2v", PaperAction("view", "8t72zh2v")),
    ("ds:c:8t72zh2v", PaperAction("cite", "8t72zh2v")),
    ("ds:f:8t72zh2v", PaperAction("full", "8t72zh2v")),
    ("dsa:sub:=scaling laws", SubscribeAction("=scaling laws")),
    ("dsa:sub:#162406433872a270", SubscribeAction("#162406433872a270")),
]


@pytest.mark.parametrize(("old", "action"), OLD_IDS, ids=[old for old, _ in OLD_IDS])
def test_old_custom_ids_still_parse_to_the_same_action(old: str, action: Action) -> None:
    assert parse(old) == action
    assert actions.TEMPLATE.fullmatch(old) is not None
    assert actions.kind_of(old) == action.kind


def _expected(meaning: dict[str, Any]) -> Action:
    kind = meaning["kind"]
    if kind in actions.PAGE_KINDS:
        return PageAction(kind, meaning["page"], meaning["per"], meaning["ref"])
    if kind == "open":
        return OpenAction(meaning["source"])
    if kind == "sub":
        return SubscribeAction(meaning["ref"])
    return PaperAction(kind, meaning["paper_id"])


def test_every_custom_id_the_old_builders_made_still_parses() -> None:
    """The ids the builders produced before the grammar changed (generated then, by running
    them on the seed digests): each reads as the action it meant."""
    rows = json.loads(LEGACY.read_text(encoding="utf-8"))["ids"]
    seen = {row["custom_id"].split(":")[0] + ":" + row["custom_id"].split(":")[1] for row in rows}
    assert seen == set(actions.ALIASES)  # the fixture covers every old head
    for row in rows:
        old = row["custom_id"]
        assert parse(old) == _expected(row["action"]), (row["where"], old)
        assert actions.TEMPLATE.fullmatch(old) is not None, old
        assert actions.kind_of(old) == row["action"]["kind"], old
