"""The version is written once, in pyproject.toml; ``bot.__version__`` reads the installed one."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import bot

REPO = Path(__file__).resolve().parent.parent


def test_version_comes_from_pyproject() -> None:
    with (REPO / "pyproject.toml").open("rb") as f:
        declared = tomllib.load(f)["project"]["version"]
    assert bot.__version__ == declared


def test_version_is_not_written_in_the_package() -> None:
    tree = ast.parse((REPO / "bot" / "__init__.py").read_text(encoding="utf-8"))
    literals = [
        node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    # the only literal: what an uninstalled source tree says
    assert set(literals) <= {"0+unknown"}, "bot.__version__ is written by hand, not installed"
