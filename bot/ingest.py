"""Reindex: the digest folder -> the catalogue, in one transaction.

One path for the CLI (``digest-bot reindex``), ``/reindex`` and the periodic job:

1. List ``*.txt`` under the digest folder (sorted by relative path, hidden files skipped), read
   and hash them, and parse the ones whose content changed, in a worker thread.
   A file that is not UTF-8 text (or cannot be read) is *rejected*: it changes nothing, so
   whatever the catalogue held for it stays.
2. One ``BEGIN IMMEDIATE`` transaction: :meth:`PaperStore.write_digests` upserts digests,
   papers, authors and memberships and marks the papers left in no digest as removed; the
   alert hook sees the papers the catalogue has never seen and writes its outbox in the same
   transaction; the catalogue version is bumped when anything changed.
3. The caller updates its search index from :attr:`IngestResult.changed`.

A crash anywhere leaves the old catalogue or the new one, never a mix. If another process
changes the catalogue between steps 1 and 2, the reindex starts over (the catalogue version
tells).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.core.models import (
    Diagnostic,
    DigestInfo,
    FileOutcome,
    Paper,
    ParseReport,
    ReindexReport,
)
from bot.core.parser import content_hash, parse_digest
from bot.store.db import Database, StoreError, Transaction
from bot.store.papers import DigestContent, DigestStamp, PaperStore, utc_now

AlertHook = Callable[[Transaction, Sequence[tuple[int, Paper]]], Awaitable[int]]
Progress = Callable[[str, int, int], None]

_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of :func:`reindex`.

    ``changed`` holds ``(rowid, paper)`` for every added or updated paper, by rowid, for the
    search index to update incrementally; ``removed`` / ``restored`` are the rowids whose
    removed flag went on / off. ``version`` is the catalogue version afterwards.
    """

    report: ReindexReport
    changed: tuple[tuple[int, Paper], ...] = ()
    version: int = 0
    removed: tuple[int, ...] = ()
    restored: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Read:
    path: str
    status: Literal["parsed", "unchanged", "rejected"]
    content_hash: str = ""
    report: ParseReport | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    size: int = 0
    mtime_ns: int = 0
    restamp: bool = False  # unchanged content, but a new size / modification time


class _FolderError(Exception):
    pass


class _Stale(Exception):
    """The catalogue changed since the folder was compared with it: start over."""


