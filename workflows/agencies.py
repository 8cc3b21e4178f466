"""The agency tree: who receives a procedure's dossiers and who is competent to decide them.

Since 01/7/2025 the receiving point and the competent agency are separate facts (ND 118 Art 14:
receipt regardless of administrative boundary; decree118 §8.1): a commune's public-administration
service centre (*Trung tâm Phục vụ hành chính công*) may receive a dossier that another commune's
People's Committee decides. So the tree records, per agency, the procedures it *receives*
(one-stop units only) and those it is *competent for*; the dossier stores both choices.

Each agency also carries its identifier code (``V1V2V3.Z1Z2.Y1Y2.MX1X2``, TT 01/2018/TT-VPCP
Art 19, the first part of the dossier code) and the place name printed before the date on
forms ("Hải Phòng, ngày … tháng … năm …", ND 30/2020).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from pydantic import Field, model_validator
from yaml.nodes import Node

from workflows.loader import (
    DEFAULT_CATALOGUE_DIR,
    Catalogue,
    CatalogueError,
    Issue,
    issue_at,
    load_catalogue,
    validate_yaml_file,
)
from workflows.schema import PROCEDURE_CODE_PATTERN, CatalogueModel, LevelField, LocatedError

__all__ = [
    "AGENCY_CODE_PATTERN",
    "DEFAULT_AGENCIES_PATH",
    "Agency",
    "AgencyTree",
    "check_agencies",
    "load_agencies",
]

DEFAULT_AGENCIES_PATH = Path(__file__).resolve().parent / "agencies.yaml"

#: V1V2V3.Z1Z2.Y1Y2.MX1X2: three digits, two, two, then the level-1 unit (letter + 2 digits).
AGENCY_CODE_PATTERN = r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$"


class Agency(CatalogueModel):
    """An agency or unit: a People's Committee, a department (*Sở*), a one-stop centre."""

    code: str = Field(pattern=AGENCY_CODE_PATTERN)
    name: str = Field(min_length=1)
    short_name: str = Field(min_length=1)
    parent: str | None = Field(None, pattern=AGENCY_CODE_PATTERN)
    level: LevelField
    place_name: str = Field(min_length=1)  # địa danh on printed documents
    is_one_stop: bool = False
    receives: list[str] = Field(default_factory=list)
    competent_for: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _roles_consistent(self) -> Agency:
        if self.receives and not self.is_one_stop:
            raise LocatedError(
                f"{self.short_name}: only a one-stop unit (is_one_stop: true) receives dossiers",
                "receives")
        for field_name in ("receives", "competent_for"):
            codes: list[str] = getattr(self, field_name)
            for index, code in enumerate(codes):
                if not _is_procedure_code(code):
                    raise LocatedError(f"{code!r} is not a procedure code like 1.001193",
                                       field_name, index)
                if code in codes[:index]:
                    raise LocatedError(f"procedure {code} listed twice", field_name, index)
        return self


def _is_procedure_code(value: str) -> bool:
    return re.fullmatch(PROCEDURE_CODE_PATTERN, value) is not None


class _AgencyFile(CatalogueModel):
    agencies: list[Agency] = Field(min_length=1)


class AgencyTree(Mapping[str, Agency]):
    """Agencies by code, with parent/child navigation and the procedure assignments."""

    def __init__(self, agencies: list[Agency]) -> None:
        self._agencies = {agency.code: agency for agency in agencies}
        if len(self._agencies) != len(agencies):
            raise ValueError("duplicate agency codes")
        self._children: dict[str, list[Agency]] = {}
        for agency in agencies:
            if agency.parent is not None:
                self._children.setdefault(agency.parent, []).append(agency)

    def __getitem__(self, code: str) -> Agency:
        return self._agencies[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._agencies)

    def __len__(self) -> int:
        return len(self._agencies)

    def roots(self) -> list[Agency]:
        return [a for a in self._agencies.values() if a.parent is None]

    def parent_of(self, code: str) -> Agency | None:
        parent = self[code].parent
        return self._agencies[parent] if parent is not None else None

    def children_of(self, code: str) -> list[Agency]:
        return list(self._children.get(code, []))

    def ancestors(self, code: str) -> list[Agency]:
        """Parent first, root last."""
        chain: list[Agency] = []
        parent = self.parent_of(code)
        while parent is not None:
            chain.append(parent)
            parent = self.parent_of(parent.code)
        return chain

    def one_stop_units(self) -> list[Agency]:
        return [a for a in self._agencies.values() if a.is_one_stop]

    def receivers_of(self, procedure_code: str) -> list[Agency]:
        """One-stop units where a dossier of this procedure can be filed."""
        return [a for a in self._agencies.values() if procedure_code in a.receives]

    def competent_for(self, procedure_code: str) -> list[Agency]:
        """Agencies that decide this procedure (for a commune procedure, every commune's
        People's Committee; the dossier picks one by the applicant's residence or choice)."""
        return [a for a in self._agencies.values() if procedure_code in a.competent_for]


