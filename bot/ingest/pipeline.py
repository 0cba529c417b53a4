"""Reindex, the pipeline: read the folder, judge, write in one transaction, report.

:func:`reindex` is the one path for the CLI, ``/reindex`` and the periodic job (the steps are
in :mod:`bot.ingest`'s docstring). If another process changes the catalogue between reading
and writing, the reindex starts over (the catalogue version tells).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.models import Diagnostic, DigestInfo, FileOutcome, Paper, ProgressFn, ReindexReport
from bot.ingest.arbitration import Dated, Dates, arbitrate
from bot.ingest.bulk import load
from bot.ingest.folder import (
    MAX_DIGEST_BYTES,
    FolderError,
    Listing,
    Read,
    kept_unread,
    list_files,
    read_all,
    read_extra,
)
from bot.ingest.report import by_file, file_outcomes, make_report
from bot.store.alerts import AlertHook
from bot.store.db import Database, StoreError
from bot.store.papers import Appearance, DigestStamp, PaperStore
from bot.store.reindex_write import (
    CatalogueChange,
    DigestContent,
    bump_version,
    restamp,
    utc_now,
    version_in,
    write_digests,
)

_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class IngestResult:
    """The outcome of :func:`reindex`.

    ``changed`` holds ``(rowid, paper)`` for every added or updated paper, by rowid, for the
    search index to update incrementally; ``removed`` / ``restored`` are the rowids whose
    removed flag went on / off. ``version`` is the catalogue version afterwards.
    ``unlisted``: too many papers were added to list them (a bulk load of an empty
    catalogue, see :mod:`bot.ingest.bulk`): ``changed`` is empty, the index is to be built
    from the store.
    """

    report: ReindexReport
    changed: tuple[tuple[int, Paper], ...] = ()
    version: int = 0
    removed: tuple[int, ...] = ()
    restored: tuple[int, ...] = ()
    unlisted: bool = False


class _Stale(Exception):
    """The catalogue changed since the folder was compared with it: start over."""


async def reindex(
    db: Database,
    digest_dir: Path,
    *,
    alert_hook: AlertHook | None = None,
    progress: ProgressFn | None = None,
    force: bool = False,
    max_bytes: int = MAX_DIGEST_BYTES,
    follow_symlinks: bool = False,
    bulk: bool = True,
) -> IngestResult:
    """Bring the catalogue in line with the digest folder; see :mod:`bot.ingest`.

    ``force`` re-parses files whose content is unchanged, and lets an empty folder mark every
    digest as gone (without it an empty folder is refused: a mistyped path must not empty the
    catalogue). ``max_bytes`` caps the size of a digest file; ``follow_symlinks`` follows
    links out of the folder; ``bulk`` allows the bulk load of an empty catalogue
    (:mod:`bot.ingest.bulk`: the same catalogue, written as the files are parsed). Expected
    problems (missing folder, every file rejected) come back as a report with
    ``applied=False`` and a diagnostic; only database failures raise.
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
        # 1. Read the folder and compare it with the catalogue.
        try:
            listing = await asyncio.to_thread(list_files, root, follow_symlinks)
        except FolderError as exc:
            return await _not_applied(
                store, started, [Diagnostic(str(root), 0, str(exc))], [], version
            )
        if bulk and not known and listing.files:
            loaded = await load(
                db, root, listing, started=started, alert_hook=alert_hook,
                progress=progress, max_bytes=max_bytes,
            )  # fmt: skip
            if loaded is not None:
                report, loaded_change, loaded_version = loaded
                listed = loaded_change.added
                return IngestResult(
                    report=report,
                    changed=tuple(listed) if listed is not None else (),
                    version=loaded_version or await store.catalogue_version(),
                    unlisted=listed is None,
                )
        stamps = await store.digest_stamps()
        reads = await asyncio.to_thread(read_all, listing.files, stamps, force, notify, max_bytes)
        survey = _survey(reads, listing, known, stamps)
        finding, go_on = _folder_finding(root, survey.reads, len(known), force)
        if finding is not None:
            survey.diagnostics.append(finding)
        if not go_on:
            return await _not_applied(store, started, survey.diagnostics, survey.outcomes, version)
        if not survey.contents and not survey.gone:
            return await _restamp_only(db, store, started, survey)
        # 2. Which digest gives each paper its text (the newest), and what differs.
        keep = await _judge(store, listing, survey, max_bytes)
        # 3. One transaction.
        try:
            change, alerts, version = await _write(
                db, store, survey, keep, version, progress, alert_hook
            )
        except _Stale:
            continue
        return _result(started, survey, change, alerts, version)
    raise StoreError(
        "the catalogue kept changing while this reindex ran (another reindex at the same "
        "time?); try again"
    )


@dataclass(slots=True)
class _Survey:
    """The folder compared with the catalogue: what to write, and what to report.

    ``contents`` gains the digests :func:`_judge` re-reads, ``diagnostics`` its warnings.
    """

    reads: list[Read]
    gone: list[str]
    dates: Dates
    contents: list[DigestContent]
    restamps: list[tuple[str, DigestStamp]]
    outcomes: list[FileOutcome]
    diagnostics: list[Diagnostic]


