"""Satisfaction after return (issue 16) and QĐ 766 criterion 5.4 = 100 % − (late rate +
dislike rate) over the dossiers of criterion 2.1: the pure formula, then the figures of a
small constructed March (ratings per agency and procedure, top reasons, the dislikes that
count for 5.4 and their drill-down)."""

from __future__ import annotations

from datetime import date

import pytest

from engine.ratings import dislike_max
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.satisfaction import (
    behind_satisfaction,
    indicator_5_4,
    satisfaction,
)
from engine.reports.totals import By
from engine.samples import DEPT, PROCEDURE_CODE

from .worlds_channels import CERTIFY_CODE, build

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


def test_indicator_5_4_subtracts_the_late_and_the_dislike_rates_from_100_percent():
    assert indicator_5_4(10, 1, 2) == pytest.approx(0.7)
    assert indicator_5_4(10, 0, 0) == 1.0
    assert indicator_5_4(4, 3, 3) == 0.0  # both rates added, as the formula says; never < 0
    assert indicator_5_4(0, 0, 0) is None  # no dossier: no indicator


def test_dislike_is_a_score_of_2_or_less_unless_configured():
    assert dislike_max({}) == 2
    assert dislike_max({"MOTCUA_RATING_DISLIKE_MAX": "3"}) == 3
    with pytest.raises(ValueError):
        dislike_max({"MOTCUA_RATING_DISLIKE_MAX": "5"})


@pytest.fixture
def codes(world):
    return build(world)


def test_satisfaction_counts_the_ratings_given_in_the_period(world, codes):
    report = satisfaction(world, MARCH, By.NONE)
    s = report.totals
    # a 5, a 2 and a 4 in March; the 1 given in April is not March's
    assert (s.count, s.average, s.satisfied, s.satisfied_rate, s.disliked) == (
        3, pytest.approx(11 / 3), 2, pytest.approx(2 / 3), 1)
    assert [r["code"] for r in s.top_reasons()] == ["time", "attitude", "cost"]
    assert s.top_reasons()[0] == {"code": "time", "label": s.top_reasons()[0]["label"],
                                  "count": 2}


def test_satisfaction_per_procedure_and_per_agency(world, codes):
    by_procedure = {g.key: g.satisfaction
                    for g in satisfaction(world, MARCH, By.PROCEDURE).groups}
    assert by_procedure[PROCEDURE_CODE].count == 3
    assert by_procedure[CERTIFY_CODE].count == 0  # rated in April
    assert by_procedure[CERTIFY_CODE].population_766 == 1
    april = satisfaction(world, Period(date(2025, 4, 1), date(2025, 4, 30)), By.PROCEDURE)
    assert {g.key: g.satisfaction.average for g in april.groups}[CERTIFY_CODE] == 1.0
    by_agency = satisfaction(world, MARCH, By.AGENCY)
    assert [g.key for g in by_agency.groups] == [DEPT]
    assert by_agency.groups[0].label and by_agency.groups[0].satisfaction.count == 3


def test_indicator_5_4_on_the_constructed_march(world, codes):
    report = satisfaction(world, MARCH, By.NONE)
    t = figures(world, MARCH).totals
    s = report.totals
    # five dossiers in 2.1's population; the one still in processing is late by 31/03; the
    # online one rated 2 is disliked (the 1 came in April, after the period end)
    assert (s.population_766, s.late_766, s.disliked_766) == (5, 1, 1)
    assert s.population_766 == t.ended + t.pending
    assert s.indicator_5_4 == pytest.approx(1 - (1 + 1) / 5)
    assert sorted(behind_satisfaction(world, MARCH, "disliked_766")) == [codes["b"]]
    # judged at the end of April the certification's 1 counts too — if it is in the period
    april = Period(date(2025, 3, 1), date(2025, 4, 30))
    assert sorted(behind_satisfaction(world, april, "disliked_766")) == sorted(
        [codes["b"], codes["e"]])


def test_satisfaction_figures_drill_down_to_the_rated_dossiers(world, codes):
    assert sorted(behind_satisfaction(world, MARCH, "rated")) == sorted(
        codes[n] for n in "abc")
    assert sorted(behind_satisfaction(world, MARCH, "disliked")) == [codes["b"]]
    assert list(behind_satisfaction(world, MARCH, "rated", by=By.PROCEDURE,
                                    key=CERTIFY_CODE)) == []
    with pytest.raises(ValueError):
        behind_satisfaction(world, MARCH, "happy")
