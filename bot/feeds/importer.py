"""Import feeds into the digest folder: one digest file per source and day.

:func:`import_feeds` is the one path for ``digest-bot import``, ``/reindex`` and the periodic
job (``FEEDS``). For each source it fetches (conditionally, see :mod:`bot.feeds.fetch`),
parses with feedparser, converts (:mod:`bot.feeds.convert`) and merges the entries into
``feed-<slug>-<YYYY-MM-DD>.txt`` (the UTC day of the import), leaving out the papers that
file already holds; a file that gains nothing is not touched, so the reindex sees it
unchanged. Everything downstream (reindex, alerts, diagnostics) is the ordinary digest path.

A source that is down, not a feed, malformed or over the size cap fails alone, with the
reason: nothing is written for it, its saved validators are kept, and the other sources
still import.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import re
import time
import xml.sax
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import feedparser

from bot.core.models import Diagnostic, ProgressFn, ReindexReport
from bot.core.text import fold
from bot.feeds.convert import EXCLUDE_CHOICES, NotAFeed, feed_entries, merge_digest
from bot.feeds.fetch import (
    FeedError,
    Fetched,
    Validators,
    fetch,
    is_url,
    new_session,
    source_problem,
)
from bot.feeds.limits import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from bot.feeds.state import SourceState, folder_lock, load_state, save_state, write_atomic

log = logging.getLogger(__name__)

Status = Literal["imported", "unchanged", "not_modified", "failed"]

FILE_PREFIX = "feed-"
SLUG_MAX = 60
CONCURRENT_FETCHES = 4


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    """What one source gave.

    ``imported``: new papers were written to ``file``; ``unchanged``: the feed was read but
    ``file`` already held all of it (or it was empty); ``not_modified``: the server answered
    304 to the saved validators; ``failed``: ``message`` says why, nothing was written.
    """

    source: str
    status: Status
    file: str | None = None
    entries: int = 0  # entries read from the feed (after --exclude)
    added: int = 0
    duplicates: int = 0  # entries the day's file already held
    excluded: int = 0
    skipped: tuple[str, ...] = ()  # entries the digest format cannot hold, with why
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


@dataclass(frozen=True, slots=True)
class ImportReport:
    outcomes: tuple[SourceOutcome, ...]
    duration_s: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)  # folder-level warnings

    @property
    def failed(self) -> tuple[SourceOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def any_ok(self) -> bool:
        return any(o.ok for o in self.outcomes)

    @property
    def added(self) -> int:
        return sum(o.added for o in self.outcomes)

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """Failures and skipped entries as line-0 diagnostics named by their source."""
        out: list[Diagnostic] = []
        for o in self.outcomes:
            if not o.ok:
                out.append(Diagnostic(o.source, 0, f"feed not imported: {o.message}"))
            out.extend(Diagnostic(o.source, 0, s, "warning") for s in o.skipped)
        out.extend(Diagnostic("FEEDS", 0, note, "warning") for note in self.notes)
        return tuple(out)


def with_feeds(report: ReindexReport, feeds: ImportReport) -> ReindexReport:
    """A reindex report that also tells what the feed import before it did."""
    extra = dict(report.extra)
    extra["feeds"] = len(feeds.outcomes)
    extra["feeds_failed"] = len(feeds.failed)
    extra["feed_entries_added"] = feeds.added
    return replace(report, diagnostics=feeds.diagnostics() + report.diagnostics, extra=extra)


def exclude_types(names: Iterable[str]) -> frozenset[str]:
    """``--exclude`` / ``FEEDS_EXCLUDE`` names (replace, cross) -> arXiv announce types."""
    out: set[str] = set()
    for name in names:
        out |= EXCLUDE_CHOICES[name]
    return frozenset(out)


def source_slug(source: str) -> str:
    """A file-name-safe slug: host and path of a URL ("rss-arxiv-org-rss-cs-lg"), the name
    of a file; longer than 60 characters, it is cut and ends with a hash of the source."""
    if is_url(source):
        parts = urlsplit(source)
        host = (parts.hostname or "").removeprefix("www.")
        with contextlib.suppress(ValueError):  # a port that is not a number: fetch says so
            host += f"-{parts.port}" if parts.port else ""
        raw = host + parts.path + ("?" + parts.query if parts.query else "")
    else:
        raw = Path(source).name
    slug = re.sub(r"[^a-z0-9]+", "-", fold(raw)).strip("-") or "feed"
    if len(slug) > SLUG_MAX:
        digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:8]
        slug = slug[: SLUG_MAX - 9].rstrip("-") + "-" + digest
    return slug


def digest_file_name(source: str, day: date) -> str:
    return f"{FILE_PREFIX}{source_slug(source)}-{day.isoformat()}.txt"


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, xml.sax.SAXParseException):
        return f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    return str(exc) if exc is not None and str(exc) else type(exc).__name__


def _benign(exc: BaseException | None) -> bool:
    # feedparser flags these too, but the document itself is a well-formed feed.
    return isinstance(exc, (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType))


def feed_problem(parsed: Mapping[str, Any], body: bytes, content_type: str) -> str | None:
    """Why feedparser's result is not an importable feed (None: it is one)."""
    exc = parsed.get("bozo_exception")
    if not parsed.get("version"):
        head = body[:512].lstrip().lower()
        if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")):
            return "not a feed: the address answered with an HTML page"
        if not body.strip():
            return "not a feed: the answer is empty"
        if parsed.get("bozo") and not _benign(exc):
            return f"not a feed: {_describe(exc)}"
        return "not an RSS or Atom feed"
    if parsed.get("bozo") and not _benign(exc):
        return f"malformed feed: {_describe(exc)}"
    return None


