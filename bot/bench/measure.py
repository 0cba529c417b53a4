"""Measuring helpers shared by the benchmarks: RSS, percentiles, a fresh process."""

from __future__ import annotations

import multiprocessing
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def rss_mb() -> float:
    """Resident set size now (MB), from /proc (0 when unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_children_mb() -> float:
    """The largest peak RSS of the child processes waited for (the build's workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def latency(values: list[float]) -> dict[str, float]:
    """p50 / p95 / max in milliseconds of durations in seconds."""
    ms = [v * 1000 for v in values]
    return {
        "p50": percentile(ms, 0.5),
        "p95": percentile(ms, 0.95),
        "max": max(ms) if ms else float("nan"),
    }


def in_process(target: Callable[..., None], *args: Any) -> dict[str, Any]:
    """Run ``target(*args, conn)`` in a fresh (spawned) process; what it sends on ``conn``."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    child.close()
    try:
        result: dict[str, Any] = parent.recv()
    except EOFError:
        result = {"error": f"{target.__name__} exited with {proc.exitcode}"}
    proc.join()
    return result


def say(text: str) -> None:
    """A progress line on stderr."""
    print(text, file=sys.stderr, flush=True)
