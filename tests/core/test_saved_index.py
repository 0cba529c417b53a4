"""The saved index on disk (bot.core.saved_index): ownership, generations, checks, cleaning."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from bot.bench.generate import digest_text
from bot.core import saved_index
from bot.core.index import Index
from bot.core.parser import parse_digest
from bot.core.saved_index import MARKER, IndexDirError, SavedIndexError


@pytest.fixture(scope="module")
def index() -> Index:
    papers = parse_digest(digest_text(7, 0, 200).encode(), "f").papers
    assert len(papers) == 200
    return Index.from_papers(enumerate(papers, start=1), version=3)


def generation(directory: Path) -> Path:
    return directory / (directory / "current").read_text().strip()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_round_trip_bound_to_a_stamp(tmp_path: Path, index: Index) -> None:
    directory = tmp_path / "ix"
    index.save(directory, stamp="abc")
    assert (directory / MARKER).is_file()
    found = Index.saved_info(directory)
    assert found is not None and (found.version, found.stamp) == (3, "abc")
    loaded = Index.load(directory, stamp="abc")
    assert loaded.n_docs == index.n_docs == 200
    assert [loaded.paper_id(int(d)) for d in loaded.docnos()] == [
        index.paper_id(int(d)) for d in index.docnos()
    ]
    with pytest.raises(SavedIndexError, match="another catalogue"):
        Index.load(directory, stamp="other")
    # a second save replaces the generation; only the current one stays
    first = generation(directory)
    index.save(directory, stamp="def")
    assert not first.exists() and generation(directory).is_dir()
    assert sorted(p.name for p in directory.iterdir() if p.name.startswith("gen-")) == [
        generation(directory).name
    ]


def _fix_checksum(gen: Path, name: str) -> None:
    """Make meta.json agree with a damaged file: only the structural checks can tell."""
    meta = json.loads((gen / "meta.json").read_text())
    data = (gen / f"{name}.npy").read_bytes()
    meta["files"][name] = {"bytes": len(data), "crc32": zlib.crc32(data)}
    (gen / "meta.json").write_text(json.dumps(meta))


def _rewrite(path: Path, values: np.ndarray) -> None:
    np.save(path, values, allow_pickle=False)


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("ptr", lambda a: a[::-1].copy(), "ptr"),
        ("docs", lambda a: a + 1_000_000, "docs holds values"),
        ("paper_ids", lambda a: np.full_like(a, b"\xff\xfe"), "paper_ids"),
        ("title_end", lambda a: a + 10**9, "title_end"),
        ("term_hash_ids", lambda a: a - 5, "term_hash_ids"),
        ("bitsets", lambda a: a[:, :1].copy(), "bitsets"),
    ],
)
def test_structural_checks_catch_what_a_checksum_would_not(
    tmp_path: Path, index: Index, name: str, damage: object, message: str
) -> None:
    directory = tmp_path / "ix"
    index.save(directory)
    gen = generation(directory)
    arr = np.load(gen / f"{name}.npy")
    assert callable(damage)
    _rewrite(gen / f"{name}.npy", damage(arr))
    with pytest.raises(SavedIndexError, match=r"checksum|bytes"):
        Index.load(directory)
    _fix_checksum(gen, name)
    with pytest.raises(SavedIndexError, match=message):
        Index.load(directory)


def test_damaged_and_missing_files(tmp_path: Path, index: Index) -> None:
    directory = tmp_path / "ix"
    index.save(directory)
    gen = generation(directory)
    data = (gen / "tfs.npy").read_bytes()
    (gen / "tfs.npy").write_bytes(data[:-3])  # truncated
    with pytest.raises(SavedIndexError, match=r"tfs\.npy has"):
        Index.load(directory)
    (gen / "tfs.npy").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped
    with pytest.raises(SavedIndexError, match="checksum"):
        Index.load(directory)
    (gen / "tfs.npy").unlink()
    with pytest.raises(SavedIndexError, match="incomplete"):
        Index.load(directory)
    (gen / "meta.json").write_text("{not json")
    with pytest.raises(SavedIndexError):
        Index.load(directory)
    assert Index.saved_info(directory) is None
    (directory / "current").write_text("../../etc\n")
    assert Index.saved_info(directory) is None
    with pytest.raises(SavedIndexError, match="no saved index"):
        Index.load(directory)


def test_claim_creates_marks_adopts_or_refuses(tmp_path: Path) -> None:
    fresh = tmp_path / "a" / "b"
    saved_index.claim(fresh)
    assert (fresh / MARKER).is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    saved_index.claim(empty)
    assert (empty / MARKER).is_file()
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "meta.json").write_text(json.dumps({"format": 1, "version": 2, "n_docs": 5}))
    np.save(legacy / "docs.npy", np.zeros(3, np.int32))
    saved_index.claim(legacy)
    assert json.loads((legacy / MARKER).read_text())["legacy"] == ["docs.npy", "meta.json"]
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.md").write_text("mine")
    np.save(foreign / "docs.npy", np.zeros(3, np.int32))
    with pytest.raises(IndexDirError, match=r"not made by digest-bot \(it holds docs.npy, notes"):
        saved_index.claim(foreign)
    assert sorted(os.listdir(foreign)) == ["docs.npy", "notes.md"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(IndexDirError, match="is a file"):
        saved_index.claim(a_file)


def test_clean_removes_only_what_is_stale_and_ours(tmp_path: Path, index: Index) -> None:
    directory = tmp_path / "ix"
    index.save(directory)
    current = generation(directory)
    dead, me = dead_pid(), os.getpid()
    host = socket.gethostname()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:

        def temp(pid: int, token: str, marker: dict[str, object] | None) -> Path:
            path = directory / f"tmp-{pid}-{token * 16}"
            path.mkdir()
            (path / "docs.npy").write_bytes(b"x" * 100)
            if marker is not None:
                (path / MARKER).write_text(json.dumps(marker))
            return path

        stale = temp(dead, "a", {"pid": dead, "host": host})
        alive = temp(sleeper.pid, "b", {"pid": sleeper.pid, "host": host})
        mine = temp(me, "c", {"pid": me, "host": host})
        elsewhere = temp(dead, "d", {"pid": dead, "host": host + "-other"})
        unmarked = temp(dead, "e", None)
        empty = directory / f"tmp-{dead}-{'f' * 16}"
        empty.mkdir()
        old_gen = directory / f"gen-{'0' * 16}"
        old_gen.mkdir()
        (old_gen / MARKER).write_text("{}")
        foreign_gen = directory / f"gen-{'1' * 16}"
        foreign_gen.mkdir()
        pointer_tmp = directory / f"current.tmp-{dead}-{'2' * 8}"
        pointer_tmp.write_text("gen-x\n")
        note = directory / "notes.md"
        note.write_text("kept")
        # an older digest-bot's temporaries beside the folder
        old_tmp = tmp_path / f"ix.tmp{dead}"
        old_tmp.mkdir()
        np.save(old_tmp / "docs.npy", np.zeros(2))
        old_live = tmp_path / f"ix.old{sleeper.pid}"
        old_live.mkdir()
        not_ours = tmp_path / f"ix.tmp{dead + 1 if dead + 1 != me else dead + 2}x"
        not_ours.mkdir()

        removed = saved_index.clean(directory)

        assert set(removed) == {stale, empty, old_gen, pointer_tmp, old_tmp}
        for kept in (alive, mine, elsewhere, unmarked, foreign_gen, note, current, old_live,
                     not_ours):  # fmt: skip
            assert kept.exists(), kept
        assert Index.load(directory).n_docs == 200
    finally:
        sleeper.kill()
        sleeper.wait()


class _Killed(BaseException):
    """The process killed in the middle of a removal."""


def _killed_after(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], object], at: int | None
) -> list[object]:
    """``run()`` with ``os.unlink`` killing it (raising :class:`_Killed`) at its ``at``-th
    file removal (None: never); the files removed before."""
    real_unlink = os.unlink
    done: list[object] = []

    def unlink(*args: object, **kwargs: object) -> None:
        if len(done) == at:
            raise _Killed
        done.append(args[0])
        real_unlink(*args, **kwargs)  # type: ignore[arg-type]

    with monkeypatch.context() as patched, contextlib.suppress(_Killed):
        patched.setattr(os, "unlink", unlink)
        run()
    return done


def _left_after_clean(monkeypatch: pytest.MonkeyPatch, directory: Path) -> list[str]:
    """What the folder holds after a clean run once the killed process is gone."""
    with monkeypatch.context() as gone:
        gone.setattr(saved_index, "_gone", lambda pid: True)  # the killed process (this one)
        saved_index.clean(directory)
    return sorted(p.name for p in directory.iterdir())


def test_a_removal_cut_short_anywhere_is_finished_by_the_next_clean(
    tmp_path: Path, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale generation whose removal is cut short after any number of files (a kill) is
    removed by the next clean once the killed process is gone: never left unmarked."""
    directory = tmp_path / "ix"
    index.save(directory)
    current = generation(directory)
    for kill_at in range(8):
        old_gen = directory / f"gen-{'0' * 15}{kill_at:x}"
        old_gen.mkdir()
        (old_gen / MARKER).write_text("{}")
        for name in ("docs", "tfs", "pos", "ptr", "doc_len"):
            (old_gen / f"{name}.npy").write_bytes(b"x" * 64)
        (old_gen / "meta.json").write_text("{}")
        _killed_after(monkeypatch, lambda: saved_index.clean(directory), kill_at)
        left = _left_after_clean(monkeypatch, directory)
        assert left == sorted([MARKER, ".lock", "current", current.name]), (kill_at, left)
    assert Index.load(directory).n_docs == 200


