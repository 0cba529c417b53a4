"""bot.metrics: how an interaction's outcome is decided, bounded labels, reindex observation."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest
from discord import app_commands

from bot.core.models import ReindexReport, SearchTimings
from bot.errors import UserFacingError, classify
from bot.metrics import Metrics, component_label
from bot.replies import ResponseTooLate

COMMAND = cast(Any, SimpleNamespace(qualified_name="search", name="search"))


def _interaction(
    interaction_id: int, kind: discord.InteractionType, data: dict[str, Any], command: Any = COMMAND
) -> discord.Interaction[Any]:
    fake = SimpleNamespace(id=interaction_id, type=kind, data=data, command=command)
    return cast(discord.Interaction[Any], fake)


def _value(metrics: Metrics, name: str, labels: dict[str, str]) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (app_commands.CommandInvokeError(COMMAND, UserFacingError("Type a query.")), "user_error"),
        (app_commands.CommandInvokeError(COMMAND, ResponseTooLate()), "late"),
        (app_commands.CommandInvokeError(COMMAND, ZeroDivisionError()), "error"),
        (app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10), 4.2), "cooldown"),
        (app_commands.NoPrivateMessage(), "denied"),
        (app_commands.MissingPermissions(["manage_channels"]), "denied"),
        (app_commands.CheckFailure(), "denied"),
        (app_commands.CommandNotFound("gone", []), "user_error"),
    ],
)
def test_error_outcomes(error: app_commands.AppCommandError, outcome: str) -> None:
    assert classify(error).outcome == outcome


async def test_outcome_comes_from_the_handling_task() -> None:
    metrics = Metrics()
    command = discord.InteractionType.application_command

    async def handle(
        interaction: discord.Interaction[Any], mark: str | None, fail: BaseException | None
    ) -> None:
        metrics.track(interaction)
        metrics.track(interaction)  # once only
        if mark:
            metrics.outcome(interaction, mark)  # type: ignore[arg-type]
            metrics.outcome(interaction, "error")  # the first word wins
        await asyncio.sleep(0)
        if fail is not None:
            raise fail

    await asyncio.create_task(handle(_interaction(1, command, {}), None, None))
    await asyncio.create_task(handle(_interaction(2, command, {}), "expired", None))
    with pytest.raises(ValueError):
        await asyncio.create_task(handle(_interaction(3, command, {}), None, ValueError()))
    stuck = asyncio.create_task(handle(_interaction(4, command, {}), None, None))
    await asyncio.sleep(0)  # it has passed the gate, then it is given up
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    await asyncio.sleep(0)  # done callbacks run
    labels = {"type": "command", "command": "search"}
    for outcome in ("ok", "expired", "error", "late"):
        assert (
            _value(metrics, "digest_bot_interactions_total", {**labels, "outcome": outcome}) == 1
        ), outcome
    assert _value(metrics, "digest_bot_interaction_duration_seconds_count", labels) == 4
    assert metrics.in_flight == 0


async def test_components_are_labelled_by_what_they_do_never_by_their_state() -> None:
    metrics = Metrics()
    component = discord.InteractionType.component

    async def click(custom_id: str, n: int) -> None:
        metrics.track(_interaction(n, component, {"custom_id": custom_id}, command=None))

    for n, custom_id in enumerate(
        ["ds:s:1:5:=graph neural nets", "ds:o:search", "dsa:sub:#ab", "ds:zz:1", "weird"]
    ):
        await asyncio.create_task(click(custom_id, n))
    await asyncio.sleep(0)
    seen = {
        s.labels["command"]
        for m in metrics.registry.collect()
        for s in m.samples
        if s.name == "digest_bot_interactions_total"
    }
    assert seen == {"page:search", "open", "subscribe", "other"}
    assert component_label("ds:a:0:5:=x") == "page:author"
    assert component_label("ds:l:0:5:") == "page:latest"


def test_reindexes_are_observed_when_applied() -> None:
    metrics = Metrics()
    report = ReindexReport(
        added=5,
        updated=2,
        unchanged=1,
        removed=1,
        total=8,
        files=(),
        diagnostics=(),
        duration_s=1.5,
    )
    metrics.observe_reindex(report)
    metrics.observe_reindex(ReindexReport(0, 0, 0, 0, 0, (), (), applied=False))
    assert _value(metrics, "digest_bot_reindex_duration_seconds_count", {}) == 1
    assert _value(metrics, "digest_bot_reindex_duration_seconds_sum", {}) == 1.5
    assert _value(metrics, "digest_bot_reindex_papers_total", {"change": "added"}) == 5
    assert _value(metrics, "digest_bot_reindex_papers_total", {"change": "removed"}) == 1


def test_search_parts_are_observed() -> None:
    metrics = Metrics()
    metrics.observe_search(SearchTimings(parse=0.0001, index=0.0004, fetch=0.0003, snippets=0.002))
    assert _value(metrics, "digest_bot_search_part_duration_seconds_count", {"part": "index"}) == 1
    assert _value(metrics, "digest_bot_search_part_duration_seconds_sum", {"part": "snippets"}) == (
        0.002
    )
    bucket = {"part": "fetch", "le": "0.0005"}
    assert _value(metrics, "digest_bot_search_part_duration_seconds_bucket", bucket) == 1
