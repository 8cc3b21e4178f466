"""A sweep (*lượt quét*): find what time has made due and leave the messages in the outbox.

:func:`run_sweep` is what the scheduler calls every few minutes (``service/scheduler``), with
the instant to judge at (``now``: time is injected, tests choose it). It

1. reads what it judges with: the calendars — the national one and those of agencies with
   days or office hours of their own, each built once (``load_calendars``) — and the agencies'
   sweep settings (``engine.agencies.Agency``; defaults for the rest);
2. selects the candidates in SQL (``engine.timed.candidates``): rows within the widest horizon
   whose mark says they may have something new — streamed, a chunk at a time;
3. applies the pure rules (``engine.timed.rules``) to each row of a chunk, turns the findings
   into drafts (``engine.timed.messages.drafts_for_finding``), writes them with
   ``engine.outbox.enqueue`` and the rows' new marks **in one transaction per chunk**;
4. records the run (``engine.timed.runs.SweepRun``).

Exactly once: a message's uniqueness key makes a repeat finding write nothing, so a sweep run
twice, two sweeps at once or a sweep resumed after a crash never duplicate a message; and a
chunk's messages commit with its marks or not at all, so a crash mid-sweep never loses one —
the next sweep finds the unmarked rows again. Memory stays flat: ids are streamed from the
index, facts read a chunk at a time.

When the calendars or settings changed since the last successful run (an administrator added
a day off, moved an agency's warning horizon), the marks set with the old ones may be too
late: the sweep first judges again, marks aside, every row of the agencies concerned — of all
agencies if the national calendar changed, and on the very first run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Select, or_
from sqlmodel import Session, col, select

from engine.agencies import Agency
from engine.calendar import WorkingCalendar
from engine.calendar.store import NATIONAL, CalendarDayRow, OfficeHoursRow, load_calendars
from engine.outbox import Draft, enqueue
from engine.timed.candidates import (
    Bounds,
    due_ids,
    load_dossiers,
    load_steps,
    mark,
    step_ids,
    waiting_ids,
)
from engine.timed.findings import Finding
from engine.timed.rules import (
    DEFAULT_SETTINGS,
    Rung,
    SweepSettings,
    dossier_horizon,
    dossier_rungs,
    due_now,
    next_check,
    step_horizon,
    step_rungs,
)
from engine.timed.runs import SweepRun, last_successful

#: The mark of a row with nothing more to say on its current facts (a far instant rather than
#: NULL: NULL on a hand-off row means "never judged").
NEVER = datetime(2999, 12, 31, tzinfo=UTC)
#: Rows judged, and committed with their messages, per transaction.
CHUNK = 500
#: Drafts per INSERT: a power of two, and the rest of a chunk in smaller powers of two, so
#: that a sweep uses a handful of statement shapes — each new one is compiled, cached (by
#: SQLAlchemy) and parsed (by psycopg) anew, which cost more than the insert itself when every
#: chunk had its own length. SQLite allows 32,766 parameters; a draft takes 14.
ENQUEUE_BATCH = 64

DraftMaker = Callable[[Session, Finding], list[Draft]]


@dataclass
class SweepResult:
    """What one sweep did (also stored as its ``SweepRun``)."""

    run_id: int | None
    started_at: datetime
    seconds: float
    dossiers: int  # dossiers judged
    steps: int  # hand-off rows judged
    findings: dict[str, int]  # per FindingKind value, found in this run
    new_messages: int  # outbox rows written
    full: bool  # marks ignored for every agency
    ok: bool = True


# ----- what a sweep judges with ---------------------------------------------------------------

@dataclass
class Judges:
    """The calendars and settings of a sweep: the national calendar with the default settings,
    and the agencies that have a calendar or settings of their own."""

    calendars: dict[str, WorkingCalendar]
    settings: dict[str, SweepSettings]

    def calendar(self, agency: str) -> WorkingCalendar:
        return self.calendars.get(agency) or self.calendars[NATIONAL]

    def settings_of(self, agency: str) -> SweepSettings:
        return self.settings.get(agency, DEFAULT_SETTINGS)

    @property
    def agencies(self) -> set[str]:
        return {NATIONAL, *self.calendars, *self.settings}

    def fingerprints(self) -> dict[str, str]:
        """What each calendar and setting says, in short: a change shows as a new text."""
        return {code: f"{self.calendar(code).version}|{self.settings_of(code).fingerprint()}"
                for code in sorted(self.agencies)}

    def bounds(self, now: datetime) -> Bounds:
        """The widest horizons of all agencies: one SQL bound, the rules decide per row."""
        codes = sorted(self.agencies)
        return Bounds(now,
                      max(dossier_horizon(self.calendar(c), self.settings_of(c), now)
                          for c in codes),
                      max(step_horizon(self.calendar(c), self.settings_of(c), now)
                          for c in codes))


def judges(session: Session) -> Judges:
    """Read the calendars (each built once, cached by ``load_calendars``) and the settings.
    An agency without days or hours of its own has the national calendar itself."""
    own = set(session.exec(select(CalendarDayRow.agency_code)
                           .where(CalendarDayRow.agency_code != NATIONAL).distinct()))
    own |= set(session.exec(select(OfficeHoursRow.agency_code)
                            .where(OfficeHoursRow.agency_code != NATIONAL)))
    d = DEFAULT_SETTINGS
    custom = session.exec(select(Agency).where(or_(
        col(Agency.warn_ahead_amount) != d.warn_ahead_amount,
        col(Agency.warn_ahead_unit) != d.warn_ahead_unit.value,
        col(Agency.supplement_wait_days) != d.supplement_wait_days,
        col(Agency.accept_within_hours) != d.accept_within_hours))).all()
    return Judges(load_calendars(session, [NATIONAL, *own]),
                  {a.code: SweepSettings.of(a) for a in custom})


def forced_agencies(last: SweepRun | None, fingerprints: dict[str, str]) -> Collection[str] | None:
    """Whose rows to judge again, marks aside: ``()`` every agency (first run, or the national
    calendar changed), a set of agencies whose own calendar or settings changed, or None."""
    before = (last.judged_with or {}) if last is not None else {}
    if not before or before.get(NATIONAL) != fingerprints[NATIONAL]:
        return ()
    changed = {code for code in set(before) | set(fingerprints)
               if code != NATIONAL and before.get(code) != fingerprints.get(code)}
    return changed or None


# ----- the sweep ------------------------------------------------------------------------------

@dataclass
class _Tally:
    found: Counter = field(default_factory=Counter)
    new_messages: int = 0
    dossiers: int = 0
    steps: int = 0


class _Writer:
    """Turns a chunk's findings into outbox rows, in the chunk's transaction."""

    def __init__(self, session: Session, now: datetime, drafts: DraftMaker | None,
                 tally: _Tally) -> None:
        self.session, self.now, self.tally = session, now, tally
        self._drafts = drafts
        self._directory = None

    def drafts(self, finding: Finding) -> list[Draft]:
        if self._drafts is not None:
            return self._drafts(self.session, finding)
        from engine.timed.messages import drafts_for_finding
        from engine.timed.recipients import Directory

        if self._directory is None:  # read the staff once, and only if something was found
            self._directory = Directory.preload(self.session)
        return drafts_for_finding(self.session, finding, directory=self._directory)

    def write(self, found: Sequence[Finding]) -> None:
        drafts = []
        for finding in found:
            self.tally.found[finding.kind.value] += 1
            drafts += self.drafts(finding)
        for start, end in batches(len(drafts)):
            self.tally.new_messages += enqueue(self.session, drafts[start:end], at=self.now)


def batches(total: int, size: int = ENQUEUE_BATCH) -> list[tuple[int, int]]:
    """``[start, end)`` slices of ``total`` items: full batches of ``size``, then the rest in
    decreasing powers of two (at most log2(size) + 1 distinct lengths in all)."""
    out, start = [], 0
    while total - start >= size:
        out.append((start, start + size))
        start += size
    step = size // 2
    while start < total:
        if total - start >= step:
            out.append((start, start + step))
            start += step
        step //= 2
    return out


def _stream(reader: Connection, query: Select, size: int) -> Iterator[list[int]]:
    """The ids a query selects, ``size`` at a time, from a connection of their own (the
    session commits each chunk meanwhile; nothing holds the whole list)."""
    result = reader.execution_options(stream_results=True, max_row_buffer=size).execute(query)
    for part in result.partitions(size):
        yield [row[0] for row in part]


@dataclass
class _Chunk:
    """What judging a chunk needs: the session, the judges, the instant, the writer, and the
    agencies judged again marks aside (``forced_agencies``)."""

    session: Session
    judge: Judges
    now: datetime
    writer: _Writer
    forced: Collection[str] | None

    def fresh(self, ladder: list[Rung], agency: str, mark_holds: bool,
              next_at: datetime | None) -> list[Rung]:
        """The rungs that may be new to a row. While its mark holds (same facts, same
        calendar), every rung that opened before the mark's instant was written with the mark,
        so only those opening from it on are new; otherwise all are (the outbox skips the
        repeats), which keeps "found" counts to what is new in the common case."""
        if (not mark_holds or next_at is None or self.forced == ()
                or (self.forced and agency in self.forced)):
            return ladder
        return [r for r in ladder if r.opens >= next_at]


def _judge_dossiers(chunk: _Chunk, ids: Sequence[int]) -> None:
    found, marks = [], []
    for candidate in load_dossiers(chunk.session, ids):
        agency = candidate.facts.competent_agency
        calendar = chunk.judge.calendar(agency)
        ladder = dossier_rungs(candidate.facts, calendar, chunk.judge.settings_of(agency))
        judged, next_at = candidate.mark
        fresh = chunk.fresh(ladder, agency, judged == candidate.version, next_at)
        found += due_now(fresh, chunk.now, calendar)
        following = next_check(ladder, chunk.now) or NEVER
        if candidate.mark != (candidate.version, following):
            marks.append((candidate.id, candidate.version, following))
    chunk.writer.tally.dossiers += len(ids)
    chunk.writer.write(found)
    mark(chunk.session, dossiers=marks)


def _judge_steps(chunk: _Chunk, ids: Sequence[int]) -> None:
    found, marks = [], []
    for candidate in load_steps(chunk.session, ids):
        agency = candidate.facts.competent_agency
        calendar = chunk.judge.calendar(agency)
        ladder = step_rungs(candidate.facts, candidate.step, calendar,
                            chunk.judge.settings_of(agency))
        next_at = candidate.mark[1]
        fresh = chunk.fresh(ladder, agency, True, next_at)
        found += due_now(fresh, chunk.now, calendar)
        following = next_check(ladder, chunk.now) or NEVER
        if next_at != following:
            marks.append((candidate.id, following))
    chunk.writer.tally.steps += len(ids)
    chunk.writer.write(found)
    mark(chunk.session, steps=marks)


def _passes(bounds: Bounds, forced: Collection[str] | None) -> list[tuple[Select, Callable]]:
    """The queries of a sweep in order: rows judged again first (their new marks then keep
    the regular queries from judging them twice), then the rows the marks select."""
    out = []
    if forced is not None:
        out += [(due_ids(bounds, agencies=forced), _judge_dossiers),
                (waiting_ids(bounds, agencies=forced), _judge_dossiers),
                (step_ids(bounds, agencies=forced), _judge_steps)]
    return [*out, (due_ids(bounds), _judge_dossiers), (waiting_ids(bounds), _judge_dossiers),
            (step_ids(bounds), _judge_steps)]


def run_sweep(session: Session, *, now: datetime, holder: str, chunk: int = CHUNK,
              drafts: DraftMaker | None = None) -> SweepResult:
    """Sweep at ``now`` and record the run; commits (the run's row first, then each chunk).

    ``drafts`` replaces ``engine.timed.messages.drafts_for_finding`` (tests). An error is
    recorded on the run (``ok`` false, ``error``) and raised again; the chunks committed
    before it stay, with their marks, and the next sweep carries on from there.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed here: {now.isoformat()}")
    started = time.perf_counter()
    run = SweepRun(holder=holder, started_at=now, ok=False)
    session.add(run)
    session.flush()
    run_id = run.id
    session.commit()
    tally = _Tally()
    bind = session.get_bind()
    try:
        judge = judges(session)
        fingerprints = judge.fingerprints()
        forced = forced_agencies(last_successful(session), fingerprints)
        context = _Chunk(session, judge, now, _Writer(session, now, drafts, tally), forced)
        with getattr(bind, "engine", bind).connect() as reader:
            for query, judge_chunk in _passes(judge.bounds(now), forced):
                for ids in _stream(reader, query, chunk):
                    judge_chunk(context, ids)
                    session.commit()
                reader.commit()  # no snapshot held between the passes (PostgreSQL's vacuum)
    except BaseException as exc:
        session.rollback()
        try:
            _finish(session, run_id, tally, started, error=f"{type(exc).__name__}: {exc}")
        except Exception:  # the database itself failed: the original error says more
            session.rollback()
        raise
    seconds = _finish(session, run_id, tally, started, full=forced == (),
                      judged_with=fingerprints)
    return SweepResult(run_id, now, seconds, tally.dossiers, tally.steps, dict(tally.found),
                       tally.new_messages, forced == ())


def _finish(session: Session, run_id: int | None, tally: _Tally, started: float, *,
            error: str | None = None, full: bool = False,
            judged_with: dict[str, str] | None = None) -> float:
    seconds = time.perf_counter() - started
    run = session.get(SweepRun, run_id)
    run.ok = error is None
    run.error = error[:2000] if error else None
    run.seconds = seconds
    run.finished_at = run.started_at + timedelta(seconds=seconds) if error is None else None
    run.findings = dict(tally.found)
    run.new_messages = tally.new_messages
    run.candidates = tally.dossiers + tally.steps
    run.full = full
    run.judged_with = judged_with
    session.add(run)
    session.commit()
    return seconds
