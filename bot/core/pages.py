"""Mapping the pages of new memory-mapped files in a background thread.

An array made right in a new file (:meth:`bot.core.saved_index.Draft.array`) has no page in
memory yet: each page is faulted in when first written. On a virtual machine whose memory is
backed on first touch that is most of the cost of writing it (about 1 to 2 s per GB measured
here, several times the copy). :class:`Populator` maps the pages ahead of use
(``MADV_POPULATE_WRITE``, called through libc so the GIL is released) in a thread of its own,
array after array in the order given, while the caller computes and fills them: the faults then
run on another core. Mapping a page never changes what it holds, so the caller may write an
array while it is being mapped (a page it reaches first it simply faults in itself).

:func:`lock` keeps arrays in memory (``mlock``): a host that pages out memory left idle for a
while (or memory pressure) then never makes a search read the index back from disk. The lock
ends with the memory map (when the index is let go).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import numpy.typing as npt

AnyArray = npt.NDArray[Any]

POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)  # Linux 5.14+
STEP = 4 * 1024 * 1024  # bytes mapped per call (the thread stops between calls)
_PAGE = mmap.PAGESIZE


def _libc(name: str, *argtypes: Any) -> Any | None:
    """libc's function ``name`` returning an int (ctypes releases the GIL around the call;
    errno is kept for ``ctypes.get_errno``), or None off Linux or when libc lacks it."""
    if sys.platform != "linux":
        return None
    try:
        fn = getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None
    fn.argtypes = list(argtypes)
    fn.restype = ctypes.c_int
    return fn


_MADVISE: Callable[[int, int, int], int] | None = _libc(
    "madvise", ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int
)
_MLOCK: Callable[[int, int], int] | None = _libc("mlock", ctypes.c_void_p, ctypes.c_size_t)


def lock(arrays: Iterable[AnyArray]) -> tuple[int, str | None]:
    """Lock the pages of ``arrays`` in memory (``mlock``: read in first if need be); the bytes
    locked, and why the rest could not be (None: every one was). The lock ends when the
    memory is unmapped or freed. Refused when it would pass ``RLIMIT_MEMLOCK`` (``ulimit -l``)
    without the CAP_IPC_LOCK capability; not available off Linux."""
    if _MLOCK is None:
        return 0, "memory locking is not available on this system"
    done = 0
    for array in arrays:
        if array.nbytes == 0:
            continue
        start = int(array.ctypes.data)
        at = start - start % _PAGE
        size = start + array.nbytes - at
        if _MLOCK(at, size) != 0:
            return done, os.strerror(ctypes.get_errno())
        done += size
    return done, None


class Populator:
    """Maps the pages of the arrays :meth:`add`-ed, first added first, in one daemon thread
    (started on the first array); :meth:`close` stops it and waits for it. Each array is held
    until its pages are mapped, so its memory map outlives the calls."""

    def __init__(self) -> None:
        self._arrays_left: deque[AnyArray] = deque()
        self._signal = threading.Condition()
        self._stop = False
        self._mapper: threading.Thread | None = None

    @staticmethod
    def available() -> bool:
        """Whether pages can be mapped in the background here (Linux, libc found)."""
        return _MADVISE is not None

    def add(self, array: AnyArray) -> bool:
        """Queue the pages of ``array`` (writable memory, e.g. a shared file map); False when
        they cannot be mapped in the background (the caller maps them itself if it wants)."""
        if _MADVISE is None or array.nbytes == 0:
            return False
        with self._signal:
            if self._stop:
                return False
            self._arrays_left.append(array)
            if self._mapper is None:
                self._mapper = threading.Thread(target=self._run, name="index-pages", daemon=True)
                self._mapper.start()
            self._signal.notify()
        return True

    def close(self) -> None:
        """Stop mapping (between two calls) and wait for the thread."""
        with self._signal:
            self._stop = True
            self._arrays_left.clear()
            self._signal.notify()
            thread = self._mapper
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        madvise = _MADVISE
        assert madvise is not None
        while True:
            with self._signal:
                while not self._arrays_left and not self._stop:
                    self._signal.wait()
                if self._stop:
                    return
                array = self._arrays_left.popleft()
            start = int(array.ctypes.data)
            end = start + array.nbytes
            at = start - start % _PAGE
            while at < end:
                if self._stop:
                    return
                n = min(STEP, end - at)
                if madvise(at, n, POPULATE_WRITE) != 0:
                    break  # refused (an old kernel): the writer faults the pages in
                at += n
            del array
