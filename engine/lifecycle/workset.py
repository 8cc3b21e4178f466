"""What an action on an existing dossier reads besides the dossier row, in one statement.

An action needs: the procedure version's ``loaded_at`` (to find the parsed spec in the cache),
the calendars' revisions of the dossier's agencies (to find the built calendars in the cache),
the receiving agency's clock settings, the dossier's hand-off rows (to close and open steps)
and its events (the last one to chain to, the clock events to replay). Read one by one they
were six statements per action, each costing more in SQLAlchemy than in the database; one
``UNION ALL`` of rows ``kind, code, n, last_id, at, text, data`` reads them all at once
(``bench/lifecycle.py``):

===== ========================== ============ ============ =============== ================
kind  code                       n            last_id      at              text / data
===== ========================== ============ ============ =============== ================
d     agency (calendar days)     row count    newest id    newest change   —
h     agency (office hours)      —            —            updated_at      sessions
a     receiving agency           —            —            —               clock settings
p     procedure code             —            —            loaded_at       —
s     step id (hand-off row)     seq          row id       due_at          "open" if open
e     —                          seq          —            event at        hash / payload
===== ========================== ============ ============ =============== ================

Receiving a new dossier reads, the same way, the procedure version in force on the receipt day
("v": ``loaded_at`` and ``effective_from``) with the calendars (:func:`read_receipt_set`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Text,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    tuple_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse
from sqlmodel import Session

from engine.agencies import Agency, clock_policy_of
from engine.calendar import WorkingCalendar
from engine.calendar.store import REVISION_SELECTS, calendars_from_revision
from engine.deadline import ClockPolicy
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep
from engine.procedures import (
    NoVersionInForce,
    ProcedureSpec,
    ProcedureVersionRow,
    cached_version,
)
from engine.timezone import read_instant

_AGENCY = Agency.__table__
_VERSIONS = ProcedureVersionRow.__table__
_STEPS = DossierStep.__table__
_EVENTS = DossierEvent.__table__
_DOSSIER_ID = bindparam("dossier_id")
_CALENDARS = tuple(select.add_columns(null().label("data")) for select in REVISION_SELECTS)

WORKSET = union_all(
    *_CALENDARS,
    sa_select(literal_column("'a'"), _AGENCY.c.code, null(), null(), null(),
              _AGENCY.c.late_receipt_policy + "|" + _AGENCY.c.late_receipt_cutoff + "|"
              + _AGENCY.c.non_working_day_receipt + "|" + _AGENCY.c.due_time, null())
    .where(_AGENCY.c.code == bindparam("policy_agency")),
    sa_select(literal_column("'p'"), _VERSIONS.c.code, null(), null(), _VERSIONS.c.loaded_at,
              null(), null())
    .where(_VERSIONS.c.code == bindparam("procedure"),
           _VERSIONS.c.effective_from == bindparam("effective_from")),
    sa_select(literal_column("'s'"), _STEPS.c.step_id, _STEPS.c.seq, _STEPS.c.id,
              _STEPS.c.due_at, case((_STEPS.c.finished_at.is_(None), "open")), null())
    .where(_STEPS.c.dossier_id == _DOSSIER_ID),
    sa_select(literal_column("'e'"), null(), _EVENTS.c.seq, null(), _EVENTS.c.at,
              _EVENTS.c.hash, cast(_EVENTS.c.payload, Text))
    .where(_EVENTS.c.dossier_id == _DOSSIER_ID),
)


_LATEST_IN_FORCE = (sa_select(func.max(_VERSIONS.c.effective_from))
                    .where(_VERSIONS.c.code == bindparam("procedure"),
                           _VERSIONS.c.effective_from <= bindparam("on"))
                    .scalar_subquery())
RECEIPT_SET = union_all(
    *_CALENDARS,
    sa_select(literal_column("'v'"), _VERSIONS.c.code, null(), null(), _VERSIONS.c.loaded_at,
              cast(_VERSIONS.c.effective_from, Text), null())
    .where(_VERSIONS.c.code == bindparam("procedure"),
           _VERSIONS.c.effective_from == _LATEST_IN_FORCE),
)


#: Agencies' codes a statement above takes as separate parameters (a dossier names three
#: agencies at most, plus the national layer ``""``).
CODE_SLOTS = 4


def _fixed_codes(statement: Any) -> Any:
    """``statement`` with the calendars' expanding ``IN :codes`` list (shared with
    ``engine.calendar.store``) replaced by :data:`CODE_SLOTS` plain parameters ``code_0`` …
    An expanding list is rendered into the SQL again on every execution, about a tenth of
    this statement's cost on SQLite (``bench/lifecycle.py``); a fixed list is compiled once."""
    def swap(element: Any) -> Any:
        if isinstance(element, BindParameter) and element.key == "codes":
            return tuple_(*(bindparam(f"code_{i}", type_=element.type)
                            for i in range(CODE_SLOTS)))
        return None
    return replacement_traverse(statement, {}, swap)


