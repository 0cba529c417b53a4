"""Pages of new memory-mapped files mapped in the background (bot.core.pages)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import bot.core.pages as pages_module
from bot.core.pages import Populator


def _mapped(path: Path, n: int) -> np.ndarray:
    path.write_bytes(b"\0" * n)
    return np.memmap(path, mode="r+", dtype=np.uint8, shape=(n,)).view(np.ndarray)


def test_populating_never_changes_what_is_written(tmp_path: Path) -> None:
    """Arrays written while (and after) their pages are mapped hold what was written; close
    stops the thread and later arrays are refused (the caller maps them itself)."""
    arrays = [_mapped(tmp_path / f"a{i}.bin", 3 * 1024 * 1024 + 17 * i) for i in range(3)]
    pages = Populator()
    for a in arrays:
        assert pages.add(a) == Populator.available()
    for i, a in enumerate(arrays):
        a[:] = np.arange(len(a)) % (251 - i)
    pages.close()
    pages.close()  # twice: nothing more
    for i, a in enumerate(arrays):
        assert np.array_equal(a, np.arange(len(a)) % (251 - i))
    assert not pages.add(arrays[0])
    assert not Populator().add(np.zeros(0, dtype=np.uint8))


def _locked_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmLck:"):
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(sys.platform != "linux", reason="mlock through libc: Linux")
def test_lock_keeps_mapped_arrays_in_memory_until_they_are_let_go(tmp_path: Path) -> None:
    """lock() locks every page of the arrays (VmLck grows by them), reports the bytes, and
    the lock ends with the memory map; an empty array is skipped."""
    import gc

    before = _locked_kib()
    arrays = [_mapped(tmp_path / f"l{i}.bin", 64 * 1024 + 100 * i) for i in range(2)]
    locked, refused = pages_module.lock([*arrays, np.zeros(0, dtype=np.uint8)])
    if refused is not None:  # a memory lock limit below 140 KB and no CAP_IPC_LOCK
        pytest.skip(f"mlock refused here: {refused}")
    assert locked >= sum(a.nbytes for a in arrays)
    assert _locked_kib() - before >= sum(a.nbytes for a in arrays) // 1024
    del arrays
    gc.collect()
    assert _locked_kib() <= before


def test_lock_says_why_it_was_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A refused lock: the bytes locked before it and the system's reason (no exception)."""
    import ctypes
    import errno

    calls: list[int] = []

    def refuse_second(address: int, size: int) -> int:
        calls.append(size)
        if len(calls) == 1:
            return 0
        ctypes.set_errno(errno.EPERM)
        return -1

    monkeypatch.setattr(pages_module, "_MLOCK", refuse_second)
    arrays = [_mapped(tmp_path / f"r{i}.bin", 8192) for i in range(3)]
    locked, refused = pages_module.lock(arrays)
    assert locked == calls[0] >= 8192 and len(calls) == 2
    assert refused == os.strerror(errno.EPERM)
    monkeypatch.setattr(pages_module, "_MLOCK", None)
    assert pages_module.lock(arrays) == (0, "memory locking is not available on this system")
