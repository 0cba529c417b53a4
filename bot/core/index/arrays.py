"""Array helpers the index is made of: ragged ranges, sorted sets, string blobs, CSR lists.

A *CSR list set* maps each key (a term, an author, a word) to a sorted run of docnos in one
flat array, cut by a pointer array: key ``k``'s run is ``docs[ptr[k]:ptr[k + 1]]``, with
optional payload arrays aligned with ``docs`` (term frequencies). :func:`merge_lists` adds new
(key, doc) pairs to such a set and drops dead docs; over an empty set it is a plain build.
"""

from __future__ import annotations

import contextlib
import mmap
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]
AnyArray = npt.NDArray[Any]


_POPULATE = {
    False: getattr(mmap, "MADV_POPULATE_READ", 22),
    True: getattr(mmap, "MADV_POPULATE_WRITE", 23),
}


def prefault(array: AnyArray, *, write: bool = False) -> None:
    """Map every page of a memory-mapped ``array`` in one call (Linux 5.14+ ``madvise``
    ``MADV_POPULATE_READ`` / ``_WRITE``) instead of one page fault per page as it is read or
    written: several times faster for an array about to be read (or filled) whole. Does
    nothing for other arrays, elsewhere, or where the kernel refuses."""
    if sys.platform != "linux":
        return
    base: Any = array
    while base is not None and not isinstance(base, mmap.mmap):
        base = getattr(base, "_mmap", None) or getattr(base, "base", None)
    if base is None:
        return
    with contextlib.suppress(OSError, ValueError):
        base.madvise(_POPULATE[write])


def ragged_index(starts: I64, lengths: AnyArray) -> I64:
    """Indices covering [starts[i], starts[i] + lengths[i]) for every i, concatenated."""
    lengths = lengths.astype(np.int64, copy=False)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    offsets = np.repeat(starts - (ends - lengths), lengths)
    out: I64 = np.arange(total, dtype=np.int64) + offsets
    return out


def stable_order(keys: AnyArray) -> AnyArray:
    """The stable argsort of non-negative 32-bit ``keys`` (ties in index order): one sort of
    (key, index) packed in 64 bits, about twice as fast as numpy's stable argsort."""
    n = len(keys)
    if n == 0 or n >= 2**32 or int(keys.min()) < 0 or int(keys.max()) >= 2**31:
        return np.argsort(keys, kind="stable")
    packed = keys.astype(np.int64) << 32
    packed |= np.arange(n, dtype=np.int64)
    packed.sort()
    packed &= 0xFFFFFFFF
    return packed


def unique_sorted(values: AnyArray) -> AnyArray:
    """Sorted distinct values (sort-based; faster here than np.unique's hashing)."""
    if len(values) < 2:
        return np.sort(values)
    arr = np.sort(values)
    keep = np.empty(len(arr), dtype=np.bool_)
    keep[0] = True
    np.not_equal(arr[1:], arr[:-1], out=keep[1:])
    out: AnyArray = arr[keep]
    return out


def in_sorted(sorted_arr: AnyArray, values: AnyArray) -> Bool:
    """Whether each of ``values`` is in the sorted ``sorted_arr``."""
    if len(sorted_arr) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=np.bool_)
    pos = np.searchsorted(sorted_arr, values)
    pos[pos == len(sorted_arr)] = len(sorted_arr) - 1
    found: Bool = sorted_arr[pos] == values
    return found


def blob(strings: Sequence[str]) -> tuple[U8, I64]:
    """Strings as one UTF-8 byte array and the offsets cutting it (``len + 1`` of them)."""
    encoded = [s.encode() for s in strings]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    if encoded:
        offsets[1:] = np.cumsum([len(e) for e in encoded])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    return data, offsets


def unblob(data: AnyArray, offsets: AnyArray) -> list[str]:
    """Every string of a :func:`blob`."""
    raw = bytes(data)
    offs = offsets.tolist()
    return [raw[offs[i] : offs[i + 1]].decode() for i in range(len(offs) - 1)]


def blob_item(data: AnyArray, offsets: AnyArray, i: int) -> str:
    """String ``i`` of a :func:`blob`."""
    return bytes(data[int(offsets[i]) : int(offsets[i + 1])]).decode()


def pick_dtype(max_value: int) -> type[np.unsignedinteger[Any]]:
    """The smallest unsigned integer type holding 0 .. ``max_value``."""
    if max_value < 256:
        return np.uint8
    if max_value < 65536:
        return np.uint16
    return np.uint32


def widened_dtype(old: AnyArray, new: AnyArray) -> Any:
    """The dtype of ``old`` (unsigned) merged with ``new``: its own when every value of
    ``new`` fits in it (``old`` is not scanned: a large saved array), else the smallest
    holding both."""
    if old.dtype.kind == "u" and (len(new) == 0 or int(new.max()) <= int(np.iinfo(old.dtype).max)):
        return old.dtype
    return fitting_dtype(old, new)


def fitting_dtype(*arrays: AnyArray) -> type[np.unsignedinteger[Any]]:
    """The smallest unsigned integer type holding every value of ``arrays`` (non-negative)."""
    return pick_dtype(max(int(a.max()) if len(a) else 0 for a in arrays))


# --------------------------------------------------------------------------------------------
# CSR list sets: key -> sorted docnos (+ aligned payload)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Additions:
    """New (key, doc) pairs, sorted by key then doc, with aligned payloads."""

    keys: I32
    docs: I32
    payload: tuple[AnyArray, ...] = ()


