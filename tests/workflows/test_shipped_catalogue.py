"""The catalogue shipped in workflows/catalogue loads cleanly and is usable by the engine."""

from __future__ import annotations

from datetime import datetime

import pytest

from engine.calendar import national_calendar
from engine.deadline import TimeUnit, compute_due
from engine.timezone import VN_TZ
from workflows.loader import DEFAULT_CATALOGUE_DIR, check_catalogue, load_catalogue
from workflows.schema import Level, Procedure

CATALOGUE = load_catalogue()


def test_shipped_catalogue_has_no_issues():
    assert check_catalogue() == []


def test_shipped_catalogue_has_at_least_twelve_procedures_at_province_and_commune_level():
    assert len(CATALOGUE) >= 12
    levels = {procedure.level for procedure in CATALOGUE.values()}
    assert levels == {Level.TINH, Level.XA}
    assert len(CATALOGUE.at_level("tinh")) >= 2
    assert len(CATALOGUE.at_level(Level.XA)) >= 10


def test_one_file_per_procedure_named_after_its_code():
    for code in CATALOGUE:
        assert CATALOGUE.source_of(code).name.startswith(f"{code}-")
        assert CATALOGUE.source_of(code).parent == DEFAULT_CATALOGUE_DIR


def test_shipped_catalogue_uses_every_time_unit():
    units = {
        version.time_limit.unit
        for procedure in CATALOGUE.values()
        for version in procedure.versions
    }
    assert units == set(TimeUnit)


def test_shipped_catalogue_has_a_linked_and_a_versioned_procedure():
    assert any(version.linked for p in CATALOGUE.values() for version in p.versions)
    assert any(len(p.versions) >= 2 for p in CATALOGUE.values())


@pytest.mark.parametrize(
    "code", ["1.001193", "1.000894", "1.000656", "2.000815", "1.001612", "1.004873", "2.001610"]
)
def test_well_known_procedures_are_present(code):
    assert code in CATALOGUE


def test_household_business_registration_takes_three_working_days():
    limit = CATALOGUE.version_at("1.001612", datetime(2025, 8, 1).date()).time_limit
    assert (limit.amount, limit.unit) == (3, TimeUnit.WORKING_DAYS)


def test_certified_copy_is_same_day():
    limit = CATALOGUE["2.000815"].versions[-1].time_limit
    assert limit.unit is TimeUnit.SAME_DAY


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_version_gives_the_engine_a_due_date(code):
    procedure: Procedure = CATALOGUE[code]
    calendar = national_calendar()
    for version in procedure.versions:
        received = datetime.combine(
            version.effective_from, datetime.min.time(), tzinfo=VN_TZ
        ).replace(hour=9)
        due = compute_due(received, version.time_limit.as_time_limit(), calendar)
        assert due.due_date >= received.date()


def test_every_step_budget_fits_the_time_limit():
    for procedure in CATALOGUE.values():
        for version in procedure.versions:
            own = sum(step.budget.max_working_hours for step in version.steps)
            assert own <= version.time_limit.max_working_hours, procedure.code
