"""Reindex: the digest folder -> the catalogue, in one transaction.

One path for the CLI (``digest-bot reindex``), ``/reindex`` and the periodic job:

1. List ``*.txt`` under the digest folder (sorted by relative path, hidden files and folders
   skipped), read and hash them, and parse the ones whose content changed, in a worker
   thread. Only regular files are read, at most ``max_bytes`` each (``MAX_DIGEST_BYTES``),
   and never more than that from any file; symbolic links are followed when they stay inside
   the folder, and out of it only with ``follow_symlinks`` (``FOLLOW_SYMLINKS=1``). A file
   that cannot be read, is not a regular file, is too big, is a link not followed or is not
   UTF-8 text is *rejected*; a folder that cannot be read (or a link to a folder not
   followed) is reported the same way. Either way it is a diagnostic and changes nothing:
   whatever the catalogue held from it stays.
2. A paper found in several digests takes its text from the newest digest: the latest date
   in the file name (``...YYYY-MM-DD...``), else the file's modification time when its
   current content was indexed; on the same date, the later file name. Digests not read this
   time are taken into account through the catalogue (and re-read when one of them becomes
   the paper's source), so the rule holds across reindexes. Two versions that differ give a
   warning naming both places.
3. One ``BEGIN IMMEDIATE`` transaction: :meth:`PaperStore.write_digests` upserts digests,
   papers, authors and memberships and marks the papers left in no digest as removed; the
   alert hook sees the papers the catalogue has never seen and writes its outbox in the same
   transaction; the catalogue version is bumped when anything changed.
4. The caller updates its search index from :attr:`IngestResult.changed`.

A crash anywhere leaves the old catalogue or the new one, never a mix. If another process
changes the catalogue between steps 1 and 3, the reindex starts over (the catalogue version
tells).
"""

from __future__ import annotations

import asyncio
import os
import stat
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from bot.core.digests import date_from_name
from bot.core.models import (
    Diagnostic,
    DigestInfo,
    FileOutcome,
    Paper,
    ParseReport,
    ProgressFn,
    ReindexReport,
)
from bot.core.parser import content_hash, parse_digest
from bot.store.alerts import AlertHook as AlertHook
from bot.store.db import Database, StoreError
from bot.store.papers import (
    Appearance,
    CatalogueChange,
    DigestContent,
    DigestStamp,
    PaperStore,
    entry_hash,
    utc_now,
)

# The name bot.cogs and bot.client import; TODO lead: make them import ProgressFn from
# bot.core.models (and AlertHook from bot.store.alerts), then drop this line.
Progress = ProgressFn

# The largest digest file read (MAX_DIGEST_BYTES). Parsing takes a few times a file's size in
# memory; 64 MiB is some 45,000 entries, far above any real digest (the seed is 12 KB for
# 8 papers, a 1,000-paper digest about 1.5 MB), and keeps one file's parse to a few hundred MB.
MAX_DIGEST_BYTES = 64 * 1024 * 1024

_ATTEMPTS = 3
_READ_CHUNK = 1 << 20  # bytes per read once a file has proved longer than its size said
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a named pipe must never block the open
    | getattr(os, "O_NOFOLLOW", 0)  # the path was checked: a link swapped in is not followed
    | getattr(os, "O_CLOEXEC", 0)
)
_NOT_FOLLOWED = "not followed (FOLLOW_SYMLINKS=1 allows it)"
_KEEPS_STATE = "the digests in it keep their current state"
_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


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
    reason: str = ""  # why a file with no diagnostic of its own was rejected


@dataclass(frozen=True, slots=True)
class _Found:
    """A ``*.txt`` entry of the folder: ``path`` is what to open (a followed link's target);
    ``problem`` set means rejected while listing, for that reason."""

    name: str
    path: Path
    problem: str = ""


