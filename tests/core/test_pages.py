"""Pages of new memory-mapped files mapped in the background (bot.core.pages)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
