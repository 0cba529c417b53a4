"""``--version`` on ``digest-bot`` and every subcommand: the package's one version number."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]


def _project_version() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return str(data["project"]["version"])


def _subcommands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sub.choices is not None
    return sorted(sub.choices)


@pytest.mark.parametrize(
    "args", [["--version"], *([c, "--version"] for c in _subcommands())], ids=lambda a: " ".join(a)
)
def test_version_is_the_project_version(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"digest-bot {_project_version()}"


def test_every_command_is_covered() -> None:
    assert {"run", "sync", "reindex", "search", "backup", "restore", "check"} <= set(_subcommands())
