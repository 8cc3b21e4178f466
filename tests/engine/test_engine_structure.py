"""The shape of ``engine/``: every module imports, no two modules import each other (directly or
round a longer loop), and no file grows past what a reader takes in at once.

Cycles are found on the source (``ast``), not by importing: a function-local import used to
dodge a circle at import time is still an edge here, because the modules still depend on each
other. Imports under ``if TYPE_CHECKING:`` are left out (they never run). Importing a
submodule is an edge to that submodule only, not to its package's ``__init__``: a package
that re-exports its submodules is not a cycle, but a submodule that imports from its own
package's facade is (the facade imports it back).
"""

from __future__ import annotations

import ast
import importlib
from collections import deque
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"

#: No file in engine/ over ~500 lines (issue 13); a little slack for a docstring.
MAX_LINES = 520


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every ``.py`` file under ``engine/``."""
    out = {}
    for path in sorted(ENGINE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def _edges(name: str, path: Path) -> dict[str, int]:
    """The engine modules ``name`` imports → the line of the first such import."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: dict[str, int] = {}
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative import
                anchor = package[:len(package) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        for target in targets:
            if target in MODULES and target != name:
                out.setdefault(target, node.lineno)
    return out


GRAPH = {name: _edges(name, path) for name, path in MODULES.items()}


def _strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that reach each other (size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(groups)


def _shortest_cycle(graph: dict[str, dict[str, int]], group: list[str]) -> list[str]:
    """One shortest loop through the group's first module, as the path a reader follows."""
    start, members = group[0], set(group)
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for w in sorted(graph[v]):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if w not in parent:
                parent[w] = v
                queue.append(w)
    return group  # pragma: no cover - a strongly connected group always has a loop


def _describe(graph: dict[str, dict[str, int]], group: list[str]) -> str:
    cycle = _shortest_cycle(graph, group)
    steps = "\n".join(
        f"      {a} → {b}  ({MODULES[a].relative_to(ROOT)}:{graph[a][b]})"
        for a, b in pairwise(cycle))
    return f"  {len(group)} modules: {', '.join(group)}\n    e.g.\n{steps}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_engine_module_imports(name):
    importlib.import_module(name)


def test_no_import_cycle_inside_engine():
    """Modules with one idea each depend one way; a cycle means two ideas are tangled (or a
    function-local import hides one). Reports every cycle at once, with the import lines."""
    cycles = _strongly_connected(GRAPH)
    assert not cycles, "import cycles in engine/:\n" + "\n".join(
        _describe(GRAPH, group) for group in cycles)


def test_the_cycle_finder_sees_a_function_local_import():
    """The guard itself: a loop closed by an import inside a function is a cycle."""
    graph = {"a": {"b": 1}, "b": {"c": 3}, "c": {"a": 7}, "d": {"a": 2}}
    assert _strongly_connected(graph) == [["a", "b", "c"]]
    assert _shortest_cycle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    tree = ast.parse("import x\ndef f():\n    from y import z\n"
                     "if TYPE_CHECKING:\n    import t\n")
    assert [n.lineno for n in _import_nodes(tree)] == [1, 3]


def test_no_engine_file_is_over_the_line_limit():
    too_long = {}
    for path in MODULES.values():
        rel = path.relative_to(ROOT).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long[rel] = lines
    assert not too_long, f"engine files over {MAX_LINES} lines: {too_long}"
