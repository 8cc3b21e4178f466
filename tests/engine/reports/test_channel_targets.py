"""The channel targets (issue 16): share of procedures with online dossiers, of dossiers
submitted online, of online dossiers processed online (toàn trình) and of online results —
grouped like the other figures, each drillable to exactly its dossiers."""

from __future__ import annotations

from datetime import date

import pytest

from engine.reports.channels import TARGET_FIGURES, behind_target, channel_targets
from engine.reports.drilldown import describe
from engine.reports.period import Period
from engine.reports.sql import D
from engine.reports.totals import DEFINITIONS, By
from engine.samples import PROCEDURE_CODE

from .worlds_channels import CERTIFY_CODE, build

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def codes(world):
    return build(world)


def test_channel_targets_count_procedures_submissions_processing_and_results_online(
        world, codes):
    t = channel_targets(world, MARCH).totals
    assert (t.procedures, t.procedures_online, t.procedures_online_rate) == (2, 1, 0.5)
    assert (t.received, t.received_online, t.online_rate) == (5, 2, 0.4)
    assert (t.online_returned, t.online_returned_online, t.processed_online_rate) == (2, 1, 0.5)
    assert (t.returned, t.returned_online, t.online_result_rate) == (4, 1, 0.25)


def test_channel_targets_per_procedure_and_the_totals_are_not_a_sum_of_distinct_counts(
        world, codes):
    report = channel_targets(world, MARCH, By.PROCEDURE)
    groups = {g.key: g.targets for g in report.groups}
    assert set(groups) == {PROCEDURE_CODE, CERTIFY_CODE}
    assert (groups[PROCEDURE_CODE].procedures_online_rate,
            groups[CERTIFY_CODE].procedures_online_rate) == (1.0, 0.0)
    assert groups[CERTIFY_CODE].returned == 1 and groups[CERTIFY_CODE].returned_online == 0
    assert report.totals.procedures == 2
    assert report.groups[0].label  # the procedure's name


def test_every_channel_target_drills_down_to_exactly_its_dossiers(world, codes):
    expected = {"online_procedures": {"b", "c"}, "online_returned": {"b", "c"},
                "online_returned_online": {"b"}, "returned": {"a", "b", "c", "e"},
                "returned_online": {"b"}}
    assert set(expected) == set(TARGET_FIGURES)
    for figure, names in expected.items():
        found = behind_target(world, MARCH, figure)
        assert sorted(found) == sorted(codes[n] for n in names), figure
    # by group and key, and narrowed by a scope like a reader's
    assert sorted(behind_target(world, MARCH, "returned", by=By.PROCEDURE,
                                key=CERTIFY_CODE)) == [codes["e"]]
    assert behind_target(world, MARCH, "returned",
                         where=D.c.procedure_code == CERTIFY_CODE).keys() == {codes["e"]}
    rows = describe(world, behind_target(world, MARCH, "online_returned_online"))
    assert [r.code for r in rows] == [codes["b"]] and rows[0].procedure == PROCEDURE_CODE


def test_channel_targets_are_defined_beside_the_other_figures(world):
    for name in ("procedures_online_rate", "processed_online_rate", "online_result_rate"):
        assert name in DEFINITIONS
    with pytest.raises(ValueError):
        behind_target(world, MARCH, "received_late")
    with pytest.raises(ValueError):
        channel_targets(world, MARCH, By.STEP)


def test_a_period_without_dossiers_has_no_rates(world):
    t = channel_targets(world, Period(date(2025, 1, 1), date(2025, 1, 31)), By.AGENCY)
    assert t.groups == [] and t.totals.online_rate is None
    assert t.totals.processed_online_rate is None
