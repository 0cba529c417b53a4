"""Fault injection: ``python -m bot reindex`` killed (SIGKILL) at random moments.

Each run starts from the same catalogue (database + saved index, with a topic subscription),
runs the real CLI reindex onto a changed digest folder (files added, one changed, one gone)
and kills it after a seeded random delay, spread evenly over the time the reindex works
(measured on an uninterrupted run). Then:

* the database passes ``PRAGMA integrity_check`` and holds exactly the old catalogue or the
  new one (papers, their digests, digest rows, queued alerts): nothing lost, nothing half done;
* the saved index either is bound to the database's state and loads with exactly the live
  papers, or is not bound (and then refuses to load for this database);
* opening the catalogue gives an index bound to the database, with the live papers, that
  answers the queries exactly as an uninterrupted catalogue in that state does, and leaves
  no temporary behind;
* a reindex afterwards completes and reaches the new catalogue, alerts included.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.bench.generate import digest_text, write_digests
from bot.catalogue import Catalogue
from bot.core.index import Index
from bot.core.saved_index import LOCK, MARKER, POINTER, SavedIndexError
from bot.settings import Settings
from bot.store.alerts import AlertStore, make_alert_hook

REPO = Path(__file__).resolve().parents[1]
RUNS = 24
SEED = 8_2024
QUERIES = ("learning", "scaling laws", "attention -graph", "author:wang model", '"neural network"')

Snapshot = dict[str, list[tuple[Any, ...]]]
Answers = dict[str, tuple[int, list[str]]]


@dataclass(frozen=True)
class Reference:
    snapshot: Snapshot
    answers: Answers


@dataclass(frozen=True)
class World:
    root: Path
    new_digests: Path
    template: Path  # data/digest.db + data/index at the old catalogue
    old: Reference
    new: Reference
    work_s: float  # how long the uninterrupted reindex works once the database is open


def settings_of(work: Path, digests: Path) -> Settings:
    return Settings(
        digest_dir=digests,
        database_path=work / "data" / "digest.db",
        index_dir=work / "data" / "index",
    )


def snapshot(db: Path) -> Snapshot:
    """What the catalogue holds, independent of timestamps, stamps and row numbers."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        queries = {
            "papers": "SELECT id, removed, entry_hash, title FROM papers",
            "digests": "SELECT path, content_hash, present, paper_count FROM digests",
            "appearances": "SELECT p.id, d.path, pd.line, pd.present FROM paper_digests pd "
            "JOIN papers p ON p.rowid = pd.paper JOIN digests d ON d.id = pd.digest",
            "authors": "SELECT a.key, a.paper_count FROM authors a",
            "outbox": "SELECT o.channel_id, p.id FROM outbox o JOIN papers p ON p.rowid = o.paper",
        }
        return {k: sorted(conn.execute(sql).fetchall()) for k, sql in queries.items()}
    finally:
        conn.close()