@dataclass(slots=True)
class _Listing:
    files: list[_Found] = field(default_factory=list)
    # folders not read, as (relative path, diagnostic, reason for the file outcomes): the
    # catalogue's digests under them keep their state
    blocked: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Dated:
    """A digest's date: from its name (a day, UTC) or its content's modification time."""

    ns: int
    from_name: bool

    def __str__(self) -> str:
        moment = datetime.fromtimestamp(self.ns / 1e9, UTC)
        if self.from_name:
            return moment.strftime("%Y-%m-%d")
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC (modified)")


class _FolderError(Exception):
    pass


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
) -> IngestResult:
    """Bring the catalogue in line with the digest folder; see the module docstring.

    ``force`` re-parses files whose content is unchanged, and lets an empty folder mark every
    digest as gone (without it an empty folder is refused: a mistyped path must not empty the
    catalogue). ``max_bytes`` caps the size of a digest file; ``follow_symlinks`` follows
    links out of the folder. Expected problems (missing folder, every file rejected) come back
    as a report with ``applied=False`` and a diagnostic; only database failures raise.
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
            listing = await asyncio.to_thread(_list_files, root, follow_symlinks)
        except _FolderError as exc:
            return await _not_applied(
                store, started, [Diagnostic(str(root), 0, str(exc))], [], version
            )
        stamps = await store.digest_stamps()
        reads = await asyncio.to_thread(
            _read_all, listing.files, stamps, force, notify, max_bytes
        )
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

    reads: list[_Read]
    gone: list[str]
    dates: _Dates
    contents: list[DigestContent]
    restamps: list[tuple[str, DigestStamp]]
    outcomes: list[FileOutcome]
    diagnostics: list[Diagnostic]


def _survey(
    reads: list[_Read],
    listing: _Listing,
    known: dict[str, DigestInfo],
    stamps: Mapping[str, DigestStamp],
) -> _Survey:
    """Every file read (and the catalogue's digests under folders not read) against the
    catalogue: the digests gone, the contents to write, the new stamps, the outcomes."""
    reads.extend(_kept_unread(listing, known, {r.path for r in reads}))
    reads.sort(key=lambda r: r.path)
    listed = {r.path for r in reads}
    gone = sorted(path for path in known if path not in listed)
    dates = _Dates(stamps)
    contents = [
        _content(r, dates.new(r.path, r.content_hash, r.mtime_ns))
        for r in reads
        if r.status == "parsed" and r.report is not None
    ]
    restamps = [
        (r.path, DigestStamp(r.content_hash, r.size, r.mtime_ns)) for r in reads if r.restamp
    ]
    outcomes = _outcomes(reads, known, gone)
    blocked = [Diagnostic(folder, 1, why) for folder, why, _ in listing.blocked]
    diagnostics = _by_file([*(d for r in reads for d in r.diagnostics), *blocked])
    return _Survey(reads, gone, dates, contents, restamps, outcomes, diagnostics)


def _folder_finding(
    root: Path, reads: Sequence[_Read], known: int, force: bool
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
            await PaperStore.restamp(tx, survey.restamps)
    version = await store.catalogue_version()
    return await _nothing_written(
        store, started, survey.diagnostics, survey.outcomes, version, applied=True
    )


async def _judge(
    store: PaperStore, listing: _Listing, survey: _Survey, max_bytes: int
) -> set[str]:
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
    judged = _arbitrate(contents, appearances, dates, set(gone), unreadable)
    if judged.extra:
        where = {f.name: f for f in listing.files}
        again = [where[path] for path in sorted(judged.extra) if path in where]
        extra = await asyncio.to_thread(_read_extra, again, max_bytes)
        judged = judged.with_extra(
            [_content(r, dates.new(r.path, r.content_hash, r.mtime_ns)) for r in extra]
        )
        survey.contents = sorted([*contents, *judged.added], key=lambda c: c.path)
    stored: dict[str, Paper] = {}
    if ids := judged.stored_ids():
        stored = {s.paper.key: s.paper for s in (await store.get_papers(ids)).values()}
    if conflicts := judged.conflicts(dates, stored):  # (files were read: no folder line)
        survey.diagnostics = _by_file([*survey.diagnostics, *conflicts])
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
        if await PaperStore.version_in(tx) != version:
            raise _Stale
        change = await store.write_digests(
            tx, survey.contents, survey.gone, now=now, progress=progress, keep_text=keep
        )
        await PaperStore.restamp(tx, survey.restamps)
        alerts = 0
        if alert_hook is not None and change.added:
            alerts = int(await alert_hook(tx, change.added))
        if change.papers_changed or change.digests_changed:
            version = await PaperStore.bump_version(tx, now)
    return change, alerts, version


def _result(
    started: float, survey: _Survey, change: CatalogueChange, alerts: int, version: int
) -> IngestResult:
    report = _report(
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


# -- listing the folder ------------------------------------------------------------------------


def _list_files(root: Path, follow_symlinks: bool) -> _Listing:
    """Every ``*.txt`` under ``root`` (not hidden), and the folders that could not be read.

    A link is followed when its target is inside ``root``, or anywhere with
    ``follow_symlinks``; a link to a folder inside ``root`` is not followed (its files are
    read at their real place), and no folder is read twice (links can loop).
    """
    if not root.exists():
        raise _FolderError(f"digest folder {root} does not exist")
    if not root.is_dir():
        raise _FolderError(f"digest folder {root} is not a folder")
    real_root = os.path.realpath(root)
    listing = _Listing()
    try:
        top = os.stat(root)
    except OSError as exc:
        raise _FolderError(f"cannot read digest folder {root}: {_why(exc)}") from None
    visited = {(top.st_dev, top.st_ino)}
    pending: list[tuple[str, str]] = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            if not prefix:
                raise _FolderError(f"cannot read digest folder {root}: {_why(exc)}") from None
            listing.blocked.append(
                (
                    prefix,
                    f"cannot read the folder ({_why(exc)}); {_KEEPS_STATE}",
                    "in a folder that cannot be read",
                )
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            name = f"{prefix}/{entry.name}" if prefix else entry.name
            digest = entry.name.endswith(".txt")
            try:
                if entry.is_symlink():
                    _link(entry, name, real_root, follow_symlinks, visited, listing, pending)
                elif entry.is_dir(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    if (st.st_dev, st.st_ino) not in visited:
                        visited.add((st.st_dev, st.st_ino))
                        pending.append((name, entry.path))
                elif digest:
                    listing.files.append(_Found(name, Path(entry.path)))
            except OSError as exc:
                if digest:
                    problem = f"cannot read the file ({_why(exc)}); file skipped"
                    listing.files.append(_Found(name, Path(entry.path), problem))
    listing.files.sort(key=lambda f: f.name)
    listing.blocked.sort()
    return listing


def _link(
    entry: os.DirEntry[str],
    name: str,
    real_root: str,
    follow: bool,
    visited: set[tuple[int, int]],
    listing: _Listing,
    pending: list[tuple[str, str]],
) -> None:
    """One symbolic link met while listing: follow it, skip it, or say why not."""
    digest = entry.name.endswith(".txt")
    target = os.path.realpath(entry.path)
    inside = target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)
    try:
        st = os.stat(target)
    except OSError as exc:
        if digest:
            problem = f"symbolic link to {target}, which cannot be read ({_why(exc)}); file skipped"
            listing.files.append(_Found(name, Path(entry.path), problem))
        return
    if stat.S_ISDIR(st.st_mode):
        if inside or (st.st_dev, st.st_ino) in visited:
            return  # read at its real place / already read
        if not follow:
            why = f"symbolic link to the folder {target}, outside the digest folder; "
            listing.blocked.append(
                (name, why + f"{_NOT_FOLLOWED}; {_KEEPS_STATE}", "in a folder that is not followed")
            )
            return
        visited.add((st.st_dev, st.st_ino))
        pending.append((name, entry.path))
    elif digest:
        if inside or follow:
            listing.files.append(_Found(name, Path(target)))
        else:
            problem = f"symbolic link to {target}, outside the digest folder; {_NOT_FOLLOWED}"
            listing.files.append(_Found(name, Path(entry.path), problem))


def _kept_unread(
    listing: _Listing, known: Mapping[str, DigestInfo], listed: Collection[str]
) -> list[_Read]:
    """The catalogue's digests under folders that were not read: rejected, so they stay."""
    kept = []
    for path in known:
        if path in listed:
            continue
        for folder, _, reason in listing.blocked:
            if path.startswith(folder + "/"):
                kept.append(_Read(path, "rejected", reason=reason))
                break
    return kept


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


# -- reading -----------------------------------------------------------------------------------


def _read_all(
    files: Sequence[_Found],
    known: dict[str, DigestStamp],
    force: bool,
    notify: ProgressFn,
    max_bytes: int,
) -> list[_Read]:
    """Read, hash and (when changed) parse every file. Runs in a worker thread."""
    reads: list[_Read] = []
    for done, found in enumerate(files, start=1):
        reads.append(_read_one(found, known.get(found.name), force, max_bytes))
        notify("parse", done, len(files))
    return reads


def _read_extra(files: Sequence[_Found], max_bytes: int) -> list[_Read]:
    """Re-read unchanged digests that now give a paper its text. Runs in a worker thread."""
    reads = [_read_one(found, None, True, max_bytes) for found in files]
    return [r for r in reads if r.status == "parsed"]


def _read_one(found: _Found, known: DigestStamp | None, force: bool, max_bytes: int) -> _Read:
    """One file: rejected if it is not a regular file, too big or unreadable; same size and
    modification time as last time -> unchanged without reading; else read (at most
    ``max_bytes``) and hash it (same hash -> unchanged) and parse it."""
    name = found.name
    if found.problem:
        return _rejected(name, found.problem)
    try:
        st = os.stat(found.path, follow_symlinks=False)  # never open what is not a file
        if not stat.S_ISREG(st.st_mode):
            return _rejected(name, f"not a regular file ({_kind(st.st_mode)}); file skipped")
        size, mtime_ns = st.st_size, st.st_mtime_ns  # before reading: a later change shows
        if known is not None and not force and (size, mtime_ns) == (known.size, known.mtime_ns):
            return _Read(name, "unchanged", known.content_hash, size=size, mtime_ns=mtime_ns)
        if size > max_bytes:
            return _rejected(name, _too_big(f"{size:,} bytes", max_bytes))
        fd = os.open(found.path, _OPEN_FLAGS)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):  # replaced since the check above
                return _rejected(name, f"not a regular file ({_kind(st.st_mode)}); file skipped")
            data = _read_capped(fd, st.st_size, max_bytes)
        finally:
            os.close(fd)
    except OSError as exc:
        return _rejected(name, f"cannot read the file ({_why(exc)}); file skipped")
    if data is None:
        return _rejected(name, _too_big(f"more than {max_bytes:,} bytes", max_bytes))
    digest_hash = content_hash(data)
    if known is not None and digest_hash == known.content_hash and not force:
        return _Read(name, "unchanged", digest_hash, size=size, mtime_ns=mtime_ns, restamp=True)
    report = parse_digest(data, name)
    if not report.ok:
        return _Read(name, "rejected", digest_hash, diagnostics=report.diagnostics)
    return _Read(name, "parsed", digest_hash, report, report.diagnostics, size, mtime_ns)


