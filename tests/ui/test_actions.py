"""The custom_id grammar of buttons and selects."""

from __future__ import annotations

from bot.ui import actions
from bot.ui.actions import OpenAction, PageAction, make_ref, page_custom_id, parse


def test_short_state_is_inline_and_round_trips() -> None:
    ref, store = make_ref("s", 5, "scaling laws")
    assert (ref, store) == ("=scaling laws", False)
    custom_id = page_custom_id("s", 3, 5, ref)
    assert parse(custom_id) == PageAction("s", 3, 5, "=scaling laws")
    assert actions.inline_text(ref) == "scaling laws"


def test_long_state_is_a_hash_that_must_be_stored() -> None:
    query = "x" * 250
    ref, store = make_ref("s", 5, query)
    assert store and ref.startswith("#") and len(ref) == 17
    custom_id = page_custom_id("s", 99_999, 10, ref)
    assert len(custom_id) <= 100
    assert actions.inline_text(ref) is None
    assert actions.ref_meta_key(ref) == "ui.ref." + actions.ref_hash(query)


def test_inline_refs_always_fit_in_100_characters() -> None:
    for n in range(0, 150):
        ref, _ = make_ref("a", 10, "é" * n)
        assert len(page_custom_id("a", actions.MAX_PAGE, 10, ref)) <= 100


def test_parse_rejects_foreign_and_malformed_ids() -> None:
    assert parse("other:thing") is None
    assert parse("ds:s:1:5:") is None
    assert parse("ds:s:x:5:=q") is None
    assert parse("ds:s:1:0:=q") is None
    assert parse("ds:s:1:5:#nothex") is None
    assert parse("ds:l:1:5:=q") is None
    assert parse("ds:z:1") is None
    assert parse("ds:l:2:5:") == PageAction("l", 2, 5, "")
    assert parse("ds:o:s") == OpenAction("s")


def test_paper_actions_round_trip() -> None:
    for kind in actions.PAPER_KINDS:
        custom_id = actions.paper_custom_id(kind, "8t72zh2v")
        assert parse(custom_id) == actions.PaperAction(kind, "8t72zh2v")
        assert actions.kind_of(actions.PaperAction(kind, "x")) == kind
    assert parse("ds:c:") is None
    assert parse("ds:c:UPPER") is None
    assert parse("ds:x:8t72zh2v") is None
    assert actions.kind_of(OpenAction("s")) == "o"
    assert actions.kind_of(PageAction("a", 0, 5, "=x")) == "a"
