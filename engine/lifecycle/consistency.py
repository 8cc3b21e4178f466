"""Do a dossier's stored events replay to its stored state?

The ``dossier.state`` column and the append-only event log are written in the same transaction
(:mod:`engine.lifecycle.projection`), so they must always agree. If they do not, something wrote
around the engine (a manual ``UPDATE``, a lost or half-restored event, a concurrency bug), and
auditors want it listed as the anomaly *"events do not replay to stored state"*. The hash chain
(:mod:`engine.lifecycle.audit`) proves that the events were not altered; this module proves that
the state column was not altered either, by re-firing every stored action through the same shared
state machine the service used. The reports issue reuses :func:`inconsistent_dossiers` for its
anomaly list, and the concurrency tests use it as their oracle. Files attached to a dossier are
checked too: each attachment row's hash must be named by the event that brought it
(:func:`uncovered_attachments`).

Only the machine is replayed — not authorisation, deadlines or documents: those depend on data
of the moment (who acted, the calendar then), while the state sequence depends on the actions
alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, Protocol

from sqlmodel import Session, col, select

from engine.lifecycle.machine import IllegalAction, machine_for
from engine.lifecycle.models import Dossier, DossierEvent
from engine.lifecycle.states import Action, State
from engine.procedures import ProcedureSpec, get_version


class StoredEvent(Protocol):
    """What the replay needs of an event (a :class:`DossierEvent` or a selected row)."""

    seq: int
    action: str
    at: datetime
    state_before: str
    state_after: str


class _Replica:
    """A stand-in for the dossier row: the only attributes the machine reads or writes.

    ``received_at`` matters because ``receive_supplement`` goes back to *submitted* before formal
    receipt and to *in processing* after it (a machine condition reads it).
    """

    __slots__ = ("received_at", "state")

    def __init__(self) -> None:
        self.state: str = State.NEW.value
        self.received_at: datetime | None = None


def replayed_state(spec: ProcedureSpec, events: Iterable[StoredEvent]) -> str:
    """The state that ``events`` lead to from *new*, fired in ``seq`` order through the shared
    machine of the procedure version ``spec``.

    Raises :class:`~engine.lifecycle.machine.IllegalAction` when a stored action could not have
    happened in the state the earlier events led to (an inconsistency in itself).
    """
    machine = machine_for(spec.key)
    replica = _Replica()
    for event in sorted(events, key=lambda e: e.seq):
        machine.fire(event.action, replica)
        if event.action == Action.RECEIVE.value:
            replica.received_at = event.at
    return replica.state


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """One dossier whose events and state disagree, and the first reason found."""

    code: str
    reason: str

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


def check_dossier(spec: ProcedureSpec, stored_state: str,
                  events: Iterable[StoredEvent]) -> str | None:
    """Why the events of one dossier do not account for ``stored_state``, or ``None``.

    Checks, in order: the events' ``state_before``/``state_after`` chain from *new* to the stored
    state with each event starting where the previous one ended; every action is legal where it
    was taken and leads where the event says; the replay ends in the stored state.
    """
    ordered = sorted(events, key=lambda e: e.seq)
    previous = State.NEW.value
    for event in ordered:
        if event.state_before != previous:
            return (f"sự kiện #{event.seq} bắt đầu từ '{event.state_before}' nhưng sự kiện "
                    f"trước kết thúc ở '{previous}'")
        previous = event.state_after
    if previous != stored_state:
        return f"sự kiện kết thúc ở '{previous}' nhưng hồ sơ đang ở '{stored_state}'"
    machine = machine_for(spec.key)
    replica = _Replica()
    for event in ordered:
        try:
            machine.fire(event.action, replica)
        except IllegalAction as exc:
            return f"sự kiện #{event.seq} không thể xảy ra: {exc}"
        if replica.state != event.state_after:
            return (f"sự kiện #{event.seq} ({event.action}) dẫn tới '{replica.state}', "
                    f"không phải '{event.state_after}' như đã ghi")
        if event.action == Action.RECEIVE.value:
            replica.received_at = event.at
    if replica.state != stored_state:  # pragma: no cover - implied by the two checks above
        return f"phát lại sự kiện được '{replica.state}' nhưng hồ sơ đang ở '{stored_state}'"
    return None


def find_inconsistencies(session: Session, *,
                         dossier_code: str | None = None) -> list[Inconsistency]:
    """Every dossier (or one) whose events do not replay to its stored state, by dossier id.

    Reads a short row per dossier, then all events in one pass ordered like the dossiers, so
    memory holds one dossier's events at a time however large the log.
    """
    query: Any = select(Dossier.id, Dossier.code, Dossier.state, Dossier.procedure_code,
                        Dossier.procedure_version).order_by(col(Dossier.id))
    if dossier_code:
        query = query.where(Dossier.code == dossier_code)
    dossiers = {row.id: row for row in session.exec(query).all()}
    if not dossiers:
        return []
    events_query: Any = (
        select(DossierEvent.dossier_id, DossierEvent.seq, DossierEvent.action, DossierEvent.at,
               DossierEvent.state_before, DossierEvent.state_after)
        .order_by(col(DossierEvent.dossier_id), col(DossierEvent.seq))
    )
    if dossier_code:
        events_query = events_query.where(col(DossierEvent.dossier_id).in_(list(dossiers)))
    groups = groupby(session.exec(events_query.execution_options(yield_per=2000)),
                     key=lambda r: r.dossier_id)
    pending = next(groups, None)
    specs: dict[tuple[str, Any], ProcedureSpec] = {}
    found = []
    for dossier_id, dossier in dossiers.items():  # both ordered by dossier id: a merge join
        while pending is not None and pending[0] < dossier_id:  # events of no listed dossier
            pending = next(groups, None)
        events: list[Any] = []
        if pending is not None and pending[0] == dossier_id:
            events = list(pending[1])
            pending = next(groups, None)
        key = (dossier.procedure_code, dossier.procedure_version)
        spec = specs.get(key)
        if spec is None:  # one query per procedure version, not per dossier
            spec = specs[key] = get_version(session, code=key[0], effective_from=key[1])
        reason = check_dossier(spec, dossier.state, events)
        if reason:
            found.append(Inconsistency(dossier.code, reason))
    return found + uncovered_attachments(session, dossier_code=dossier_code)


def uncovered_attachments(session: Session, *,
                          dossier_code: str | None = None) -> list[Inconsistency]:
    """Attachment rows whose hash, size or type the event they point to does not name: a
    file row written around the engine, or edited after (``engine.files.journal``)."""
    from engine.files.journal import uncovered_files  # engine.files builds on the lifecycle

    return [Inconsistency(u.code, u.reason)
            for u in uncovered_files(session, dossier_code=dossier_code)]


def inconsistent_dossiers(session: Session) -> list[str]:
    """Codes of dossiers whose stored state differs from the replay of their events, or whose
    events' ``state_before``/``state_after`` do not chain (auditors' anomaly "events do not
    replay to stored state"; the reports issue lists the same codes)."""
    return [found.code for found in find_inconsistencies(session)]
