"""Building the search index from the store: the one path of the bot, the CLI and the bench.

The papers are read from the store in batches (by ascending rowid, the docno), tokenized
into compact :class:`~bot.core.index.tokens.DocBatch` es and fed to an
:class:`~bot.core.index.IndexBuilder` in docno order. A large build tokenizes in worker
processes (both cores: the workers tokenize while this process reads the store and lays out
the postings); a small one, or one where processes cannot be started, tokenizes in a worker
thread. The result is the same index either way.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

from bot.core.index import Index, IndexBuilder
from bot.core.index.tokens import DocBatch, Source, source, tokenize
from bot.core.models import Paper, ProgressFn
from bot.store.papers import PaperStore

log = logging.getLogger(__name__)

POOL_THRESHOLD = 50_000  # papers from which a build tokenizes in worker processes
TASK = 20_000  # papers per tokenizing task
IN_FLIGHT = 3  # tasks queued ahead of the builder
INDEX_STAGE = "index"  # the progress stage of building or updating the index


@dataclass
class BuildTimes:
    """Where a build's wall time went (the bench reports it)."""

    read_s: float = 0.0  # waiting for the store's batches
    tokenize_s: float = 0.0  # tokenizing inline, or waiting for the workers
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
    pool = _pool(count) if count > 0 else None
    times.workers = count if pool is not None else 0
    builder = IndexBuilder()
    loop = asyncio.get_running_loop()
    queued: deque[tuple[int, Awaitable[DocBatch]]] = deque()
    done = 0

    async def feed(batch: DocBatch, size: int) -> None:
        nonlocal done
        t0 = time.perf_counter()
        await asyncio.to_thread(_add, builder, batch)
        times.arrays_s += time.perf_counter() - t0
        done += size
        if progress is not None:
            progress(INDEX_STAGE, done, max(total, done))

    async def drain(keep: int) -> None:
        while len(queued) > keep:
            size, pending = queued.popleft()
            t0 = time.perf_counter()
            batch = await pending
            times.tokenize_s += time.perf_counter() - t0
            await feed(batch, size)

    async def tokenize_part(part: list[Source]) -> None:
        if pool is None:
            t0 = time.perf_counter()
            tokenized = await asyncio.to_thread(tokenize, part)
            times.tokenize_s += time.perf_counter() - t0
            await feed(tokenized, len(part))
        else:
            queued.append((len(part), loop.run_in_executor(pool, tokenize, part)))
            await drain(IN_FLIGHT)

    waiting: list[Source] = []
    try:
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
                await tokenize_part(waiting)
                waiting = []
        if waiting:
            await tokenize_part(waiting)
        await drain(0)
    finally:
        for _, left in queued:  # a failed build: let the workers' tasks go
            if isinstance(left, asyncio.Future):
                left.cancel()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    t0 = time.perf_counter()
    index = await asyncio.to_thread(_finish, builder, version)
    times.arrays_s += time.perf_counter() - t0
    return index