def test_a_save_killed_anywhere_leaves_what_the_next_clean_removes(
    tmp_path: Path, index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A save (write, switch, drop the older generation) killed at any of its file removals
    leaves one loadable generation, and nothing the next clean does not remove."""
    directory = tmp_path / "ix"
    index.save(directory)
    removals = _killed_after(monkeypatch, lambda: index.save(directory), None)
    assert len(removals) > 10  # every point a kill may land
    for kill_at in range(len(removals) + 1):
        _killed_after(monkeypatch, lambda: index.save(directory), kill_at)
        left = _left_after_clean(monkeypatch, directory)
        current = generation(directory).name
        assert left == sorted([MARKER, ".lock", "current", current]), (kill_at, left)
        assert Index.load(directory).n_docs == 200


def test_an_unowned_folder_is_never_cleaned(tmp_path: Path) -> None:
    folder = tmp_path / "ix"
    folder.mkdir()
    junk = folder / f"tmp-{dead_pid()}-{'a' * 16}"
    junk.mkdir()
    (junk / MARKER).write_text("{}")
    assert saved_index.clean(folder) == []
    assert junk.exists()


def test_readers_never_see_a_half_switched_index(tmp_path: Path, index: Index) -> None:
    """Loads running while another thread saves generation after generation all succeed."""
    directory = tmp_path / "ix"
    index.save(directory, stamp="0")
    errors: list[BaseException] = []
    done = threading.Event()

    def save() -> None:
        try:
            for i in range(1, 25):
                index.save(directory, stamp=str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=save)
    writer.start()
    loads = 0
    while not done.is_set() or loads == 0:
        loaded = Index.load(directory)
        assert loaded.n_docs == 200
        loads += 1
    writer.join()
    assert not errors, errors
    assert Index.saved_info(directory) is not None
    assert len([p for p in directory.iterdir() if p.name.startswith("gen-")]) == 1


def test_saved_arrays_are_numpy_save_files(tmp_path: Path) -> None:
    """Arrays are written from their own memory, two files at a time: the files are
    byte for byte what numpy.save writes, their checksums and sizes those of the files."""
    arrays: dict[str, np.ndarray] = {
        "ints": np.arange(70_000, dtype=np.int32),
        "strided": np.arange(100_000, dtype=np.uint16)[::3],
        "ids": np.array([b"ab", b"c", b""], dtype="S4"),
        "rows": np.ones((3, 5), np.uint8),
        "empty": np.zeros(0, np.uint8),
        "no_rows": np.zeros((0, 7), np.uint8),
        "floats": np.linspace(0, 1, 9),
    }
    saved_index.write(tmp_path / "ix", arrays, {"format": 1, "version": 2})
    gen = next((tmp_path / "ix").glob("gen-*"))
    files = json.loads((gen / "meta.json").read_text())["files"]
    for name, array in arrays.items():
        np.save(tmp_path / "want.npy", array)
        got = (gen / f"{name}.npy").read_bytes()
        assert got == (tmp_path / "want.npy").read_bytes(), name
        assert files[name] == {"bytes": len(got), "crc32": zlib.crc32(got)}
