"""Load procedure definitions from YAML, reporting every problem as ``path:line: message``.

The people who maintain the catalogue are not programmers; a message like "versions.0.steps.2
.budget.unit: Input should be ..." is useless without the line. So each pydantic error location
is walked down the YAML node tree (``yaml.compose`` keeps a mark for every node) to the line of
the offending value. Syntax errors and duplicate keys (which PyYAML would silently merge) are
reported the same way.

``check_catalogue`` never raises for bad data: it returns the issues, for ``motcua workflows
check``. ``load_catalogue`` raises :class:`CatalogueError` carrying the same issues.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from workflows.schema import Level, LocatedError, Procedure, ProcedureVersion

__all__ = [
    "DEFAULT_CATALOGUE_DIR",
    "Catalogue",
    "CatalogueError",
    "Issue",
    "check_catalogue",
    "format_issues",
    "load_catalogue",
    "load_procedure",
    "load_procedures",
    "validate_yaml_file",
]

#: The catalogue shipped with MotCua (one YAML file per procedure).
DEFAULT_CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"

YAML_SUFFIXES = (".yaml", ".yml")

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a definition file. ``line`` is 1-based; ``None`` when the file itself
    is the problem (missing, empty directory)."""

    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return self.format()

    def format(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = self.path.resolve().relative_to(root.resolve())
        where = f"{path}:{self.line}" if self.line is not None else f"{path}"
        return f"{where}: {self.message}"


class CatalogueError(ValueError):
    """Definition files that cannot be used, with every issue found."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__(format_issues(self.issues))


def format_issues(issues: Iterable[Issue], root: Path | None = None) -> str:
    """One ``path:line: message`` per line, in the order found (files sorted by name)."""
    return "\n".join(issue.format(root) for issue in issues)


# ----- YAML → model with line numbers -------------------------------------------------------


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def line_of(root: Node | None, loc: Loc) -> int | None:
    """The line of the YAML node at ``loc`` (keys and list indexes), or of the deepest node
    that exists on the way (e.g. the mapping a required key is missing from)."""
    if root is None:
        return None
    current: Node = root
    line = _line(root)
    for part in loc:
        if isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode) and key_node.value == str(part):
                    # a scalar value is on its own line; for a block collection the key's
                    # line reads better than the first item's
                    line = _line(value_node if isinstance(value_node, ScalarNode) else key_node)
                    current = value_node
                    break
            else:
                break
        elif isinstance(current, SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(current.value):
                break
            current = current.value[part]
            line = _line(current)
        else:
            break
    return line


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _issues_from_validation(path: Path, root: Node | None, exc: ValidationError,
                            prefix: Loc = ()) -> list[Issue]:
    issues: list[Issue] = []
    for error in exc.errors():
        loc: Loc = prefix + tuple(error["loc"])
        message = error["msg"]
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedError):
            loc += cause.loc
            message = str(cause)
        elif error["type"] == "value_error":
            message = str(cause) if cause is not None else message.removeprefix("Value error, ")
        if error["type"] == "missing":
            message = f"required field {str(loc[-1])!r} is missing"
            where = _dotted(loc[:-1])
        else:
            where = _dotted(loc)
        text = f"{where}: {message}" if where else message
        issues.append(Issue(path, line_of(root, loc), text))
    return issues


def _duplicate_keys(path: Path, node: Node | None) -> list[Issue]:
    """PyYAML keeps the last of two equal keys without a word; a catalogue must not."""
    issues: list[Issue] = []
    seen_nodes: set[int] = set()

    def walk(current: Node) -> None:
        if id(current) in seen_nodes:  # aliases point at the same node
            return
        seen_nodes.add(id(current))
        if isinstance(current, MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode):
                    if key_node.value in first:
                        issues.append(Issue(path, _line(key_node),
                                            f"duplicate key {key_node.value!r} (first on line "
                                            f"{first[key_node.value]})"))
                    else:
                        first[key_node.value] = _line(key_node)
                walk(value_node)
        elif isinstance(current, SequenceNode):
            for item in current.value:
                walk(item)

    if node is not None:
        walk(node)
    return issues


def read_yaml(path: Path) -> tuple[Any, Node | None, list[Issue]]:
    """Parse ``path``: the data, its node tree (for line numbers) and any syntax issues."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, None, [Issue(path, None, f"cannot read the file: {exc}")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return None, None, [Issue(path, mark.line + 1 if mark else None,
                                  f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        return None, None, [Issue(path, None, f"YAML error: {exc}")]
    return data, root, _duplicate_keys(path, root)


def validate_yaml_file(path: Path, model: type[M]) -> tuple[M | None, Node | None, list[Issue]]:
    """Read ``path`` and validate it as ``model``; the model is ``None`` if anything failed.

    Returned with the node tree so callers can report their own cross-file checks
    (duplicate codes, unknown references) on the right line via :func:`issue_at`.
    """
    data, root, issues = read_yaml(path)
    if root is None and not issues:
        return None, None, [Issue(path, None, "the file is empty")]
    if issues:
        return None, root, issues
    if not isinstance(data, Mapping):
        return None, root, [Issue(path, line_of(root, ()),
                                  "the file must hold a mapping (key: value pairs) at top level")]
    try:
        return model.model_validate(data), root, []
    except ValidationError as exc:
        return None, root, _issues_from_validation(path, root, exc)


def issue_at(path: Path, root: Node | None, loc: Loc, message: str) -> Issue:
    """An issue at the YAML line of ``loc`` (for checks made after validation)."""
    return Issue(path, line_of(root, loc), message)


# ----- the catalogue ------------------------------------------------------------------------


class Catalogue(Mapping[str, Procedure]):
    """Procedures by national code, with the file each came from."""

    def __init__(self, procedures: Iterable[Procedure],
                 sources: Mapping[str, Path] | None = None) -> None:
        self._procedures: dict[str, Procedure] = {}
        for procedure in procedures:
            if procedure.code in self._procedures:
                raise ValueError(f"duplicate procedure code {procedure.code}")
            self._procedures[procedure.code] = procedure
        self._sources = dict(sources or {})

    def __getitem__(self, code: str) -> Procedure:
        return self._procedures[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._procedures)

    def __len__(self) -> int:
        return len(self._procedures)

    def source_of(self, code: str) -> Path | None:
        return self._sources.get(code)

    def at_level(self, level: Level | str) -> list[Procedure]:
        wanted = Level(level)
        return [p for p in self._procedures.values() if p.level is wanted]

    def version_at(self, code: str, day: date | datetime) -> ProcedureVersion:
        """The version of procedure ``code`` in force on ``day`` (the dossier's receipt)."""
        return self[code].version_at(day)


def _definition_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)
    return [path]


