"""The ``digest-bot`` command line: one parser, subcommands registered by their modules.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
subcommands and sets ``func`` (a callable taking the parsed namespace and returning an exit
code). Exit codes: 0 ok, 1 not found / nothing matched, 2 usage or configuration error,
3 nothing could be applied, 141 stdout closed by its reader (``digest-bot search x | head -1``:
the rest of the output is dropped quietly, the code a shell gives a program killed by SIGPIPE).

:func:`main` checks every argument once, before any command runs: an argument that is not
valid UTF-8 (it reaches ``sys.argv`` as surrogate escapes, which SQLite, ``print`` and JSON
cannot encode) is a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable, Sequence
from typing import cast

from bot.cli.common import EXIT_BROKEN_PIPE, EXIT_USAGE

COMMAND_MODULES = (
    "bot.cli.run",
    "bot.cli.reindex",
    "bot.cli.importer",
    "bot.cli.search",
    "bot.cli.export",
    "bot.cli.bench",
    "bot.cli.ops",
)


def package_version() -> str:
    """The installed package's version (pyproject.toml's, the one version of the project)."""
    try:
        return importlib.metadata.version("digest-bot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree never installed
        return "unknown (not installed: pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digest-bot",
        description="Search research digests and run the digest-bot Discord bot.",
    )
    version = f"digest-bot {package_version()}"
    parser.add_argument("--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
    for command in sub.choices.values():  # `digest-bot search --version` too
        command.add_argument("--version", action="version", version=version)
    return parser


def undecodable(argv: Sequence[str]) -> str | None:
    """The first argument that is not valid text (arrived as undecodable bytes), or None."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return arg
    return None


def _shown(arg: str, limit: int = 60) -> str:
    """An argument as the bytes it was typed as: ``'caf\\xe9'``."""
    try:
        text = repr(arg.encode("utf-8", "surrogateescape"))[1:]
    except UnicodeEncodeError:  # a lone surrogate that was never a byte
        text = ascii(arg)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _quiet_broken_pipe() -> None:
    """Point stdout and stderr at /dev/null: the reader has gone, and the interpreter's own
    flush at exit must not fail again (the pattern of the Python docs, ``signal`` module)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(devnull, stream.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    bad = undecodable(arguments)
    if bad is not None:
        print(
            f"digest-bot: argument {_shown(bad)} is not valid UTF-8 text: "
            "pass text in UTF-8 (e.g. convert it with iconv)",
            file=sys.stderr,
            flush=True,
        )
        return EXIT_USAGE
    if arguments[:1] == ["search"]:  # a query word may start with "-": search -chemistry
        from bot.cli.search import query_after_options

        arguments = ["search", *query_after_options(arguments[1:])]
    try:
        parser = build_parser()
        args = parser.parse_args(arguments)
        if args.command is None:
            # No subcommand: run the bot, as documented in the README.
            args = parser.parse_args(["run", *arguments])
        func = cast(Callable[[argparse.Namespace], int], args.func)
        try:
            code = func(args)
        except KeyboardInterrupt:
            return 130
        sys.stdout.flush()  # a closed pipe shows up here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        _quiet_broken_pipe()
        return EXIT_BROKEN_PIPE