def _convert_and_write(
    source: str, fetched: Fetched, digest_dir: Path, day: date, exclude: frozenset[str]
) -> SourceOutcome:
    """Parse, convert and merge one fetched feed into its day's file (blocking)."""
    assert fetched.body is not None
    headers = {"content-location": fetched.location}
    if fetched.content_type:
        headers["content-type"] = fetched.content_type
    # A stream, never bytes: feedparser.parse(bytes) first tries open(bytes) as a file name.
    parsed = feedparser.parse(io.BytesIO(fetched.body), response_headers=headers)
    problem = feed_problem(parsed, fetched.body, fetched.content_type)
    if problem is not None:
        return SourceOutcome(source, "failed", message=problem)
    fallback = (urlsplit(source).hostname or source) if is_url(source) else Path(source).stem
    try:
        converted = feed_entries(parsed, fallback_venue=fallback, exclude=exclude)
    except NotAFeed as exc:
        return SourceOutcome(source, "failed", message=str(exc))
    name = digest_file_name(source, day)
    path = digest_dir / name
    existing: str | None = None
    if path.exists():
        try:
            existing = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return SourceOutcome(
                source, "failed", file=name,
                message=f"cannot add to {name}: it is not UTF-8 text (edited by hand?)",
            )  # fmt: skip
    heading = f"{converted.title or source} — {day.isoformat()}"
    merged = merge_digest(existing, converted.entries, heading, name)
    if merged.text is not None:
        write_atomic(path, merged.text)
    return SourceOutcome(
        source,
        "imported" if merged.added else "unchanged",
        file=name if (merged.added or existing is not None) else None,
        entries=len(converted.entries),
        added=merged.added,
        duplicates=merged.duplicates,
        excluded=converted.excluded,
        skipped=converted.skipped,
    )