def _survey(
    reads: list[Read],
    listing: Listing,
    known: dict[str, DigestInfo],
    stamps: Mapping[str, DigestStamp],
) -> _Survey:
    """Every file read (and the catalogue's digests under folders not read) against the
    catalogue: the digests gone, the contents to write, the new stamps, the outcomes."""
    reads.extend(kept_unread(listing, known, {r.path for r in reads}))
    reads.sort(key=lambda r: r.path)
    listed = {r.path for r in reads}
    gone = sorted(path for path in known if path not in listed)
    dates = Dates(stamps)
    contents = [
        _content(r, dates.new(r.path, r.content_hash, r.mtime_ns))
        for r in reads
        if r.status == "parsed" and r.report is not None
    ]
    restamps = [
        (r.path, DigestStamp(r.content_hash, r.size, r.mtime_ns)) for r in reads if r.restamp
    ]
    outcomes = file_outcomes(reads, known, gone)
    blocked = [Diagnostic(folder, 1, why) for folder, why, _ in listing.blocked]
    diagnostics = by_file([*(d for r in reads for d in r.diagnostics), *blocked])
    return _Survey(reads, gone, dates, contents, restamps, outcomes, diagnostics)


def _folder_finding(
    root: Path, reads: Sequence[Read], known: int, force: bool
) -> tuple[Diagnostic | None, bool]:
    """What the folder as a whole calls for: a diagnostic (or None), and whether the
    reindex may go on (a folder whose every file was rejected, or an empty folder while the
    catalogue has digests and no ``force``, changes nothing)."""
    if reads and all(r.status == "rejected" for r in reads):
        message = "every digest file was rejected; nothing was changed"
        return Diagnostic(str(root), 0, message), False
    if not reads and known and not force:
        message = (
            f"no digest files (*.txt) in {root}, but the catalogue has {known}; "
            "nothing was changed (check the folder, or use --force to mark them gone)"
        )
        return Diagnostic(str(root), 0, message), False
    if not reads:
        return Diagnostic(str(root), 0, f"no digest files (*.txt) in {root}", "warning"), True
    return None, True


async def _restamp_only(
    db: Database, store: PaperStore, started: float, survey: _Survey
) -> IngestResult:
    """No digest to write and none gone: remember the new stamps of touched files only."""
    if survey.restamps:
        async with db.transaction() as tx:
            await restamp(tx, survey.restamps)
    version = await store.catalogue_version()
    return await _nothing_written(
        store, started, survey.diagnostics, survey.outcomes, version, applied=True
    )


async def _judge(store: PaperStore, listing: Listing, survey: _Survey, max_bytes: int) -> set[str]:
    """Decide which digest gives each paper its text, reading again the digests not read
    now that become a source (added to ``survey.contents``) and warning where versions
    differ (added to ``survey.diagnostics``); returns the keys whose stored text stays."""
    contents, gone, dates = survey.contents, survey.gone, survey.dates
    unreadable = {r.path for r in survey.reads if r.status == "rejected"}
    present = set(dates.stamps)
    others = present - {c.path for c in contents} - set(gone)
    appearances: list[Appearance] = []
    if others:
        appearances = await store.appearances(
            {p.key for c in contents for p in c.papers}, [*(c.path for c in contents), *gone]
        )
    judged = arbitrate(contents, appearances, dates, set(gone), unreadable)
    if judged.extra:
        where = {f.name: f for f in listing.files}
        again = [where[path] for path in sorted(judged.extra) if path in where]
        extra = await asyncio.to_thread(read_extra, again, max_bytes)
        judged = judged.with_extra(
            [_content(r, dates.new(r.path, r.content_hash, r.mtime_ns)) for r in extra]
        )
        survey.contents = sorted([*contents, *judged.added], key=lambda c: c.path)
    stored: dict[str, Paper] = {}
    if ids := judged.stored_ids():
        stored = {s.paper.key: s.paper for s in (await store.get_papers(ids)).values()}
    if conflicts := judged.conflicts(dates, stored):  # (files were read: no folder line)
        survey.diagnostics = by_file([*survey.diagnostics, *conflicts])
    return judged.keep


async def _write(
    db: Database,
    store: PaperStore,
    survey: _Survey,
    keep: set[str],
    version: int,
    progress: ProgressFn | None,
    alert_hook: AlertHook | None,
) -> tuple[CatalogueChange, int, int]:
    """The one transaction: write the digests, queue the alerts, bump the version (when
    anything changed). Returns the change, the alerts queued and the catalogue version;
    raises :class:`_Stale` when the catalogue is no longer at ``version``."""
    now = utc_now()
    async with db.transaction() as tx:
        if await version_in(tx) != version:
            raise _Stale
        change = await write_digests(
            tx, survey.contents, survey.gone, now=now, progress=progress, keep_text=keep
        )
        await restamp(tx, survey.restamps)
        alerts = 0
        if alert_hook is not None and change.added:
            alerts = int(await alert_hook(tx, change.added))
        if change.papers_changed or change.digests_changed:
            version = await bump_version(tx, now)
    return change, alerts, version


def _result(
    started: float, survey: _Survey, change: CatalogueChange, alerts: int, version: int
) -> IngestResult:
    report = make_report(
        started,
        survey.outcomes,
        survey.diagnostics,
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


def _content(r: Read, dated: Dated) -> DigestContent:
    assert r.report is not None
    return DigestContent(
        r.path, r.content_hash, r.report.heading, r.report.papers, r.size, r.mtime_ns, dated.ns
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
    report = make_report(
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
