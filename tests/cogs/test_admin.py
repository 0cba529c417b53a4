"""/reindex: owners only, progress while it works, the CLI's summary at the end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bot.cogs import admin
from bot.cogs.admin import NOT_OWNER, Admin
from bot.core.models import FileOutcome, ReindexReport
from bot.core.models import ProgressFn as Progress
from bot.errors import UserFacingError


class FakeAlerts:
    def __init__(self) -> None:
        self.calls = 0

    @property
    def reindexing(self) -> bool:
        return False

    async def reindex(self, *, progress: Progress | None = None) -> ReindexReport:
        self.calls += 1
        assert progress is not None
        progress("parse", 1, 40)
        await asyncio.sleep(0.15)
        progress("write", 20_000, 50_000)
        await asyncio.sleep(0.15)
        return ReindexReport(
            added=3,
            updated=1,
            unchanged=60,
            removed=0,
            total=64,
            files=(FileOutcome("new.txt", "indexed", 4),),
            diagnostics=(),
            alerts_queued=2,
            extra={"files_indexed": 1},
        )


class FakeBot:
    def __init__(self, alerts: FakeAlerts) -> None:
        self.alerts = alerts
        self.settings = SimpleNamespace(digest_dir=Path("digests"))

    async def is_owner_id(self, user_id: int) -> bool:
        return user_id == 1

    def get_cog(self, name: str) -> Any:
        return self.alerts


class FakeInteraction:
    def __init__(self, user_id: int) -> None:
        self.user = SimpleNamespace(id=user_id)
        self.deferred: list[dict[str, Any]] = []
        self.edits: list[str] = []
        self.response = SimpleNamespace(defer=self._defer)

    async def _defer(self, **kwargs: Any) -> None:
        self.deferred.append(kwargs)

    async def edit_original_response(self, *, content: str) -> None:
        self.edits.append(content)


async def run(cog: Admin, interaction: FakeInteraction) -> None:
    await Admin.reindex.callback(cog, interaction)  # type: ignore[arg-type,call-arg]


async def test_owner_sees_progress_then_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admin, "PROGRESS_EVERY_S", 0.05)
    alerts = FakeAlerts()
    cog = Admin(FakeBot(alerts))  # type: ignore[arg-type]
    interaction = FakeInteraction(user_id=1)
    await run(cog, interaction)
    assert interaction.deferred == [{"ephemeral": True, "thinking": True}]
    assert any("reading digest files 1/40" in e for e in interaction.edits), interaction.edits
    assert any("writing papers 20,000/50,000" in e for e in interaction.edits)
    final = interaction.edits[-1]
    assert final.startswith("Reindex done.\n```")
    assert "Papers: 3 added, 1 updated, 60 unchanged, 0 gone" in final
    assert "Alerts queued: 2" in final
    assert alerts.calls == 1


async def test_anyone_else_is_refused_before_any_work() -> None:
    alerts = FakeAlerts()
    cog = Admin(FakeBot(alerts))  # type: ignore[arg-type]
    interaction = FakeInteraction(user_id=2)
    with pytest.raises(UserFacingError) as refused:
        await run(cog, interaction)
    assert str(refused.value) == NOT_OWNER
    assert interaction.deferred == [] and alerts.calls == 0
