"""Reindex, the report: what happened to each file, and the counts (a ReindexReport)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from bot.core.models import Diagnostic, DigestInfo, FileOutcome, ReindexReport
from bot.ingest.folder import Read


def by_file(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics grouped by file (in path order), each file's in the order found."""
    return sorted(diagnostics, key=lambda d: d.file)


def file_outcomes(
    reads: Sequence[Read], known: dict[str, DigestInfo], gone: Sequence[str]
) -> list[FileOutcome]:
    outcomes: list[FileOutcome] = []
    for r in reads:
        info = known.get(r.path)
        stored_count = info.paper_count if info is not None else 0
        if r.status == "parsed":
            errors = sum(1 for d in r.diagnostics if d.severity == "error")
            warnings = len(r.diagnostics) - errors
            parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
            if warnings:
                parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
            outcomes.append(FileOutcome(r.path, "indexed", r.count, ", ".join(parts)))
        elif r.status == "unchanged":
            outcomes.append(FileOutcome(r.path, "unchanged", stored_count))
        else:
            message = r.diagnostics[0].message if r.diagnostics else (r.reason or "rejected")
            if info is not None:
                message += " (its previous content stays in the catalogue)"
            outcomes.append(FileOutcome(r.path, "rejected", stored_count, message))
    for path in gone:
        stored_count = known[path].paper_count
        outcomes.append(FileOutcome(path, "removed", stored_count, "file is gone from the folder"))
    outcomes.sort(key=lambda o: o.path)
    return outcomes


def make_report(
    started: float,
    outcomes: Sequence[FileOutcome],
    diagnostics: Sequence[Diagnostic],
    *,
    added: Sequence[str],
    updated: int,
    removed: Sequence[str],
    restored: int,
    total: int,
    alerts: int,
    applied: bool = True,
) -> ReindexReport:
    statuses = [o.status for o in outcomes]
    errors = sum(1 for d in diagnostics if d.severity == "error")
    return ReindexReport(
        added=len(added),
        updated=updated,
        unchanged=max(total - len(added) - updated, 0) if applied else total,
        removed=len(removed),
        total=total,
        files=tuple(outcomes),
        diagnostics=tuple(diagnostics),
        new_paper_ids=tuple(added),
        alerts_queued=alerts,
        applied=applied,
        duration_s=round(time.perf_counter() - started, 3),
        extra={
            "files_indexed": statuses.count("indexed"),
            "files_unchanged": statuses.count("unchanged"),
            "files_rejected": statuses.count("rejected"),
            "files_removed": statuses.count("removed"),
            "restored": restored,
            "errors": errors,
            "warnings": len(diagnostics) - errors,
        },
        removed_paper_ids=tuple(removed),
    )
