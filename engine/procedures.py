"""What the engine needs to know about a procedure version, as plain data.

The catalogue (YAML, validated in ``workflows/``) is loaded into the database as one JSON
document per (procedure code, effective date); the engine reads it back as a
:class:`ProcedureSpec` and never imports ``workflows``. A dossier keeps the version in force on
its receipt date for its whole life.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel

from engine.clock import SupplementEffect
from engine.deadline import TimeLimit, TimeUnit
from engine.text import fold

#: Actions that belong to the counter (Bộ phận Một cửa), not to a processing step.
COUNTER_UNIT = "one_stop"
COMPETENT_UNIT = "competent"


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """One required document (*thành phần hồ sơ*) with its original/copy counts."""

    name: str
    originals: int = 0
    copies: int = 0
    required: bool = True


@dataclass(frozen=True, slots=True)
class StepSpec:
    """An internal processing step: who acts, in which unit, its budget and its actions."""

    id: str
    name: str
    role: str
    unit: str  # "one_stop", "competent" or the name of a linked agency
    budget: TimeLimit
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ProcedureSpec:
    """One version of a procedure (*thủ tục hành chính*) as the engine sees it."""

    code: str
    name: str
    field: str
    level: str
    effective_from: date
    limit: TimeLimit
    supplement_effect: SupplementEffect
    pause_reasons: tuple[str, ...]
    components: tuple[ComponentSpec, ...]
    steps: tuple[StepSpec, ...]
    result_type: str
    result_is_document: bool = True
    fees: tuple[dict[str, Any], ...] = ()

    @property
    def key(self) -> str:
        """``code@effective_from``: names the version and its shared state machine."""
        return f"{self.code}@{self.effective_from.isoformat()}"

    def step(self, step_id: str) -> StepSpec:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def step_index(self, step_id: str) -> int:
        return next(i for i, s in enumerate(self.steps) if s.id == step_id)

    @property
    def processing_steps(self) -> tuple[StepSpec, ...]:
        """Steps after reception and before return: the ones the inbox is about."""
        return tuple(s for s in self.steps if s.unit != COUNTER_UNIT) or self.steps

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ProcedureSpec:
        def limit(d: dict[str, Any]) -> TimeLimit:
            return TimeLimit(float(d.get("amount", 0)), TimeUnit(d["unit"]))

        return cls(
            code=raw["code"],
            name=raw["name"],
            field=raw.get("field", ""),
            level=raw.get("level", ""),
            effective_from=date.fromisoformat(str(raw["effective_from"])),
            limit=limit(raw["time_limit"]),
            supplement_effect=SupplementEffect(raw.get("supplement_effect", "restart")),
            pause_reasons=tuple(raw.get("pause_reasons", ())),
            components=tuple(
                ComponentSpec(c["name"], int(c.get("originals", 0)), int(c.get("copies", 0)),
                              bool(c.get("required", True)))
                for c in raw.get("components", ())
            ),
            steps=tuple(
                StepSpec(s["id"], s["name"], s["role"], s.get("unit", COMPETENT_UNIT),
                         limit(s["budget"]), tuple(s.get("actions", ())))
                for s in raw.get("steps", ())
            ),
            result_type=raw.get("result", {}).get("type", ""),
            result_is_document=bool(raw.get("result", {}).get("is_document", True)),
            fees=tuple(raw.get("fees", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        def limit(t: TimeLimit) -> dict[str, Any]:
            return {"amount": t.amount, "unit": t.unit.value}

        return {
            "code": self.code, "name": self.name, "field": self.field, "level": self.level,
            "effective_from": self.effective_from.isoformat(),
            "time_limit": limit(self.limit),
            "supplement_effect": self.supplement_effect.value,
            "pause_reasons": list(self.pause_reasons),
            "components": [{"name": c.name, "originals": c.originals, "copies": c.copies,
                            "required": c.required} for c in self.components],
            "steps": [{"id": s.id, "name": s.name, "role": s.role, "unit": s.unit,
                       "budget": limit(s.budget), "actions": list(s.actions)}
                      for s in self.steps],
            "result": {"type": self.result_type, "is_document": self.result_is_document},
            "fees": list(self.fees),
        }


# ----- storage ------------------------------------------------------------------------------


class ProcedureVersionRow(SQLModel, table=True):
    """One loaded version of a procedure: the spec as JSON, keyed by code and effective date."""

    __tablename__ = "procedure_version"

    code: str = Field(primary_key=True, max_length=32)
    effective_from: date = Field(primary_key=True)
    name: str = Field(max_length=500)
    field: str = Field(max_length=255)
    level: str = Field(max_length=8)
    spec: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    loaded_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def to_spec(self) -> ProcedureSpec:
        return ProcedureSpec.from_dict(self.spec)


class NoVersionInForce(LookupError):
    """No version of the procedure was in force on that date: before its first version, or
    from the day it was repealed. One error for the stored versions here and the catalogue's
    ``Procedure.version_at`` (``workflows.schema`` re-exports it)."""


def result_online(spec: ProcedureSpec) -> bool:
    """The result may be received online only when the procedure issues it electronically
    (its result names an electronic document, *bản điện tử*) [I]."""
    return "dien tu" in fold(spec.result_type)


def save_version(session: Session, *, spec: ProcedureSpec) -> ProcedureVersionRow:
    """Insert or replace one version (catalogue loading is idempotent)."""
    row = session.get(ProcedureVersionRow, (spec.code, spec.effective_from))
    if row is None:
        row = ProcedureVersionRow(code=spec.code, effective_from=spec.effective_from,
                                  name=spec.name, field=spec.field, level=spec.level)
    row.name, row.field, row.level, row.spec = spec.name, spec.field, spec.level, spec.to_dict()
    row.loaded_at = datetime.now(UTC)
    session.add(row)
    return row


_SPEC_CACHE: dict[tuple[str, date, datetime], ProcedureSpec] = {}


_PV = ProcedureVersionRow.__table__


def version_in_force(session: Session, *, code: str, on: date) -> ProcedureSpec:
    """The version a dossier received on ``on`` must follow (the latest effective_from ≤ on)."""
    key = session.execute(
        sa_select(_PV.c.code, _PV.c.effective_from, _PV.c.loaded_at)
        .where(_PV.c.code == code, _PV.c.effective_from <= on)
        .order_by(_PV.c.effective_from.desc()).limit(1)
    ).first()
    if key is None:
        raise NoVersionInForce(f"thủ tục {code} không có phiên bản hiệu lực ngày {on:%d/%m/%Y}")
    return _cached(session, tuple(key))


def get_version(session: Session, *, code: str, effective_from: date) -> ProcedureSpec:
    loaded_at = session.execute(
        sa_select(_PV.c.loaded_at)
        .where(_PV.c.code == code, _PV.c.effective_from == effective_from)
    ).scalar()
    if loaded_at is None:
        raise NoVersionInForce(f"không có phiên bản {effective_from} của thủ tục {code}")
    return _cached(session, (code, effective_from, loaded_at))


#: Every version of some procedures (a handful each): one cached statement whatever the page.
_LOADED_AT = sa_select(_PV.c.code, _PV.c.effective_from, _PV.c.loaded_at).where(
    _PV.c.code.in_(bindparam("codes", expanding=True)))


def get_versions(session: Session,
                 keys: Iterable[tuple[str, date]]) -> dict[tuple[str, date], ProcedureSpec]:
    """:func:`get_version` for many (code, effective_from) at once, with every ``loaded_at``
    read in one statement: a page of the inbox names each dossier's current step, and one
    statement per dossier was most of the page's time."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    rows = session.execute(_LOADED_AT, {"codes": sorted({code for code, _ in wanted})}).all()
    return versions_from_rows(session, wanted, rows)