def db_state(db: Path) -> tuple[int, str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
    return int(meta.get("catalogue_version", 0)), str(meta.get("catalogue_stamp", ""))


def live_ids(db: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT id FROM papers WHERE removed = 0")}
    finally:
        conn.close()


def index_ids(index: Index) -> set[str]:
    return {index.paper_id(int(d)) for d in index.docnos()}


async def answers(catalogue: Catalogue) -> Answers:
    out: Answers = {}
    for q in QUERIES:
        page = await catalogue.search(q, limit=10)
        out[q] = (page.total, [h.paper.id for h in page.hits])
    return out


def spawn_reindex(work: Path, digests: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGEST_", "INDEX_"))}
    env.update(PYTHONPATH=str(REPO), INDEX_DIR=str(work / "data" / "index"))
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "reindex", "--digests", str(digests),
         "--db", str(work / "data" / "digest.db")],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def wait_for_open(proc: subprocess.Popen[bytes], work: Path) -> float:
    """Wait until the reindex has opened the database (its WAL file appears); the time."""
    wal = work / "data" / "digest.db-wal"
    deadline = time.monotonic() + 60
    while not wal.exists() and proc.poll() is None:
        if time.monotonic() > deadline:
            pytest.fail("the reindex never opened the database")
        time.sleep(0.0005)
    return time.monotonic()


async def _build_world(root: Path) -> World:
    old_digests = root / "digests-old"
    write_digests(old_digests, 300, seed=9, per_file=100)
    new_digests = root / "digests-new"
    shutil.copytree(old_digests, new_digests)
    names = sorted(p.name for p in new_digests.glob("*.txt"))
    (new_digests / names[0]).unlink()  # a digest gone: its papers are removed (kept)
    (new_digests / names[1]).write_text(digest_text(9, 1, 60), encoding="utf-8")  # shortened
    write_digests(new_digests, 200, seed=9, per_file=100, start=len(names))  # 200 new papers

    template = root / "template"
    catalogue = await Catalogue.open(settings_of(template, old_digests))
    try:
        await catalogue.reindex()
        added = await AlertStore(catalogue.db).add(
            guild_id=1, channel_id=10, query="learning", created_by=5,
            max_per_channel=10, max_per_guild=50,
        )  # fmt: skip
        assert added.status == "created"
        old = Reference(snapshot(template / "data" / "digest.db"), await answers(catalogue))
    finally:
        await catalogue.close()
    for suffix in ("-wal", "-shm"):  # closed cleanly: nothing left, but be sure
        assert not Path(f"{template / 'data' / 'digest.db'}{suffix}").exists()

    # the uninterrupted reindex: the reference for the new catalogue, and its timing
    work = root / "reference"
    shutil.copytree(template, work)
    proc = spawn_reindex(work, new_digests)
    opened = wait_for_open(proc, work)
    _, err = proc.communicate(timeout=120)
    work_s = time.monotonic() - opened
    assert proc.returncode == 0, err.decode()
    db = work / "data" / "digest.db"
    saved = Index.saved_info(work / "data" / "index")
    assert saved is not None and (saved.version, saved.stamp) == db_state(db)  # CLI kept it
    catalogue = await Catalogue.open(settings_of(work, new_digests))
    try:
        new = Reference(snapshot(db), await answers(catalogue))
    finally:
        await catalogue.close()
    assert new.snapshot["outbox"] and not old.snapshot["outbox"]
    assert new.snapshot != old.snapshot and new.answers != old.answers
    return World(root, new_digests, template, old, new, work_s)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return asyncio.run(_build_world(tmp_path_factory.mktemp("faults")))


def leftovers(work: Path) -> list[str]:
    """Anything in or beside the index folder that is not the one current generation."""
    index_dir = work / "data" / "index"
    current = (index_dir / POINTER).read_text().strip()
    inside = sorted(p.name for p in index_dir.iterdir())
    extra = [n for n in inside if n not in {MARKER, LOCK, POINTER, current}]
    beside = [p.name for p in index_dir.parent.iterdir() if p.name.startswith("index.")]
    return extra + beside


async def test_reindex_killed_at_random_points_loses_nothing(world: World) -> None:
    rng = random.Random(SEED)
    span = world.work_s * 1.2  # some kills land after the end: the complete run counts too
    strata = list(range(RUNS))
    rng.shuffle(strata)  # in random order, so a change of machine load hits every stretch
    outcomes: Counter[str] = Counter()
    for run, stratum in enumerate(strata):
        work = world.root / f"run{run:02d}"
        shutil.copytree(world.template, work)
        db = work / "data" / "digest.db"
        index_dir = work / "data" / "index"
        delay = span * (stratum + rng.random()) / RUNS  # stratified: every stretch of the run
        proc = spawn_reindex(work, world.new_digests)
        time.sleep(max(0.0, wait_for_open(proc, work) + delay - time.monotonic()))
        proc.kill()
        proc.wait()
        assert proc.returncode in (0, -9), proc.stderr.read() if proc.stderr else ""

        # the database: sound, and the old catalogue or the new one, nothing in between
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            conn.close()
        snap = snapshot(db)
        assert snap in (world.old.snapshot, world.new.snapshot), f"run {run}: a mixed state"
        state = "new" if snap == world.new.snapshot else "old"
        reference = world.new if state == "new" else world.old

        # the saved index: bound to this database and consistent with it, or not trusted
        version, stamp = db_state(db)
        saved = Index.saved_info(index_dir)
        bound = saved is not None and (saved.version, saved.stamp) == (version, stamp)
        if bound:
            assert index_ids(Index.load(index_dir, stamp=stamp)) == live_ids(db), f"run {run}"
        else:
            with pytest.raises(SavedIndexError):
                Index.load(index_dir, stamp=stamp)
        outcomes[f"{state} catalogue, index {'bound' if bound else 'rebuilt'}"] += 1

        # the catalogue opens on a sound, bound index that answers as it should
        settings = settings_of(work, world.new_digests)
        catalogue = await Catalogue.open(settings, warm=False)
        try:
            saved = Index.saved_info(index_dir)
            assert saved is not None and (saved.version, saved.stamp) == (version, stamp)
            assert index_ids(catalogue.index) == live_ids(db)
            assert await answers(catalogue) == reference.answers, f"run {run} ({state})"
            assert leftovers(work) == [], f"run {run}"
            # and a reindex afterwards completes: the new catalogue, alerts included
            report = await catalogue.reindex(alert_hook=make_alert_hook(AlertStore(catalogue.db)))
            assert report.applied
            assert snapshot(db) == world.new.snapshot, f"run {run}"
            assert await answers(catalogue) == world.new.answers, f"run {run}"
            assert index_ids(catalogue.index) == live_ids(db)
            saved = Index.saved_info(index_dir)
            assert saved is not None and (saved.version, saved.stamp) == db_state(db)
        finally:
            await catalogue.close()
        shutil.rmtree(work)
    print(f"\n{RUNS} kills over {span:.2f} s of reindex work:", dict(sorted(outcomes.items())))
    assert sum(outcomes.values()) == RUNS
    # the kills did land on both sides of the commit
    assert any(k.startswith("old") for k in outcomes), outcomes
    assert any(k.startswith("new") for k in outcomes), outcomes
