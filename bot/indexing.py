"""Building the search index from the store: the one path of the bot, the CLI and the bench.

The papers are tokenized into compact :class:`~bot.core.index.tokens.DocBatch` es and fed to
an :class:`~bot.core.index.IndexBuilder` in docno (ascending rowid) order. A large build
runs in worker processes (both cores): each task reads a range of rowids from the store on a
connection of its own and tokenizes it, while this process lays out the postings of the
batches already back. A small one, or one where processes cannot be started, reads the store
here in batches and tokenizes in a worker thread. The result is the same index either way.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import time
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.core.index import Index, IndexBuilder
from bot.core.index.tokens import DocBatch, Source, source, tokenize
from bot.core.models import Paper, ProgressFn
from bot.store.papers import PaperStore, read_index_sources

log = logging.getLogger(__name__)

POOL_THRESHOLD = 50_000  # papers from which a build tokenizes in worker processes
TASK = 20_000  # papers per tokenizing task
IN_FLIGHT = 3  # tasks queued ahead of the builder
INDEX_STAGE = "index"  # the progress stage of building or updating the index


@dataclass
class BuildTimes:
    """Where a build's wall time went (the bench reports it)."""

    read_s: float = 0.0  # waiting for the store's batches (0 with workers: they read)
    tokenize_s: float = 0.0  # tokenizing inline, or waiting for the workers (read + tokenize)
    arrays_s: float = 0.0  # feeding the builder and finishing the arrays
    workers: int = 0  # worker processes used (0: tokenized in this process)


def sources(papers: Sequence[tuple[int, Paper]]) -> list[Source]:
    """What the tokenizer needs of each paper."""
    return [source(docno, p) for docno, p in papers]


def tokenize_papers(papers: Sequence[tuple[int, Paper]]) -> DocBatch:
    """The :class:`DocBatch` of ``(docno, paper)`` pairs, tokenized in this process."""
    return tokenize(sources(papers))


def _malloc_trim() -> Callable[[], object]:
    """glibc's ``malloc_trim(0)`` (a no-op elsewhere): hands the heap's free pages back."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


# A build frees many mid-sized arrays while it feeds; glibc keeps that memory in its heaps
# (one per thread), and the final arrays are then mapped on top of it. Giving it back after
# each batch and before the finish keeps the peak RSS near what is actually held.
_trim = _malloc_trim()


def _add(builder: IndexBuilder, batch: DocBatch) -> None:
    builder.add_batch(batch)
    _trim()


def _finish(builder: IndexBuilder, version: int) -> Index:
    _trim()
    return builder.finish(version)


def _pool(workers: int) -> Executor | None:
    try:
        # spawn: the workers inherit neither this process's threads nor its memory
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=workers, mp_context=context)
    except (OSError, ValueError) as exc:  # no processes here: tokenize in threads
        log.warning("cannot start tokenizing processes (%s); building in one process", exc)
        return None


def default_workers(total: int) -> int:
    """Worker processes for a build of ``total`` papers (0: tokenize in this process)."""
    if total < POOL_THRESHOLD:
        return 0
    return min(2, os.cpu_count() or 1)


def read_and_tokenize(database: str, first: int, last: int, removed: frozenset[int]) -> DocBatch:
    """A worker's task: the papers with rowids ``first`` to ``last`` but the ``removed`` ones,
    read from the store and tokenized (the parent only lays out the arrays)."""
    part = read_index_sources(Path(database), first, last)
    return tokenize([s for s in part if s[0] not in removed] if removed else part)


async def build_index(
    store: PaperStore,
    version: int,
    *,
    removed: Collection[int] = frozenset(),
    total: int = 0,
    progress: ProgressFn | None = None,
    workers: int | None = None,
    times: BuildTimes | None = None,
) -> Index:
    """The index of every stored paper but the ``removed`` rowids, for catalogue ``version``.

    ``total``: about how many papers there are (for ``progress`` and to choose ``workers``
    when not given: see :func:`default_workers`).
    """
    times = times if times is not None else BuildTimes()
    count = default_workers(total) if workers is None else workers
    pool = _pool(count) if count > 0 and Path(store.db.path).is_file() else None
    times.workers = count if pool is not None else 0
    builder = IndexBuilder()
    done = 0

    async def feed(pending: Awaitable[DocBatch]) -> None:
        nonlocal done
        t0 = time.perf_counter()
        batch = await pending
        t1 = time.perf_counter()
        await asyncio.to_thread(_add, builder, batch)
        times.tokenize_s += t1 - t0
        times.arrays_s += time.perf_counter() - t1
        done += len(batch)
        if progress is not None:
            progress(INDEX_STAGE, done, max(total, done))

    try:
        if pool is None:
            await _read_inline(store, removed, times, feed)
        else:
            await _read_in_workers(store, removed, pool, feed)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    t0 = time.perf_counter()
    index = await asyncio.to_thread(_finish, builder, version)
    times.arrays_s += time.perf_counter() - t0
    return index


Feed = Callable[[Awaitable[DocBatch]], Awaitable[None]]


async def _read_inline(
    store: PaperStore, removed: Collection[int], times: BuildTimes, feed: Feed
) -> None:
    """This process reads the store; a worker thread tokenizes."""
    waiting: list[Source] = []
    batches = store.iter_index_sources().__aiter__()
    while True:
        t0 = time.perf_counter()
        try:
            batch = await batches.__anext__()
        except StopAsyncIteration:
            break
        times.read_s += time.perf_counter() - t0
        waiting.extend(s for s in batch if s[0] not in removed)
        if len(waiting) >= TASK:
            await feed(asyncio.to_thread(tokenize, waiting))
            waiting = []
    if waiting:
        await feed(asyncio.to_thread(tokenize, waiting))


async def _read_in_workers(
    store: PaperStore, removed: Collection[int], pool: Executor, feed: Feed
) -> None:
    """The workers read the store (a range of rowids each) and tokenize, ``IN_FLIGHT`` tasks
    ahead; this process feeds the builder their batches in docno order."""
    loop = asyncio.get_running_loop()
    database = str(store.db.path)
    dead = sorted(removed)
    queued: deque[asyncio.Future[DocBatch]] = deque()
    try:
        for first, last in await store.index_ranges(TASK):
            gone = frozenset(dead[bisect_left(dead, first) : bisect_right(dead, last)])
            queued.append(
                loop.run_in_executor(pool, read_and_tokenize, database, first, last, gone)
            )
            while len(queued) > IN_FLIGHT:
                await feed(queued.popleft())
        while queued:
            await feed(queued.popleft())
    finally:
        for left in queued:  # a failed build: let the workers' tasks go
            left.cancel()
