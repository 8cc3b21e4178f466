"""The sweep's rules: what a dossier's stored facts say is due, at an instant (*cảnh báo*).

Pure functions of a dossier's stored facts (:class:`DossierFacts`), the competent agency's
working calendar, its settings (:class:`SweepSettings`) and ``now``; no database, no clock of
their own. The sweep (``engine.timed.sweep``) selects the candidates and writes the messages.

Every warning is a **rung**: a :class:`~engine.timed.findings.Finding` with the window of
instants in which a sweep reports it, ``[opens, closes)``. The ``rung`` text names what the
warning is about — the due date's ISO day for the due-date ladder, the step's due day for a
hand-off row, the request day for a supplement — so that the outbox's uniqueness key makes each
warning fire once and only once per dossier (and step) and per due date, while a due date
re-projected after a calendar edit, or a new appointment after an apology, is a new rung.
A window that closed before any sweep saw it is skipped (no "due soon" for an overdue dossier).
:func:`next_check` gives the first instant at which a new window opens: until then, with the
same facts, a sweep finds nothing new — the sweep stores it and does not look before.

The rules (docs/notifications.md, "Sweeps"):

- the due-date ladder, on the appointment the applicant was last given (the legal due date
  unless an apology moved it, T9): ``due_soon`` from the warning horizon before it
  (:attr:`SweepSettings.warn_ahead_amount`, in working days or working hours), ``due_today``
  on the day, ``overdue`` from the next day (day granularity, T12);
- the apology (Mẫu 04, T9): the letter must go out by the working day before the due date
  (``engine.clock.apology_deadline``); ``apology_due`` from the warning horizon before that
  day until it ends, ``apology_missed`` after it, while no apology was sent;
- open hand-off rows: ``step_due_soon`` from the horizon before the row's due instant,
  ``step_overdue`` once it has passed;
- a supplement awaited longer than :attr:`SweepSettings.supplement_wait_days` working days
  (``supplement_awaited``, from the start of the next working day);
- paper not transferred by ``transfer_due_at`` (same working day, next morning after 15:00,
  ND 61 Art 18(2); ``transfer_late``);
- a boundary-free dossier sent on but not accepted by the competent agency by its acceptance
  deadline (``not_accepted``; [I]: the transfer rule applied to the transfer, or
  :attr:`SweepSettings.accept_within_hours` working hours).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from engine.calendar import WorkingCalendar
from engine.calendar.working import CalendarRangeError
from engine.clock import apology_deadline, had_apology_day
from engine.lifecycle.projection import transfer_deadline
from engine.lifecycle.states import TERMINAL, State
from engine.timed.findings import Finding, FindingKind
from engine.timezone import local_instant, to_local

#: "Just after" an instant: a deadline is missed once it has passed, not at the instant itself.
EPSILON = timedelta(microseconds=1)

_TERMINAL = frozenset(s.value for s in TERMINAL)
#: States whose legal clock does not run: not yet received, paused (T8), awaiting the
#: applicant's supplement (T7), or processing already ended (result ready, status 9).
_NO_RUNNING_CLOCK = frozenset({State.NEW.value, State.SUBMITTED.value, State.PAUSED.value,
                               State.AWAITING_SUPPLEMENT.value, State.RESULT_READY.value})


class WarnUnit(StrEnum):
    """Unit of the warning horizon before a due date."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"


@dataclass(frozen=True, slots=True)
class SweepSettings:
    """One agency's sweep settings (``engine.agencies.Agency`` columns, migration 0010).

    The law sets none of these; the defaults are ours [I] (docs/notifications.md, "Settings").
    """

    warn_ahead_amount: int = 1
    warn_ahead_unit: WarnUnit = WarnUnit.WORKING_DAYS
    supplement_wait_days: int = 10
    accept_within_hours: int = 0  # 0: the same-day / next-morning rule of the transfer

    @classmethod
    def of(cls, agency: Any) -> SweepSettings:
        """The settings stored on an agency row (or anything with the same attributes). A
        value that cannot be one (an unknown unit, a negative number) takes the default: one
        mistyped row must not stop the sweeps of a whole province."""
        d = DEFAULT_SETTINGS

        def count(value: Any, default: int) -> int:
            return value if isinstance(value, int) and value >= 0 else default

        unit = agency.warn_ahead_unit
        return cls(count(agency.warn_ahead_amount, d.warn_ahead_amount),
                   WarnUnit(unit) if unit in WarnUnit._value2member_map_ else d.warn_ahead_unit,
                   count(agency.supplement_wait_days, d.supplement_wait_days),
                   count(agency.accept_within_hours, d.accept_within_hours))

    def fingerprint(self) -> str:
        """A short text that changes when any setting does (``engine.timed.runs``)."""
        unit = "h" if self.warn_ahead_unit is WarnUnit.WORKING_HOURS else "d"
        return (f"{self.warn_ahead_amount}{unit}|{self.supplement_wait_days}|"
                f"{self.accept_within_hours}")