def _reference_issues(path: Path, root: Node | None, agencies: list[Agency],
                      catalogue: Catalogue | None) -> list[Issue]:
    issues: list[Issue] = []
    by_code: dict[str, int] = {}
    for index, agency in enumerate(agencies):
        if agency.code in by_code:
            issues.append(issue_at(path, root, ("agencies", index, "code"),
                                   f"duplicate agency code {agency.code} (first at agencies"
                                   f"[{by_code[agency.code]}])"))
        else:
            by_code[agency.code] = index

    for index, agency in enumerate(agencies):
        if agency.parent is None:
            continue
        if agency.parent not in by_code:
            issues.append(issue_at(path, root, ("agencies", index, "parent"),
                                   f"{agency.short_name}: unknown parent agency {agency.parent}"))
            continue
        parent = agencies[by_code[agency.parent]]
        if agency.level.rank > parent.level.rank:
            issues.append(issue_at(path, root, ("agencies", index, "level"),
                                   f"{agency.short_name} ({agency.level.value}) cannot sit under "
                                   f"{parent.short_name} ({parent.level.value})"))
        seen = {agency.code}
        current: Agency | None = parent
        while current is not None:
            if current.code in seen:
                issues.append(issue_at(path, root, ("agencies", index, "parent"),
                                       f"{agency.short_name}: the parent chain loops"))
                break
            seen.add(current.code)
            upper = current.parent
            current = agencies[by_code[upper]] if upper in by_code else None

    received = {code for agency in agencies for code in agency.receives}
    decided = {code for agency in agencies for code in agency.competent_for}
    for index, agency in enumerate(agencies):
        for k, code in enumerate(agency.receives):
            if code not in decided:
                issues.append(issue_at(path, root, ("agencies", index, "receives", k),
                                       f"{agency.short_name} receives {code} but no agency is "
                                       "competent for it"))
        for k, code in enumerate(agency.competent_for):
            if code not in received:
                issues.append(issue_at(path, root, ("agencies", index, "competent_for", k),
                                       f"{agency.short_name} is competent for {code} but no "
                                       "one-stop unit receives it"))
        if catalogue is None:
            continue
        for field_name in ("receives", "competent_for"):
            for k, code in enumerate(getattr(agency, field_name)):
                if code not in catalogue:
                    issues.append(issue_at(path, root, ("agencies", index, field_name, k),
                                           f"procedure {code} is not in the catalogue"))
                elif field_name == "competent_for" and catalogue[code].level is not agency.level:
                    issues.append(issue_at(
                        path, root, ("agencies", index, field_name, k),
                        f"{agency.short_name} ({agency.level.value}) cannot be competent for "
                        f"{code}, a {catalogue[code].level.value}-level procedure"))
    return issues


def _load(path: Path, catalogue: Catalogue | None) -> tuple[AgencyTree | None, list[Issue]]:
    parsed, root, issues = validate_yaml_file(path, _AgencyFile)
    if parsed is None:
        return None, issues
    issues = _reference_issues(path, root, parsed.agencies, catalogue)
    if issues:
        return None, issues
    return AgencyTree(parsed.agencies), []


def check_agencies(path: Path | str = DEFAULT_AGENCIES_PATH,
                   catalogue_dir: Path | str | None = DEFAULT_CATALOGUE_DIR) -> list[Issue]:
    """Every issue in the agency file, including references to the catalogue in
    ``catalogue_dir`` (``None`` skips those). Catalogue issues are reported too, since the
    references cannot be checked without it."""
    catalogue: Catalogue | None = None
    if catalogue_dir is not None:
        try:
            catalogue = load_catalogue(catalogue_dir)
        except CatalogueError as exc:
            return exc.issues
    return _load(Path(path), catalogue)[1]


def load_agencies(path: Path | str = DEFAULT_AGENCIES_PATH,
                  catalogue: Catalogue | None = None) -> AgencyTree:
    """The agency tree; with ``catalogue``, procedure references are checked against it.
    Raises :class:`~workflows.loader.CatalogueError` with every issue found."""
    tree, issues = _load(Path(path), catalogue)
    if tree is None:
        raise CatalogueError(issues)
    return tree
