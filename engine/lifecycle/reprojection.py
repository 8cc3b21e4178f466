"""Re-projection: the deadlines of open dossiers recomputed after a calendar edit.

Nothing happened *to* the dossiers — the calendar changed — so their event logs are untouched;
the clock projection (``engine.lifecycle.projection``) is replayed on the new calendar and a
moved due date is written with the same compare-and-set as an action. Each move is recorded on
the dossier (``engine.lifecycle.moves``: the applicant's printed date changed) and announced
to the move's listeners (the outbox's notices) in the same transaction; a re-run that finds
the same dates moves nothing and so records and announces nothing again.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from engine.data_version import note_change
from engine.lifecycle.models import Dossier, utcnow
from engine.lifecycle.moves import record_move
from engine.lifecycle.projection import apply_clock
from engine.lifecycle.queries import spec_of
from engine.lifecycle.unit_of_work import compare_and_set


def reproject_open_dossiers(session: Session, *, agency_code: str | None = None,
                            reason: str | None = None) -> list[dict[str, Any]]:
    """Recompute the deadlines of open dossiers after a calendar edit.

    ``agency_code`` limits it to dossiers processed by that agency (its own days off); None
    means every open dossier (a national change). ``reason`` describes the edit to the
    applicant (default: a calendar adjustment). Returns what moved, for the journal.
    """
    query = select(Dossier).where(col(Dossier.ended_at).is_(None),
                                  col(Dossier.clock_started_at).is_not(None))
    if agency_code:
        query = query.where(Dossier.competent_agency == agency_code)
    moved = []
    for dossier in session.exec(query).all():
        before = (dossier.due_date, dossier.appointment_date)
        apply_clock(session, dossier, spec_of(session, dossier))
        if (dossier.due_date, dossier.appointment_date) != before:
            dossier.updated_at = utcnow()
            compare_and_set(session, dossier)  # a concurrent action wins or we do; never both
            record_move(session, dossier, before=before, reason=reason)
            moved.append({"code": dossier.code, "old_due": str(before[0]),
                          "new_due": str(dossier.due_date),
                          "old_appointment": str(before[1]),
                          "new_appointment": str(dossier.appointment_date)})
    if moved:  # stored due dates judge past period ends too: closed reports may change
        note_change(session, "reprojection")
    return moved
