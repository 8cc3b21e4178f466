"""Route modules do not import each other: what two of them need (who may see a dossier,
signing in, the citizen's view, journaling a read) lives in a module that is not a route
(``engine.lifecycle.visibility``, ``service/login.py``, ``service/publicview.py``,
``service/reads.py``…), and only ``service/app.py`` assembles the routes."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICE = Path(__file__).parents[2] / "service"
ROUTE_PACKAGES = ("service.api", "service.web")


def route_modules() -> dict[str, Path]:
    """``service.api.dossiers`` → its file, for every module of the route packages (the
    response models under ``service/api/schemas/`` are not routes)."""
    found = {}
    for package in ROUTE_PACKAGES:
        folder = SERVICE.parent.joinpath(*package.split("."))
        for path in sorted(folder.glob("*.py")):
            if path.stem != "__init__":
                found[f"{package}.{path.stem}"] = path
    return found


def imported_modules(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function, absolute names;
    ``from package import name`` counts as importing ``package.name`` too."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parent = module.split(".")[:-node.level]
                base = ".".join([*parent, base] if base else parent)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_no_route_module_imports_another_route_module():
    routes = route_modules()
    assert {"service.api.dossiers", "service.api.readjournal", "service.web.pages"} <= set(routes)
    crossings = sorted((module, other) for module, path in routes.items()
                       for other in imported_modules(path, module) & set(routes)
                       if other != module)
    assert crossings == []


def test_only_the_app_assembles_the_routes():
    routes = set(route_modules())
    importers = sorted(
        f"service.{path.stem}" for path in SERVICE.glob("*.py")
        if imported_modules(path, f"service.{path.stem}") & routes)
    assert importers == ["service.app"]


def test_the_check_sees_imports_inside_functions_and_relative_ones(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from service.api.dossiers import visible_dossier\n"
                      "from . import readjournal\n", encoding="utf-8")
    seen = imported_modules(sample, "service.api.documents")
    assert {"service.api.dossiers", "service.api.readjournal"} <= seen
