"""Persistent views: every component is a routed ``ds:`` item within Discord's limits."""

from __future__ import annotations

from typing import Any

from bot.ui import actions
from bot.ui.views import ActionItem, Choice, paged_view


def _components(view: Any) -> list[dict[str, Any]]:
    return [c for row in view.to_components() for c in row["components"]]


def test_paged_view_has_a_select_and_two_distinct_buttons() -> None:
    choices = [
        Choice(value=f"id{i:06d}", label="T" * 300, description="D" * 300) for i in range(30)
    ]
    view = paged_view("search", page=0, pages=7, per=5, ref="=scaling laws", choices=choices)
    assert view is not None and view.timeout is None and view.is_persistent()
    comps = _components(view)
    select, prev, nxt = comps
    assert select["type"] == 3 and len(select["options"]) == 25
    assert all(len(o["label"]) <= 100 and len(o["description"]) <= 100 for o in select["options"])
    assert prev["disabled"] is True and nxt["disabled"] is False
    ids = [c["custom_id"] for c in comps]
    assert len(set(ids)) == 3 and all(len(i) <= 100 for i in ids)
    assert actions.parse(nxt["custom_id"]) == actions.PageAction("search", 1, 5, "=scaling laws")
    assert all(isinstance(item, ActionItem) for item in view.children)


def test_single_page_without_choices_has_no_view() -> None:
    assert paged_view("latest", page=0, pages=1, per=5, ref="") is None


def test_last_page_disables_next() -> None:
    view = paged_view("author", page=2, pages=3, per=8, ref="=jean barbier")
    assert view is not None
    prev, nxt = _components(view)
    assert nxt["disabled"] is True and prev["disabled"] is False
    assert actions.parse(prev["custom_id"]) == actions.PageAction("author", 1, 8, "=jean barbier")
