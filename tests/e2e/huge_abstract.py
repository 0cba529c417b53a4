"""Time and peak memory of the CLI on a digest holding one huge abstract (issue 8, item 7).

Not part of pytest. Run from the repository root::

    python -m tests.e2e.huge_abstract                    # 8 MB and 50 MB abstracts
    python -m tests.e2e.huge_abstract --sizes 8000000 --old-db DIR

For each size it writes a digest folder (the seed digest plus one paper whose abstract has
that many characters), then runs, each as its own process under ``/usr/bin/time``:
``digest-bot reindex`` and ``digest-bot search hyperbolic`` twice (the first search builds
the search index when no saved one is current, the second loads it), and prints wall time and peak
resident memory. ``--old-db DIR`` skips the reindex and searches the database and index in
``DIR/<size>/`` (e.g. ones built by an older version without the entry bounds), which shows
what the search costs when the catalogue still holds the huge abstract.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.bench.generate import generate_papers
from tests.e2e.harness import copy_seeds

NBSP = "\u00a0"


def huge_abstract(length: int) -> str:
    """``length`` characters of varied abstract text (synthetic abstracts, repeated)."""
    parts = ["Hyperbolic embeddings of everything, at length."]
    size = len(parts[0])
    for *_, abstract in generate_papers(7, 0, 2000):
        parts.append(abstract)
        size += len(abstract) + 1
    base = " ".join(parts)
    return (base + " ") * (length // (len(base) + 1)) + base[: length % (len(base) + 1)]


def huge_digest(length: int) -> str:
    """One digest entry (the real format) whose abstract has ``length`` characters."""
    return (
        "\n".join(
            [
                f"{NBSP}Huge County",
                "",
                "",
                "Hyperbolic Embeddings With an Enormous Abstract",
                "",
                "Plain, Jane, Ordinary, Joe",
                "",
                "arXiv.org Machine Learning",
                "",
                huge_abstract(length).strip(),
            ]
        )
        + "\n"
    )


def timed(args: list[str], env: dict[str, str]) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS in MB, exit code, last stderr line) of ``python -m bot ARGS``."""
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"TIME ([\d.]+) (\d+)", proc.stderr)
    assert match is not None, proc.stderr
    other = [ln for ln in proc.stderr.splitlines() if ln and not ln.startswith("TIME ")]
    return float(match[1]), int(match[2]) // 1024, proc.returncode, (other or [""])[-1][:160]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.huge_abstract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[8_000_000, 50_000_000])
    parser.add_argument("--work", type=Path, default=None, help="working folder")
    parser.add_argument(
        "--old-db",
        type=Path,
        default=None,
        help="search the databases in DIR/<size>/ instead of reindexing",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="digest-huge-"))
    print("| abstract | step | wall s | peak RSS MB | exit |")
    print("| ---: | --- | ---: | ---: | ---: |")
    for size in args.sizes:
        base = (args.old_db or work) / str(size)
        env = dict(
            os.environ,
            DATABASE_PATH=str(base / "digest.db"),
            INDEX_DIR=str(base / "index"),
            DIGEST_DIR=str(base / "digests"),
        )
        env.pop("DISCORD_TOKEN", None)
        search = ["search", "hyperbolic"]
        # the first search may build and save the index; the second loads the saved one
        steps: list[tuple[str, list[str]]] = [
            ("search hyperbolic", search),
            ("search again", search),
        ]
        if args.old_db is None:
            copy_seeds(base / "digests", {"zz_huge.txt": huge_digest(size)})
            steps.insert(0, ("reindex", ["reindex"]))
        for name, cli in steps:
            wall, rss, code, last = timed(cli, env)
            print(f"| {size / 1e6:g} MB | {name} | {wall:.2f} | {rss} | {code} |", flush=True)
            if code not in (0, 1):
                print(f"  {last}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