async def reindex(
    db: Database,
    digest_dir: Path,
    *,
    alert_hook: AlertHook | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> IngestResult:
    """Bring the catalogue in line with the digest folder; see the module docstring.

    ``force`` re-parses files whose content is unchanged, and lets an empty folder mark every
    digest as gone (without it an empty folder is refused: a mistyped path must not empty the
    catalogue). Expected problems (missing folder, every file rejected) come back as a report
    with ``applied=False`` and a diagnostic; only database failures raise.
    """
    started = time.perf_counter()
    store = PaperStore(db)
    root = Path(digest_dir)
    loop = asyncio.get_running_loop()

    def notify(stage: str, done: int, total: int) -> None:
        if progress is not None:
            loop.call_soon_threadsafe(progress, stage, done, total)

    for _attempt in range(_ATTEMPTS):
        version = await store.catalogue_version()
        known = {d.path: d for d in await store.digests()}
        try:
            files = await asyncio.to_thread(_list_files, root)
        except _FolderError as exc:
            return await _not_applied(
                store, started, [Diagnostic(str(root), 0, str(exc))], [], version
            )
        stamps = await store.digest_stamps()
        reads = await asyncio.to_thread(_read_all, files, stamps, force, notify)

        listed = {r.path for r in reads}
        gone = sorted(path for path in known if path not in listed)
        contents = [
            DigestContent(
                r.path, r.content_hash, r.report.heading, r.report.papers, r.size, r.mtime_ns
            )
            for r in reads
            if r.status == "parsed" and r.report is not None
        ]
        restamps = [
            (r.path, DigestStamp(r.content_hash, r.size, r.mtime_ns)) for r in reads if r.restamp
        ]
        outcomes = _outcomes(reads, known, gone)
        diagnostics = [d for r in reads for d in r.diagnostics]

        if reads and all(r.status == "rejected" for r in reads):
            diagnostics.append(
                Diagnostic(str(root), 0, "every digest file was rejected; nothing was changed")
            )
            return await _not_applied(store, started, diagnostics, outcomes, version)
        if not reads and known and not force:
            diagnostics.append(
                Diagnostic(
                    str(root),
                    0,
                    f"no digest files (*.txt) in {root}, but the catalogue has {len(known)}; "
                    "nothing was changed (check the folder, or use --force to mark them gone)",
                )
            )
            return await _not_applied(store, started, diagnostics, outcomes, version)
        if not reads:
            diagnostics.append(
                Diagnostic(str(root), 0, f"no digest files (*.txt) in {root}", "warning")
            )
        if not contents and not gone:
            if restamps:
                async with db.transaction() as tx:
                    await PaperStore.restamp(tx, restamps)
            version = await store.catalogue_version()
            return await _nothing_written(
                store, started, diagnostics, outcomes, version, applied=True
            )

        now = utc_now()
        try:
            async with db.transaction() as tx:
                if await PaperStore.version_in(tx) != version:
                    raise _Stale
                change = await store.write_digests(tx, contents, gone, now=now, progress=progress)
                await PaperStore.restamp(tx, restamps)
                alerts = 0
                if alert_hook is not None and change.added:
                    alerts = int(await alert_hook(tx, change.added))
                if change.papers_changed or change.digests_changed:
                    version = await PaperStore.bump_version(tx, now)
        except _Stale:
            continue
        report = _report(
            started,
            outcomes,
            diagnostics,
            added=[p.id for _, p in change.added],
            updated=len(change.updated),
            removed=[paper_id for _, paper_id in change.removed],
            restored=len(change.restored),
            total=change.total,
            alerts=alerts,
        )
        changed = tuple(sorted([*change.added, *change.updated], key=lambda item: item[0]))
        return IngestResult(
            report=report,
            changed=changed,
            version=version,
            removed=tuple(rowid for rowid, _ in change.removed),
            restored=tuple(rowid for rowid, _ in change.restored),
        )
    raise StoreError(
        "the catalogue kept changing while this reindex ran (another reindex at the same "
        "time?); try again"
    )


def _list_files(root: Path) -> list[tuple[str, Path]]:
    if not root.exists():
        raise _FolderError(f"digest folder {root} does not exist")
    if not root.is_dir():
        raise _FolderError(f"digest folder {root} is not a folder")
    try:
        with os.scandir(root):
            pass  # surfaces "permission denied", which rglob would silently skip
        found = []
        for path in root.rglob("*.txt"):
            relative = path.relative_to(root)
            if any(part.startswith(".") for part in relative.parts) or path.is_dir():
                continue
            found.append((relative.as_posix(), path))
    except OSError as exc:
        raise _FolderError(f"cannot read digest folder {root}: {exc.strerror or exc}") from None
    found.sort()
    return found


def _read_all(
    files: Sequence[tuple[str, Path]],
    known: dict[str, DigestStamp],
    force: bool,
    notify: Progress,
) -> list[_Read]:
    """Read, hash and (when changed) parse every file. Runs in a worker thread."""
    reads: list[_Read] = []
    for done, (name, path) in enumerate(files, start=1):
        reads.append(_read_one(name, path, known.get(name), force))
        notify("parse", done, len(files))
    return reads


def _read_one(name: str, path: Path, known: DigestStamp | None, force: bool) -> _Read:
    """One file: same size and modification time as last time -> unchanged without reading;
    else read and hash it (same hash -> unchanged) and parse it."""
    try:
        stat = path.stat()  # before reading: a later change shows up as a newer stamp
        size, mtime_ns = stat.st_size, stat.st_mtime_ns
        if known is not None and not force and (size, mtime_ns) == (known.size, known.mtime_ns):
            return _Read(name, "unchanged", known.content_hash, size=size, mtime_ns=mtime_ns)
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        problem = Diagnostic(name, 1, f"cannot read the file ({reason}); file skipped")
        return _Read(name, "rejected", diagnostics=(problem,))
    digest_hash = content_hash(data)
    if known is not None and digest_hash == known.content_hash and not force:
        return _Read(name, "unchanged", digest_hash, size=size, mtime_ns=mtime_ns, restamp=True)
    report = parse_digest(data, name)
    if not report.ok:
        return _Read(name, "rejected", digest_hash, diagnostics=report.diagnostics)
    return _Read(name, "parsed", digest_hash, report, report.diagnostics, size, mtime_ns)


def _outcomes(
    reads: Sequence[_Read], known: dict[str, DigestInfo], gone: Sequence[str]
) -> list[FileOutcome]:
    outcomes: list[FileOutcome] = []
    for r in reads:
        info = known.get(r.path)
        stored_count = info.paper_count if info is not None else 0
        if r.status == "parsed" and r.report is not None:
            errors = sum(1 for d in r.diagnostics if d.severity == "error")
            warnings = len(r.diagnostics) - errors
            parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
            if warnings:
                parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
            outcomes.append(FileOutcome(r.path, "indexed", len(r.report.papers), ", ".join(parts)))
        elif r.status == "unchanged":
            outcomes.append(FileOutcome(r.path, "unchanged", stored_count))
        else:
            message = r.diagnostics[0].message if r.diagnostics else "rejected"
            if info is not None:
                message += " (its previous content stays in the catalogue)"
            outcomes.append(FileOutcome(r.path, "rejected", stored_count, message))
    for path in gone:
        stored_count = known[path].paper_count
        outcomes.append(FileOutcome(path, "removed", stored_count, "file is gone from the folder"))
    outcomes.sort(key=lambda o: o.path)
    return outcomes


def _report(
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


async def _not_applied(
    store: PaperStore,
    started: float,
    diagnostics: Sequence[Diagnostic],
    outcomes: Sequence[FileOutcome],
    version: int,
) -> IngestResult:
    return await _nothing_written(store, started, diagnostics, outcomes, version, applied=False)


async def _nothing_written(
    store: PaperStore,
    started: float,
    diagnostics: Sequence[Diagnostic],
    outcomes: Sequence[FileOutcome],
    version: int,
    *,
    applied: bool,
) -> IngestResult:
    """The report of a reindex that wrote no paper: nothing changed, or nothing could be."""
    stats = await store.stats()
    report = _report(
        started,
        outcomes,
        diagnostics,
        added=(),
        updated=0,
        removed=(),
        restored=0,
        total=stats.papers,
        alerts=0,
        applied=applied,
    )
    return IngestResult(report=report, version=version)
