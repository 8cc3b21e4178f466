"""The stored report columns (migrations 0005, 0006): the lifecycle keeps them with the clock,
and the migrations' back-fill derives the same values from the events for dossiers written
before them."""

from __future__ import annotations

from datetime import date

import pytest
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


# ----- migration 0007: the report's columns first (PostgreSQL) -------------------------------

def _migration_0007():
    import importlib.util

    from engine.migrate import MIGRATIONS_DIR

    path = MIGRATIONS_DIR / "versions" / "0007_report_columns_first.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: What the rebuild must keep, read from PostgreSQL's catalogue (column order apart).
_CATALOGUE = {
    "columns": "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
               "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d "
               "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
               "WHERE a.attrelid = 'dossier'::regclass AND a.attnum > 0 AND NOT a.attisdropped",
    "constraints": "SELECT conname, pg_get_constraintdef(oid), convalidated FROM pg_constraint "
                   "WHERE conrelid = 'dossier'::regclass OR confrelid = 'dossier'::regclass",
    "indexes": "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'dossier' "
               "AND schemaname = current_schema()",
    "sequence": "SELECT pg_get_serial_sequence('dossier', 'id'), "
                "(SELECT last_value FROM dossier_id_seq)",
}


def _catalogue(session) -> dict[str, set]:
    from sqlalchemy import text

    return {name: set(map(tuple, session.execute(text(sql)).all()))
            for name, sql in _CATALOGUE.items()}


def _order_and_rows(session) -> tuple[list[str], list[dict]]:
    from sqlalchemy import inspect, text

    order = [c["name"] for c in inspect(session.connection()).get_columns("dossier")]
    rows = [dict(r._mapping) for r in session.execute(text("SELECT * FROM dossier ORDER BY id"))]
    return order, rows


def test_the_report_columns_lead_the_dossier_row_on_postgresql(dataset):
    """A report reads a row's columns from its start: on PostgreSQL the ones it needs come
    first (migration 0007); SQLite reads its covering index and keeps the model's order."""
    order, _ = _order_and_rows(dataset)
    first = _migration_0007().REPORT_COLUMNS_FIRST
    if dataset.get_bind().dialect.name == "postgresql":
        assert tuple(order[:len(first)]) == first
    else:  # not rebuilt: 0005, 0006 and 0007 appended their columns at the end (later
        # migrations append theirs after them)
        start = order.index(COLUMNS[0])
        assert order[start:start + len(COLUMNS) + 1] == [*COLUMNS, "report_code"]
    assert sorted(order) == sorted(c.name for c in Dossier.__table__.columns)


def test_rebuilding_the_dossier_table_keeps_rows_keys_indexes_and_numbering(dataset, database_url):
    """Migration 0007 run again on a table with dossiers, events and documents: every row, every
    constraint (the events' foreign keys included), index and default are as before, and the id
    sequence still belongs to the table and goes on after the last dossier."""
    is_pg = dataset.get_bind().dialect.name == "postgresql"
    before = _order_and_rows(dataset), _catalogue(dataset) if is_pg else None
    dataset.close()
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    command.upgrade(config, "head")
    dataset.begin()
    after = _order_and_rows(dataset), _catalogue(dataset) if is_pg else None
    assert after == before
    if is_pg:
        from sqlalchemy import text
        from sqlalchemy.exc import IntegrityError

        assert dataset.execute(text("SELECT nextval(pg_get_serial_sequence('dossier', 'id')) "
                                    "> (SELECT max(id) FROM dossier)")).scalar()

        # The events' foreign key is enforced again, not just listed.
        with pytest.raises(IntegrityError), dataset.begin_nested():
            dataset.execute(text("UPDATE dossier_event SET dossier_id = -1 "
                                 "WHERE id = (SELECT min(id) FROM dossier_event)"))


def test_the_migration_generates_report_code_with_the_models_expression():
    """The migration keeps its own copy of the expression (a migration must not change meaning
    when the model does); both must agree, or databases and model would differ silently."""
    from engine.lifecycle.models import REPORT_CODE_SQL

    assert _migration_0007().REPORT_CODE_SQL == REPORT_CODE_SQL