DEFAULT_SETTINGS = SweepSettings()


@dataclass(frozen=True, slots=True)
class StepFacts:
    """An open hand-off row (*bước* of the control sheet) as stored."""

    seq: int
    due_at: datetime | None
    role: str | None = None
    assignee: str | None = None
    unit: str | None = None
    step_name: str | None = None


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What the rules read of a dossier: its stored columns (``engine.lifecycle.models``), the
    start of the supplement wait when one is open, and its open hand-off rows."""

    code: str
    competent_agency: str
    state: str
    receiving_agency: str | None = None
    due_date: date | None = None
    due_at: datetime | None = None
    appointment_date: date | None = None
    apology_count: int = 0
    received_at: datetime | None = None
    clock_started_at: datetime | None = None
    transfer_due_at: datetime | None = None
    transferred_at: datetime | None = None
    boundary_free: bool = False
    ended_at: datetime | None = None
    supplement_requested_at: datetime | None = None  # start of the open supplement wait
    assignee: str | None = None
    steps: tuple[StepFacts, ...] = field(default=())  # open hand-off rows

    @property
    def open(self) -> bool:
        return self.ended_at is None and self.state not in _TERMINAL

    @property
    def current_step(self) -> StepFacts | None:
        """The latest open hand-off row: whose role and assignee a dossier warning is for."""
        return max(self.steps, key=lambda s: s.seq) if self.steps else None


@dataclass(frozen=True, slots=True)
class Rung:
    """A finding and the window ``[opens, closes)`` in which a sweep reports it."""

    finding: Finding
    opens: datetime
    closes: datetime | None = None

    def open_at(self, now: datetime) -> bool:
        return self.opens <= now and (self.closes is None or now < self.closes)


# ----- arithmetic on the calendar -------------------------------------------------------------

def midnight(day: date) -> datetime:
    """The local instant a day begins (a date-based warning fires from it)."""
    return local_instant(day, time(0))


def working_days_before(calendar: WorkingCalendar, day: date, n: int) -> date:
    """The n-th working day before ``day`` (``day`` itself for n = 0)."""
    for _ in range(n):
        day = calendar.previous_working_day(day)
    return day


def minus_working_hours(calendar: WorkingCalendar, instant: datetime, hours: float) -> datetime:
    """The earliest instant from which ``hours`` of office time reach ``instant`` (T6): the
    inverse of ``WorkingCalendar.add_working_hours``, through its public arithmetic."""
    origin = midnight(date(calendar.first_year, 1, 1))
    elapsed = calendar.working_time_between(origin, instant) - timedelta(hours=hours)
    if elapsed <= timedelta(0):
        return origin
    return calendar.add_working_hours(origin, elapsed)


def warn_from(calendar: WorkingCalendar, settings: SweepSettings, day: date,
              instant: datetime) -> datetime:
    """When a warning about a deadline (its ``day``, or its ``instant`` for hours) begins."""
    if settings.warn_ahead_unit is WarnUnit.WORKING_HOURS:
        return minus_working_hours(calendar, instant, settings.warn_ahead_amount)
    return midnight(working_days_before(calendar, day, settings.warn_ahead_amount))


def acceptance_deadline(transferred_at: datetime, calendar: WorkingCalendar,
                        settings: SweepSettings) -> datetime:
    """By when the competent agency must accept a boundary-free dossier sent to it [I]."""
    if settings.accept_within_hours > 0:
        return calendar.add_working_hours(transferred_at, settings.accept_within_hours)
    return transfer_deadline(transferred_at, calendar)


# ----- the rungs ------------------------------------------------------------------------------

def ladder_target(facts: DossierFacts) -> date | None:
    """The date the due-date ladder is about: the appointment once an apology moved it (the
    new promise the agency made, T9), else the legal due date."""
    if facts.apology_count > 0 and facts.appointment_date is not None:
        return facts.appointment_date
    return facts.due_date


def _finding(kind: FindingKind, facts: DossierFacts, rung: str, due: date | datetime | None,
             **extra: Any) -> Finding:
    step = facts.current_step
    details = {"receiving_agency": facts.receiving_agency}
    if step is not None:
        details.update(unit=step.unit, step_name=step.step_name)
    details.update(extra)
    return Finding(kind=kind, dossier_code=facts.code, rung=rung,
                   competent_agency=facts.competent_agency, due=due,
                   step_role=step.role if step else None,
                   assignee=(step.assignee if step and step.assignee else facts.assignee),
                   facts=details)


def _ladder(facts: DossierFacts, calendar: WorkingCalendar,
            settings: SweepSettings) -> list[Rung]:
    if facts.state in _NO_RUNNING_CLOCK or facts.clock_started_at is None:
        return []
    day = ladder_target(facts)
    if day is None:
        return []
    # The due instant when it falls on the day (it always does as the clock stores it; an
    # apology's new date has none): else the office's close that day.
    due_at = facts.due_at
    instant = (due_at if day == facts.due_date and due_at is not None
               and to_local(due_at).date() == day
               else local_instant(day, calendar.office_hours.closes))
    rung, starts, ends = day.isoformat(), midnight(day), midnight(day + timedelta(days=1))
    out = []
    soon = warn_from(calendar, settings, day, instant)
    # A horizon in days warns before the day (the day itself has its own warning); one in
    # hours warns before the instant, which may fall on the day itself.
    until = (instant + EPSILON if settings.warn_ahead_unit is WarnUnit.WORKING_HOURS
             else starts)
    if soon < until:
        out.append(Rung(_finding(FindingKind.DUE_SOON, facts, rung, day), soon, until))
    out.append(Rung(_finding(FindingKind.DUE_TODAY, facts, rung, day), starts, ends))
    out.append(Rung(_finding(FindingKind.OVERDUE, facts, rung, day), ends))
    if facts.apology_count == 0 and facts.due_date is not None:
        out += _apology(facts, facts.due_date, calendar, settings)
    return out


def _apology(facts: DossierFacts, due: date, calendar: WorkingCalendar,
             settings: SweepSettings) -> list[Rung]:
    last = apology_deadline(due, calendar)
    if not had_apology_day(facts.clock_started_at or facts.received_at, last):
        return []  # the last apology day came before the clock started (as the inbox badge)
    after = midnight(last + timedelta(days=1))
    opens = warn_from(calendar, settings, last, local_instant(last, calendar.office_hours.closes))
    extra = {"apology_by": last.isoformat()}
    out = []
    if opens < after:
        out.append(Rung(_finding(FindingKind.APOLOGY_DUE, facts, due.isoformat(), due, **extra),
                        opens, after))
    out.append(Rung(_finding(FindingKind.APOLOGY_MISSED, facts, due.isoformat(), due, **extra),
                    after))
    return out


def _supplement(facts: DossierFacts, calendar: WorkingCalendar,
                settings: SweepSettings) -> list[Rung]:
    since = facts.supplement_requested_at
    if facts.state != State.AWAITING_SUPPLEMENT.value or since is None:
        return []
    start = to_local(since).date()
    waited = settings.supplement_wait_days
    limit = calendar.add_working_days(start, waited) if waited else start
    opens = midnight(calendar.add_working_days(start, waited + 1))
    return [Rung(_finding(FindingKind.SUPPLEMENT_AWAITED, facts, start.isoformat(), limit,
                          waiting_since=start.isoformat(), working_days=waited), opens)]


def _transfer(facts: DossierFacts) -> list[Rung]:
    due = facts.transfer_due_at
    if facts.state != State.RECEIVED.value or facts.transferred_at is not None or due is None:
        return []
    return [Rung(_finding(FindingKind.TRANSFER_LATE, facts, to_local(due).date().isoformat(),
                          due), due + EPSILON)]


def _acceptance(facts: DossierFacts, calendar: WorkingCalendar,
                settings: SweepSettings) -> list[Rung]:
    if (not facts.boundary_free or facts.clock_started_at is not None
            or facts.transferred_at is None):
        return []
    due = acceptance_deadline(facts.transferred_at, calendar, settings)
    return [Rung(_finding(FindingKind.NOT_ACCEPTED, facts, to_local(due).date().isoformat(),
                          due), due + EPSILON)]


def _guarded(make, *args: Any) -> list[Rung]:
    """A rule whose dates fall outside the calendar's years finds nothing (rather than stop a
    sweep over a million dossiers for one dossier with a mistyped date)."""
    try:
        return make(*args)
    except CalendarRangeError:
        return []


def dossier_rungs(facts: DossierFacts, calendar: WorkingCalendar,
                  settings: SweepSettings = DEFAULT_SETTINGS) -> list[Rung]:
    """Every rung of the dossier itself (not of its hand-off rows): none once it has ended."""
    if not facts.open:
        return []
    return [*_guarded(_ladder, facts, calendar, settings),
            *_guarded(_supplement, facts, calendar, settings),
            *_transfer(facts),
            *_guarded(_acceptance, facts, calendar, settings)]


def step_rungs(facts: DossierFacts, step: StepFacts, calendar: WorkingCalendar,
               settings: SweepSettings = DEFAULT_SETTINGS) -> list[Rung]:
    """The rungs of one open hand-off row; none once the dossier's processing has ended (the
    return counter's row waits for the applicant, who may come after the appointment)."""
    if not facts.open or facts.state == State.RESULT_READY.value or step.due_at is None:
        return []
    return _guarded(_step, facts, step, calendar, settings)


