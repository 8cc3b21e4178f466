"""Properties of the sweep's rules for any dossier, settings and instants (hypothesis): the
marks a sweep keeps lose no warning and repeat none, and the SQL horizon holds every dossier
and hand-off row that has something to say."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from engine.calendar import national_calendar
from engine.timed.findings import FindingKind as K
from engine.timed.rules import (
    DossierFacts,
    StepFacts,
    SweepSettings,
    WarnUnit,
    dossier_horizon,
    due_now,
    findings,
    ladder_target,
    next_check,
    rungs,
    step_horizon,
)
from engine.timezone import VN_TZ

CAL = national_calendar()
LADDER = {K.DUE_SOON, K.DUE_TODAY, K.OVERDUE, K.APOLOGY_DUE, K.APOLOGY_MISSED}
STEPS = {K.STEP_DUE_SOON, K.STEP_OVERDUE}

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))
instants = st.builds(
    lambda d, minutes: datetime.combine(d, time(0), tzinfo=VN_TZ) + timedelta(minutes=minutes),
    days, st.integers(min_value=0, max_value=24 * 60 - 1))
maybe_instant = st.none() | instants
sweep_settings = st.builds(
    SweepSettings, warn_ahead_amount=st.integers(0, 4),
    warn_ahead_unit=st.sampled_from(list(WarnUnit)), supplement_wait_days=st.integers(0, 15),
    accept_within_hours=st.sampled_from([0, 0, 2, 8]))
steps = st.lists(st.builds(StepFacts, seq=st.integers(1, 6), due_at=maybe_instant,
                           role=st.just("officer")), max_size=2, unique_by=lambda s: s.seq)


@st.composite
def dossiers(draw) -> DossierFacts:
    due = draw(st.none() | days)
    apologies = draw(st.sampled_from([0, 0, 1]))
    appointment = due + timedelta(days=draw(st.integers(1, 20))) if due and apologies else due
    return DossierFacts(
        code="X", competent_agency="A",
        state=draw(st.sampled_from(["received", "in_processing", "in_processing",
                                    "awaiting_supplement", "paused", "awaiting_payment",
                                    "result_ready", "returned"])),
        due_date=due, appointment_date=appointment, apology_count=apologies,
        due_at=draw(maybe_instant), clock_started_at=draw(st.none() | instants | instants),
        transfer_due_at=draw(maybe_instant), transferred_at=draw(maybe_instant),
        boundary_free=draw(st.booleans()), supplement_requested_at=draw(maybe_instant),
        steps=tuple(draw(steps)))


def keys(found) -> set[tuple]:
    return {(f.kind, f.rung, f.step_seq) for f in found}


@settings(max_examples=300, deadline=None)
@given(dossiers(), sweep_settings, instants, st.integers(1, 60 * 24 * 30))
def test_nothing_new_is_found_before_the_next_check(facts, config, first, minutes):
    ladder = rungs(facts, CAL, config)
    later = first + timedelta(minutes=minutes)
    following = next_check(ladder, first)
    if following is None or later < following:
        assert keys(due_now(ladder, later, CAL)) <= keys(due_now(ladder, first, CAL))


@settings(max_examples=300, deadline=None)
@given(dossiers(), sweep_settings, st.lists(instants, min_size=1, max_size=8))
def test_sweeping_with_marks_finds_each_warning_exactly_once_and_misses_none(facts, config,
                                                                             moments):
    """A sweep judges a row again only from its mark's instant and reports the rungs opened
    since; that must give the same warnings as judging it at every sweep, each once."""
    moments = sorted(moments)
    ladder = rungs(facts, CAL, config)
    everything = set().union(*(keys(due_now(ladder, t, CAL)) for t in moments))
    told: list[tuple] = []
    mark: datetime | None = None
    judged = False
    for t in moments:
        if judged and (mark is None or t < mark):
            continue
        fresh = [r for r in ladder if not judged or r.opens >= mark]
        told += keys(due_now(fresh, t, CAL))
        mark, judged = next_check(ladder, t), True
    assert sorted(told) == sorted(set(told))
    assert set(told) == everything


@settings(max_examples=300, deadline=None)
@given(dossiers(), sweep_settings, instants)
def test_every_row_with_something_to_say_lies_within_the_sql_horizon(facts, config, now):
    for finding in findings(facts, CAL, config, now=now):
        if finding.kind in LADDER:
            assert ladder_target(facts) <= dossier_horizon(CAL, config, now)
        elif finding.kind in STEPS:
            step = next(s for s in facts.steps if s.seq == finding.step_seq)
            assert step.due_at < step_horizon(CAL, config, now)


@settings(max_examples=200, deadline=None)
@given(dossiers(), sweep_settings, instants)
def test_the_ladder_is_named_by_its_date_so_a_new_date_is_a_new_rung(facts, config, now):
    target = ladder_target(facts)
    for finding in findings(facts, CAL, config, now=now):
        if finding.kind in {K.DUE_SOON, K.DUE_TODAY, K.OVERDUE}:
            assert finding.rung == target.isoformat()
        elif finding.kind in {K.APOLOGY_DUE, K.APOLOGY_MISSED}:
            assert finding.rung == facts.due_date.isoformat()
