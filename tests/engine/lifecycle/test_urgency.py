"""The inbox badge (*mức độ khẩn*): overdue, due today, and — one working day before the due
date — "apology due" until the apology (Mẫu 04) is sent, "due soon" after it. The working day
is the competent agency's: an agency with its own day off gets the badge on its own day."""

from __future__ import annotations

from datetime import date

import pytest

from engine.calendar import DayEntry, DayKind, national_calendar
from engine.calendar.store import save_day
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import State
from engine.lifecycle.urgency import Urgency, urgencies, urgency
from engine.samples import RECEIVED_AT, local

from .conftest import DEPT
from .flow import receive_ok

MONDAY = date(2025, 3, 10)
FRIDAY_BEFORE = date(2025, 3, 7)
THURSDAY_BEFORE = date(2025, 3, 6)
NATIONAL = national_calendar()


def dossier(due: date | None = MONDAY, *, state: State = State.IN_PROCESSING,
            apologies: int = 0, ended: bool = False, received=RECEIVED_AT) -> Dossier:
    """An open dossier due on ``due`` (not stored: the rule reads a few fields)."""
    return Dossier(code="X", state=state.value, due_date=due, apology_count=apologies,
                   ended_at=RECEIVED_AT if ended else None, competent_agency=DEPT,
                   received_at=received, clock_started_at=received)


def test_a_dossier_past_its_due_date_is_overdue():
    assert urgency(dossier(), date(2025, 3, 11), NATIONAL) is Urgency.OVERDUE


def test_on_its_due_date_a_dossier_is_due_today():
    assert urgency(dossier(), MONDAY, NATIONAL) is Urgency.DUE_TODAY


def test_one_working_day_before_the_due_date_the_apology_is_due():
    # Due on a Monday: the working day before is the Friday, not the Sunday.
    assert urgency(dossier(), FRIDAY_BEFORE, NATIONAL) is Urgency.APOLOGY_DUE
    assert urgency(dossier(), date(2025, 3, 9), NATIONAL) is Urgency.APOLOGY_DUE
    assert urgency(dossier(), THURSDAY_BEFORE, NATIONAL) is None


def test_after_the_apology_the_badge_only_says_due_soon():
    assert urgency(dossier(apologies=1), FRIDAY_BEFORE, NATIONAL) is Urgency.DUE_SOON


@pytest.mark.parametrize("ended", [
    dossier(state=State.RETURNED),
    dossier(state=State.RESULT_READY, ended=True),
    dossier(due=None),
], ids=["returned", "ended", "no-due-date"])
def test_an_ended_dossier_or_one_without_a_due_date_has_no_badge(ended):
    assert urgency(ended, date(2025, 3, 12), NATIONAL) is None


def test_the_apology_day_is_counted_on_the_given_calendar():
    own_day_off = NATIONAL.with_overrides(
        [DayEntry(FRIDAY_BEFORE, DayKind.LOCAL_OFF, "Mất điện toàn khu", agency_code=DEPT)])
    assert urgency(dossier(), THURSDAY_BEFORE, own_day_off) is Urgency.APOLOGY_DUE
    assert urgency(dossier(), THURSDAY_BEFORE, NATIONAL) is None


def test_the_agency_with_its_own_day_off_gets_the_apology_badge_on_its_own_day(world):
    # The department is closed on Tuesday 11/03/2025: a dossier received on Tuesday 04/03
    # (5 working days) is due on Wednesday 12/03 instead of Tuesday 11/03, and the last
    # working day before it, for the department, is Monday 10/03.
    save_day(world, entry=DayEntry(date(2025, 3, 11), DayKind.LOCAL_OFF, "Mất điện toàn khu"),
             agency_code=DEPT)
    world.commit()
    d = receive_ok(world, "2025-03-04T09:00")
    assert d.due_date == date(2025, 3, 12)

    monday, sunday = date(2025, 3, 10), date(2025, 3, 9)
    assert urgencies(world, [d], monday) == {d.code: Urgency.APOLOGY_DUE}
    assert urgencies(world, [d], sunday) == {d.code: None}
    # The national calendar would wait until Tuesday, the department's day off: too late.
    assert urgency(d, monday, national_calendar()) is None


def test_a_page_of_dossiers_of_several_agencies_gets_each_agencys_badge(world):
    save_day(world, entry=DayEntry(date(2025, 3, 11), DayKind.LOCAL_OFF, "Mất điện toàn khu"),
             agency_code=DEPT)
    world.commit()
    closed_tuesday = receive_ok(world, "2025-03-04T09:00")  # due Wednesday 12/03
    open_tuesday = receive_ok(world, "2025-03-05T09:00", competent=None)  # the centre's own
    assert open_tuesday.competent_agency != DEPT and open_tuesday.due_date == date(2025, 3, 12)

    badges = urgencies(world, [closed_tuesday, open_tuesday], date(2025, 3, 10))
    assert badges == {closed_tuesday.code: Urgency.APOLOGY_DUE, open_tuesday.code: None}


def test_a_one_day_dossier_received_after_its_last_apology_day_gets_no_apology_badge():
    # A same-day procedure received on Saturday 08/03 is due on Monday 10/03; the working
    # day before, Friday 07/03, came before the dossier: no day to apologise in, no badge
    # over the weekend, "due today" on Monday.
    saturday = local("2025-03-08T10:00")
    received_saturday = dossier(received=saturday)
    assert urgency(received_saturday, date(2025, 3, 8), NATIONAL) is None
    assert urgency(received_saturday, date(2025, 3, 9), NATIONAL) is None
    assert urgency(received_saturday, MONDAY, NATIONAL) is Urgency.DUE_TODAY


def test_the_apology_badge_waits_for_the_last_apology_day_then_stays_until_the_due_date():
    # Received Friday 07/03 after the cut-off, due Monday 10/03: the last apology day is the
    # day of receipt itself, so the badge shows from that day (today) and over the weekend.
    friday = dossier(received=local("2025-03-07T16:00"))
    assert urgency(friday, FRIDAY_BEFORE, NATIONAL) is Urgency.APOLOGY_DUE
    assert urgency(friday, date(2025, 3, 9), NATIONAL) is Urgency.APOLOGY_DUE
    early = dossier(received=local("2025-03-03T09:00"))
    assert urgency(early, THURSDAY_BEFORE, NATIONAL) is None
    assert urgency(early, FRIDAY_BEFORE, NATIONAL) is Urgency.APOLOGY_DUE


def test_once_form_04_is_sent_the_apology_badge_never_shows():
    for day in (FRIDAY_BEFORE, date(2025, 3, 8), date(2025, 3, 9)):
        assert urgency(dossier(apologies=1), day, NATIONAL) is Urgency.DUE_SOON
