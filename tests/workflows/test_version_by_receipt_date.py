"""A dossier stays on the version in force on its receipt date."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import yaml

from engine.deadline import TimeUnit
from engine.timezone import VN_TZ
from workflows.loader import load_catalogue, load_procedure
from workflows.schema import NoVersionInForce, Procedure


@pytest.fixture
def two_versions(write_procedure, valid_procedure) -> Procedure:
    """The baseline (3 working days from 01/7/2025) plus a 2-working-day version from
    01/01/2026, at the same level."""
    data = yaml.safe_load(valid_procedure)
    newer = dict(data["versions"][0])
    newer["effective_from"] = date(2026, 1, 1)
    newer["time_limit"] = {"amount": 2, "unit": "working_days"}
    newer["steps"] = [
        {**step, "budget": {"amount": 4, "unit": "working_hours"}} for step in newer["steps"]
    ]
    data["versions"].append(newer)
    return load_procedure(write_procedure(yaml.safe_dump(data, allow_unicode=True)))


def test_version_at_picks_the_version_in_force_on_the_day(two_versions):
    assert two_versions.version_at(date(2025, 7, 1)).time_limit.amount == 3
    assert two_versions.version_at(date(2025, 12, 31)).time_limit.amount == 3
    assert two_versions.version_at(date(2026, 1, 1)).time_limit.amount == 2
    assert two_versions.version_at(date(2030, 1, 1)).time_limit.amount == 2


def test_version_at_before_the_first_version_is_an_error(two_versions):
    with pytest.raises(NoVersionInForce, match="first takes effect on 01/07/2025"):
        two_versions.version_at(date(2025, 6, 30))


def test_version_at_reads_an_aware_receipt_instant_on_vietnam_time(two_versions):
    # 31/12/2025 17:30 UTC is already 01/01/2026 00:30 in Hà Nội.
    utc_evening = datetime.fromisoformat("2025-12-31T17:30:00+00:00")
    assert two_versions.version_at(utc_evening).time_limit.amount == 2
    local_late_evening = datetime(2025, 12, 31, 23, 59, tzinfo=VN_TZ)
    assert two_versions.version_at(local_late_evening).time_limit.amount == 3
    with pytest.raises(ValueError, match="naive"):
        two_versions.version_at(datetime(2026, 1, 1, 9, 0))


def test_no_version_applies_from_the_repeal_date(two_versions):
    repealed = two_versions.model_copy(update={"repealed_from": date(2027, 1, 1)})
    assert repealed.version_at(date(2026, 12, 31)).time_limit.amount == 2
    with pytest.raises(NoVersionInForce, match="repealed"):
        repealed.version_at(date(2027, 1, 1))


def test_shipped_building_permit_keeps_the_old_limit_for_earlier_receipts():
    permit = load_catalogue()["1.013225"]
    old = permit.version_at(date(2026, 5, 17)).time_limit
    new = permit.version_at(date(2026, 5, 18)).time_limit
    assert (old.amount, old.unit) == (15, TimeUnit.CALENDAR_DAYS)
    assert (new.amount, new.unit) == (7, TimeUnit.WORKING_DAYS)
    assert permit.level == permit.level.XA  # the level does not change between versions
    with pytest.raises(NoVersionInForce):
        permit.version_at(date(2025, 6, 30))  # a district matter before the reform
