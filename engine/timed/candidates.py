"""Which rows a sweep looks at, in SQL, and what it knows about each (*chọn hồ sơ cần quét*).

A province holds a million open dossiers; a sweep every few minutes must cost about what one
indexed count of its due rows costs, not a pass over all of them. Three partial indexes
(migration 0010, conditions ``engine.lifecycle.models.SWEEP_*``) hold exactly the rows a rule
can speak about, with each row's *mark* (the version the sweep last judged and the instant
from which a new warning can come, ``engine.timed.rules.next_check``):

- **due**: open dossiers whose appointment date is within the widest agency horizon
  (``rules.dossier_horizon``) — overdue ones included;
- **waiting**: open dossiers whose warnings do not hang on that date: paper not yet sent on
  (*received*), a supplement awaited, a boundary-free dossier not yet accepted;
- **steps**: open hand-off rows due before the widest step horizon (``rules.step_horizon``).

A row is a candidate when it was never judged, changed since (its ``version`` moved: every
action and every re-projection bumps it) or its next instant has come; the index answers that
alone, so the rest — most overdue dossiers, judged long ago — costs an index entry each.
:func:`due_rows_count` counts the same rows without the marks: the benchmark's floor.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, text, update
from sqlmodel import Session

from engine.lifecycle.models import (
    SWEEP_OPEN,
    SWEEP_OPEN_STEP,
    SWEEP_WAITING,
    Dossier,
    DossierEvent,
    DossierStep,
)
from engine.lifecycle.states import Action, State
from engine.timed.rules import DossierFacts, StepFacts
from engine.timezone import read_instant

D = Dossier.__table__
S = DossierStep.__table__
E = DossierEvent.__table__


@dataclass(frozen=True, slots=True)
class Bounds:
    """The widest horizons over all agencies at one instant (one SQL bound for all)."""

    now: datetime
    due_until: date  # appointment dates up to this day may have an open window
    steps_before: datetime  # hand-off rows due before this instant may have one


# ----- selecting ------------------------------------------------------------------------------

def _dossier_mark(now: datetime) -> Any:
    return or_(D.c.sweep_version.is_(None), D.c.sweep_version != D.c.version,
               D.c.sweep_next_at <= now)


def due_ids(bounds: Bounds, *, agencies: Collection[str] | None = None) -> Select:
    """Ids of open dossiers in the horizon: by their marks, or — ``agencies`` given, for
    agencies whose calendar or settings changed — all of theirs (``()``: every agency)."""
    query = select(D.c.id).where(text(SWEEP_OPEN), D.c.appointment_date <= bounds.due_until)
    return _marked_or_forced(query, bounds.now, agencies)


def waiting_ids(bounds: Bounds, *, agencies: Collection[str] | None = None) -> Select:
    return _marked_or_forced(select(D.c.id).where(text(SWEEP_WAITING)), bounds.now, agencies)


def _marked_or_forced(query: Select, now: datetime, agencies: Collection[str] | None) -> Select:
    if agencies is None:
        return query.where(_dossier_mark(now))
    return query.where(D.c.competent_agency.in_(list(agencies))) if agencies else query


def step_ids(bounds: Bounds, *, agencies: Collection[str] | None = None) -> Select:
    query = select(S.c.id).where(text(SWEEP_OPEN_STEP), S.c.due_at < bounds.steps_before)
    if agencies is None:
        return query.where(or_(S.c.sweep_next_at.is_(None), S.c.sweep_next_at <= bounds.now))
    if agencies:
        query = query.where(S.c.dossier_id.in_(
            select(D.c.id).where(D.c.competent_agency.in_(list(agencies)))))
    return query


def due_rows_count(session: Session, bounds: Bounds) -> int:
    """One statement counting the rows the three indexes hold within the horizons, marks
    ignored: what a sweep would have to look at without them (``bench/sweep.py``'s floor)."""
    due = select(func.count()).select_from(D).where(
        text(SWEEP_OPEN), D.c.appointment_date <= bounds.due_until).scalar_subquery()
    waiting = select(func.count()).select_from(D).where(text(SWEEP_WAITING)).scalar_subquery()
    steps = select(func.count()).select_from(S).where(
        text(SWEEP_OPEN_STEP), S.c.due_at < bounds.steps_before).scalar_subquery()
    return int(session.execute(select(due + waiting + steps)).scalar_one())


# ----- what the rules read --------------------------------------------------------------------

DOSSIER_COLUMNS = (D.c.id, D.c.version, D.c.sweep_version, D.c.sweep_next_at, D.c.code,
                   D.c.competent_agency, D.c.receiving_agency, D.c.state, D.c.due_date,
                   D.c.due_at, D.c.appointment_date, D.c.apology_count, D.c.received_at,
                   D.c.clock_started_at, D.c.transfer_due_at, D.c.transferred_at,
                   D.c.boundary_free, D.c.ended_at, D.c.assignee)
STEP_COLUMNS = (S.c.dossier_id, S.c.seq, S.c.due_at, S.c.role, S.c.assignee, S.c.unit,
                S.c.step_name)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A row to judge: its id, the version judged (dossiers), its mark, and the facts."""

    id: int
    version: int | None
    mark: tuple[int | None, datetime | None]
    facts: DossierFacts
    step: StepFacts | None = None  # for a hand-off row


def _step(row: Any) -> StepFacts:
    return StepFacts(seq=row.seq, due_at=row.due_at, role=row.role, assignee=row.assignee,
                     unit=row.unit, step_name=row.step_name)


def load_dossiers(session: Session, ids: Sequence[int]) -> list[Candidate]:
    """The facts of these dossiers: their columns, their open hand-off rows and, for those
    awaiting a supplement, when the wait began (three statements for the chunk)."""
    rows = session.execute(select(*DOSSIER_COLUMNS).where(D.c.id.in_(ids))).all()
    steps: dict[int, list[StepFacts]] = {}
    for row in session.execute(select(*STEP_COLUMNS).where(
            S.c.dossier_id.in_(ids), S.c.finished_at.is_(None))):
        steps.setdefault(row.dossier_id, []).append(_step(row))
    waiting = [r.id for r in rows if r.state == State.AWAITING_SUPPLEMENT.value]
    since = dict(session.execute(
        select(E.c.dossier_id, func.max(E.c.at)).where(
            E.c.dossier_id.in_(waiting), E.c.action == Action.REQUEST_SUPPLEMENT.value)
        .group_by(E.c.dossier_id)).all()) if waiting else {}
    return [Candidate(r.id, r.version, (r.sweep_version, r.sweep_next_at),
                      _facts(r, steps.get(r.id, ()), read_instant(since.get(r.id))))
            for r in rows]


def _facts(row: Any, steps: Iterable[StepFacts], since: datetime | None) -> DossierFacts:
    return DossierFacts(
        code=row.code, competent_agency=row.competent_agency, state=row.state,
        receiving_agency=row.receiving_agency, due_date=row.due_date, due_at=row.due_at,
        appointment_date=row.appointment_date, apology_count=row.apology_count or 0,
        received_at=row.received_at, clock_started_at=row.clock_started_at,
        transfer_due_at=row.transfer_due_at, transferred_at=row.transferred_at,
        boundary_free=bool(row.boundary_free), ended_at=row.ended_at,
        supplement_requested_at=since, assignee=row.assignee, steps=tuple(steps))


def load_steps(session: Session, ids: Sequence[int]) -> list[Candidate]:
    """The facts of these open hand-off rows and of their dossiers (one statement)."""
    query = (select(S.c.id, S.c.sweep_next_at, *STEP_COLUMNS, D.c.code, D.c.competent_agency,
                    D.c.receiving_agency, D.c.state, D.c.ended_at,
                    D.c.assignee.label("d_assignee"))
             .select_from(S.join(D, D.c.id == S.c.dossier_id))
             .where(S.c.id.in_(ids), S.c.finished_at.is_(None)))
    out = []
    for row in session.execute(query):
        step = _step(row)
        owner = DossierFacts(code=row.code, competent_agency=row.competent_agency,
                             state=row.state, receiving_agency=row.receiving_agency,
                             ended_at=row.ended_at, assignee=row.d_assignee, steps=(step,))
        out.append(Candidate(row.id, None, (None, row.sweep_next_at), owner, step))
    return out


# ----- marking --------------------------------------------------------------------------------

_MARK_DOSSIER = (update(D).where(D.c.id == bindparam("m_id"), D.c.version == bindparam("m_v"))
                 .values(sweep_version=bindparam("m_v"), sweep_next_at=bindparam("m_next")))
_MARK_STEP = (update(S).where(S.c.id == bindparam("m_id"))
              .values(sweep_next_at=bindparam("m_next")))


def mark(session: Session, *, dossiers: Sequence[tuple[int, int, datetime]] = (),
         steps: Sequence[tuple[int, datetime]] = ()) -> None:
    """Write the marks: (id, version judged, next instant) per dossier — only if the version
    is still the one judged (an action meanwhile leaves the dossier a candidate) — and
    (id, next instant) per hand-off row. In the caller's transaction, with the messages."""
    if dossiers:
        session.execute(_MARK_DOSSIER, [{"m_id": i, "m_v": v, "m_next": n}
                                        for i, v, n in dossiers])
    if steps:
        session.execute(_MARK_STEP, [{"m_id": i, "m_next": n} for i, n in steps])
