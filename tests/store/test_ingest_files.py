"""Which files a reindex reads, and how: special files, symbolic links, the size cap, and the
rule for a paper found in two digests (issue 8, items 5, 8 and 9; item 4 needs a process
that cannot read, see tests/cli/test_reindex_files_cli.py).

Real files and real SQLite throughout: named pipes, links to /dev/urandom and /proc, links
out of the folder.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.catalogue import Catalogue
from bot.core.models import ReindexReport
from bot.ingest import IngestResult, reindex
from bot.settings import Settings
from bot.store.db import Database, load_migrations
from bot.store.papers import PaperStore
from bot.ui.alerts import reindex_message
from bot.ui.reindex import summary as render
from tests.store.test_ingest import LONG, digest, entry, snapshot, write

pytestmark = pytest.mark.skipif(os.name != "posix", reason="named pipes and symbolic links")

DAY_NS = 86_400 * 10**9
BASE_NS = 1_700_000_000 * 10**9  # 2023-11-14


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "digests"
    path.mkdir()
    return path


@pytest.fixture
def store(db: Database) -> PaperStore:
    return PaperStore(db)


@contextmanager
def unblocking(fifo: Path) -> Iterator[None]:
    """If a reader is stuck opening ``fifo`` (the bug), open its other end so the worker
    thread ends and the test fails instead of hanging the whole run."""
    try:
        yield
    finally:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            pass  # nobody is reading it: nothing to unblock
        else:
            os.close(fd)


async def bounded(coro: Any, seconds: float = 30) -> IngestResult:
    result: IngestResult = await asyncio.wait_for(coro, seconds)
    return result


def lines(report: ReindexReport) -> list[str]:
    return [str(d) for d in report.diagnostics]


def statuses(report: ReindexReport) -> dict[str, str]:
    return {f.path: f.status for f in report.files}


async def abstract_of(store: PaperStore, title: str) -> str:
    papers = [p for d in await store.digests() for p in await store.digest_papers(d.path)]
    (found,) = {p.paper.abstract for p in papers if p.paper.title == title}
    return found


def set_mtime(path: Path, ns: int) -> None:
    os.utime(path, ns=(ns, ns))


# -- item 8: only regular files are read, never more than the cap ------------------------------


async def test_named_pipe_is_a_diagnostic_not_a_hang(db: Database, folder: Path) -> None:
    write(folder / "a.txt", digest(entry("A Fine Paper")))
    fifo = folder / "pipe.txt"
    os.mkfifo(fifo)
    with unblocking(fifo):
        result = await bounded(reindex(db, folder))
    report = result.report
    assert report.applied and report.added == 1
    assert statuses(report) == {"a.txt": "indexed", "pipe.txt": "rejected"}
    assert lines(report) == ["pipe.txt:1: error: not a regular file (a named pipe); file skipped"]


async def test_indexed_file_replaced_by_a_pipe_keeps_its_papers(
    db: Database, store: PaperStore, folder: Path
) -> None:
    write(folder / "a.txt", digest(entry("Stays")))
    write(folder / "b.txt", digest(entry("Stays Too", "Roe, Rich")))
    await reindex(db, folder)
    before = await snapshot(db)
    (folder / "b.txt").unlink()
    os.mkfifo(folder / "b.txt")
    with unblocking(folder / "b.txt"):
        result = await bounded(reindex(db, folder))
    assert statuses(result.report) == {"a.txt": "unchanged", "b.txt": "rejected"}
    assert result.report.removed == 0 and result.report.total == 2
    assert "previous content stays" in result.report.files[1].message
    assert await snapshot(db) == before


async def test_file_over_the_cap_is_rejected_and_keeps_its_papers(
    db: Database, store: PaperStore, folder: Path
) -> None:
    text = digest(entry("Small Enough"))
    size = len(text.encode())
    write(folder / "a.txt", text)
    first = await reindex(db, folder, max_bytes=size)  # exactly at the cap: read
    assert first.report.added == 1 and first.report.diagnostics == ()
    before = await snapshot(db)

    write(folder / "a.txt", text + "x")
    over = await reindex(db, folder, max_bytes=size)
    assert not over.report.applied  # the only file was rejected
    assert lines(over.report)[0] == (
        f"a.txt:1: error: the file is {size + 1:,} bytes, over the limit of {size:,} bytes "
        "(MAX_DIGEST_BYTES); file skipped"
    )
    assert over.report.total == 1 and over.report.removed == 0
    assert await snapshot(db) == before


async def test_reading_stops_at_the_cap_when_the_size_says_nothing(
    db: Database, folder: Path
) -> None:
    # /proc files are regular files of size 0 that hold text: only a bounded read stops.
    write(folder / "a.txt", digest(entry("Regular")))
    (folder / "status.txt").symlink_to("/proc/self/status")
    result = await reindex(db, folder, max_bytes=512, follow_symlinks=True)
    assert statuses(result.report)["status.txt"] == "rejected"
    assert lines(result.report) == [
        "status.txt:1: error: the file is more than 512 bytes, over the limit of 512 bytes "
        "(MAX_DIGEST_BYTES); file skipped"
    ]


async def test_device_behind_an_allowed_link_is_not_read(db: Database, folder: Path) -> None:
    # Only safe to run once fixed (before, it reads /dev/zero until memory runs out): the
    # same case runs in a memory-capped subprocess in tests/cli/test_reindex_files_cli.py.
    write(folder / "a.txt", digest(entry("Regular")))
    (folder / "zero.txt").symlink_to("/dev/zero")
    result = await bounded(reindex(db, folder, follow_symlinks=True))
    assert lines(result.report) == [
        "zero.txt:1: error: not a regular file (a character device); file skipped"
    ]


# -- item 9: symbolic links out of the folder --------------------------------------------------


async def test_link_out_of_the_folder_is_not_followed(
    db: Database, store: PaperStore, folder: Path, tmp_path: Path
) -> None:
    outside = write(tmp_path / "elsewhere.txt", digest(entry("Outside Paper")))
    write(folder / "a.txt", digest(entry("Inside Paper")))
    (folder / "out.txt").symlink_to(outside)
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    result = await reindex(db, folder)
    report = result.report
    assert statuses(report) == {"a.txt": "indexed", "out.txt": "rejected", "passwd.txt": "rejected"}
    assert lines(report) == [
        f"out.txt:1: error: symbolic link to {outside}, outside the digest folder; "
        "not followed (FOLLOW_SYMLINKS=1 allows it)",
        "passwd.txt:1: error: symbolic link to /etc/passwd, outside the digest folder; "
        "not followed (FOLLOW_SYMLINKS=1 allows it)",
    ]
    assert [d.path for d in await store.digests()] == ["a.txt"]
    assert report.added == 1


async def test_link_out_of_the_folder_is_followed_when_allowed(
    db: Database, store: PaperStore, folder: Path, tmp_path: Path
) -> None:
    outside = write(tmp_path / "elsewhere.txt", digest(entry("Outside Paper")))
    (folder / "out.txt").symlink_to(outside)
    result = await reindex(db, folder, follow_symlinks=True)
    assert statuses(result.report) == {"out.txt": "indexed"} and result.report.added == 1

    # Turning the setting off later keeps what the link brought in, and says why.
    again = await reindex(db, folder)
    assert statuses(again.report) == {"out.txt": "rejected"}
    assert "not followed" in again.report.diagnostics[0].message
    assert (await store.stats()).papers == 1


async def test_link_inside_the_folder_is_followed(db: Database, folder: Path) -> None:
    (folder / "archive").mkdir()
    write(folder / "archive" / "old.txt", digest(entry("Archived Paper")))
    (folder / "latest.txt").symlink_to("archive/old.txt")
    (folder / "archive-link").symlink_to("archive")  # a folder inside: read at its real place
    result = await reindex(db, folder)
    assert statuses(result.report) == {"archive/old.txt": "indexed", "latest.txt": "indexed"}
    assert result.report.diagnostics == ()
    assert result.report.added == 1


async def test_linked_folder_outside_is_not_followed_and_keeps_its_papers(
    db: Database, store: PaperStore, folder: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    write(shared / "s.txt", digest(entry("Shared Folder Paper")))
    (shared / "loop").symlink_to(shared)  # a loop: read once
    (folder / "ext").symlink_to(shared)
    write(folder / "a.txt", digest(entry("Local Paper", "Roe, Rich")))
    allowed = await reindex(db, folder, follow_symlinks=True)
    assert statuses(allowed.report) == {"a.txt": "indexed", "ext/s.txt": "indexed"}
    assert allowed.report.added == 2 and allowed.report.diagnostics == ()

    refused = await reindex(db, folder)
    assert lines(refused.report) == [
        f"ext:1: error: symbolic link to the folder {shared}, outside the digest folder; "
        "not followed (FOLLOW_SYMLINKS=1 allows it); the digests in it keep their current state"
    ]
    assert statuses(refused.report) == {"a.txt": "unchanged", "ext/s.txt": "rejected"}
    assert refused.report.removed == 0
    stats = await store.stats()
    assert (stats.papers, stats.removed_papers, stats.digests) == (2, 0, 2)


async def test_file_problems_reach_the_reindex_summary(db: Database, folder: Path) -> None:
    write(folder / "a.txt", digest(entry("A Fine Paper")))
    os.mkfifo(folder / "pipe.txt")
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    with unblocking(folder / "pipe.txt"):
        result = await bounded(reindex(db, folder))
    summary = render(result.report, folder)
    message = reindex_message(summary, alerts_queued=0)
    for text in (summary, message):
        assert "pipe.txt:1: error: not a regular file (a named pipe); file skipped" in text
        assert "passwd.txt:1: error: symbolic link to /etc/passwd" in text


# -- item 5: one paper in two digests ----------------------------------------------------------


async def test_newest_digest_by_date_wins_with_a_warning(
    db: Database, store: PaperStore, folder: Path
) -> None:
    # The older digest sorts last by name: reading order must not decide.
    newer = write(
        folder / "a-2024-06-01.txt",
        digest(entry("Other Paper", "Roe, Rich"), entry("Shared Paper", abstract="New. " + LONG)),
    )
    older = write(
        folder / "b-2024-05-01.txt", digest(entry("Shared Paper", abstract="Old. " + LONG))
    )
    set_mtime(newer, BASE_NS)  # the dates in the names count, not the modification times
    set_mtime(older, BASE_NS + DAY_NS)
    result = await reindex(db, folder)
    assert result.report.added == 2
    assert (await abstract_of(store, "Shared Paper")).startswith("New. ")
    assert lines(result.report) == [
        "b-2024-05-01.txt:6: warning: 'Shared Paper' is also at a-2024-06-01.txt:15 with a "
        "different abstract; the text at a-2024-06-01.txt:15 is used (the newer digest: "
        "2024-06-01 against 2024-05-01)"
    ]

    # A later reindex that only re-reads the older digest keeps the newer text.
    write(
        older,
        digest(entry("Shared Paper", abstract="Old, edited. " + LONG), entry("Extra", "Ex, Ed")),
    )
    edited = await reindex(db, folder)
    assert statuses(edited.report) == {
        "a-2024-06-01.txt": "unchanged",
        "b-2024-05-01.txt": "indexed",
    }
    assert edited.report.added == 1 and edited.report.updated == 0
    assert (await abstract_of(store, "Shared Paper")).startswith("New. ")
    assert [str(d) for d in edited.report.diagnostics if d.severity == "warning"] == [
        "b-2024-05-01.txt:6: warning: 'Shared Paper' is also at a-2024-06-01.txt:15 with a "
        "different abstract; the text at a-2024-06-01.txt:15 is used (the newer digest: "
        "2024-06-01 against 2024-05-01)"
    ]
    set_mtime(older, BASE_NS + 9 * DAY_NS)  # touched: still the older digest by its name
    touched = await reindex(db, folder)
    assert touched.changed == () and touched.report.diagnostics == ()
    forced = await reindex(db, folder, force=True)
    assert forced.changed == ()
    assert (await abstract_of(store, "Shared Paper")).startswith("New. ")


async def test_same_date_the_later_file_name_wins(
    db: Database, store: PaperStore, folder: Path
) -> None:
    write(folder / "2024-05-01-b.txt", digest(entry("Shared Paper", abstract="B. " + LONG)))
    write(folder / "2024-05-01-a.txt", digest(entry("Shared Paper", abstract="A. " + LONG)))
    set_mtime(folder / "2024-05-01-a.txt", BASE_NS + DAY_NS)
    result = await reindex(db, folder)
    assert (await abstract_of(store, "Shared Paper")).startswith("B. ")
    (warning,) = result.report.diagnostics
    assert str(warning).startswith("2024-05-01-a.txt:6: warning: 'Shared Paper' is also at ")
    assert "(the same date, 2024-05-01; the later file name)" in warning.message


async def test_undated_names_go_by_the_modification_time_of_their_content(
    db: Database, store: PaperStore, folder: Path
) -> None:
    x = write(folder / "x.txt", digest(entry("Shared Paper", abstract="X. " + LONG)))
    y = write(folder / "y.txt", digest(entry("Shared Paper", abstract="Y. " + LONG)))
    set_mtime(x, BASE_NS + DAY_NS)  # x is newer although y sorts later
    set_mtime(y, BASE_NS)
    first = await reindex(db, folder)
    assert (await abstract_of(store, "Shared Paper")).startswith("X. ")
    (warning,) = first.report.diagnostics
    assert warning.file == "y.txt" and "x.txt:6" in warning.message
    assert "2023-11-15 22:13:20 UTC (modified) against 2023-11-14 22:13:20 UTC" in warning.message

    set_mtime(y, BASE_NS + 5 * DAY_NS)  # touched, same content: the digest is not newer
    touched = await reindex(db, folder)
    assert touched.changed == ()
    assert (await abstract_of(store, "Shared Paper")).startswith("X. ")

    write(y, digest(entry("Shared Paper", abstract="Y2. " + LONG)))  # edited: now the newest
    set_mtime(y, BASE_NS + 6 * DAY_NS)
    edited = await reindex(db, folder)
    assert edited.report.updated == 1
    assert (await abstract_of(store, "Shared Paper")).startswith("Y2. ")
    (warning,) = edited.report.diagnostics
    assert warning.file == "x.txt" and "the text at y.txt:6 is used" in warning.message


async def test_newest_digest_gone_brings_back_the_older_text(
    db: Database, store: PaperStore, folder: Path
) -> None:
    write(
        folder / "2024-05-01.txt",
        digest(
            entry("Shared Paper", abstract="Old. " + LONG),
            entry("Other Paper", "Roe, Rich", abstract="Other old. " + LONG),
        ),
    )
    newer = write(
        folder / "2024-06-01.txt",
        digest(entry("Shared Paper", abstract="New. " + LONG), entry("Only New", "Poe, P")),
    )
    write(
        folder / "2024-07-01.txt",
        digest(entry("Other Paper", "Roe, Rich", abstract="Other new. " + LONG)),
    )
    await reindex(db, folder)
    assert (await abstract_of(store, "Shared Paper")).startswith("New. ")
    assert (await abstract_of(store, "Other Paper")).startswith("Other new. ")
    newer.unlink()
    result = await reindex(db, folder)
    assert result.report.updated == 1 and result.report.removed == 1
    assert (await abstract_of(store, "Shared Paper")).startswith("Old. ")  # re-read
    assert (await abstract_of(store, "Other Paper")).startswith("Other new. ")  # still newest
    assert statuses(result.report) == {
        "2024-05-01.txt": "unchanged",
        "2024-06-01.txt": "removed",
        "2024-07-01.txt": "unchanged",
    }
    assert result.report.diagnostics == ()


async def test_paper_cut_from_the_newest_digest_takes_the_older_text(
    db: Database, store: PaperStore, folder: Path
) -> None:
    write(folder / "2024-05-01.txt", digest(entry("Shared Paper", abstract="Old. " + LONG)))
    newer = write(
        folder / "2024-06-01.txt",
        digest(entry("Shared Paper", abstract="New. " + LONG), entry("Only New", "Poe, P")),
    )
    await reindex(db, folder)
    write(newer, digest(entry("Only New", "Poe, P")))
    result = await reindex(db, folder)
    assert result.report.updated == 1 and result.report.removed == 0
    assert (await abstract_of(store, "Shared Paper")).startswith("Old. ")


async def test_newer_digest_that_cannot_be_read_keeps_its_text(
    db: Database, store: PaperStore, folder: Path, digest_fixtures: Path
) -> None:
    write(folder / "2024-06-01.txt", digest(entry("Shared Paper", abstract="New. " + LONG)))
    older = write(folder / "2024-05-01.txt", digest(entry("Shared Paper", abstract="Old. " + LONG)))
    await reindex(db, folder)
    (folder / "2024-06-01.txt").write_bytes((digest_fixtures / "bad" / "binary.txt").read_bytes())
    write(older, digest(entry("Shared Paper", abstract="Old, edited. " + LONG)))
    result = await reindex(db, folder)
    assert statuses(result.report) == {"2024-05-01.txt": "indexed", "2024-06-01.txt": "rejected"}
    assert result.report.updated == 0
    assert (await abstract_of(store, "Shared Paper")).startswith("New. ")


async def test_digests_indexed_before_the_dates_are_dated_by_their_last_stamp(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    before = [m for m in load_migrations() if m.version < 3]
    old = await Database.open(path, migrations=before)
    async with old.transaction() as tx:
        await tx.execute(
            "INSERT INTO digests (path, content_hash, size, mtime_ns, indexed_at) "
            "VALUES ('a.txt', 'h', 10, ?, 't')",
            (BASE_NS,),
        )
    await old.close()
    upgraded = await Database.open(path)
    try:
        stamps = await PaperStore(upgraded).digest_stamps()
    finally:
        await upgraded.close()
    assert stamps["a.txt"].content_mtime_ns == BASE_NS == stamps["a.txt"].mtime_ns


# -- the settings reach the reindex ------------------------------------------------------------


@pytest.fixture
async def catalogue(tmp_path: Path, folder: Path) -> AsyncIterator[Catalogue]:
    settings = Settings(
        digest_dir=folder,
        database_path=tmp_path / "db" / "c.db",
        index_dir=tmp_path / "index",
        max_digest_bytes=100,
        follow_symlinks=True,
    )
    opened = await Catalogue.open(settings, warm=False)
    try:
        yield opened
    finally:
        await opened.close()


async def test_catalogue_reindex_uses_the_settings(
    catalogue: Catalogue, folder: Path, tmp_path: Path
) -> None:
    write(folder / "big.txt", digest(entry("Too Big For The Cap")))
    outside = write(tmp_path / "out.txt", "tiny")
    (folder / "link.txt").symlink_to(outside)
    report = await catalogue.reindex()
    assert statuses(report) == {"big.txt": "rejected", "link.txt": "indexed"}
    assert "over the limit of 100 bytes" in report.diagnostics[0].message
