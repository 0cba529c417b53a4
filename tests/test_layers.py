"""The layers stay apart: read with ``ast``, every module under bot/ keeps to its own names.

* No module reads another bot module's private names: it neither imports ``_name`` from it
  nor touches ``x._name`` where ``_name`` belongs to another module (an attribute, method,
  slot or function that another module defines and this one does not). ``self._x`` and
  ``cls._x`` are a class's own business and are not checked.
* The pure core (bot/core) imports neither discord, aiosqlite nor multiprocessing, and from
  the bot package only bot.core (so not bot.store, bot.ui, bot.cogs, bot.bench, ...).
* bot.bench (benchmarks and synthetic data) is imported only by bot/cli/bench.py.
* The Discord layer stays above the CLI and below the client: nothing under bot/cogs or
  bot/ui imports bot.cli; bot/ui imports neither bot.client nor bot.cogs; bot/cogs imports
  bot.client only to type the bot (under ``if TYPE_CHECKING:``), so errors come from
  bot.errors and the client is never needed to raise one. bot/ui/reindex.py, the summary
  the CLI prints too, imports no discord (the CLI does not load discord.py).

``ALLOWED`` lists the violations known today in files other engineers are changing at the
same time; each is to be fixed there and its line removed here. A listed violation that is
gone fails the test too, so the list cannot go stale.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import bot

BOT = Path(bot.__file__).resolve().parent

# (file relative to bot/, what the checker says) -- TODO lead: empty this after the merge.
ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # (none yet)
    }
)

CORE_FORBIDDEN_TOP = frozenset({"discord", "aiosqlite", "multiprocessing"})


@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. bot.core.index
    path: Path
    tree: ast.Module

    @property
    def rel(self) -> str:
        return self.path.relative_to(BOT).as_posix()

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def load_modules() -> list[Module]:
    out = []
    for path in sorted(BOT.rglob("*.py")):
        parts = list(path.relative_to(BOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        out.append(Module(".".join(parts), path, tree))
    return out


def resolve(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module name of a ``from ... import`` (relative ones included)."""
    if node.level == 0:
        return node.module or ""
    base = module.package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def in_bot(name: str) -> bool:
    return name == "bot" or name.startswith("bot.")


def imported_modules(module: Module) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import, wherever it stands."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, node)
            if source == "bot":  # ``from bot import store`` imports the module bot.store
                out += [(node.lineno, f"bot.{alias.name}") for alias in node.names]
            else:
                out.append((node.lineno, source))
    return out


