"""Reindex end to end on real SQLite files: add, repeat, update, remove, reject, crash."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.models import Paper
from bot.core.parser import parse_digest, short_id
from bot.ingest import IngestResult, reindex
from bot.store.db import Database, Transaction
from bot.store.papers import PaperStore

SEED_NAME = "000_3fb66f32c462d8d6.txt"
SEED_IDS = (
    "8t72zh2v",
    "x15kktzr",
    "wsfa5te2",
    "fc36wb34",
    "vygbywnp",
    "ec1x9tfd",
    "6b0z17r6",
    "rc8h0ww3",
)
LONG = (
    "We study a problem that matters, with enough words in this sentence to make the abstract "
    "clearly longer than a venue line, so that the parser sees an abstract here."
)


def entry(title: str, authors: str = "Doe, Jane", abstract: str = LONG) -> str:
    return f"{title}\n\n{authors}\n\narXiv.org Machine Learning\n\n{abstract}"


def digest(*entries: str, heading: str = "Test County") -> str:
    return "Goto\n\n\u00a0" + heading + "\n\n\n" + "\n\n\n".join(entries) + "\n"


class HookRecorder:
    """An alert hook that remembers what it was given and writes into the transaction."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[tuple[int, Paper]]] = []
        self.fail = fail

    async def __call__(self, tx: Transaction, new: Sequence[tuple[int, Paper]]) -> int:
        self.calls.append(list(new))
        await tx.execute(
            "INSERT INTO meta (key, value) VALUES ('hook_saw', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (",".join(p.id for _, p in new),),
        )
        if self.fail:
            raise RuntimeError("alert hook exploded")
        return 2 * len(new)

    @property
    def ids(self) -> list[list[str]]:
        return [[p.id for _, p in call] for call in self.calls]


@pytest.fixture
def folder(tmp_path: Path, seed_path: Path) -> Path:
    """A digest folder holding a copy of the seed."""
    path = tmp_path / "digests"
    path.mkdir()
    shutil.copy(seed_path, path / SEED_NAME)
    return path


