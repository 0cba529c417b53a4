"""Reindex, the bulk load: the first reindex of an empty catalogue, parsed and written at once.

With nothing stored there is nothing to compare with, so the digests are parsed in worker
processes (when the folder is large) while the main process writes each one as its parse
comes back, in path order, inside the reindex's one transaction
(:class:`~bot.store.bulk_write.BulkWriter`): no parsed paper is held longer than its
digest's write (unless the caller needs them: the alert hook, or few enough for the index
to be updated from them). The catalogue written is the one the general path writes; when a
paper turns out to be in more than one place (or the catalogue is not empty after all) the
transaction is rolled back and :func:`load` returns None: the general path takes over.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from bot.core.models import Diagnostic, ProgressFn, ReindexReport
from bot.ingest.arbitration import Dates
from bot.ingest.folder import Found, Listing, Read, read_one
from bot.ingest.report import by_file, file_outcomes, make_report
from bot.store.alerts import AlertHook
from bot.store.bulk_write import BulkChange, BulkWriter, NotBulk, PaperRow, paper_row
from bot.store.db import Database
from bot.store.reindex_write import DigestContent, bump_version, utc_now

log = logging.getLogger(__name__)

# From this many bytes of digests, parse in worker processes (starting them costs ~0.5 s).
POOL_BYTES = 16 * 1024 * 1024
# Up to this many papers added, the papers are kept for the caller's index update.
LIST_AT = 50_000
_AHEAD = 3  # digests parsed ahead per worker
_WORKERS = min(2, os.cpu_count() or 1)

Parsed = tuple[Read, tuple[PaperRow, ...]]


def parse_lean(found: Found, max_bytes: int) -> Parsed:
    """Read and parse one digest: the read (its report without the papers) and the papers
    as rows (what a worker process sends back)."""
    read = read_one(found, max_bytes)
    if read.report is None:
        return read, ()
    rows = tuple(paper_row(p) for p in read.report.papers)
    return replace(read, report=replace(read.report, papers=())), rows


async def load(
    db: Database,
    root: Path,
    listing: Listing,
    *,
    started: float,
    alert_hook: AlertHook | None,
    progress: ProgressFn | None,
    max_bytes: int,
) -> tuple[ReindexReport, BulkChange, int] | None:
    """The bulk load of ``listing`` into an empty catalogue: the report, the change and the
    catalogue version; None when the general path must do it (nothing is written then)."""
    files = listing.files
    pool = _pool(files)
    try:
        async with db.transaction() as tx:
            now = utc_now()
            writer = BulkWriter(tx, now, -1 if alert_hook is not None else LIST_AT)
            await writer.start()
            reads = await _parse_and_write(writer, files, pool, progress, max_bytes)
            change = await writer.finish()
            if reads and all(r.status == "rejected" for r in reads):
                return None  # nothing was written: the general path says why
            alerts = 0
            if alert_hook is not None and change.added:
                alerts = int(await alert_hook(tx, change.added))
            version = await bump_version(tx, now) if change.digests else 0
    except NotBulk as exc:
        log.info("reindex: no bulk load (%s); the general path writes", exc)
        return None
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    blocked = [Diagnostic(folder, 1, why) for folder, why, _ in listing.blocked]
    diagnostics = by_file([*(d for r in reads for d in r.diagnostics), *blocked])
    report = make_report(
        started,
        file_outcomes(reads, {}, []),
        diagnostics,
        added=change.added_ids,
        updated=0,
        removed=(),
        restored=0,
        total=change.total,
        alerts=alerts,
    )
    return report, change, version


async def _parse_and_write(
    writer: BulkWriter,
    files: Sequence[Found],
    pool: Executor | None,
    progress: ProgressFn | None,
    max_bytes: int,
) -> list[Read]:
    """Parse every file (ahead, in the pool) and write each parsed digest in path order."""
    loop = asyncio.get_running_loop()
    dates = Dates({})
    reads: list[Read] = []
    pending: deque[asyncio.Future[Parsed]] = deque()
    ahead = _AHEAD * _WORKERS if pool is not None else 1
    queue = iter(files)
    try:
        for done in range(1, len(files) + 1):
            while len(pending) < ahead and (found := next(queue, None)) is not None:
                pending.append(loop.run_in_executor(pool, parse_lean, found, max_bytes))
            try:
                read, rows = await pending.popleft()
            except BrokenExecutor as exc:  # a worker died (out of memory?): the general path
                raise NotBulk(f"a parsing process failed ({exc})") from exc
            reads.append(read)
            if read.status == "parsed":
                dated = dates.new(read.path, read.content_hash, read.mtime_ns)
                content = DigestContent(
                    read.path, read.content_hash, read.report.heading if read.report else None,
                    (), read.size, read.mtime_ns, dated.ns,
                )  # fmt: skip
                await writer.add(content, rows)
            if progress is not None:
                progress("parse", done, len(files))
                # papers written, of about as many per file as so far (exact at the end)
                written = writer.written
                progress("write", written, max(written, written * len(files) // done))
    finally:
        for left in pending:  # a failed load: let the rest go
            left.cancel()
    return reads


def _pool(files: Sequence[Found]) -> Executor | None:
    """Worker processes for a large folder (None: parse in a thread)."""
    if _WORKERS < 2 or len(files) < 2 or _size(files) < POOL_BYTES:
        return None
    try:
        # spawn: the workers inherit neither this process's threads nor its memory
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=_WORKERS, mp_context=context)
    except (OSError, ValueError) as exc:  # no processes here: parse in a thread
        log.warning("cannot start parsing processes (%s); parsing in this process", exc)
        return None


def _size(files: Sequence[Found]) -> int:
    total = 0
    for found in files:
        try:
            total += os.stat(found.path).st_size
        except OSError:
            continue
        if total >= POOL_BYTES:
            break
    return total