def _step(facts: DossierFacts, step: StepFacts, calendar: WorkingCalendar,
          settings: SweepSettings) -> list[Rung]:
    due = step.due_at
    day = to_local(due).date()
    after = due + EPSILON

    def finding(kind: FindingKind) -> Finding:
        return Finding(kind=kind, dossier_code=facts.code, rung=day.isoformat(),
                       competent_agency=facts.competent_agency, due=due, step_seq=step.seq,
                       step_role=step.role, assignee=step.assignee,
                       facts={"unit": step.unit, "step_name": step.step_name,
                              "receiving_agency": facts.receiving_agency})

    soon = warn_from(calendar, settings, day, due)
    out = [Rung(finding(FindingKind.STEP_DUE_SOON), soon, after)] if soon < after else []
    return [*out, Rung(finding(FindingKind.STEP_OVERDUE), after)]


def rungs(facts: DossierFacts, calendar: WorkingCalendar,
          settings: SweepSettings = DEFAULT_SETTINGS) -> list[Rung]:
    """The dossier's rungs and those of its open hand-off rows."""
    out = dossier_rungs(facts, calendar, settings)
    for step in facts.steps:
        out += step_rungs(facts, step, calendar, settings)
    return out


# ----- at an instant --------------------------------------------------------------------------

