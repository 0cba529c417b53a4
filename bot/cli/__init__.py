"""The ``digest-bot`` command line: one parser, subcommands registered by their modules.

Each module in ``COMMAND_MODULES`` exposes ``register(subparsers)``, which adds its
subcommands and sets ``func`` (a callable taking the parsed namespace and returning an exit
code). Exit codes: 0 ok, 1 not found / nothing matched, 2 usage or configuration error,
3 nothing could be applied.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import cast

COMMAND_MODULES = (
    "bot.cli.run",
    "bot.cli.reindex",
    "bot.cli.importer",
    "bot.cli.search",
    "bot.cli.bench",
)

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_USAGE = 2
EXIT_NOT_APPLIED = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digest-bot",
        description="Search research digests and run the digest-bot Discord bot.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # No subcommand: run the bot, as documented in the README.
        args = parser.parse_args(["run", *(argv or sys.argv[1:])])
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        return func(args)
    except KeyboardInterrupt:
        return 130
