"""Buttons and menus on messages posted before the named-kind grammar keep working.

Discord keeps a message's components as they were sent, so messages already in channels carry
the old custom_ids (``ds:s:…``, ``ds:o:…``, ``ds:c:<id>``, ``dsa:sub:<ref>``). Each test asks
the real bot for the same card twice, gives one copy the ids the old builders made (see
tests/ui/legacy_custom_ids.json), clicks the same control on both, and expects the same answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.discord_double import InteractionHandle
from tests.e2e.conftest import Running
from tests.e2e.fixtures import COMPANION_AUTHOR
from tests.e2e.payloads import (
    button,
    components,
    data,
    embed,
    embed_text,
    footer,
    is_ephemeral,
    paper_titled,
    select,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

JSON = dict[str, Any]
SCALING = "Understanding Scaling Laws in Deep Neural Networks"

# What the old builders wrote for each of today's heads (written out here, not taken from
# bot.ui.actions, so that the parser's alias table is checked against an independent copy).
OLD_HEADS = {
    "ds:search:": "ds:s:",
    "ds:author:": "ds:a:",
    "ds:latest:": "ds:l:",
    "ds:view:": "ds:v:",
    "ds:cite:": "ds:c:",
    "ds:full:": "ds:f:",
    "ds:sub:": "dsa:sub:",
}
# Kinds that came with or after the named grammar (the member's follows, saves and votes).
NEW_ONLY = {"follow", "save", "unsave", "saved", "savedbib", "vote"}
OLD_SOURCES = {"search": "s", "author": "a", "latest": "l", "paper": "p", "alert": "al"}


def old_id(custom_id: str) -> str:
    """``custom_id`` as the builders wrote it before the named kinds."""
    if custom_id.split(":")[1] in NEW_ONLY:  # kinds added with the named grammar: no old form
        return custom_id
    if custom_id.startswith("ds:open:"):
        return "ds:o:" + OLD_SOURCES[custom_id.removeprefix("ds:open:")]
    for head, old in OLD_HEADS.items():
        if custom_id.startswith(head):
            return old + custom_id.removeprefix(head)
    raise AssertionError(f"not a custom_id of ours: {custom_id!r}")


def make_old(running: Running, message: JSON) -> JSON:
    """The message as the old bot would have posted it (every custom_id the old way)."""
    ids = {c["custom_id"]: old_id(c["custom_id"]) for c in components(message) if "custom_id" in c}
    assert ids, message
    old = running.double.rewrite_custom_ids(int(message["id"]), ids)
    assert {c["custom_id"] for c in components(old) if "custom_id" in c} == set(ids.values())
    return old


async def answer(handle: InteractionHandle) -> JSON:
    """What the click got: the updated message or the private reply (deferred or not)."""
    callback = await handle.response(timeout=5)
    if callback["type"] in (4, 7):
        return data(callback)
    return await handle.wait_for_message(timeout=10)


async def twice(
    running: Running, command: str, options: JSON, user: Any = None
) -> tuple[JSON, JSON]:
    """The same card twice: as the bot sends it now, and as the old bot sent it."""
    double = running.double
    new = await (await double.invoke_slash(command, options, user=user)).wait_for_message(5)
    made = await (await double.invoke_slash(command, options, user=user)).wait_for_message(5)
    return new, make_old(running, made)


async def test_old_paging_buttons_and_menus_answer_as_the_new_ones(running: Running) -> None:
    double = running.double
    new, old = await twice(running, "search", {"query": "learning", "limit": 2})
    assert button(old, "Next")["custom_id"] == "ds:s:1:2:=learning"
    assert select(old)["custom_id"] == "ds:o:s"
    pages = [
        await answer(await double.click(m, button(m, "Next")["custom_id"])) for m in (new, old)
    ]
    assert pages[0] == pages[1] and footer(pages[0]).startswith("page 2/")
    # the old message now carries the new ids (the bot edited it)
    current = double.message(int(old["id"]))
    assert current is not None and button(current, "Next")["custom_id"].startswith("ds:search:")

    chosen = select(new)["options"][0]["value"]
    cards = [
        await answer(await double.select(m, select(m)["custom_id"], [chosen])) for m in (new, old)
    ]
    assert cards[0] == cards[1] and is_ephemeral(cards[0])

    new, old = await twice(running, "author", {"name": COMPANION_AUTHOR})
    assert button(old, "Next")["custom_id"].startswith("ds:a:1:")
    pages = [
        await answer(await double.click(m, button(m, "Next")["custom_id"])) for m in (new, old)
    ]
    assert pages[0] == pages[1] and footer(pages[0]) == "page 2/2 · 8 papers"

    new, old = await twice(running, "latest", {})
    assert button(old, "Next")["custom_id"].startswith("ds:l:1:")
    pages = [
        await answer(await double.click(m, button(m, "Next")["custom_id"])) for m in (new, old)
    ]
    assert pages[0] == pages[1] and footer(pages[0]).startswith("page 2/2 · ")
    double.assert_no_violations()


async def test_old_paper_buttons_answer_as_the_new_ones(running: Running) -> None:
    double = running.double
    scaling = paper_titled(SCALING)
    new, old = await twice(running, "paper", {"paper": scaling.id})
    assert button(old, "Cite")["custom_id"] == f"ds:c:{scaling.id}"
    assert button(old, "Full abstract")["custom_id"] == f"ds:f:{scaling.id}"
    assert select(old)["custom_id"] == "ds:o:p"
    for label in ("Cite", "Full abstract"):
        answers = [
            await answer(await double.click(m, button(m, label)["custom_id"])) for m in (new, old)
        ]
        assert answers[0] == answers[1] and is_ephemeral(answers[0]), label
    cite = answers[0]
    similar = select(new)["options"][0]["value"]
    opened = [
        await answer(await double.select(m, select(m)["custom_id"], [similar])) for m in (new, old)
    ]
    assert opened[0] == opened[1] and embed(opened[0])["title"]

    # An alert's "Open" button (ds:v:<id>) opens the full card privately, as ds:view:<id>.
    view_new = {button(new, "Cite")["custom_id"]: f"ds:view:{scaling.id}"}
    view_old = {button(old, "Cite")["custom_id"]: f"ds:v:{scaling.id}"}
    double.rewrite_custom_ids(int(new["id"]), view_new)
    double.rewrite_custom_ids(int(old["id"]), view_old)
    cards = [
        await answer(await double.click(m, cid))
        for m, cid in ((new, f"ds:view:{scaling.id}"), (old, f"ds:v:{scaling.id}"))
    ]
    assert cards[0] == cards[1] and embed(cards[0])["title"] == scaling.title
    assert cards[0] != cite
    double.assert_no_violations()


async def test_old_subscribe_button_subscribes_the_channel(running: Running) -> None:
    double = running.double
    mod = double.moderator
    new, old = await twice(running, "search", {"query": "scaling laws"}, user=mod)
    assert button(old, "Subscribe this channel")["custom_id"] == "dsa:sub:=scaling laws"
    refused = await answer(await double.click(old, "dsa:sub:=scaling laws", user=double.member))
    assert is_ephemeral(refused) and "Manage Channels" in refused["content"], refused
    done = await answer(await double.click(old, "dsa:sub:=scaling laws", user=mod))
    assert "Subscribed: scaling laws" in embed_text(done), done
    again = await answer(await double.click(new, "ds:sub:=scaling laws", user=mod))
    assert is_ephemeral(again) and "already subscribed" in again["content"], again
    double.assert_no_violations()


async def test_an_id_that_is_neither_old_nor_new_has_expired(running: Running) -> None:
    double = running.double
    new = await (await double.invoke_slash("paper", {"paper": SCALING})).wait_for_message(5)
    double.rewrite_custom_ids(int(new["id"]), {button(new, "Cite")["custom_id"]: "ds:q:zz"})
    expired = await answer(await double.click(new, "ds:q:zz"))
    assert is_ephemeral(expired) and expired["content"] == (
        "This result expired — run the command again."
    )
    double.assert_no_violations()
