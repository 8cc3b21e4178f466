"""The stored report columns (migrations 0005, 0006): the lifecycle keeps them with the clock,
and the migrations' back-fill derives the same values from the events for dossiers written
before them."""

from __future__ import annotations

from datetime import date

from alembic import command
from sqlalchemy import select

from engine.lifecycle.models import Dossier
from engine.migrate import alembic_config

from .dataset import MARCH_TO

COLUMNS = ("ended_on", "was_paused", "apology_on", "apology_late", "ended_awaiting_supplement",
           "clock_settled_on", "first_wait_on")


def _snapshot(session) -> dict[str, tuple]:
    table = Dossier.__table__
    rows = session.execute(select(table.c.code, *(table.c[c] for c in COLUMNS)))
    return {row[0]: tuple(row[1:]) for row in rows}


def test_the_dataset_has_every_kind_of_report_column(dataset):
    values = list(_snapshot(dataset).values())
    assert any(v[0] is None for v in values) and any(v[0] is not None for v in values)
    assert any(v[1] for v in values)  # a pause
    assert any(v[2] is not None and not v[3] for v in values)  # apology in time
    assert any(v[3] for v in values)  # late apology
    # due dates that stopped moving within March (the March report trusts them) and after it
    # (the March report replays them)
    assert any(v[5] is not None and v[5] <= MARCH_TO for v in values)
    assert any(v[5] is not None and v[5] > MARCH_TO for v in values)


def test_the_migration_backfill_derives_what_the_lifecycle_stores(dataset, database_url):
    stored = _snapshot(dataset)
    dataset.close()
    config = alembic_config(database_url)
    command.downgrade(config, "0004")  # drops the columns
    command.upgrade(config, "head")  # adds them back, derived from events and flags
    dataset.begin()
    assert _snapshot(dataset) == stored


def test_an_ended_dossier_keeps_the_day_its_due_date_last_moved(dataset):
    """Migration 0006: not the end day (11/03) but the supplement's receipt (09/03), so a report
    for a period ending on 09/03 or 10/03 trusts the stored due date."""
    columns = _snapshot(dataset)["m-supplement-once"]
    assert columns[COLUMNS.index("clock_settled_on")] == date(2026, 3, 9)
    assert columns[COLUMNS.index("first_wait_on")] == date(2026, 3, 3)


def test_a_pause_closed_by_the_end_settles_the_due_date_on_the_end_day(dataset):
    """The clock extends the due date up to the end that closes an open pause (T8)."""
    columns = _snapshot(dataset)["m-april-ended-paused"]
    assert columns[COLUMNS.index("clock_settled_on")] == date(2026, 4, 10)
    assert columns[COLUMNS.index("first_wait_on")] == date(2026, 4, 7)


def test_a_dossier_whose_due_date_never_moved_has_neither_day(dataset):
    columns = _snapshot(dataset)["m-postal-early"]
    assert columns[COLUMNS.index("clock_settled_on")] is None
    assert columns[COLUMNS.index("first_wait_on")] is None
