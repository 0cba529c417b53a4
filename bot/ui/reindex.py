"""The reindex summary: the one plain-text renderer of a :class:`ReindexReport`, printed by
``digest-bot reindex`` and shown, in a code block, by ``/reindex``
(:func:`bot.ui.alerts.reindex_message`).

Plain text only: this module imports neither discord nor anything outside the core, so the
CLI can use it without loading discord.py (tests/test_layers.py checks it).
"""

from __future__ import annotations

from pathlib import Path

from bot.core.models import ReindexReport

# progress stage -> (what is shown, unit); the stages of Catalogue.reindex
PHASES = {
    "parse": ("reading digest files", "files"),
    "write": ("writing papers", "papers"),
    "index": ("building the search index", "papers"),
}


def summary(report: ReindexReport, digest_dir: Path) -> str:
    """The human summary: file counts, paper counts, then every diagnostic."""
    extra = report.extra
    lines = [
        f"Digest folder {digest_dir}: {len(report.files)} file(s) — "
        f"{extra.get('files_indexed', 0)} read, {extra.get('files_unchanged', 0)} unchanged, "
        f"{extra.get('files_rejected', 0)} rejected, {extra.get('files_removed', 0)} gone",
    ]
    if "feeds" in extra:
        lines.append(
            f"Feeds (FEEDS): {extra['feeds']} imported first — "
            f"{extra.get('feed_entries_added', 0):,} new entries, "
            f"{extra.get('feeds_failed', 0)} failed"
        )
    if report.applied:
        lines.append(
            f"Papers: {report.added:,} added, {report.updated:,} updated, "
            f"{report.unchanged:,} unchanged, {report.removed:,} gone — "
            f"{report.total:,} in the catalogue ({report.duration_s:.2f} s)"
        )
        if extra.get("restored"):
            lines.append(f"Back in a digest: {extra['restored']} paper(s) that were gone")
        if report.alerts_queued:
            lines.append(f"Alerts queued: {report.alerts_queued}")
    else:
        lines.append(f"Nothing was changed; the catalogue has {report.total:,} papers.")
    for outcome in report.files:
        if outcome.status in ("rejected", "removed"):
            lines.append(f"  {outcome.status}: {outcome.path} — {outcome.message}")
    for d in report.diagnostics:
        if d.line > 0:
            lines.append(str(d))
        elif report.applied:  # folder-level; when not applied it goes to stderr instead
            lines.append(f"{d.file}: {d.severity}: {d.message}")
    return "\n".join(lines)
