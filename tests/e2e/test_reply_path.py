"""The reply path under Discord faults, and what the bot writes to its log at DEBUG.

The real bot process (``LOG_LEVEL=DEBUG``) against the Discord API double:

* the interaction callback fails with 500s, or is rate limited past the 3-second window: the
  bot answers in time when it still can, and otherwise stops at the deadline, logs it once
  and does no more work for that interaction;
* the log never shows an interaction token, although discord.py logs request URLs and whole
  gateway payloads at DEBUG.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from tests.discord_double import DiscordDouble, InteractionHandle
from tests.e2e.conftest import Running, serving
from tests.e2e.harness import copy_seeds
from tests.e2e.payloads import button, is_ephemeral

pytestmark = pytest.mark.asyncio(loop_scope="module")

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
DEADLINE = 3.0  # Discord's: the first callback must arrive within 3 s


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def debug_bot(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    workdir = tmp_path_factory.mktemp("e2e-reply")
    digests = copy_seeds(workdir / "digests")
    async with serving(workdir, digests, {"LOG_LEVEL": "DEBUG"}) as running:
        yield running


def _for(handle: InteractionHandle, double: DiscordDouble) -> list[float]:
    """When each request about this interaction (callback, follow-ups, @original) arrived."""
    return [
        r.at
        for r in double.requests
        if f"/interactions/{handle.id}/" in r.path or handle.token in r.path
    ]


async def test_two_server_errors_on_the_callback_are_still_answered_in_time(
    debug_bot: Running,
) -> None:
    double = debug_bot.double
    failing = double.fail_next("POST", CALLBACK, 500, times=2)
    try:
        handle = await double.invoke_slash("search", {"query": "scaling laws"})
        callback = await handle.response(timeout=DEADLINE + 2)
    finally:
        double.clear_faults()
    assert len(failing.hits) == 2
    assert callback["type"] == 4
    assert handle.latency is not None and handle.latency < DEADLINE
    double.assert_no_violations()


async def test_a_callback_that_cannot_be_sent_in_time_stops_at_the_deadline(
    debug_bot: Running,
) -> None:
    double, bot = debug_bot.double, debug_bot.bot
    log_start = len(bot.log_text())
    # Ten 429s, 0.9 s each: discord.py alone retries five times, the last one at 3.6 s.
    limited = double.rate_limit_next("POST", CALLBACK, retry_after=0.9, times=10)
    started = time.monotonic()
    try:
        handle = await double.invoke_slash("search", {"query": "feature learning"})
        await double.wait_until(lambda: handle.failed, DEADLINE + 2, "the ack deadline")
        # Anything still running for this interaction would show within a few seconds.
        await asyncio.sleep(DEADLINE + 2 - (time.monotonic() - started))
    finally:
        double.clear_faults()
    assert handle.callback is None and not handle.rejected_callbacks
    times = _for(handle, double)
    assert len(limited.hits) == len(times) >= 2  # retried, and only the callback was tried
    assert max(times) - started < DEADLINE, [round(t - started, 2) for t in times]
    assert [v.kind for v in double.violations] == ["ack_timeout"]
    double.clear_violations()

    log = bot.log_text()[log_start:]
    told = [line for line in log.splitlines() if "not answered" in line]
    assert len(told) == 1, told
    assert "/search" in told[0] and str(double.member.id) in told[0], told[0]
    assert handle.token not in log
    assert "Traceback" not in log, log[-3000:]


def _deleted(handle: InteractionHandle) -> Callable[[], bool]:
    return lambda: handle.original_deleted


async def test_the_debug_log_shows_no_interaction_token(debug_bot: Running) -> None:
    double, bot = debug_bot.double, debug_bot.bot
    # Answered directly, deferred then followed up, errors made private after a defer
    # (edit, follow-up and delete of @original), a button, a menu and autocomplete.
    searches = await asyncio.gather(
        *(
            double.invoke_slash("search", {"query": q, "limit": 2})
            for q in (
                "learning",
                "scaling laws",
                "chemistry",
                "graph",
                "learning theory",
                "neural",
                "xylophone zeppelin",
                "quartz pyramid",
            )
        )
    )
    await asyncio.gather(*(h.response(timeout=DEADLINE) for h in searches))
    first = await searches[0].wait_for_message(timeout=5)
    for handle in searches[-2:]:
        if handle.callback_type == 5:
            await double.wait_until(_deleted(handle), 5, "the placeholder deleted")
    nxt = await double.click(first, button(first, "Next")["custom_id"], user=double.moderator)
    assert is_ephemeral(await nxt.wait_for_message(timeout=5))
    typed = await double.autocomplete("paper", {"paper": "scal"}, focused="paper")
    assert await typed.choices(timeout=DEADLINE)
    assert any(h.callback_type == 5 for h in searches), "nothing was deferred"
    await asyncio.sleep(0.5)  # let the last log lines reach the file

    log = bot.log_text()
    tokens = [h.token for h in double.interactions.values()]
    assert len(tokens) >= 10
    leaked = [t for t in tokens if t in log]
    assert not leaked, f"{len(leaked)} of {len(tokens)} interaction tokens are in the log"
    # DEBUG really was on, and what discord.py logs about interactions is there, redacted.
    assert "INTERACTION_CREATE" in log
    assert re.search(r"/webhooks/\d+/\[redacted\]", log), "no follow-up URL was logged"
    assert re.search(r"""["']token["']: ["']\[redacted\]["']""", log), "no payload logged"
    assert double.token not in log
    double.assert_no_violations()