@pytest.fixture
def store(db: Database) -> PaperStore:
    return PaperStore(db)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every catalogue row, to compare states before and after."""
    out: dict[str, list[tuple[object, ...]]] = {}
    for table in ("meta", "digests", "papers", "authors", "paper_authors", "paper_digests"):
        rows = await db.fetchall(f"SELECT * FROM {table} ORDER BY 1, 2")
        out[table] = [tuple(r) for r in rows]
    return out


# -- first index and re-index ------------------------------------------------------------------


async def test_first_index_of_the_seed(db: Database, store: PaperStore, folder: Path) -> None:
    result = await reindex(db, folder)
    report = result.report
    assert report.applied
    assert (report.added, report.updated, report.unchanged, report.removed) == (8, 0, 0, 0)
    assert report.total == 8
    assert report.new_paper_ids == SEED_IDS
    assert [(f.path, f.status, f.papers) for f in report.files] == [(SEED_NAME, "indexed", 8)]
    assert report.diagnostics == ()
    assert report.duration_s >= 0
    assert result.version == 1 == await store.catalogue_version()
    assert [rowid for rowid, _ in result.changed] == list(range(1, 9))
    assert tuple(p.id for _, p in result.changed) == SEED_IDS
    stats = await store.stats()
    assert (stats.papers, stats.digests, stats.removed_papers, stats.version) == (8, 1, 0, 1)
    assert stats.authors == 58
    assert stats.last_indexed_at is not None


async def test_reindexing_twice_changes_nothing(
    db: Database, store: PaperStore, folder: Path
) -> None:
    await reindex(db, folder)
    before = await snapshot(db)
    second = await reindex(db, folder)
    report = second.report
    assert report.applied
    assert [(f.path, f.status) for f in report.files] == [(SEED_NAME, "unchanged")]
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 8, 0)
    assert report.new_paper_ids == ()
    assert second.changed == ()
    assert second.version == 1
    assert await snapshot(db) == before


async def test_force_reparses_but_changes_nothing(db: Database, folder: Path) -> None:
    await reindex(db, folder)
    before = await snapshot(db)
    forced = await reindex(db, folder, force=True)
    assert [f.status for f in forced.report.files] == ["indexed"]
    assert (forced.report.added, forced.report.updated, forced.report.unchanged) == (0, 0, 8)
    assert forced.changed == ()
    assert forced.version == 1
    assert await snapshot(db) == before


async def test_touched_file_is_not_reparsed(db: Database, store: PaperStore, folder: Path) -> None:
    await reindex(db, folder)
    seed = folder / SEED_NAME
    stat = seed.stat()
    os.utime(seed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    again = await reindex(db, folder)
    assert [f.status for f in again.report.files] == ["unchanged"]
    assert again.version == 1
    stamps = await store.digest_stamps()
    assert stamps[SEED_NAME].mtime_ns == stat.st_mtime_ns + 5_000_000_000


# -- adding, repeating, updating ---------------------------------------------------------------


async def test_adding_a_digest_adds_only_its_new_papers(
    db: Database, store: PaperStore, folder: Path, seed_path: Path
) -> None:
    await reindex(db, folder)
    first_seen = await store.get_paper(SEED_IDS[1])
    assert first_seen is not None
    seed_entries = seed_path.read_text(encoding="utf-8").split("\n\n\n")
    repeated = seed_entries[2]  # the second paper, exactly as in the seed
    write(
        folder / "001_next.txt",
        digest(repeated, entry("A Brand New Paper"), entry("Another New Paper", "Roe, Rich")),
    )
    result = await reindex(db, folder)
    report = result.report
    assert [(f.path, f.status) for f in report.files] == [
        (SEED_NAME, "unchanged"),
        ("001_next.txt", "indexed"),
    ]
    assert (report.added, report.updated, report.unchanged, report.removed) == (2, 0, 8, 0)
    assert report.total == 10
    new_ids = [
        parse_digest((folder / "001_next.txt").read_bytes(), "x").papers[i].id for i in (1, 2)
    ]
    assert list(report.new_paper_ids) == new_ids
    assert [(rowid, p.id) for rowid, p in result.changed] == [(9, new_ids[0]), (10, new_ids[1])]
    assert result.version == 2

    # The repeated paper is still one paper that remembers both digests and when it was first seen.
    again = await store.get_paper(SEED_IDS[1])
    assert again is not None
    assert [d.path for d in again.digests] == [SEED_NAME, "001_next.txt"]
    assert again.first_seen == first_seen.first_seen
    assert again.paper == replace(first_seen.paper, line=6)  # same text; line in the new digest
    assert await db.fetchvalue("SELECT count(*) FROM papers WHERE key = ?", (again.paper.key,)) == 1
    barbier = [p.id for p in await store.papers_by_author("jean barbier")]
    assert barbier == [SEED_IDS[1]]


async def test_updated_entry_keeps_its_id_and_rowid(
    db: Database, store: PaperStore, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    original = entry("Stable Title", "Smith, Ann, Jones, Bob")
    write(folder / "a.txt", digest(original, entry("Other Paper", "Other, Olga")))
    first = await reindex(db, folder)
    paper_id = first.report.new_paper_ids[0]
    before = await store.get_paper(paper_id)
    assert before is not None

    edited = entry(
        "Stable title",  # same identity (case), different text
        "Smith, Ann, Jones, Bob, Newman, Ned",
        "A corrected abstract that now says something else entirely, and at some length, "
        "so that it is an abstract.",
    )
    write(folder / "a.txt", digest(edited, entry("Other Paper", "Other, Olga")))
    result = await reindex(db, folder)
    report = result.report
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 1, 0)
    assert report.new_paper_ids == ()
    ((rowid, paper),) = result.changed
    after = await store.get_paper(paper_id)
    assert after is not None
    assert rowid == 1 and paper.id == paper_id == after.paper.id
    assert after.paper.title == "Stable title"
    assert after.paper.abstract.startswith("A corrected abstract")
    assert [a.display for a in after.paper.authors] == ["Ann Smith", "Bob Jones", "Ned Newman"]
    assert after.first_seen == before.first_seen
    assert [a.paper_count for a in await store.authors() if a.key == "ned newman"] == [1]
    assert result.version == first.version + 1


async def test_same_paper_twice_in_one_run_takes_the_later_digest(
    db: Database, store: PaperStore, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write(folder / "001.txt", digest(entry("Shared Paper", abstract="Old. " + LONG)))
    write(folder / "002.txt", digest(entry("Shared Paper", abstract="New. " + LONG)))
    result = await reindex(db, folder)
    assert result.report.added == 1 and result.report.total == 1
    (paper,) = await store.digest_papers("001.txt")
    assert paper.paper.abstract.startswith("New. ")
    assert [d.path for d in paper.digests] == ["001.txt", "002.txt"]


# -- removing and restoring --------------------------------------------------------------------


async def test_removing_a_digest_keeps_its_papers_as_removed(
    db: Database, store: PaperStore, folder: Path
) -> None:
    hook = HookRecorder()
    await reindex(db, folder, alert_hook=hook)
    extra = write(
        folder / "001_extra.txt",
        digest(entry("Only Here", "Lone, Lisa"), entry("Also Only Here", "Lone, Lisa")),
    )
    added = await reindex(db, folder, alert_hook=hook)
    only_ids = list(added.report.new_paper_ids)
    assert len(only_ids) == 2

    extra.unlink()
    gone = await reindex(db, folder, alert_hook=hook)
    report = gone.report
    assert report.applied
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 0, 8, 2)
    assert sorted(report.removed_paper_ids) == sorted(only_ids)
    assert report.total == 8
    assert [(f.path, f.status, f.papers) for f in report.files] == [
        (SEED_NAME, "unchanged", 8),
        ("001_extra.txt", "removed", 2),
    ]
    assert sorted(gone.removed) == [9, 10]
    assert gone.version == added.version + 1
    kept = await store.get_papers(only_ids)
    assert set(kept) == set(only_ids)
    assert all(p.removed for p in kept.values())
    assert [d.present for d in kept[only_ids[0]].digests] == [False]
    stats = await store.stats()
    assert (stats.papers, stats.removed_papers, stats.digests) == (8, 2, 1)
    assert "lisa lone" not in {a.key for a in await store.authors()}
    assert [d.path for d in await store.digests()] == [SEED_NAME]
    assert [d.path for d in await store.digests(include_gone=True)] == [SEED_NAME, "001_extra.txt"]
    rowids = [rowid async for batch in store.iter_papers(batch_size=3) for rowid, _ in batch]
    assert rowids == list(range(1, 11))  # removed papers keep their document numbers
    assert await store.removed_rowids() == frozenset({9, 10})

    # The file comes back: the papers are restored, not new (no alerts), same ids.
    write(extra, digest(entry("Only Here", "Lone, Lisa"), entry("Also Only Here", "Lone, Lisa")))
    back = await reindex(db, folder, alert_hook=hook)
    assert (back.report.added, back.report.removed, back.report.total) == (0, 0, 10)
    assert back.report.extra["restored"] == 2
    assert sorted(back.restored) == [9, 10]
    assert not any(p.removed for p in (await store.get_papers(only_ids)).values())
    assert [a.paper_count for a in await store.authors() if a.key == "lisa lone"] == [2]
    assert hook.ids == [list(SEED_IDS), only_ids]  # never called for removals or restores


async def test_paper_edited_out_of_a_digest_is_removed_but_remembers_it(
    db: Database, store: PaperStore, tmp_path: Path
) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    write(folder / "a.txt", digest(entry("Keeps Going"), entry("Gets Cut", "Cut, Carl")))
    first = await reindex(db, folder)
    cut_id = first.report.new_paper_ids[1]
    write(folder / "a.txt", digest(entry("Keeps Going")))
    result = await reindex(db, folder)
    assert result.report.removed_paper_ids == (cut_id,)
    cut = await store.get_paper(cut_id)
    assert cut is not None and cut.removed
    assert [(d.path, d.present) for d in cut.digests] == [("a.txt", True)]
    assert [p.id for p in await store.digest_papers("a.txt")] == [first.report.new_paper_ids[0]]


async def test_empty_folder_is_refused_unless_forced(
    db: Database, store: PaperStore, folder: Path
) -> None:
    await reindex(db, folder)
    (folder / SEED_NAME).unlink()
    before = await snapshot(db)
    refused = await reindex(db, folder)
    assert not refused.report.applied
    assert "no digest files" in refused.report.diagnostics[-1].message
    assert await snapshot(db) == before
    forced = await reindex(db, folder, force=True)
    assert forced.report.applied
    assert forced.report.removed == 8 and forced.report.total == 0
    assert (await store.stats()).removed_papers == 8


# -- bad files and failures --------------------------------------------------------------------


async def test_bad_file_changes_nothing(
    db: Database, store: PaperStore, folder: Path, digest_fixtures: Path
) -> None:
    await reindex(db, folder)
    before = await snapshot(db)
    shutil.copy(digest_fixtures / "bad" / "latin1.txt", folder / "001_latin1.txt")
    result = await reindex(db, folder)
    report = result.report
    assert report.applied  # the seed is fine; the bad file is reported
    assert [(f.path, f.status) for f in report.files] == [
        (SEED_NAME, "unchanged"),
        ("001_latin1.txt", "rejected"),
    ]
    assert [str(d) for d in report.diagnostics] == [
        "001_latin1.txt:6: error: not UTF-8 text (invalid byte 0xe9); file skipped"
    ]
    assert report.added == 0 and result.version == 1
    assert await snapshot(db) == before


async def test_good_file_replaced_by_garbage_keeps_its_previous_content(
    db: Database, store: PaperStore, folder: Path, digest_fixtures: Path
) -> None:
    await reindex(db, folder)
    before = await snapshot(db)
    shutil.copy(digest_fixtures / "bad" / "binary.txt", folder / SEED_NAME)
    result = await reindex(db, folder)
    report = result.report
    assert not report.applied  # the only file was rejected: nothing could be applied
    assert [(f.path, f.status, f.papers) for f in report.files] == [(SEED_NAME, "rejected", 8)]
    assert "previous content stays" in report.files[0].message
    assert report.diagnostics[0].file == SEED_NAME
    assert "not a text file" in report.diagnostics[0].message
    assert report.total == 8
    assert await snapshot(db) == before
    latest = await store.latest_digest()
    assert latest is not None and latest.path == SEED_NAME and latest.paper_count == 8

    # With a good file next to it, the garbage one still changes nothing.
    write(folder / "001_new.txt", digest(entry("Fresh Paper")))
    mixed = await reindex(db, folder)
    assert mixed.report.applied and mixed.report.added == 1
    assert [f.status for f in mixed.report.files] == ["rejected", "indexed"]
    assert (await store.stats()).papers == 9
    assert len(await store.digest_papers(SEED_NAME)) == 8


async def test_missing_folder_is_not_applied(db: Database, tmp_path: Path) -> None:
    result = await reindex(db, tmp_path / "nowhere")
    assert not result.report.applied
    (problem,) = result.report.diagnostics
    assert "does not exist" in problem.message and problem.line == 0
    assert result.version == 0


async def test_crash_inside_the_transaction_leaves_the_old_state(
    db: Database, store: PaperStore, folder: Path
) -> None:
    await reindex(db, folder)
    before = await snapshot(db)
    write(folder / "001_next.txt", digest(entry("New One"), entry("New Two", "Two, Tom")))
    failing = HookRecorder(fail=True)
    with pytest.raises(RuntimeError, match="exploded"):
        await reindex(db, folder, alert_hook=failing)
    assert len(failing.calls) == 1  # it ran inside the transaction, after the papers were written
    assert await snapshot(db) == before  # papers, digests, version and the hook's write: gone

    hook = HookRecorder()
    result = await reindex(db, folder, alert_hook=hook)
    assert result.report.added == 2 and result.report.alerts_queued == 4
    assert hook.ids == [list(result.report.new_paper_ids)]
    assert await store.get_meta("hook_saw") == ",".join(result.report.new_paper_ids)


async def test_alert_hook_gets_exactly_the_never_seen_papers(
    db: Database, folder: Path, seed_path: Path
) -> None:
    hook = HookRecorder()
    first = await reindex(db, folder, alert_hook=hook)
    assert hook.ids == [list(SEED_IDS)]
    assert [rowid for rowid, _ in hook.calls[0]] == list(range(1, 9))
    assert first.report.alerts_queued == 16

    seed_entries = seed_path.read_text(encoding="utf-8").split("\n\n\n")
    write(
        folder / "001_next.txt",
        digest(
            seed_entries[4],  # seen before: not alerted
            seed_entries[3].replace("Rubin, Noa", "Rubin, Noa, Extra, Ed"),  # updated: not alerted
            entry("Never Seen Before"),
        ),
    )
    second = await reindex(db, folder, alert_hook=hook)
    assert (second.report.added, second.report.updated) == (1, 1)
    assert hook.ids[1] == list(second.report.new_paper_ids)
    assert len(hook.calls) == 2

    unchanged = await reindex(db, folder, alert_hook=hook)
    assert unchanged.report.alerts_queued == 0 and len(hook.calls) == 2


async def test_id_collision_gives_the_newcomer_a_longer_id(
    db: Database, store: PaperStore, folder: Path
) -> None:
    # A paper already holds the 8-character id the seed's first paper would get.
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO papers (id, key, title, authors_raw, venue, abstract, entry_hash, "
            "first_seen, updated_at) VALUES (?, ?, 'Squatter', '', '', '', '', 't', 't')",
            (SEED_IDS[0], "f" * 64),
        )
    result = await reindex(db, folder)
    first = result.report.new_paper_ids[0]
    seed_key = next(p.key for _, p in result.changed if p.id == first)
    assert first == short_id(seed_key, 9) and first.startswith(SEED_IDS[0])
    assert result.report.new_paper_ids[1:] == SEED_IDS[1:]
    stored = await store.get_paper(first)
    assert stored is not None and stored.paper.title.startswith("Understanding Scaling Laws")
    squatter = await store.get_paper(SEED_IDS[0])
    assert squatter is not None and squatter.paper.title == "Squatter"
    # Stable: a forced reindex keeps the longer id.
    forced = await reindex(db, folder, force=True)
    assert forced.changed == ()
    assert (await store.get_paper(first)) is not None


async def test_fixture_digests(
    db: Database, store: PaperStore, tmp_path: Path, digest_fixtures: Path
) -> None:
    folder = tmp_path / "d"
    shutil.copytree(digest_fixtures, folder)
    result = await reindex(db, folder)
    report = result.report
    statuses = {f.path: f.status for f in report.files}
    assert statuses == {
        "bad/binary.txt": "rejected",
        "bad/latin1.txt": "rejected",
        "good/crlf_bom.txt": "indexed",
        "good/cut_short.txt": "indexed",
        "good/markdown.txt": "indexed",
        "good/names.txt": "indexed",
        "good/odd_authors.txt": "indexed",
        "good/repeat_later.txt": "indexed",
    }
    assert report.added == 2 + 2 + 2 + 3 + 3 + 2
    located = {(d.file, d.line, d.severity) for d in report.diagnostics}
    assert ("good/cut_short.txt", 15, "error") in located
    assert ("bad/latin1.txt", 6, "error") in located
    assert ("bad/binary.txt", 3, "error") in located

    obrien = await store.papers_by_author("Seán O'Brien")
    assert [p.paper.title for p in obrien] == [
        "Curly Apostrophes and Dashes",
        "On the Names of Authors",
    ]
    summary = {a.key: a for a in await store.authors()}
    assert summary["sean o'brien"].paper_count == 2
    assert summary["plato"].paper_count == 2
    assert summary["anna van der berg"].display == "Anna van der Berg"
    (md,) = [
        p for p in await store.digest_papers("good/markdown.txt") if "Markdown" in p.paper.title
    ]
    assert "@everyone" in md.paper.abstract and "**bold**" in md.paper.abstract
    crlf = await store.digest_papers("good/crlf_bom.txt")
    assert [p.paper.title for p in crlf] == [
        "Robust Estimation under Heavy Tails",
        "Second Entry With No-Break Spaces",
    ]
    assert crlf[0].digests[0].heading == "Line Ending County"


async def test_progress_reports_parse_and_write(db: Database, folder: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    await reindex(db, folder, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert ("parse", 1, 1) in seen
    assert ("write", 8, 8) in seen


async def test_concurrent_reindexes_do_not_double_count(
    db: Database, store: PaperStore, folder: Path
) -> None:
    results: list[IngestResult] = list(
        await asyncio.gather(reindex(db, folder), reindex(db, folder))
    )
    assert sorted(r.report.added for r in results) == [0, 8]
    assert all(r.report.applied for r in results)
    assert (await store.stats()).papers == 8
    assert await store.catalogue_version() == 1