def _read_capped(fd: int, size: int, max_bytes: int) -> bytes | None:
    """The file's bytes, or None when it holds more than ``max_bytes``: never reads more
    than ``max_bytes + 1``, whatever its size said (it may grow; /proc files say 0)."""
    limit = max_bytes + 1
    chunks: list[bytes] = []
    total = 0
    while total < limit:
        want = size + 1 - total if total <= size else _READ_CHUNK  # one read when size is right
        chunk = os.read(fd, min(want, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        return None
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _rejected(name: str, message: str) -> _Read:
    return _Read(name, "rejected", diagnostics=(Diagnostic(name, 1, message),))


def _too_big(size: str, max_bytes: int) -> str:
    return (
        f"the file is {size}, over the limit of {max_bytes:,} bytes (MAX_DIGEST_BYTES); "
        "file skipped"
    )


def _kind(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _content(r: _Read, dated: _Dated) -> DigestContent:
    assert r.report is not None
    return DigestContent(
        r.path, r.content_hash, r.report.heading, r.report.papers, r.size, r.mtime_ns, dated.ns
    )


def _by_file(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics grouped by file (in path order), each file's in the order found."""
    return sorted(diagnostics, key=lambda d: d.file)


# -- which digest gives a paper its text -------------------------------------------------------


class _Dates:
    """Digest dates: the last valid ``YYYY-MM-DD`` in the file name, else the modification
    time of the file when its current content was indexed."""

    def __init__(self, stamps: Mapping[str, DigestStamp]) -> None:
        self.stamps = stamps
        self.current: dict[str, _Dated] = {}

    def old(self, path: str) -> _Dated:
        """The date the catalogue has for a digest (as of before this reindex)."""
        stamp = self.stamps.get(path)
        return _name_date(path) or _Dated(stamp.content_mtime_ns if stamp else 0, False)

    def new(self, path: str, digest_hash: str, mtime_ns: int) -> _Dated:
        """The date of a digest read now: unchanged content keeps its date."""
        stamp = self.stamps.get(path)
        if stamp is not None and stamp.content_hash == digest_hash:
            mtime_ns = stamp.content_mtime_ns
        dated = _name_date(path) or _Dated(mtime_ns, False)
        self.current[path] = dated
        return dated

    def now(self, path: str) -> _Dated:
        """The date after this reindex (a digest not read now keeps the one it had)."""
        return self.current.get(path) or self.old(path)


def _name_date(path: str) -> _Dated | None:
    day = date_from_name(path)
    if day is None:
        return None
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return _Dated(int(midnight.timestamp()) * 10**9, True)


@dataclass(slots=True)
class _Judgement:
    """For the papers of this reindex: which digest gives each its text.

    ``keep``: stored papers whose text comes from a digest not read now (it stays);
    ``extra``: digests not read now that become a paper's source (to read and add);
    ``decided``: the papers held by a digest not read now (judged here);
    ``winner``: of those, the ones whose source is a digest not read now, and that digest;
    ``stored_from``: for such a paper, the unread digest (and line) its stored text is from,
    when that digest still holds it (for the warning, compared with the text read now).
    """

    contents: list[DigestContent]
    keep: set[str] = field(default_factory=set)
    extra: set[str] = field(default_factory=set)
    decided: set[str] = field(default_factory=set)
    winner: dict[str, str] = field(default_factory=dict)
    stored_from: dict[str, tuple[str, int, str, str]] = field(default_factory=dict)
    added: list[DigestContent] = field(default_factory=list)

    def with_extra(self, added: Sequence[DigestContent]) -> _Judgement:
        """Add the re-read digests. Their other papers were judged by no one: each is held
        only by digests not read now, so its stored text is its source's and stays."""
        for content in added:
            for paper in content.papers:
                if paper.key not in self.decided:
                    self.keep.add(paper.key)
        missing = self.extra - {c.path for c in added}
        for key, path in self.winner.items():
            if path in missing:  # could not be read again: leave the stored text alone
                self.keep.add(key)
        self.added = list(added)
        self.contents = [*self.contents, *added]
        return self

    def stored_ids(self) -> list[str]:
        return sorted({paper_id for _, _, paper_id, _ in self.stored_from.values()})

    def conflicts(self, dates: _Dates, stored: Mapping[str, Paper]) -> list[Diagnostic]:
        """A warning for every version of a paper that differs from the one used, located at
        that version and naming the place of the one used."""
        if len(self.contents) < 2 and not self.stored_from:
            return []
        versions: dict[str, list[tuple[str, int, Paper]]] = {}
        seen: set[str] = set()
        repeated: set[str] = set()
        for content in self.contents:
            for paper in content.papers:
                (repeated if paper.key in seen else seen).add(paper.key)
        for content in self.contents:
            for paper in content.papers:
                if paper.key in repeated or paper.key in self.stored_from:
                    versions.setdefault(paper.key, []).append((content.path, paper.line, paper))
        for key, (path, line, _, stored_hash) in self.stored_from.items():
            text = stored.get(key)
            if text is not None and any(entry_hash(p) != stored_hash for *_, p in versions[key]):
                versions[key].append((path, line, text))
        warnings: dict[tuple[str, int, str], Diagnostic] = {}  # one per place and paper
        for key, found in versions.items():
            if key in self.keep and key not in self.stored_from:
                continue  # its text stays, from a digest that could not be read again
            used = max(found, key=lambda v: (dates.now(v[0]).ns, v[0]))
            for path, line, paper in found:
                fields = _differences(paper, used[2])
                if path == used[0] or not fields:
                    continue
                warnings[path, line, key] = Diagnostic(
                    path,
                    line,
                    f"{paper.title[:60]!r} is also at {used[0]}:{used[1]} with a different "
                    f"{fields}; the text at {used[0]}:{used[1]} is used "
                    f"({_because(dates.now(used[0]), dates.now(path))})",
                    "warning",
                )
        return list(warnings.values())


def _arbitrate(
    contents: Sequence[DigestContent],
    appearances: Sequence[Appearance],
    dates: _Dates,
    gone: Collection[str],
    unreadable: Collection[str],
) -> _Judgement:
    """Decide, for every paper of ``contents`` or of a digest read or gone now that a digest
    not read now also holds, which digest is its source (the newest holding it after this
    reindex) and what that asks for: keep the stored text, or read that digest too.

    The stored text of a paper is its source's at the last reindex (the newest digest then
    holding it), which is how digests not read now are judged without reading them."""
    judged = _Judgement(list(contents))
    if not appearances:
        return judged
    read = {c.path for c in contents}
    holds: dict[str, set[str]] = {}
    for content in contents:
        for paper in content.papers:
            holds.setdefault(paper.key, set()).add(content.path)
    held: dict[str, list[Appearance]] = {}
    for appearance in appearances:
        held.setdefault(appearance.key, []).append(appearance)
    for key, before in held.items():
        unread = [a for a in before if a.path not in read and a.path not in gone]
        if not unread:
            continue  # every holder is read now: the newest of them wins
        judged.decided.add(key)
        old = max(before, key=lambda a: (dates.old(a.path).ns, a.path))
        after = [a.path for a in unread] + sorted(holds.get(key, ()))
        source = max(after, key=lambda path: (dates.now(path).ns, path))
        if source in read:
            if old.path != source and old.path in {a.path for a in unread}:
                judged.stored_from[key] = (old.path, old.line, old.paper_id, old.entry_hash)
            continue
        judged.winner[key] = source
        if source == old.path or source in unreadable:
            judged.keep.add(key)
            if source == old.path and key in holds:
                judged.stored_from[key] = (old.path, old.line, old.paper_id, old.entry_hash)
        else:
            judged.extra.add(source)
    return judged


def _differences(paper: Paper, used: Paper) -> str:
    """Which parts of two versions of a paper differ, e.g. "abstract", "title and venue"."""
    parts = [
        name
        for name, a, b in (
            ("title", paper.title, used.title),
            ("authors", paper.authors_raw, used.authors_raw),
            ("venue", paper.venue, used.venue),
            ("abstract", paper.abstract, used.abstract),
        )
        if a != b
    ]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _because(used: _Dated, other: _Dated) -> str:
    if used.ns == other.ns:
        return f"the same date, {used}; the later file name"
    return f"the newer digest: {used} against {other}"


# -- the report --------------------------------------------------------------------------------


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
            message = r.diagnostics[0].message if r.diagnostics else (r.reason or "rejected")
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
