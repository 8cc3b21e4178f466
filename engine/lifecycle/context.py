"""The context one action works in: what it acts on, who acts, and what it has produced so far.

The unit of work (``engine.lifecycle.unit_of_work``) creates it, the effects
(``engine.lifecycle.effects``) fill it in (documents, flags, the clock event, hand-off rows),
and the unit of work writes it out in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from engine.calendar import WorkingCalendar
from engine.calendar.store import load_calendar
from engine.deadline import ClockPolicy, Due
from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.inputs import Actor
from engine.lifecycle.models import Dossier, IssuedDocument
from engine.lifecycle.states import Action
from engine.lifecycle.workset import EventRef, Hop, read_workset
from engine.procedures import ProcedureSpec


@dataclass
class ActionContext:
    session: Session
    dossier: Dossier
    spec: ProcedureSpec
    actor: Actor
    action: Action
    at: datetime
    reason: str | None
    payload: dict[str, Any]
    clock: dict[str, Any] | None = None  # the clock event this action records
    documents: list[IssuedDocument] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    calendars: dict[str, WorkingCalendar] = field(default_factory=dict)
    hops: list[Hop] | None = None  # the hand-off rows, read once per action
    policy: ClockPolicy | None = None  # the receiving agency's clock settings
    spec_day: date | None = None  # the day ``spec`` was found in force for (receive)
    events: list[EventRef] | None = None  # the stored events
    due: Due | None = None  # the due date the clock projection found, with its reasons

    def _read(self) -> None:
        work = read_workset(self.session, self.dossier)
        self.hops, self.events = work.hops, work.events

    def event_rows(self) -> list[EventRef]:
        """The dossier's stored events, read once per action (with the hand-off rows)."""
        if self.events is None:
            self._read()
        return self.events

    def calendar(self, agency_code: str) -> WorkingCalendar:
        """The agency's calendar, checked against the database once per action."""
        calendar = self.calendars.get(agency_code)
        if calendar is None:
            calendar = self.calendars[agency_code] = load_calendar(self.session,
                                                                   agency_code=agency_code)
        return calendar

    def step_rows(self) -> list[Hop]:
        """The dossier's hand-off rows, including the ones this action opened."""
        if self.hops is None:
            self._read()
        return self.hops

    def need_reason(self, what: str) -> None:
        """Actions that change the applicant's position must say why (the reason is printed
        on the form and kept in the journal)."""
        if not self.reason:
            raise InvalidInput(f"phải nêu lý do {what}", field="reason")
