"""Small helpers shared by the command-line modules.

Expected failures end a command with one line on stderr and an exit code, never a traceback.
The pattern::

    def cmd_thing(args: argparse.Namespace) -> int:
        return run_command(_thing(args))

    async def _thing(args: argparse.Namespace) -> int:
        settings = settings_with_db(args.db)          # CliError(EXIT_USAGE) on a bad setting
        ...                                           # raise CliError(message, code) to stop
        return EXIT_OK

:func:`run_command` runs the coroutine and turns a :class:`CliError` into its message on
stderr and its exit code.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TextIO

from tqdm import tqdm

from bot.settings import Settings, SettingsError, check_index_dir
from bot.store.db import DatabaseFailure, StoreError

# The exit codes of every command (the one definition; bot.cli documents them).
EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_NOT_APPLIED = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: stdout closed by its reader

PROG = "digest-bot"


class CliError(Exception):
    """An expected failure: ``message`` is printed as one line, ``exit_code`` returned."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def print_error(message: str, stream: TextIO | None = None) -> None:
    """Print ``digest-bot: message`` as one line on stderr."""
    out = stream if stream is not None else sys.stderr
    one_line = " ".join(message.split())
    print(f"{PROG}: {one_line}", file=out, flush=True)


def is_tty(stream: TextIO | None = None) -> bool:
    """True when ``stream`` (default stderr) is an interactive terminal."""
    out = stream if stream is not None else sys.stderr
    try:
        return out.isatty()
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


def terminal_size(stream: TextIO) -> tuple[int, int]:
    """(columns, lines) of the terminal ``stream`` shows on; 100 x 24 where it says 0 or
    none (a pseudo-terminal whose size was never set)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, ValueError, OSError):
        return 100, 24
    return size.columns or 100, size.lines or 24


def load_settings() -> Settings:
    """``Settings.from_env()``, with a bad setting turned into ``CliError(EXIT_USAGE)``."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise CliError(f"configuration error: {exc}", EXIT_USAGE) from None


def settings_with_db(db: Path | None, digests: Path | None = None) -> Settings:
    """The settings, with ``--db`` overriding DATABASE_PATH (and the index beside it) and
    ``--digests`` DIGEST_DIR; an INDEX_DIR digest-bot must not write in is refused here,
    before anything is opened (``CliError(EXIT_USAGE)``)."""
    settings = load_settings()
    if db is not None:
        index_dir = settings.index_dir if os.environ.get("INDEX_DIR") else Path(db).parent / "index"
        settings = replace(settings, database_path=Path(db), index_dir=index_dir)
    if digests is not None:
        settings = replace(settings, digest_dir=Path(digests))
    try:
        check_index_dir(settings)
    except SettingsError as exc:
        raise CliError(f"configuration error: {exc}", EXIT_USAGE) from None
    return settings


def run_command(coro: Coroutine[Any, Any, int]) -> int:
    """Run a command coroutine; a :class:`CliError` becomes its message and exit code."""
    try:
        return asyncio.run(coro)
    except CliError as exc:
        print_error(exc.message)
        return exc.exit_code
    except SettingsError as exc:  # e.g. INDEX_DIR filled by someone else since the start
        print_error(f"configuration error: {exc}")
        return EXIT_USAGE
    except DatabaseFailure as exc:  # e.g. disk full, database locked for too long
        print_error(f"database error: {exc}")
        return EXIT_NOT_APPLIED
    except StoreError as exc:
        print_error(str(exc))
        return EXIT_NOT_APPLIED


class TerminalProgress:
    """Progress on a terminal: one tqdm bar per phase with counts, rate and ETA, e.g.
    ``writing papers: 40%|████      | 40,000/100,000 papers [00:04<00:06, 9.8k papers/s]``.

    Silent unless ``enabled`` (by default: when stderr is a terminal), so piped output gets
    only the command's own summary. Call it as ``progress(stage, done, total)``, the signature
    of :meth:`bot.catalogue.Catalogue.reindex`'s ``progress`` callback; ``phases`` maps a
    stage to what is shown and its unit. A new stage ends the previous bar (left on screen,
    complete); :meth:`done` ends the last one.
    """

    def __init__(
        self,
        phases: dict[str, tuple[str, str]] | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = is_tty(self.stream) if enabled is None else enabled
        self.phases = phases or {}
        self.interval = interval
        self._stage = ""
        self._bar: tqdm[NoReturn] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self._bar
        if bar is None or stage != self._stage:
            self.done()
            label, unit = self.phases.get(stage, (stage, "it"))
            columns, lines = terminal_size(self.stream)
            bar = self._bar = tqdm(
                total=total,
                desc=label,
                unit=" " + unit,
                unit_scale=False,
                file=self.stream,
                mininterval=self.interval,
                ncols=columns,
                nrows=lines,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt}{unit} "
                "[{elapsed}<{remaining}, {rate_fmt}]",
            )
            self._stage = stage
        if total != bar.total:
            bar.total = total
        bar.update(done - bar.n)

    def done(self) -> None:
        """End the current phase's bar, complete, on its own line."""
        bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()
