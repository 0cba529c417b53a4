"""The saved search index on a real catalogue: bound to its database, checked at load, kept in
a folder digest-bot owns, its stale temporaries cleaned.

Real SQLite files, real index files, real subprocesses where another process is the point.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bot.bench.generate import write_digests
from bot.catalogue import Catalogue
from bot.core.index import Index
from bot.settings import Settings
from bot.store.db import Database

REPO = Path(__file__).resolve().parents[1]
QUERIES = ("learning", "scaling laws", "attention -graph", "author:wang", "model")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 generated papers in 3 digest files (read-only: copy before changing)."""
    out = tmp_path_factory.mktemp("generated")
    write_digests(out, 300, seed=5, per_file=100)
    return out


def settings_for(tmp_path: Path, digests: Path) -> Settings:
    return Settings(
        digest_dir=digests,
        database_path=tmp_path / "data" / "digest.db",
        index_dir=tmp_path / "data" / "index",
    )


async def built(settings: Settings) -> dict[str, tuple[int, list[str]]]:
    """Index the digest folder; return what the queries find (total, first ids)."""
    catalogue = await Catalogue.open(settings)
    try:
        await catalogue.reindex()
        return await answers(catalogue)
    finally:
        await catalogue.close()


async def answers(catalogue: Catalogue) -> dict[str, tuple[int, list[str]]]:
    out: dict[str, tuple[int, list[str]]] = {}
    for q in QUERIES:
        page = await catalogue.search(q, limit=10)
        out[q] = (page.total, [h.paper.id for h in page.hits])
    return out


async def live_ids(settings: Settings) -> set[str]:
    async with await Database.open(settings.database_path) as db:
        rows = await db.fetchall("SELECT id FROM papers WHERE removed = 0")
    return {r[0] for r in rows}


def index_live_ids(index: Index) -> set[str]:
    return {index.paper_id(int(d)) for d in index.docnos()}


def array_file(index_dir: Path, name: str) -> Path:
    found = sorted(index_dir.rglob(f"{name}.npy"))
    assert len(found) == 1, found
    return found[0]


def scribble(path: Path, seed: int) -> None:
    """Overwrite an .npy file's data with random bytes, keeping its (valid) header and size."""
    with path.open("r+b") as f:
        major, _ = np.lib.format.read_magic(f)
        if major == 1:
            np.lib.format.read_array_header_1_0(f)
        else:
            np.lib.format.read_array_header_2_0(f)
        start = f.tell()
        size = path.stat().st_size - start
        f.write(random.Random(seed).randbytes(size))
    np.load(path, mmap_mode="r")  # the header still reads


# ---- item 2: a saved index is bound to its database ------------------------------------------


def cli_reindex(settings: Settings, digests: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGEST_", "INDEX_"))}
    env.update(PYTHONPATH=str(REPO), INDEX_DIR=str(settings.index_dir))
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "reindex", "--digests", str(digests),
         "--db", str(settings.database_path)],
        cwd=settings.database_path.parent, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


async def test_index_of_a_recreated_database_is_not_trusted(
    tmp_path: Path, seed_path: Path, generated: Path
) -> None:
    first = tmp_path / "first"
    first.mkdir()
    shutil.copy(seed_path, first / seed_path.name)
    settings = settings_for(tmp_path, first)
    await built(settings)  # catalogue version 1, index saved for it
    for suffix in ("", "-wal", "-shm"):
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    cli_reindex(settings, generated)  # a new database, also at catalogue version 1
    catalogue = await Catalogue.open(settings)
    try:
        assert index_live_ids(catalogue.index) == await live_ids(settings)
        page = await catalogue.search("learning")
        assert page.total > 100
    finally:
        await catalogue.close()


async def test_index_of_a_restored_backup_that_moved_on_is_not_trusted(
    tmp_path: Path, seed_path: Path, generated: Path
) -> None:
    digests = tmp_path / "digests"
    digests.mkdir()
    shutil.copy(seed_path, digests / seed_path.name)
    settings = settings_for(tmp_path, digests)
    catalogue = await Catalogue.open(settings)
    try:
        await catalogue.reindex()  # version 1
        await catalogue.db.backup(tmp_path / "backup.db")
        shutil.copy(generated / sorted(os.listdir(generated))[0], digests / "001_a.txt")
        await catalogue.reindex()  # version 2, index saved for it
    finally:
        await catalogue.close()
    # restore the backup (version 1), and index different digests: version 2 again
    for suffix in ("-wal", "-shm"):
        Path(f"{settings.database_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", settings.database_path)
    os.unlink(digests / "001_a.txt")
    shutil.copy(generated / sorted(os.listdir(generated))[1], digests / "002_b.txt")
    cli_reindex(settings, digests)
    catalogue = await Catalogue.open(settings)
    try:
        assert index_live_ids(catalogue.index) == await live_ids(settings)
    finally:
        await catalogue.close()


# ---- item 3: a damaged index is rebuilt, not served --------------------------------------------


@pytest.mark.parametrize("name", ["docs", "ptr", "paper_ids"])
async def test_damaged_arrays_are_rebuilt(
    tmp_path: Path, generated: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, generated)
    expected = await built(settings)
    scribble(array_file(settings.index_dir, name), seed=len(name))
    with caplog.at_level(logging.WARNING, logger="bot.catalogue"):
        catalogue = await Catalogue.open(settings, warm=False)  # as `digest-bot search` does
    try:
        assert await answers(catalogue) == expected
        for q in QUERIES:
            await catalogue.paper(q)
            await catalogue.author(q)
    finally:
        await catalogue.close()
    assert any("rebuild" in r.getMessage() for r in caplog.records), caplog.text
    # the rebuilt index was saved: the next start loads it as it is
    again = await Catalogue.open(settings)
    try:
        assert await answers(again) == expected
    finally:
        await again.close()