async def import_feeds(
    sources: Sequence[str],
    digest_dir: Path,
    *,
    exclude: Iterable[str] = (),
    force: bool = False,
    today: date | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_bytes: int = DEFAULT_MAX_BYTES,
    lock_wait_s: float = 120.0,
    progress: ProgressFn | None = None,
) -> ImportReport:
    """Import every source into ``digest_dir`` (created if missing). Never raises for a bad
    source: each failure is an outcome with its reason. ``exclude`` holds announce types
    (see :func:`exclude_types`); ``force`` fetches without the saved validators."""
    started = time.perf_counter()
    wanted = list(dict.fromkeys(s.strip() for s in sources if s.strip()))
    day = today or datetime.now(UTC).date()
    excluded = frozenset(exclude)
    folder = Path(digest_dir)

    def all_failed(reason: str) -> ImportReport:
        outcomes = tuple(SourceOutcome(s, "failed", message=reason) for s in wanted)
        return ImportReport(outcomes, time.perf_counter() - started)

    try:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    except OSError as exc:
        return all_failed(f"cannot create the digest folder {folder}: {exc.strerror or exc}")
    notes: list[str] = []
    try:
        async with folder_lock(folder, lock_wait_s):
            state = await asyncio.to_thread(load_state, folder)
            fetched = await _fetch_all(wanted, folder, state, force, timeout_s, max_bytes)
            outcomes: list[SourceOutcome] = []
            for done, source in enumerate(wanted, start=1):
                outcome = await _apply(source, fetched[source], folder, day, excluded, state)
                outcomes.append(outcome)
                if progress is not None:
                    progress("import", done, len(wanted))
            try:
                await asyncio.to_thread(save_state, folder, state)
            except OSError as exc:
                notes.append(f"could not save the feed state ({exc.strerror or exc}); "
                             "the next import fetches every feed in full")  # fmt: skip
    except FeedError as exc:
        return all_failed(str(exc))
    except OSError as exc:
        return all_failed(f"cannot use the digest folder {folder}: {exc.strerror or exc}")
    return ImportReport(tuple(outcomes), time.perf_counter() - started, tuple(notes))


async def _fetch_all(
    sources: Sequence[str],
    folder: Path,
    state: Mapping[str, SourceState],
    force: bool,
    timeout_s: float,
    max_bytes: int,
) -> dict[str, Fetched | FeedError]:
    gate = asyncio.Semaphore(CONCURRENT_FETCHES)

    def validators_for(source: str) -> Validators:
        saved = state.get(source)
        if force or saved is None:
            return Validators()
        # Validators vouch for what the last import wrote; if that file is gone, fetch anew.
        if saved.file is not None and not (folder / saved.file).exists():
            return Validators()
        return saved.validators

    async with new_session(timeout_s) as session:

        async def one(source: str) -> Fetched | FeedError:
            problem = source_problem(source)
            if problem is not None:
                return FeedError(problem)
            async with gate:
                try:
                    return await fetch(
                        source, session, validators_for(source),
                        max_bytes=max_bytes, timeout_s=timeout_s,
                    )  # fmt: skip
                except FeedError as exc:
                    return exc

        results = await asyncio.gather(*(one(s) for s in sources))
    return dict(zip(sources, results, strict=True))


async def _apply(
    source: str,
    result: Fetched | FeedError,
    folder: Path,
    day: date,
    exclude: frozenset[str],
    state: dict[str, SourceState],
) -> SourceOutcome:
    if isinstance(result, FeedError):
        return SourceOutcome(source, "failed", message=str(result))
    if result.body is None:
        saved = state.get(source)
        return SourceOutcome(
            source, "not_modified", file=saved.file if saved else None,
            message="not modified since the last import",
        )  # fmt: skip
    try:
        outcome = await asyncio.to_thread(_convert_and_write, source, result, folder, day, exclude)
    except OSError as exc:
        return SourceOutcome(source, "failed", message=f"cannot write: {exc.strerror or exc}")
    except Exception as exc:  # a bug must not stop the other sources; it is logged in full
        log.exception("importing %s failed", source)
        return SourceOutcome(source, "failed", message=f"unexpected error: {exc!r}")
    if outcome.ok and is_url(source):
        if result.validators:
            state[source] = SourceState(result.validators, outcome.file)
        else:
            state.pop(source, None)
    return outcome