def _code_params(codes: list[str]) -> dict[str, str]:
    """``codes`` (at most :data:`CODE_SLOTS`, sorted) as the parameters of
    :func:`_fixed_codes`, the last repeated to fill the slots (``IN`` ignores repeats)."""
    padded = codes + codes[-1:] * (CODE_SLOTS - len(codes))
    return {f"code_{i}": code for i, code in enumerate(padded)}


WORKSET_FIXED, RECEIPT_SET_FIXED = _fixed_codes(WORKSET), _fixed_codes(RECEIPT_SET)


def _run(session: Session, statement: Any, fixed: Any, codes: list[str],
         params: dict[str, Any]) -> list[Any]:
    """Execute the fixed-list form when the codes fit its slots (always, for a dossier's
    agencies), else the expanding one."""
    if len(codes) <= CODE_SLOTS:
        return session.connection().execute(fixed, {**params, **_code_params(codes)}).all()
    return session.connection().execute(statement, {**params, "codes": codes}).all()


class EventRef(NamedTuple):
    """What an action needs of one stored event."""

    seq: int
    hash: str
    at: datetime
    payload: dict[str, Any] | None  # only when it holds a clock record (None otherwise)


@dataclass(slots=True)
class Hop:
    """One hand-off row (*bước* of the control sheet) as an action sees it: read from the
    database (``id`` set) or opened by this action; ``values`` are the columns to write (all of
    them for a new row)."""

    seq: int
    step_id: str
    due_at: datetime | None
    open: bool = True
    id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Workset:
    spec: ProcedureSpec
    calendars: dict[str, WorkingCalendar]
    policy: ClockPolicy | None
    hops: list[Hop]
    events: list[EventRef]


def dossier_agencies(dossier: Dossier) -> list[str]:
    return sorted({dossier.competent_agency, dossier.receiving_agency, dossier.returning_agency})


def read_workset(session: Session, dossier: Dossier) -> Workset:
    """Everything an action on ``dossier`` reads besides the dossier row (one statement)."""
    agencies = dossier_agencies(dossier)
    rows = _run(session, WORKSET, WORKSET_FIXED, sorted({"", *agencies}), {
        "policy_agency": dossier.policy_agency, "procedure": dossier.procedure_code,
        "effective_from": dossier.procedure_version, "dossier_id": dossier.id,
    })
    loaded_at, policy, hops, events = None, None, [], []
    for row in rows:
        kind = row[0]
        if kind == "e":
            # Only a clock record is ever read back from a stored payload: the others are
            # not parsed (a few µs each, every event of the dossier on every action).
            events.append(EventRef(row[2], row[5], read_instant(row[4]),
                                   json.loads(row[6]) if row[6] and '"clock"' in row[6]
                                   else None))
        elif kind == "s":
            hops.append(Hop(row[2], row[1], read_instant(row[4]), row[5] == "open", row[3]))
        elif kind == "p":
            loaded_at = read_instant(row[4])
        elif kind == "a":
            policy = clock_policy_of(*row[5].split("|"))
    spec = cached_version(session, code=dossier.procedure_code,
                          effective_from=dossier.procedure_version, loaded_at=loaded_at)
    events.sort()
    hops.sort(key=lambda hop: hop.seq)
    return Workset(spec, calendars_from_revision(session, agencies, rows), policy, hops, events)


def read_receipt_set(session: Session, *, procedure_code: str, on: date,
                     agencies: list[str]) -> tuple[ProcedureSpec, dict[str, WorkingCalendar]]:
    """The procedure version in force on ``on`` (the receipt day: a dossier keeps it) and the
    calendars of the new dossier's agencies, in one statement. Raises
    :class:`~engine.procedures.NoVersionInForce` (a ``LookupError``) if none was in force."""
    agencies = sorted(set(agencies))
    rows = _run(session, RECEIPT_SET, RECEIPT_SET_FIXED, sorted({"", *agencies}),
                {"procedure": procedure_code, "on": on})
    version = next((row for row in rows if row[0] == "v"), None)
    if version is None:
        raise NoVersionInForce(f"thủ tục {procedure_code} không có phiên bản hiệu lực ngày "
                               f"{on:%d/%m/%Y}")
    spec = cached_version(session, code=procedure_code,
                          effective_from=date.fromisoformat(version[5][:10]),
                          loaded_at=read_instant(version[4]))
    return spec, calendars_from_revision(session, agencies, rows)
