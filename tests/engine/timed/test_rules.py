"""The sweep's rules at chosen instants: around due dates, the 15:00 cut-off, make-up
Saturdays and Tết (real days of the official calendar, ../shared/deadline_cases.md). Pure: no
database — a dossier's stored facts, a calendar, settings and an instant."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from engine.calendar import DayEntry, DayKind, national_calendar
from engine.lifecycle.projection import transfer_deadline
from engine.samples import local
from engine.timed.findings import FindingKind as K
from engine.timed.rules import (
    DEFAULT_SETTINGS,
    DossierFacts,
    StepFacts,
    SweepSettings,
    WarnUnit,
    dossier_rungs,
    findings,
    minus_working_hours,
    next_check,
    rungs,
)
from engine.timezone import VN_TZ

CAL = national_calendar()
HOURS = SweepSettings(warn_ahead_amount=2, warn_ahead_unit=WarnUnit.WORKING_HOURS)


def dossier(due: date | None = date(2025, 3, 10), *, state: str = "in_processing",
            **kw) -> DossierFacts:
    """An open dossier received on Monday 03/03/2025, due on ``due`` (stored facts only)."""
    values = dict(code="X-1", competent_agency="DEPT", state=state, receiving_agency="CENTRE",
                  due_date=due, appointment_date=due,
                  due_at=datetime.combine(due, datetime.min.time().replace(hour=17),
                                          tzinfo=VN_TZ) if due else None,
                  received_at=local("2025-03-03T09:00"), clock_started_at=local("2025-03-03T09:00"),
                  transfer_due_at=local("2025-03-03T17:00"),
                  transferred_at=local("2025-03-03T09:30"))
    values.update(kw)
    return DossierFacts(**values)


def found(facts: DossierFacts, when: str | datetime, settings: SweepSettings = DEFAULT_SETTINGS,
          calendar=CAL) -> set[tuple[str, str]]:
    now = local(when) if isinstance(when, str) else when
    return {(f.kind.value, f.rung) for f in findings(facts, calendar, settings, now=now)}


def opening(facts: DossierFacts, kind: K, settings: SweepSettings = DEFAULT_SETTINGS,
            calendar=CAL) -> datetime | None:
    """When the window of ``kind`` opens (None: the dossier has no such rung)."""
    return next((r.opens for r in rungs(facts, calendar, settings) if r.finding.kind is kind),
                None)


# ----- the due-date ladder and the apology -----------------------------------------------------

def test_a_dossier_due_on_a_monday_is_warned_on_the_friday_then_on_the_day_then_after():
    d = dossier()  # due Monday 10/03/2025; the working day before is Friday 07/03
    assert found(d, "2025-03-05T23:59") == set()
    # the apology must go out by Friday 07/03: prompted from the working day before it
    assert found(d, "2025-03-06T00:00") == {("apology_due", "2025-03-10")}
    assert found(d, "2025-03-07T08:00") == {("apology_due", "2025-03-10"),
                                            ("due_soon", "2025-03-10")}
    assert found(d, "2025-03-09T12:00") == {("apology_missed", "2025-03-10"),
                                            ("due_soon", "2025-03-10")}
    assert found(d, "2025-03-10T16:59") == {("apology_missed", "2025-03-10"),
                                            ("due_today", "2025-03-10")}
    assert found(d, "2025-03-11T00:00") == {("apology_missed", "2025-03-10"),
                                            ("overdue", "2025-03-10")}


def test_a_dossier_whose_last_apology_day_came_before_its_clock_reports_no_missed_apology():
    """A same-day procedure received on Saturday 08/03/2025 is due Monday 10/03; its last
    apology day (Friday 07/03) came before it existed: no apology rung, as the inbox badge
    (issue 15) — the due date brings its own warning."""
    saturday = local("2025-03-08T10:00")
    d = dossier(received_at=saturday, clock_started_at=saturday, transfer_due_at=None,
                transferred_at=None)
    assert found(d, "2025-03-09T12:00") == {("due_soon", "2025-03-10")}
    assert found(d, "2025-03-10T16:59") == {("due_today", "2025-03-10")}
    assert opening(d, K.APOLOGY_MISSED) is None


def test_the_apology_warnings_stop_once_the_letter_is_sent_and_the_ladder_follows_the_new_date():
    d = dossier(apology_count=1, appointment_date=date(2025, 3, 19))
    assert found(d, "2025-03-07T08:00") == set()
    assert found(d, "2025-03-11T08:00") == set()  # past the legal date, before the new one
    assert found(d, "2025-03-18T08:00") == {("due_soon", "2025-03-19")}
    assert found(d, "2025-03-20T08:00") == {("overdue", "2025-03-19")}


def test_a_re_projected_due_date_is_a_new_rung():
    before = {rung for _, rung in found(dossier(), "2025-03-11T08:00")}
    after = {rung for _, rung in found(dossier(date(2025, 3, 11)), "2025-03-12T08:00")}
    assert before == {"2025-03-10"} and after == {"2025-03-11"}


def test_a_make_up_saturday_is_a_working_day_for_every_warning():
    # Received Wed 07/01/2026, 3 working days: due on the make-up Saturday 10/01/2026.
    d = dossier(date(2026, 1, 10), clock_started_at=local("2026-01-07T09:00"))
    assert opening(d, K.DUE_SOON) == local("2026-01-09T00:00")
    assert opening(d, K.DUE_TODAY) == local("2026-01-10T00:00")
    assert opening(d, K.OVERDUE) == local("2026-01-11T00:00")
    # Due Monday 12/01/2026: the working day before is that Saturday, not the Friday.
    d = dossier(date(2026, 1, 12), clock_started_at=local("2026-01-07T09:00"))
    assert opening(d, K.DUE_SOON) == local("2026-01-10T00:00")
    assert opening(d, K.APOLOGY_DUE) == local("2026-01-09T00:00")
    assert opening(d, K.APOLOGY_MISSED) == local("2026-01-11T00:00")
    assert found(d, "2026-01-10T09:00") == {("due_soon", "2026-01-12"),
                                            ("apology_due", "2026-01-12")}


def test_before_tet_the_warnings_come_on_the_last_working_day_before_the_holiday():
    # Due Monday 03/02/2025, the first working day after Tết Ất Tỵ (27–31/01 + weekends).
    d = dossier(date(2025, 2, 3), clock_started_at=local("2025-01-20T09:00"))
    assert opening(d, K.DUE_SOON) == local("2025-01-24T00:00")
    assert opening(d, K.APOLOGY_DUE) == local("2025-01-23T00:00")
    assert opening(d, K.APOLOGY_MISSED) == local("2025-01-25T00:00")  # during Tết
    assert found(d, "2025-01-29T10:00") == {("due_soon", "2025-02-03"),
                                            ("apology_missed", "2025-02-03")}


def test_an_agencys_own_day_off_moves_its_warnings():
    local_off = CAL.with_overrides([DayEntry(date(2025, 3, 7), DayKind.LOCAL_OFF, "Bão")])
    d = dossier()
    assert opening(d, K.DUE_SOON, calendar=local_off) == local("2025-03-06T00:00")
    assert opening(d, K.APOLOGY_DUE, calendar=local_off) == local("2025-03-05T00:00")


def test_the_warning_horizon_is_a_setting_in_working_days_or_hours():
    d = dossier()
    three = SweepSettings(warn_ahead_amount=3)
    assert opening(d, K.DUE_SOON, three) == local("2025-03-05T00:00")
    assert opening(d, K.APOLOGY_DUE, three) == local("2025-03-04T00:00")
    assert opening(d, K.DUE_SOON, SweepSettings(warn_ahead_amount=0)) is None
    # two working hours before 17:00 on Monday 10/03: 15:00 that day
    assert opening(d, K.DUE_SOON, HOURS) == local("2025-03-10T15:00")
    assert found(d, "2025-03-10T15:00", HOURS) >= {("due_soon", "2025-03-10"),
                                                   ("due_today", "2025-03-10")}
    # two working hours before the close of Friday 07/03 (the apology's last day)
    assert opening(d, K.APOLOGY_DUE, HOURS) == local("2025-03-07T15:00")


def test_an_hour_limit_due_the_next_morning_is_warned_across_the_night():
    # Case 6: received Thu 12/03/2026 16:15, 2 working hours: due Fri 13/03 08:45.
    d = dossier(date(2026, 3, 13), due_at=local("2026-03-13T08:45"),
                clock_started_at=local("2026-03-12T16:15"))
    assert minus_working_hours(CAL, local("2026-03-13T08:45"), 2) == local("2026-03-12T16:15")
    assert opening(d, K.DUE_SOON, HOURS) == local("2026-03-12T16:15")
    # and its apology was due by the working day before — the day of receipt itself
    assert found(d, "2026-03-12T20:00", HOURS) == {("due_soon", "2026-03-13"),
                                                   ("apology_due", "2026-03-13")}


@pytest.mark.parametrize("state", ["paused", "awaiting_supplement", "result_ready", "returned",
                                   "withdrawn", "stopped", "submitted"])
def test_no_due_warning_while_the_clock_stands_still_or_after_the_end(state):
    assert {k for k, _ in found(dossier(state=state), "2025-03-11T08:00")} <= {
        "supplement_awaited"}


def test_a_boundary_free_dossier_has_no_due_warnings_before_its_clock_starts():
    d = dossier(boundary_free=True, clock_started_at=None)
    assert found(d, "2025-03-11T08:00") == {("not_accepted", "2025-03-03")}


# ----- transfer, acceptance, supplement ------------------------------------------------------

@pytest.mark.parametrize(("received", "deadline", "before", "after"), [
    ("2025-12-11T14:50", "2025-12-11T17:00", "2025-12-11T17:00", "2025-12-11T17:01"),
    ("2025-12-11T15:30", "2025-12-12T11:30", "2025-12-12T11:29", "2025-12-12T11:31"),
    ("2025-12-12T15:45", "2025-12-15T11:30", "2025-12-13T09:00", "2025-12-15T11:31"),
], ids=["before-15h", "after-15h", "friday-after-15h"])
def test_paper_not_sent_on_by_the_15h_deadline_is_late(received, deadline, before, after):
    due = transfer_deadline(local(received), CAL)
    assert due == local(deadline)
    d = dossier(state="received", received_at=local(received), transfer_due_at=due,
                transferred_at=None, clock_started_at=local(received), due_date=date(2026, 1, 30),
                appointment_date=date(2026, 1, 30))
    rung = local(deadline).date().isoformat()
    assert ("transfer_late", rung) not in found(d, before)
    assert ("transfer_late", rung) in found(d, after)
    assert ("transfer_late", rung) not in found(replace(d, transferred_at=local(after),
                                                        state="in_processing"), after)


def test_a_boundary_free_dossier_must_be_accepted_by_the_same_rule_or_within_set_hours():
    d = dossier(boundary_free=True, clock_started_at=None, transferred_at=local("2025-12-11T15:30"))
    assert opening(d, K.NOT_ACCEPTED) == local("2025-12-12T11:30") + timedelta(microseconds=1)
    four = SweepSettings(accept_within_hours=4)
    assert opening(d, K.NOT_ACCEPTED, four) == local("2025-12-12T10:00") + timedelta(
        microseconds=1)
    assert opening(replace(d, clock_started_at=local("2025-12-12T09:00")), K.NOT_ACCEPTED) is None
    assert opening(replace(d, transferred_at=None), K.NOT_ACCEPTED) is None


def test_a_supplement_awaited_more_than_ten_working_days_is_reported_once_per_request():
    d = dossier(state="awaiting_supplement", supplement_requested_at=local("2025-03-03T10:00"))
    # 10 working days after Monday 03/03 is Monday 17/03; the wait is long from Tuesday 18/03
    assert found(d, "2025-03-17T23:59") == set()
    [finding] = findings(d, CAL, now=local("2025-03-20T08:00"))
    assert (finding.kind, finding.rung, finding.due) == (K.SUPPLEMENT_AWAITED, "2025-03-03",
                                                         date(2025, 3, 17))
    assert finding.facts["working_days"] == 13  # 04/03 … 20/03
    # Across Tết: requested Thu 23/01/2025, long from Fri 14/02 (Tết is not counted); with
    # 3 days: 24/01, 03/02, 04/02 waited, long from Wednesday 05/02
    d = replace(d, supplement_requested_at=local("2025-01-23T10:00"))
    assert opening(d, K.SUPPLEMENT_AWAITED) == local("2025-02-14T00:00")
    assert opening(d, K.SUPPLEMENT_AWAITED, SweepSettings(supplement_wait_days=3)) == local(
        "2025-02-05T00:00")


# ----- hand-off rows ---------------------------------------------------------------------------

def test_an_open_step_is_warned_before_its_due_instant_and_after_it():
    step = StepFacts(seq=2, due_at=local("2025-03-06T17:00"), role="officer", assignee="o1",
                     unit="DEPT", step_name="Thẩm định")
    d = dossier(steps=(step,))
    assert found(d, "2025-03-05T08:00") >= {("step_due_soon", "2025-03-06")}
    assert ("step_due_soon", "2025-03-06") in found(d, "2025-03-06T17:00")
    assert ("step_overdue", "2025-03-06") in found(d, "2025-03-06T17:01")
    [overdue] = [f for f in findings(d, CAL, now=local("2025-03-07T08:00"))
                 if f.kind is K.STEP_OVERDUE]
    assert (overdue.step_seq, overdue.step_role, overdue.assignee) == (2, "officer", "o1")
    # two working hours before Thursday 17:00 is 15:00
    assert opening(d, K.STEP_DUE_SOON, HOURS) == local("2025-03-06T15:00")
    ended = replace(d, state="result_ready", ended_at=local("2025-03-06T09:00"))
    assert found(ended, "2025-03-07T08:00") == set()


def test_a_dossier_warning_names_the_current_steps_role_and_assignee():
    steps = (StepFacts(1, local("2025-03-03T17:00"), "clerk", None, "CENTRE", "Tiếp nhận"),
             StepFacts(2, local("2025-03-06T17:00"), "officer", None, "DEPT", "Thẩm định"))
    [due] = [f for f in findings(dossier(steps=steps, assignee="o9"), CAL,
                                 now=local("2025-03-10T08:00")) if f.kind is K.DUE_TODAY]
    assert (due.step_seq, due.step_role, due.assignee) == (None, "officer", "o9")
    assert due.facts["step_name"] == "Thẩm định" and due.facts["unit"] == "DEPT"
    assert due.facts["receiving_agency"] == "CENTRE"


# ----- the next instant --------------------------------------------------------------------

def test_the_next_check_is_the_next_window_to_open_and_none_once_all_are_open():
    ladder = dossier_rungs(dossier(), CAL)
    assert next_check(ladder, local("2025-03-01T08:00")) == local("2025-03-06T00:00")
    assert next_check(ladder, local("2025-03-06T00:00")) == local("2025-03-07T00:00")
    assert next_check(ladder, local("2025-03-10T08:00")) == local("2025-03-11T00:00")
    assert next_check(ladder, local("2025-03-11T00:00")) is None


def test_dates_outside_the_calendar_find_nothing_rather_than_fail():
    far = dossier(date(2099, 1, 5))
    assert found(far, "2025-03-10T08:00") == set()


def test_settings_come_from_the_agency_row_and_a_mistyped_one_takes_the_default():
    from engine.agencies import Agency

    row = Agency(code="A", name="A", short_name="A", level="xa", place_name="X",
                 warn_ahead_amount=2, warn_ahead_unit="working_hours", supplement_wait_days=5,
                 accept_within_hours=4)
    assert SweepSettings.of(row) == SweepSettings(2, WarnUnit.WORKING_HOURS, 5, 4)
    assert SweepSettings.of(Agency(code="B", name="B", short_name="B", level="xa",
                                   place_name="X")) == DEFAULT_SETTINGS
    row.warn_ahead_unit, row.warn_ahead_amount = "weeks", -1
    assert SweepSettings.of(row) == SweepSettings(warn_ahead_amount=1, supplement_wait_days=5,
                                                  accept_within_hours=4)