def pairs_from_flat(keys: Sequence[int], counts: Sequence[int], docs: Sequence[int]) -> Additions:
    """(key, doc) pairs from each doc's keys given flat (``counts[i]`` keys for ``docs[i]``;
    each key once per doc), sorted by key, doc."""
    key_arr = np.asarray(keys, dtype=np.int32)
    dd = np.repeat(np.asarray(docs, dtype=np.int32), np.asarray(counts, dtype=np.int64))
    order = np.lexsort((dd, key_arr))
    return Additions(key_arr[order], dd[order])


def pairs(pairs_list: Sequence[tuple[int, int]]) -> Additions:
    """(key, doc) pairs given as tuples, sorted by key then doc."""
    if not pairs_list:
        return Additions(np.zeros(0, np.int32), np.zeros(0, np.int32))
    arr = np.array(pairs_list, dtype=np.int32)
    order = np.lexsort((arr[:, 1], arr[:, 0]))
    return Additions(arr[order, 0].copy(), arr[order, 1].copy())


# splice() copies runs in a Python loop while there are at most this many insertion points
# (each run a memcpy: about twice as fast as np.insert's mask over the whole array); with
# more, np.insert.
SPLICE_RUNS = 200_000


# Makes a new array of zeros for a named index array: (name, shape, dtype) -> array to fill
# (an update can have its largest arrays made right in the files of the index being saved).
Alloc = Callable[[str, tuple[int, ...], Any], AnyArray]


def splice(
    old: AnyArray, where: AnyArray, values: AnyArray, out: AnyArray | None = None
) -> AnyArray:
    """``np.insert(old, where, values)`` for a nondecreasing ``where`` (values inserted at
    the same point keep their order), in ``old``'s dtype: the old array is copied as whole
    runs between the insertion points instead of through a mask of every element. ``out``:
    the array to fill (``len(old) + len(values)`` of ``old``'s dtype), else a new one."""
    values = np.asarray(values).astype(old.dtype, copy=False)
    if out is None:
        out = np.empty(len(old) + len(values), dtype=old.dtype)
    if len(values) == 0:
        out[:] = old
        return out
    cuts = np.flatnonzero(where[1:] != where[:-1]) + 1
    if len(cuts) >= SPLICE_RUNS:
        out[:] = np.insert(old, where, values)
        return out
    starts = [0, *cuts.tolist()]
    ends = [*cuts.tolist(), len(values)]
    at = np.asarray(where)[starts].tolist()
    prev = done = 0
    for s, e, a in zip(starts, ends, at, strict=True):
        out[done : done + a - prev] = old[prev:a]
        done += a - prev
        out[done : done + e - s] = values[s:e]
        done += e - s
        prev = a
    out[done:] = old[prev:]
    return out


def merge_lists(
    ptr: I64,
    docs: I32,
    payload: tuple[AnyArray, ...],
    add: Additions,
    n_keys: int,
    dead: Bool | None,
    alloc: Alloc | None = None,
    names: Sequence[str] = (),
) -> tuple[I64, I32, tuple[AnyArray, ...], Bool | None, I64]:
    """Merge sorted additions into a CSR list set, dropping docs marked ``dead``.

    Returns the new (ptr, docs, payload), the keep-mask applied to the old postings (or None)
    and, for each addition, the index in the *kept* old postings before which it was inserted.
    Payloads take the dtype of the old ones. ``alloc`` makes the merged docs and payloads
    (named by ``names``, docs first) when additions are merged into old lists.
    """
    if len(docs) == 0:  # nothing to merge into: the additions are the lists
        counts = np.bincount(add.keys, minlength=n_keys).astype(np.int64)
        fresh_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        fresh_payload = tuple(
            q.astype(p.dtype, copy=False) for p, q in zip(payload, add.payload, strict=True)
        )
        return (
            fresh_ptr,
            add.docs.astype(np.int32, copy=False),
            fresh_payload,
            None,
            np.zeros(len(add.keys), dtype=np.int64),
        )
    old_keys = len(ptr) - 1
    if n_keys > old_keys:
        ptr = np.concatenate([ptr, np.full(n_keys - old_keys, ptr[-1], dtype=np.int64)])
    keep: Bool | None = None
    if dead is not None:
        dead_of = dead[docs] if len(dead) > int(docs.max()) else np.zeros(len(docs), np.bool_)
        if dead_of.any():
            keep = ~dead_of
            kept_cum = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
            ptr = kept_cum[ptr]
            docs = docs[keep]
            payload = tuple(p[keep] for p in payload)
    if len(add.keys) == 0:
        return ptr, docs, payload, keep, np.zeros(0, dtype=np.int64)
    # Where each addition goes among the kept old postings.
    if len(docs) == 0 or int(add.docs.min()) > int(docs.max()):
        where = ptr[1:][add.keys]  # appended docs go to the end of their key's list
    else:
        where = np.empty(len(add.keys), dtype=np.int64)
        bounds = np.flatnonzero(np.diff(add.keys)) + 1
        starts = np.concatenate([[0], bounds])
        ends = np.concatenate([bounds, [len(add.keys)]])
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
            k = int(add.keys[s])
            lo, hi = int(ptr[k]), int(ptr[k + 1])
            where[s:e] = lo + np.searchsorted(docs[lo:hi], add.docs[s:e])
    total = len(docs) + len(add.docs)

    def made(i: int, dtype: Any) -> AnyArray | None:
        return None if alloc is None or i >= len(names) else alloc(names[i], (total,), dtype)

    new_docs = splice(docs.astype(np.int32, copy=False), where, add.docs, made(0, np.int32))
    new_payload = tuple(
        splice(p, where, q, made(i + 1, p.dtype))
        for i, (p, q) in enumerate(zip(payload, add.payload, strict=True))
    )
    counts = np.bincount(add.keys, minlength=n_keys).astype(np.int64)
    new_ptr = ptr + np.concatenate([[0], np.cumsum(counts)])
    return new_ptr, new_docs.astype(np.int32, copy=False), new_payload, keep, where
