"""Every figure of March 2026 against hand-computed expectations (see dataset.py), the report
identities of domain §4.10, and the SQL fast path against the clock's own replay."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

import pytest
from sqlmodel import select

from engine.calendar.store import load_calendar
from engine.clock import Classification, SupplementEffect, classify, indicator_classify, replay
from engine.deadline import TimeLimit, TimeUnit
from engine.lifecycle import clock_events
from engine.lifecycle.models import Dossier
from engine.reports import By, Options, Period, figures, verdicts

from .dataset import (
    CENTRE,
    COMMUNE,
    DEPT,
    MARCH_APOLOGY,
    MARCH_CARRIED,
    MARCH_CHANNEL,
    MARCH_FROM,
    MARCH_NOT_766,
    MARCH_TO,
    march_expected,
)

MARCH = Period(MARCH_FROM, MARCH_TO)
NAMES = {1: "early", 2: "on_time", 3: "late", 4: "pending_within", 5: "pending_late"}


def identities(t) -> None:
    """Domain §4.10: total received = online + direct/postal + carried over = ended + pending."""
    assert t.received == t.received_online + t.received_direct + t.received_postal
    assert t.received + t.carried_over == t.ended + t.pending
    assert t.apology_in_time + t.apology_late + t.apology_missing == t.late + t.pending_late


def test_each_dossier_gets_the_hand_computed_verdict_at_the_end_of_march(dataset):
    got = {v.code: NAMES[v.cls] for v in verdicts(dataset, MARCH)}
    assert got == march_expected()


def test_march_totals_match_the_hand_count(dataset):
    t = figures(dataset, MARCH).totals
    assert (t.received, t.carried_over) == (18, 1)
    assert (t.received_online, t.received_postal, t.received_direct) == (3, 1, 14)
    assert (t.early, t.on_time, t.late) == (5, 5, 5)
    assert (t.pending_within, t.pending_late) == (2, 2)
    assert (t.withdrawn, t.refused, t.stopped) == (1, 1, 1)
    # QĐ 766: 12 early/on time/pending within, minus the twice-supplemented dossier and the
    # paused one (the indicator does not extend an open pause) = 10 of 19
    assert t.on_time_766 == 10
    assert t.on_time_rate_766 == pytest.approx(float(Fraction(10, 19)))
    assert t.closed_on_time_rate == pytest.approx(float(Fraction(10, 15)))
    assert (t.apology_in_time, t.apology_late, t.apology_missing) == (1, 1, 5)
    assert t.online_rate == pytest.approx(3 / 18)
    assert t.postal_rate == pytest.approx(1 / 18)
    identities(t)


def test_dashboard_json_has_exactly_the_contract_shape(dataset):
    doc = figures(dataset, MARCH, By.AGENCY).dashboard()
    assert list(doc) == ["period", "totals", "groups"]
    assert doc["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
    assert list(doc["totals"]) == ["received", "carried_over", "ended", "pending", "withdrawn",
                                   "refused", "on_time_rate_766", "closed_on_time_rate",
                                   "apology"]
    assert list(doc["totals"]["ended"]) == ["early", "on_time", "late"]
    assert list(doc["totals"]["pending"]) == ["within", "late"]
    assert list(doc["totals"]["apology"]) == ["in_time", "late", "missing", "reached"]
    assert doc["totals"]["received"] == 18
    for group in doc["groups"]:
        assert list(group) == ["key", "totals"]
        assert list(group["totals"]) == list(doc["totals"])


def test_rates_are_null_when_there_is_nothing_to_divide(dataset):
    doc = figures(dataset, Period(date(2023, 1, 1), date(2023, 1, 31))).dashboard()
    assert doc["totals"]["on_time_rate_766"] is None
    assert doc["totals"]["closed_on_time_rate"] is None
    assert doc["groups"] == []


@pytest.mark.parametrize("by", [b for b in By if b not in (By.NONE, By.STEP)])
def test_groups_add_up_to_the_totals_for_every_grouping(dataset, by):
    fig = figures(dataset, MARCH, by)
    assert fig.groups
    for field in ("received", "carried_over", "ended", "pending", "late", "withdrawn",
                  "on_time_766", "apology_missing"):
        assert sum(getattr(g.totals, field) for g in fig.groups) == getattr(fig.totals, field)
    for g in fig.groups:
        identities(g.totals)


def test_grouping_by_agency_channel_and_procedure(dataset):
    by_agency = {g.key: g.totals for g in figures(dataset, MARCH, By.AGENCY).groups}
    assert set(by_agency) == {CENTRE, DEPT, COMMUNE}
    assert (by_agency[COMMUNE].late, by_agency[COMMUNE].received) == (2, 2)
    assert by_agency[CENTRE].on_time == 2  # case 6a and 6b, certification at the centre
    by_channel = {g.key: g.totals.received for g in figures(dataset, MARCH, By.CHANNEL).groups}
    assert by_channel == {"counter": 14, "online": 3, "postal": 1}
    assert len(MARCH_CHANNEL["online"]) == 3
    fig = figures(dataset, MARCH, By.PROCEDURE)
    labels = {g.key: g.label for g in fig.groups}
    assert labels["2.000815"] == "Chứng thực bản sao từ bản chính"
    by_level = {g.key: g.totals.received + g.totals.carried_over
                for g in figures(dataset, MARCH, By.LEVEL).groups}
    assert by_level == {"tinh": 17, "xa": 2}
    by_field = {g.key for g in figures(dataset, MARCH, By.FIELD).groups}
    assert by_field == {"Chứng thực", "Thử nghiệm"}


def test_withdrawn_can_be_reported_apart_and_the_identity_still_holds(dataset):
    t = figures(dataset, MARCH, options=Options(withdrawn_counts_as_ended=False)).totals
    assert (t.early, t.ended, t.withdrawn) == (4, 14, 1)
    assert t.received + t.carried_over == t.ended + t.pending + t.withdrawn
    assert t.on_time_rate_766 == pytest.approx(9 / 18)
    assert t.closed_on_time_rate == pytest.approx(9 / 14)


def test_carried_over_and_pending_follow_the_period(dataset):
    t = figures(dataset, Period(date(2026, 4, 1), date(2026, 4, 30))).totals
    # at the end of March four were pending: they are April's carried over
    assert t.carried_over == 4
    feb = figures(dataset, Period(date(2026, 2, 1), date(2026, 2, 28))).totals
    assert (feb.received, feb.pending_within, feb.ended) == (2, 1, 1)  # 25/02 due 04/03


def test_apology_coverage_names_the_dossiers(dataset):
    from engine.reports import drill

    for bucket, codes in MARCH_APOLOGY.items():
        assert set(drill(dataset, MARCH, f"apology_{bucket}")) == codes
    assert set(drill(dataset, MARCH, "carried_over")) == MARCH_CARRIED
    assert set(drill(dataset, MARCH, "not_on_time_766")) - set(
        drill(dataset, MARCH, "late_any")) == MARCH_NOT_766


def _clock_truth(session, dossier: Dossier, period_end):
    events = [e for e in clock_events(session, dossier) if e.at <= period_end]
    state = replay(events, TimeLimit(dossier.limit_amount, TimeUnit(dossier.limit_unit)),
                   load_calendar(session, agency_code=dossier.competent_agency),
                   supplement_effect=SupplementEffect(dossier.supplement_effect))
    return classify(state, period_end), indicator_classify(state, period_end)


def test_the_sql_verdict_equals_the_clock_replay_for_every_dossier_and_day(dataset):
    """The fast path (stored columns in SQL) and the replay path give exactly what
    engine.clock says, at every day end from mid-February to mid-April 2026."""
    dossiers = {d.code: d for d in dataset.exec(select(Dossier)).all()}
    day = date(2026, 2, 20)
    checked = 0
    while day <= date(2026, 4, 15):
        period = Period(day, day)
        for v in verdicts(dataset, period):
            cls, ind = _clock_truth(dataset, dossiers[v.code], period.period_end)
            assert NAMES[v.cls] == cls.value, (v.code, day)
            ok = ind in (Classification.EARLY, Classification.ON_TIME,
                         Classification.PENDING_WITHIN)
            assert v.on_time_766 == ok, (v.code, day)
            checked += 1
        day += timedelta(days=1)
    assert checked > 150


def test_only_an_open_pause_or_moves_on_both_sides_of_the_day_end_are_replayed(dataset):
    """Migration 0006: a dossier before its first wait or inside its only supplement wait is
    judged on stored columns (original due date, request day), and an ended dossier whose due
    date settled before the period end is trusted; replays are left for an open pause and for
    due dates that moved both before and after the period end."""
    replayed: dict[str, list[str]] = {}
    day = date(2026, 2, 20)
    while day <= date(2026, 4, 15):
        for v in verdicts(dataset, Period(day, day)):
            if v.replayed:
                replayed.setdefault(v.code, []).append(f"{day:%m-%d}")
        day += timedelta(days=1)
    assert replayed == {
        # between its two supplement requests (03/03–05/03): moves on both sides
        "m-supplement-twice": ["03-03", "03-04", "03-05"],
        # paused 25/03, resumed 02/04: open pause at each of these day ends
        "m-paused": ["03-25", "03-26", "03-27", "03-28", "03-29", "03-30", "03-31", "04-01"],
        # paused 07/04, closed by the result of 10/04
        "m-april-ended-paused": ["04-07", "04-08", "04-09"],
    }


def test_inside_its_only_supplement_wait_a_dossier_is_judged_at_the_request_without_replay(
        dataset):
    """m-awaiting-supplement at 31/03: requested 23/03 after its due date 19/03 → pending late,
    from the stored request day and original due date (the stored due date says 06/04)."""
    verdict = next(v for v in verdicts(dataset, MARCH) if v.code == "m-awaiting-supplement")
    assert (NAMES[verdict.cls], verdict.replayed) == ("pending_late", False)
    assert not verdict.on_time_766