def defined_private_names(tree: ast.Module) -> set[str]:
    """Private names a module defines: functions, classes, assigned names and attributes
    (``self._x = ...``), class attributes and ``__slots__`` entries."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            names |= {
                c.value
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            }
    return {n for n in names if is_private(n)}


def bot_bound_names(module: Module) -> dict[str, str]:
    """Local names bound to a bot module or to something imported from one."""
    out: dict[str, str] = {}
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if in_bot(alias.name):
                    out[alias.asname or alias.name.partition(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom):
            source = resolve(module, node)
            if in_bot(source):
                for alias in node.names:
                    out[alias.asname or alias.name] = f"{source}.{alias.name}"
    return out


def private_access_violations(modules: list[Module]) -> set[tuple[str, str]]:
    own = {m.name: defined_private_names(m.tree) for m in modules}
    owners: dict[str, set[str]] = {}
    for name, privates in own.items():
        for p in privates:
            owners.setdefault(p, set()).add(name)
    found: set[tuple[str, str]] = set()
    for m in modules:
        bound = bot_bound_names(m)
        for node in ast.walk(m.tree):
            if isinstance(node, ast.ImportFrom):
                source = resolve(m, node)
                if in_bot(source) and source != m.name:
                    for alias in node.names:
                        if is_private(alias.name):
                            found.add((m.rel, f"imports {alias.name} from {source}"))
            attr: str | None = None
            receiver: ast.expr | None = None
            if isinstance(node, ast.Attribute):
                attr, receiver = node.attr, node.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"getattr", "setattr", "hasattr", "delattr"}
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                attr, receiver = node.args[1].value, node.args[0]
            if attr is None or receiver is None or not is_private(attr):
                continue
            if isinstance(receiver, ast.Name) and receiver.id in {"self", "cls"}:
                continue
            if isinstance(receiver, ast.Name) and receiver.id in bound:
                found.add((m.rel, f"reads {receiver.id}.{attr} ({bound[receiver.id]})"))
            elif attr not in own[m.name] and owners.get(attr, set()) - {m.name}:
                where = ", ".join(sorted(owners[attr]))
                found.add((m.rel, f"reads .{attr} (defined in {where})"))
    return found


def core_import_violations(modules: list[Module]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for m in modules:
        if not m.name.startswith("bot.core"):
            continue
        for _line, name in imported_modules(m):
            top = name.partition(".")[0]
            if top in CORE_FORBIDDEN_TOP:
                found.add((m.rel, f"core imports {top}"))
            elif in_bot(name) and name != "bot" and not name.startswith("bot.core"):
                found.add((m.rel, f"core imports {name}"))
    return found


def runtime_imports(module: Module) -> list[tuple[int, str]]:
    """Like :func:`imported_modules`, without the imports under ``if TYPE_CHECKING:``."""
    skipped: set[int] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            skipped |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    kept = Module(
        module.name,
        module.path,
        ast.Module(
            body=[
                n
                for n in ast.walk(module.tree)
                if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in skipped
            ],
            type_ignores=[],
        ),
    )
    return imported_modules(kept)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _out_of_place(m: Module, name: str) -> bool:
    """Whether ``m`` (under bot/cogs or bot/ui) may not import ``name`` at all."""
    if _within(name, "bot.cli"):
        return True
    if _within(m.name, "bot.ui") and (_within(name, "bot.client") or _within(name, "bot.cogs")):
        return True
    return m.name == "bot.ui.reindex" and name.partition(".")[0] == "discord"


def discord_layer_violations(modules: list[Module]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for m in modules:
        in_cogs = _within(m.name, "bot.cogs")
        if not (in_cogs or _within(m.name, "bot.ui")):
            continue
        found |= {
            (m.rel, f"imports {name}")
            for _line, name in imported_modules(m)
            if _out_of_place(m, name)
        }
        if in_cogs:
            for _line, name in runtime_imports(m):
                if _within(name, "bot.client"):
                    found.add((m.rel, f"imports {name} outside TYPE_CHECKING"))
    return found


def bench_import_violations(modules: list[Module]) -> set[tuple[str, str]]:
    """bot.bench (benchmarks, synthetic data) is for ``digest-bot bench`` / ``generate`` only."""
    found: set[tuple[str, str]] = set()
    for m in modules:
        if m.name.startswith("bot.bench") or m.name == "bot.cli.bench":
            continue
        for _line, name in imported_modules(m):
            if name == "bot.bench" or name.startswith("bot.bench."):
                found.add((m.rel, f"imports {name}"))
    return found


def test_the_checker_sees_what_it_looks_for(tmp_path: Path) -> None:
    """The rules fire on small modules made to break them (so the real test can fail)."""
    a = Module("bot.core.a", BOT / "core" / "a.py", ast.parse(
        "import multiprocessing\nfrom bot.store.db import Database\nfrom .. import ui\n"
        "from bot.core.b import _helper, Thing\nfrom . import b\n"
        "class Mine:\n    __slots__ = ('_own',)\n    def f(self, x: Thing) -> None:\n"
        "        self._own = 1\n        self._ok = x\n        x._secret\n        b._helper\n"
        "        Thing._cls_secret\n        getattr(x, '_secret')\n        x._own\n"
        "        x._not_ours_anywhere\n"
    ))  # fmt: skip
    b = Module("bot.core.b", BOT / "core" / "b.py", ast.parse(
        "def _helper() -> None: ...\nclass Thing:\n    _cls_secret = 1\n"
        "    def __init__(self) -> None:\n        self._secret = 2\n"
    ))  # fmt: skip
    private = private_access_violations([a, b])
    assert {msg for _, msg in private} == {
        "imports _helper from bot.core.b",
        "reads b._helper (bot.core.b)",
        "reads Thing._cls_secret (bot.core.b.Thing)",
        "reads ._secret (defined in bot.core.b)",
    }
    assert bench_import_violations([a, b]) == set()
    c = Module("bot.catalogue", BOT / "catalogue.py", ast.parse("from bot.bench import runner\n"))
    assert bench_import_violations([c]) == {("catalogue.py", "imports bot.bench")}
    cog = Module("bot.cogs.x", BOT / "cogs" / "x.py", ast.parse(
        "from typing import TYPE_CHECKING\nfrom bot.cli.reindex import render\n"
        "if TYPE_CHECKING:\n    from bot.client import DigestBot\n"
        "from bot.client import UserFacingError\n"
    ))  # fmt: skip
    typed_only = Module("bot.cogs.y", BOT / "cogs" / "y.py", ast.parse(
        "import typing\nif typing.TYPE_CHECKING:\n    import bot.client\n"
    ))  # fmt: skip
    ui = Module("bot.ui.x", BOT / "ui" / "x.py", ast.parse(
        "from bot.client import DigestBot\nfrom bot import cli\nfrom bot.cogs import search\n"
    ))  # fmt: skip
    summary = Module("bot.ui.reindex", BOT / "ui" / "reindex.py", ast.parse("import discord\n"))
    assert discord_layer_violations([cog, typed_only, ui, summary, c]) == {
        ("cogs/x.py", "imports bot.cli.reindex"),
        ("cogs/x.py", "imports bot.client outside TYPE_CHECKING"),
        ("ui/x.py", "imports bot.client"),
        ("ui/x.py", "imports bot.cli"),
        ("ui/x.py", "imports bot.cogs"),
        ("ui/reindex.py", "imports discord"),
    }
    layers = core_import_violations([a, b])
    assert {msg for _, msg in layers} == {
        "core imports multiprocessing",
        "core imports bot.store.db",
        "core imports bot.ui",
    }


def test_no_module_reads_another_modules_private_names() -> None:
    found = private_access_violations(load_modules())
    new = sorted(found - ALLOWED)
    assert not new, "private names read across modules:\n" + "\n".join(map(str, new))
    stale = sorted(v for v in ALLOWED - found if not v[1].startswith("core imports"))
    assert not stale, "fixed, remove from ALLOWED:\n" + "\n".join(map(str, stale))


def test_the_core_is_pure() -> None:
    found = core_import_violations(load_modules())
    new = sorted(found - ALLOWED)
    assert not new, "bot/core imports outside the pure core:\n" + "\n".join(map(str, new))
    stale = sorted(v for v in ALLOWED - found if v[1].startswith("core imports"))
    assert not stale, "fixed, remove from ALLOWED:\n" + "\n".join(map(str, stale))


def test_only_the_bench_command_imports_the_bench() -> None:
    found = bench_import_violations(load_modules())
    assert not found, "bot.bench imported by the bot:\n" + "\n".join(map(str, sorted(found)))


def test_the_discord_layer_keeps_to_its_place() -> None:
    found = discord_layer_violations(load_modules())
    assert not found, "bot/cogs or bot/ui out of place:\n" + "\n".join(map(str, sorted(found)))
