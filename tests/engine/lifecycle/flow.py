"""Helpers for the behaviour tests: one committed unit of work per call, like the API.

``do`` commits a successful action; ``refused`` expects an error, rolls back (as
``engine.db.session_scope`` does) and checks that *nothing* was written: no event, no
document, no hand-off row, same state, version, flags and counters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from engine.lifecycle import (
    ActionResult,
    Actor,
    act,
    clock_events,
    get_dossier,
)
from engine.lifecycle.models import Counter, Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.samples import PROCEDURE_CODE, received

from .conftest import CLERK, DEPT, at

PROC = PROCEDURE_CODE


def receive_ok(s: Session, when: str, *, actor: Actor = CLERK, competent: str | None = DEPT,
               components: list[dict[str, Any]] | None = None, **kw: Any) -> Dossier:
    """Receive a complete dossier at ``when`` (local time) and commit."""
    dossier = received(s, at=at(when), actor=actor, competent_agency=competent,
                       components=components, **kw)
    s.commit()
    return dossier


def do(s: Session, code: str, action: str, actor: Actor, when: str, **kw: Any) -> ActionResult:
    """Take one action at ``when`` (local time) and commit."""
    result = act(s, code=code, action=action, actor=actor, at=at(when), **kw)
    s.commit()
    return result


def in_processing(s: Session, received: str, transferred: str | None = None, **kw: Any) -> Dossier:
    """A dossier received at ``received`` and transferred (default: five minutes later)."""
    d = receive_ok(s, received, **kw)
    later = (at(received) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    do(s, d.code, "transfer", CLERK, transferred or later)
    return d


@dataclass(frozen=True)
class Snapshot:
    state: str
    status_code: int
    version: int
    step: str | None
    flags: tuple[str, ...]
    due: date | None
    appointment: date | None
    events: int
    documents: int
    steps: int
    counters: tuple[tuple[str, int], ...]


def snapshot(s: Session, code: str) -> Snapshot:
    s.expire_all()
    d = get_dossier(s, code)

    def count(model: Any) -> int:
        return s.exec(select(func.count()).select_from(model)
                      .where(model.dossier_id == d.id)).one()

    counters = tuple(sorted((c.scope, c.value) for c in s.exec(select(Counter)).all()))
    return Snapshot(d.state, d.status_code, d.version, d.current_step, tuple(d.flags),
                    d.due_date, d.appointment_date, count(DossierEvent), count(IssuedDocument),
                    count(DossierStep), counters)


def refused(s: Session, error: type[Exception], code: str, action: str, actor: Actor,
            when: str, **kw: Any) -> Exception:
    """The action raises ``error``; after the rollback nothing at all has changed."""
    before = snapshot(s, code)
    with pytest.raises(error) as caught:
        act(s, code=code, action=action, actor=actor, at=at(when), **kw)
    s.rollback()
    assert snapshot(s, code) == before
    return caught.value


def clock_kinds(s: Session, d: Dossier) -> list[str]:
    """The kinds of the dossier's clock events, in order."""
    return [e.kind.value for e in clock_events(s, d)]


def forms(result_or_docs: ActionResult | list[IssuedDocument]) -> list[str]:
    docs = result_or_docs.documents if isinstance(result_or_docs, ActionResult) else result_or_docs
    return [doc.form for doc in docs]