def versions_from_rows(session: Session, wanted: Iterable[tuple[str, date]],
                       rows: Iterable[tuple[str, date, datetime]]
                       ) -> dict[tuple[str, date], ProcedureSpec]:
    """:func:`get_versions` from ``(code, effective_from, loaded_at)`` rows a caller read
    itself, with other rows of its own in the same statement (the inbox does)."""
    loaded = {(code, effective_from): loaded_at for code, effective_from, loaded_at in rows}
    return {key: cached_version(session, code=key[0], effective_from=key[1],
                                loaded_at=loaded.get(key)) for key in sorted(set(wanted))}


def cached_version(session: Session, *, code: str, effective_from: date,
                   loaded_at: datetime | None) -> ProcedureSpec:
    """:func:`get_version` for a caller that already read the version's ``loaded_at`` (an
    action reads it in the same statement as its calendars)."""
    if loaded_at is None:
        raise NoVersionInForce(f"không có phiên bản {effective_from} của thủ tục {code}")
    return _cached(session, (code, effective_from, loaded_at))


def _cached(session: Session, key: tuple[str, date, datetime]) -> ProcedureSpec:
    """The parsed spec of a stored version. Every action needs it, so only the version's
    ``loaded_at`` is read to check the cache; the stored document (a large JSON) is read and
    parsed only when the version was (re)loaded since."""
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        row = session.get(ProcedureVersionRow, key[:2])
        spec = _SPEC_CACHE[key] = row.to_spec()
    return spec
