"""The array helpers an index update leans on give what numpy's general forms give."""

from __future__ import annotations

import numpy as np
import pytest

from bot.core.index import arrays
from bot.core.index.arrays import splice


@pytest.mark.parametrize("runs", [arrays.SPLICE_RUNS, 3])  # copied in runs / by np.insert
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32])
def test_splice_is_np_insert(runs: int, dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arrays, "SPLICE_RUNS", runs)
    rng = np.random.default_rng(3)
    for n_old, n_new in [(0, 5), (1, 1), (50, 0), (1000, 40), (1000, 400)]:
        old: np.ndarray = rng.integers(0, 200, n_old).astype(dtype)
        # repeated insertion points, the ends included
        where = np.sort(rng.integers(0, n_old + 1, n_new))
        if n_new > 2:
            where[0], where[-1] = 0, n_old
        values = rng.integers(0, 200, n_new).astype(np.int64)
        got = splice(old, where, values)
        want = np.insert(old, where, values.astype(dtype))
        assert got.dtype == old.dtype
        assert got.tolist() == want.tolist()


def test_widened_dtype_keeps_or_widens() -> None:
    from bot.core.index.arrays import widened_dtype

    small = np.array([3, 200], dtype=np.uint8)
    assert widened_dtype(small, np.array([255])) == np.uint8
    assert widened_dtype(small, np.array([256])) == np.uint16
    assert widened_dtype(small, np.array([70_000])) == np.uint32
    assert widened_dtype(np.array([1], dtype=np.uint16), np.array([2])) == np.uint16
    assert widened_dtype(small, np.zeros(0, dtype=np.int64)) == np.uint8