async def test_a_running_bot_reloads_a_damaged_index_by_rebuilding(
    tmp_path: Path, generated: Path, seed_path: Path
) -> None:
    digests = tmp_path / "digests"
    shutil.copytree(generated, digests)
    settings = settings_for(tmp_path, digests)
    await built(settings)
    bot_side = await Catalogue.open(settings)
    try:
        shutil.copy(seed_path, digests / seed_path.name)
        cli_reindex(settings, digests)  # the CLI updates the saved index ...
        scribble(array_file(settings.index_dir, "docs"), seed=1)  # ... which then gets damaged
        assert await bot_side.refresh_if_changed()
        assert index_live_ids(bot_side.index) == await live_ids(settings)
        assert (await bot_side.search("scaling laws")).total >= 2
    finally:
        await bot_side.close()


# ---- item 1: the index folder is digest-bot's own ---------------------------------------------


async def test_files_put_in_the_index_folder_are_never_deleted(
    tmp_path: Path, generated: Path, seed_path: Path
) -> None:
    digests = tmp_path / "digests"
    shutil.copytree(generated, digests)
    settings = settings_for(tmp_path, digests)
    await built(settings)
    note = settings.index_dir / "notes.md"
    note.write_text("mine\n")
    shutil.copy(seed_path, digests / seed_path.name)
    await built(settings)  # saves a new index
    assert note.read_text() == "mine\n"


def write_legacy_index(index: Index, directory: Path) -> None:
    """The layout of digest-bot before the index folder was its own: meta.json + arrays."""
    directory.mkdir(parents=True)
    for name in Index._ARRAYS:
        np.save(directory / f"{name}.npy", np.ascontiguousarray(index._a[name]))
    meta = {**index._meta, "format": 1}
    (directory / "meta.json").write_text(json.dumps(meta))


async def test_an_index_folder_of_an_older_version_is_adopted(
    tmp_path: Path, generated: Path
) -> None:
    settings = settings_for(tmp_path, generated)
    expected = await built(settings)
    catalogue = await Catalogue.open(settings)
    index = catalogue.index
    await catalogue.close()
    legacy = tmp_path / "legacy"
    write_legacy_index(index, legacy)
    settings = Settings(
        digest_dir=generated, database_path=settings.database_path, index_dir=legacy
    )
    catalogue = await Catalogue.open(settings)
    try:
        assert await answers(catalogue) == expected
    finally:
        await catalogue.close()
    names = {p.name for p in legacy.iterdir()}
    assert "meta.json" not in names and not any(n.endswith(".npy") for n in names), names
    assert Index.saved_version(legacy) == index.version


# ---- item 6: temporaries of a killed save are cleaned ------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def test_temporaries_of_a_killed_save_are_removed(tmp_path: Path, generated: Path) -> None:
    settings = settings_for(tmp_path, generated)
    await built(settings)
    catalogue = await Catalogue.open(settings)
    index = catalogue.index
    await catalogue.close()
    arrays = tmp_path / "arrays"
    arrays.mkdir()
    for name in Index._ARRAYS:
        np.save(arrays / f"{name}.npy", np.ascontiguousarray(index._a[name]))
    # A process saving a (bigger) index over and over, killed while its temporary exists.
    script = (
        "import sys, numpy as np\n"
        "from bot.core.index import Index\n"
        "big = ('pos', 'docs', 'tfs')\n"
        "a = {n: np.load(f'{sys.argv[1]}/{n}.npy') for n in Index._ARRAYS}\n"
        "a = {n: np.tile(x, 40) if n in big else x for n, x in a.items()}\n"
        "index = Index(a, {'version': 0, 'n_docs': 0, 'total_len': 0})\n"
        "while True:\n"
        "    index.save(sys.argv[2])\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(arrays), str(settings.index_dir)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    parent = settings.index_dir.parent
    tag = str(proc.pid)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            temps = [p for p in [*parent.iterdir(), *settings.index_dir.iterdir()]
                     if tag in p.name]  # fmt: skip
            if temps:
                break
            await asyncio.sleep(0.001)
        else:
            pytest.fail("the saving process never made a temporary folder")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    leftovers = [p for p in [*parent.iterdir(), *settings.index_dir.iterdir()] if tag in p.name]
    assert leftovers  # the killed process left its temporary behind
    catalogue = await Catalogue.open(settings)
    await catalogue.close()
    leftovers = [p for p in [*parent.iterdir(), *settings.index_dir.iterdir()] if tag in p.name]
    assert leftovers == []


async def test_an_index_saved_in_another_format_is_rebuilt_with_a_log_line(
    tmp_path: Path,
    generated: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.core.index import persist

    current = persist.FORMAT_VERSION
    settings = settings_for(tmp_path, generated)
    with monkeypatch.context() as m:
        m.setattr(persist, "FORMAT_VERSION", current - 1)
        await built(settings)  # saved in the older format
    assert Index.saved_info(settings.index_dir) is None  # not usable as it is
    caplog.set_level(logging.INFO, logger="bot.catalogue")
    catalogue = await Catalogue.open(settings)
    try:
        assert catalogue.index.n_docs > 0
    finally:
        await catalogue.close()
    assert any("format" in r.getMessage() and "rebuil" in r.getMessage() for r in caplog.records)
    assert Index.saved_info(settings.index_dir) is not None  # saved again, current format