def _collect(path: Path) -> tuple[list[Procedure], dict[str, Path], list[Issue]]:
    if not path.exists():
        return [], {}, [Issue(path, None, "no such file or directory")]
    files = _definition_files(path)
    if not files:
        return [], {}, [Issue(path, None, "no procedure files (*.yaml) found")]
    procedures: list[Procedure] = []
    sources: dict[str, Path] = {}
    first_seen: dict[str, tuple[Path, int | None]] = {}
    issues: list[Issue] = []
    for file in files:
        procedure, root, file_issues = validate_yaml_file(file, Procedure)
        issues += file_issues
        if procedure is None:
            continue
        if procedure.code in first_seen:
            other, other_line = first_seen[procedure.code]
            issues.append(issue_at(
                file, root, ("code",),
                f"duplicate procedure code {procedure.code} (already defined in "
                f"{other}:{other_line})"))
            continue
        first_seen[procedure.code] = (file, line_of(root, ("code",)))
        procedures.append(procedure)
        sources[procedure.code] = file
    return procedures, sources, issues


def check_catalogue(directory: Path | str = DEFAULT_CATALOGUE_DIR) -> list[Issue]:
    """Every issue in a catalogue directory (or a single file); empty when all is well.

    For ``motcua workflows check``: print :func:`format_issues` and exit non-zero if any.
    """
    return _collect(Path(directory))[2]


def load_procedures(path: Path | str) -> list[Procedure]:
    """The procedures in a file or a directory; raises :class:`CatalogueError` on any issue."""
    procedures, _, issues = _collect(Path(path))
    if issues:
        raise CatalogueError(issues)
    return procedures


def load_procedure(path: Path | str) -> Procedure:
    """One procedure file; raises :class:`CatalogueError` on any issue."""
    procedure, _, issues = validate_yaml_file(Path(path), Procedure)
    if issues or procedure is None:
        raise CatalogueError(issues)
    return procedure


def load_catalogue(directory: Path | str = DEFAULT_CATALOGUE_DIR) -> Catalogue:
    """The catalogue in ``directory``, by code; raises :class:`CatalogueError` listing every
    issue (syntax, schema, duplicate codes) rather than stopping at the first."""
    procedures, sources, issues = _collect(Path(directory))
    if issues:
        raise CatalogueError(issues)
    return Catalogue(procedures, sources)
