"""The stored report columns (migration 0005): the lifecycle keeps them with the clock, and the
migration's back-fill derives the same values from the events for dossiers written before it."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select

from engine.lifecycle.models import Dossier
from engine.migrate import alembic_config

from .dataset import MARCH_TO

COLUMNS = ("ended_on", "was_paused", "apology_on", "apology_late", "ended_awaiting_supplement",
           "clock_settled_on")


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
