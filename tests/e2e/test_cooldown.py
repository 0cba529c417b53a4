"""The per-member cooldown, end to end (the real bot, real discord.py, the Discord double).

One member flooding the bot gets a few full answers and then a private "slow down"; their
buttons are refused the same way and their autocomplete gets no choices; everyone else is
served as usual, and every interaction is still answered once and in time.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.discord_double import InteractionHandle
from tests.e2e.conftest import Running, serving
from tests.e2e.harness import copy_seeds
from tests.e2e.payloads import button, embed, is_ephemeral

pytestmark = pytest.mark.asyncio(loop_scope="module")

RATE, PER = 5, 10
SLOW_DOWN = re.compile(r"Slow down — try again in (\d+) s")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def limited_bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    workdir = tmp_path_factory.mktemp("e2e-cooldown")
    digests = copy_seeds(workdir / "digests")
    limits = {"COOLDOWN_COMMANDS": str(RATE), "COOLDOWN_SECONDS": str(PER)}
    async with serving(workdir, digests, limits) as running:
        yield running


def _slowed(message: dict[str, object]) -> int | None:
    """The N of "try again in N s" when ``message`` is the private slow-down, else None."""
    found = SLOW_DOWN.search(str(message.get("content") or ""))
    return int(found[1]) if found and is_ephemeral(message) else None


async def test_one_member_flooding_search_gets_five_answers_then_slow_down(
    limited_bot: Running,
) -> None:
    double = limited_bot.double
    # A result with buttons first, from someone else, for the flooder to click later.
    other = await double.invoke_slash(
        "search", {"query": "learning", "limit": 2}, user=double.moderator
    )
    shared = await other.wait_for_message(timeout=5)

    handles: list[InteractionHandle] = []
    for _ in range(60):  # 60 /search in about 1.2 s
        handles.append(await double.invoke_slash("search", {"query": "learning"}))
        await asyncio.sleep(0.02)
    messages = await asyncio.gather(*(h.wait_for_message(timeout=10) for h in handles))
    full = [m for m in messages if not is_ephemeral(m)]
    waits = [_slowed(m) for m in messages]
    assert len(full) == RATE
    assert all(embed(m)["title"].startswith("Search: ") for m in full)
    assert waits[:RATE] == [None] * RATE
    assert all(w is not None and 1 <= w <= PER for w in waits[RATE:]), waits
    assert all(h.callback_type == 4 for h in handles[RATE:])  # answered at once, privately

    # Still within the window: a button and a menu are refused the same way ...
    click = await double.click(shared, button(shared, "Next")["custom_id"], user=double.member)
    assert _slowed(await click.wait_for_message(timeout=5)) is not None
    subscribe = await double.click(
        shared, button(shared, "Subscribe")["custom_id"], user=double.member
    )
    assert _slowed(await subscribe.wait_for_message(timeout=5)) is not None
    # ... autocomplete gives no choices instead of computing them ...
    typed = await double.autocomplete("paper", {"paper": "scal"}, focused="paper")
    assert await typed.choices(timeout=3) == []
    # ... and everyone else is served as usual.
    theirs = await double.autocomplete(
        "paper", {"paper": "scal"}, focused="paper", user=double.moderator
    )
    assert await theirs.choices(timeout=3)
    search = await double.invoke_slash("search", {"query": "scaling laws"}, user=double.moderator)
    assert not is_ephemeral(await search.wait_for_message(timeout=5))

    # One callback per interaction, each within Discord's 3 s.
    assert all(not h.rejected_callbacks for h in double.interactions.values())
    double.assert_no_violations()


async def test_autocomplete_does_not_use_up_the_cooldown(limited_bot: Running) -> None:
    double = limited_bot.double
    user = double.guild_owner
    typing = [
        await double.autocomplete("author", {"name": "barbier"[: i + 1]}, focused="name", user=user)
        for i in range(7)
    ]
    for handle in typing:
        await handle.choices(timeout=3)
    assert "Jean Barbier" in [c["value"] for c in await typing[-1].choices()]
    answers = [
        await (await double.invoke_slash("stats", user=user)).wait_for_message(timeout=5)
        for _ in range(RATE)
    ]
    assert all(_slowed(m) is None for m in answers)
    double.assert_no_violations()