def due_now(ladder: Iterable[Rung], now: datetime, calendar: WorkingCalendar) -> list[Finding]:
    """The findings whose window holds ``now``; a supplement warning says how long it has
    actually been awaited."""
    out = []
    for rung in ladder:
        if not rung.open_at(now):
            continue
        finding = rung.finding
        if finding.kind is FindingKind.SUPPLEMENT_AWAITED:
            since = date.fromisoformat(finding.facts["waiting_since"])
            waited = calendar.working_days_between(since, to_local(now).date())
            finding = replace(finding, facts={**finding.facts, "working_days": waited})
        out.append(finding)
    return out


def next_check(ladder: Iterable[Rung], now: datetime) -> datetime | None:
    """The first instant after ``now`` at which a new window opens (None: none will, with
    these facts)."""
    return min((r.opens for r in ladder if r.opens > now), default=None)


def findings(facts: DossierFacts, calendar: WorkingCalendar,
             settings: SweepSettings = DEFAULT_SETTINGS, *, now: datetime) -> list[Finding]:
    """What a sweep at ``now`` finds about the dossier and its open hand-off rows."""
    return due_now(rungs(facts, calendar, settings), now, calendar)


# ----- what a sweep must select ---------------------------------------------------------------

def dossier_horizon(calendar: WorkingCalendar, settings: SweepSettings, now: datetime) -> date:
    """The latest appointment date whose ladder may have an open window at ``now``: every
    dossier due later has nothing to report yet. The apology is due a working day before the
    due date, so one working day (two with an hours horizon) beyond the warning horizon."""
    today = to_local(now).date()
    if settings.warn_ahead_unit is WarnUnit.WORKING_HOURS:
        reach = to_local(calendar.add_working_hours(now, settings.warn_ahead_amount)).date()
        return calendar.add_working_days(reach, 2)
    reach = (calendar.add_working_days(today, settings.warn_ahead_amount)
             if settings.warn_ahead_amount else today)
    return calendar.add_working_days(reach, 1)


def step_horizon(calendar: WorkingCalendar, settings: SweepSettings, now: datetime) -> datetime:
    """An instant such that every open hand-off row with a window open at ``now`` is due
    before it."""
    today = to_local(now).date()
    if settings.warn_ahead_unit is WarnUnit.WORKING_HOURS:
        reach = to_local(calendar.add_working_hours(now, settings.warn_ahead_amount)).date()
        reach = calendar.add_working_days(reach, 1)
    else:
        reach = (calendar.add_working_days(today, settings.warn_ahead_amount)
                 if settings.warn_ahead_amount else today)
    return midnight(reach + timedelta(days=1))

