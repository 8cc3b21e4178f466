"""The storage foundation: settings, engines and migrations on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from engine.calendar.store import CalendarDayRow
from engine.db import make_engine, session_scope
from engine.migrate import alembic_config, upgrade
from engine.settings import DEFAULT_DATABASE_URL, load_settings

CALENDAR_TABLES = {"calendar_day", "office_hours"}
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _version(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text("select version_num from alembic_version")).scalars())


def test_migrations_create_the_calendar_tables(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        inspector = inspect(engine)
        if engine.dialect.name == "postgresql":
            # The fixture's own schema, so the version table is not shared with other tests.
            assert inspector.default_schema_name.startswith("t_")
        assert CALENDAR_TABLES | {"alembic_version"} <= set(inspector.get_table_names())
        assert {c["name"] for c in inspector.get_columns("calendar_day")} == {
            "id", "agency_code", "day", "kind", "name", "legal_basis", "confirmed", "estimated",
            "created_at", "created_by",
        }
        assert [set(u["column_names"]) for u in inspector.get_unique_constraints("calendar_day")] \
            == [{"agency_code", "day"}]
        assert inspector.get_pk_constraint("office_hours")["constrained_columns"] == ["agency_code"]
        assert _version(engine) == [HEAD]
    finally:
        engine.dispose()


def test_upgrading_twice_is_a_no_op(empty_database_url):
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with session_scope(engine) as session:
            session.add(CalendarDayRow(day=date(2026, 3, 11), kind="holiday", name="x"))
        upgrade(empty_database_url)
        assert _version(engine) == [HEAD]
        with session_scope(engine) as session:
            assert len(session.exec(select(CalendarDayRow)).all()) == 1
    finally:
        engine.dispose()


def test_models_match_the_migrations(db_engine):
    import engine.access
    import engine.agencies
    import engine.calendar.journal
    import engine.files.models
    import engine.leases
    import engine.lifecycle.models
    import engine.outbox
    import engine.procedures
    import engine.ratings
    import engine.readjournal
    import engine.reports.cache
    import engine.reports.snapshots
    import engine.timed.runs
    import engine.users  # noqa: F401
    import service.pow  # noqa: F401  (register every table on SQLModel.metadata)

    def ours(name, type_, _parent):
        return type_ != "table" or name != "alembic_version"

    with db_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": ours}
        )
        assert compare_metadata(context, SQLModel.metadata) == []


def test_session_scope_commits_on_success_and_rolls_back_on_error(db_engine):
    with session_scope(db_engine) as session:
        session.add(CalendarDayRow(day=date(2026, 3, 11), kind="holiday", name="kept"))
    with pytest.raises(RuntimeError), session_scope(db_engine) as session:
        session.add(CalendarDayRow(day=date(2026, 3, 12), kind="holiday", name="lost"))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(db_engine) as session:
        rows = session.exec(select(CalendarDayRow)).all()
    assert [r.name for r in rows] == ["kept"]


def test_timestamps_come_back_aware_in_utc(db_engine):
    written = datetime(2026, 2, 5, 9, 15, tzinfo=UTC)
    with session_scope(db_engine) as session:
        session.add(CalendarDayRow(day=date(2026, 3, 11), kind="holiday", name="x",
                                   created_at=written))
    with session_scope(db_engine) as session:
        read = session.exec(select(CalendarDayRow)).one().created_at
    assert read == written and read.utcoffset().total_seconds() == 0


@pytest.mark.storage
def test_sqlite_engines_run_in_wal_mode_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as connection:
            pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 1  # NORMAL
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 5000
    finally:
        engine.dispose()


def test_postgres_engines_ping_pooled_connections(monkeypatch):
    """After 5 s idle by default (engine.db, tests/engine/test_db_idle_ping.py); on every
    checkout with MOTCUA_DB_PING_AFTER_IDLE=0."""
    from engine import db

    engine = make_engine("postgresql://u@localhost/db")
    assert engine.dialect.driver == "psycopg"
    assert not engine.pool._pre_ping
    assert len(engine.pool.dispatch.checkout) == 1  # the idle ping (_ping_idle_connections)
    monkeypatch.setenv(db.PING_AFTER_IDLE_SETTING, "0")
    assert make_engine("postgresql://u@localhost/db").pool._pre_ping


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgres://u@h/db?sslmode=require", "postgresql+psycopg://u@h/db?sslmode=require"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////var/lib/motcua/motcua.db", "sqlite:////var/lib/motcua/motcua.db"),
    ],
)
def test_postgres_urls_are_normalised_to_psycopg3(given, expected):
    assert load_settings({"MOTCUA_DATABASE_URL": given}).database_url == expected


def test_default_database_is_a_sqlite_file_in_the_working_directory():
    assert load_settings({}).database_url == DEFAULT_DATABASE_URL == "sqlite:///motcua.db"
    assert load_settings({"MOTCUA_DATABASE_URL": "  "}).database_url == DEFAULT_DATABASE_URL
