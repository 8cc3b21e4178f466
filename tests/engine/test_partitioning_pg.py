"""``dossier`` and ``dossier_event`` partitioned by year (``engine.partitioning``, issue 18):
a schema migrated to head, converted, then the application's own operations on it — receipt,
processing, the inbox, a report, the citizen's lookup — give what they give on the plain
schema; a year's report reads that year's partition; migrations keep working on it.

PostgreSQL only (SQLite has no partitioning and refuses the conversion, tested too).
"""

from __future__ import annotations

import threading
import time
from datetime import date
from types import SimpleNamespace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, String, event, text
from sqlalchemy.exc import NotSupportedError
from sqlmodel import Session, SQLModel
from typer.testing import CliRunner

from engine import partitioning
from engine.db import make_engine
from engine.lifecycle import act, audit, events_of, receive
from engine.lifecycle.errors import Conflict
from engine.lifecycle.worklist import QueueFilter, page
from engine.migrate import upgrade
from engine.reports import Period, figures
from engine.samples import APPLICANT, CLERK, COMPONENTS, DEPT, LEADER, OFFICER, received, seed_world
from engine.samples import local as at
from tests.conftest import drop_schema, new_schema

YEARS = range(2024, 2028)
PROC = "1.000001"


@pytest.fixture
def fresh_url(postgres_admin):
    """A new PostgreSQL schema migrated to head (not yet partitioned)."""
    schema, url = new_schema(postgres_admin)
    upgrade(url)
    yield url
    drop_schema(postgres_admin, schema)


def _partition(url: str, years=YEARS) -> partitioning.Report:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            return partitioning.convert(connection, years)
    finally:
        engine.dispose()


@pytest.fixture
def partitioned_url(fresh_url):
    _partition(fresh_url)
    return fresh_url


def _where(session: Session, code: str) -> str:
    """The partition holding dossier ``code``."""
    return session.execute(text("SELECT tableoid::regclass::text FROM dossier WHERE code = :c"),
                           {"c": code}).scalar_one()


def _counter_day(session: Session) -> dict:
    """One year of a counter's work in miniature, through the lifecycle, and what the reading
    side answers afterwards: the officer's inbox, the 2025 report, the citizen's lookup."""
    from service.publicview import lookup

    seed_world(session)
    session.commit()
    done = received(session, at=at("2025-01-24T16:10"), competent_agency=DEPT)
    session.commit()
    for action, actor, when, payload in (
            ("transfer", CLERK, "2025-01-24T16:30", None),
            ("forward", OFFICER, "2025-02-04T10:00", None),
            ("finish", LEADER, "2025-02-05T10:00", None),
            ("return_result", CLERK, "2025-02-06T09:00", {"collected_by": "Nguyễn Văn An"})):
        act(session, code=done.code, action=action, actor=actor, at=at(when), payload=payload)
        session.commit()
    late = received(session, at=at("2025-12-30T09:00"), competent_agency=DEPT)
    session.commit()
    act(session, code=late.code, action="transfer", actor=CLERK, at=at("2025-12-30T09:10"))
    session.commit()
    # Submitted online in 2025, received at the counter in 2026.
    online = act_receive_online(session, submitted="2025-12-31T21:00", received="2026-01-05T08:00")
    officer = SimpleNamespace(username=OFFICER.id, role="officer", agency_code=DEPT)
    inbox, _ = page(session, officer, QueueFilter(today=date(2026, 1, 6)))
    year = figures(session, Period(date(2025, 1, 1), date(2025, 12, 31)))
    found = lookup(session, done.code, done.secret)
    return {
        "codes": (done.code, late.code, online.code),
        "inbox": [d.code for d in inbox],
        "report": year.totals,
        "lookup": (found.code, found.state),
        "events": [len(events_of(session, d)) for d in (done, late, online)],
        "audit": audit.verify(session),
    }


def act_receive_online(session: Session, *, submitted: str, received: str):
    dossier = receive(session, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                      components=COMPONENTS, competent_agency=DEPT, online=True,
                      at=at(submitted)).dossier
    session.commit()
    act(session, code=dossier.code, action="receive", actor=CLERK, at=at(received))
    session.commit()
    return dossier


def _run(url: str, work):
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return work(session)
    finally:
        engine.dispose()


def test_the_application_works_the_same_on_partitioned_tables(fresh_url, postgres_admin):
    schema, plain_url = new_schema(postgres_admin)
    try:
        upgrade(plain_url)
        expected = _run(plain_url, _counter_day)
    finally:
        drop_schema(postgres_admin, schema)
    _partition(fresh_url)

    got = _run(fresh_url, _counter_day)

    assert got == expected
    assert got["audit"] == (3, [])
    assert got["report"].received == 2 and got["lookup"][1] == "returned"
    _, late, online = got["codes"]
    assert set(got["inbox"]) == {late, online}

    def placed(session):
        events = session.execute(text(
            "SELECT DISTINCT tableoid::regclass::text FROM dossier_event ORDER BY 1"))
        return [_where(session, code) for code in got["codes"]], events.scalars().all()

    dossiers, events = _run(fresh_url, placed)
    # The online dossier moved out of the default partition when it was received in 2026.
    assert dossiers == ["dossier_y2025", "dossier_y2025", "dossier_y2026"]
    assert events == ["dossier_event_y2025", "dossier_event_y2026"]
    engine = make_engine(fresh_url)
    with engine.connect() as connection:
        assert set(partitioning.orphans(connection).values()) == {0}
    engine.dispose()


def test_an_action_racing_the_receipt_that_moves_the_dossier_is_a_conflict(partitioned_url):
    """The receipt of an online dossier moves its row to its year's partition; a concurrent
    action on it loses with a 409 conflict as on one table (the lifecycle locks the row with
    NOWAIT, so it never waits on a row being moved), not with a database error."""
    engine = make_engine(partitioned_url)
    with Session(engine) as setup:
        seed_world(setup)
        setup.commit()
        code = receive(setup, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                       components=COMPONENTS, competent_agency=DEPT, online=True,
                       at=at("2025-12-31T21:00")).dossier.code
        setup.commit()
    outcome: list[BaseException | None] = []

    def second_clerk():
        with Session(engine) as other:
            other.execute(text("SET lock_timeout = '20s'"))
            try:
                act(other, code=code, action="receive", actor=CLERK, at=at("2026-01-05T08:01"))
                other.commit()
                outcome.append(None)
            except BaseException as exc:  # the test inspects it below
                outcome.append(exc)

    try:
        with Session(engine) as first:
            act(first, code=code, action="receive", actor=CLERK, at=at("2026-01-05T08:00"))
            racer = threading.Thread(target=second_clerk)
            racer.start()
            time.sleep(1.5)  # the racer has tried the row meanwhile
            first.commit()
        racer.join(30)
        with Session(engine) as check:
            where = _where(check, code)
    finally:
        engine.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    assert where == "dossier_y2026"


def test_rows_already_stored_are_spread_over_their_years(fresh_url):
    def two_years(session):
        seed_world(session)
        session.commit()
        codes = [received(session, at=at(when), competent_agency=DEPT).code
                 for when in ("2024-06-03T09:00", "2025-06-03T09:00")]
        session.commit()
        return codes

    codes = _run(fresh_url, two_years)
    report = _partition(fresh_url)

    assert report.converted == ["dossier", "dossier_event"]
    assert "dossier_event.dossier_event_dossier_id_fkey" in report.foreign_keys_dropped
    assert _run(fresh_url, lambda s: [_where(s, c) for c in codes]) == [
        "dossier_y2024", "dossier_y2025"]
    # The id sequence survived the old table: the next receipt gets a new id.
    later = _run(fresh_url, lambda s: (received(s, at=at("2026-02-02T09:00"),
                                                competent_agency=DEPT), s.commit())[0].id)
    assert later == 3


def test_a_year_added_later_takes_over_its_rows_from_the_default_partition(fresh_url):
    _partition(fresh_url, years=[2025])

    def in_2026(session):
        seed_world(session)
        session.commit()
        code = received(session, at=at("2026-03-02T09:00"), competent_agency=DEPT).code
        session.commit()
        return code

    code = _run(fresh_url, in_2026)
    assert _run(fresh_url, lambda s: _where(s, code)) == "dossier_default"
    report = _partition(fresh_url, years=[2025, 2026])

    assert report.rows_moved == {"dossier_y2026": 1, "dossier_event_y2026": 1}
    assert _run(fresh_url, lambda s: _where(s, code)) == "dossier_y2026"
    engine = make_engine(fresh_url)
    with engine.connect() as connection:
        uniques = set(connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'dossier_y2026' "
            "AND indexdef LIKE 'CREATE UNIQUE%'")).scalars())
    engine.dispose()
    assert uniques == {"dossier_y2026_pkey", "dossier_code_key_y2026", "ix_dossier_portal_id_y2026"}


def _plans(url: str, period: Period) -> list[str]:
    """The plans of the statements a report of ``period`` runs on ``dossier``."""
    engine = make_engine(url)
    statements = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "dossier" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    try:
        with Session(engine) as session:
            seed_world(session)
            session.commit()
            event.listen(engine, "before_cursor_execute", capture)
            figures(session, period)
            event.remove(engine, "before_cursor_execute", capture)
            return ["\n".join(session.connection().exec_driver_sql(
                "EXPLAIN " + sql, params).scalars()) for sql, params in statements]
    finally:
        engine.dispose()


def test_a_year_report_reads_no_partition_of_a_later_year(partitioned_url):
    plans = _plans(partitioned_url, Period(date(2025, 1, 1), date(2025, 12, 31)))

    assert plans and any("dossier_y2025" in p for p in plans)
    assert not any("dossier_y2026" in p or "dossier_y2027" in p for p in plans)


def test_a_query_bounded_to_one_year_reads_only_that_year(partitioned_url):
    engine = make_engine(partitioned_url)
    with engine.connect() as connection:
        plan = "\n".join(connection.execute(text(
            "EXPLAIN SELECT competent_agency, count(*) FROM dossier "
            "WHERE received_at >= '2025-01-01 00:00+07' AND received_at < '2026-01-01 00:00+07' "
            "GROUP BY competent_agency")).scalars())
    engine.dispose()
    assert "dossier_y2025" in plan
    assert not any(f"dossier_{p}" in plan for p in ("y2024", "y2026", "y2027", "default"))


def _operations(connection) -> Operations:
    return Operations(MigrationContext.configure(connection))


def test_a_new_column_and_index_on_the_parent_reach_every_partition(partitioned_url):
    engine = make_engine(partitioned_url)
    with engine.begin() as connection:
        op = _operations(connection)
        op.add_column("dossier", Column("archive_box", String(32), nullable=True))
        op.create_index("ix_dossier_archive_box", "dossier", ["archive_box"])
        op.add_column("dossier_event", Column("channel_note", String(32), nullable=True))
    with engine.connect() as connection:
        leaves = partitioning.partitions(connection, "dossier")
        with_column = set(connection.execute(text(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'archive_box' "
            "AND table_schema = current_schema()")).scalars())
        indexed = set(connection.execute(text(
            "SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%(archive_box)%' "
            "AND schemaname = current_schema()")).scalars())
        event_leaves = set(connection.execute(text(
            "SELECT table_name FROM information_schema.columns WHERE column_name = 'channel_note' "
            "AND table_schema = current_schema()")).scalars())
    engine.dispose()
    assert len(leaves) == 5
    assert with_column == indexed == {"dossier", *leaves}
    assert event_leaves == {"dossier_event", *(f"dossier_event_{p.split('_')[-1]}" for p in leaves)}


def test_a_unique_index_on_the_parent_must_contain_the_receipt_instant(partitioned_url):
    engine = make_engine(partitioned_url)
    with pytest.raises(NotSupportedError, match="partition key"), engine.begin() as connection:
        _operations(connection).create_index("uq_dossier_secret", "dossier", ["secret"],
                                             unique=True)
    with engine.begin() as connection:
        _operations(connection).create_index("uq_dossier_secret", "dossier",
                                             ["secret", "received_at"], unique=True)
    engine.dispose()


def test_the_migrations_go_down_and_up_again_on_partitioned_tables(partitioned_url):
    from alembic import command

    from engine.migrate import alembic_config, head_revision

    command.downgrade(alembic_config(partitioned_url), "0018")
    upgrade(partitioned_url)
    engine = make_engine(partitioned_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == head_revision()
        assert partitioning.is_partitioned(connection, "dossier")
        leaf_indexes = set(connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'dossier_y2025'")).scalars())
    engine.dispose()
    assert any("competent_agency_coalesce" in name for name in leaf_indexes)


def test_alembic_sees_only_what_partitioning_changed(
        partitioned_url):
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
    import service.pow  # noqa: F401

    def ours(name, type_, _parent):
        return type_ != "table" or (name != "alembic_version" and "_y20" not in name
                                    and not name.endswith("_default"))

    db = make_engine(partitioned_url)
    with db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": ours})
        diff = compare_metadata(context, SQLModel.metadata)
    db.dispose()
    foreign_keys = {(d[1].parent.name, d[1].column_keys[0]) for d in diff if d[0] == "add_fk"}
    extra = {d[1].name for d in diff if d[0] == "remove_index"}
    uniques = {(d[1].table.name, tuple(c.name for c in d[1].columns))
               for d in diff if d[0] == "add_constraint"
               or (d[0] == "add_index" and d[1].unique)}

    # What `alembic check` reports on a partitioned database, and nothing else: the foreign
    # keys to the partitioned tables (what ``orphans`` checks instead), the unique constraints
    # that became one per partition, and the index only the partitioned layout needs.
    assert len(diff) == len(foreign_keys) + len(uniques) + len(extra)
    assert extra == set(partitioning.EXTRA_INDEXES["dossier"])
    assert foreign_keys == {(child, column) for child, column, _ in partitioning.REFERENCES}
    assert uniques == {("dossier", ("code",)), ("dossier", ("portal_id",)),
                       ("dossier_event", ("dossier_id", "seq")),
                       ("dossier_event", ("idempotency_key",))}


def test_the_command_partitions_and_checks(fresh_url, monkeypatch):
    from service.cli import app

    monkeypatch.setenv("MOTCUA_DATABASE_URL", fresh_url)
    runner = CliRunner()
    done = runner.invoke(app, ["db", "partition", "--from-year", "2024", "--to-year", "2027"])
    check = runner.invoke(app, ["db", "partition", "--from-year", "2024", "--to-year", "2027",
                                "--check"])

    assert done.exit_code == 0, done.output
    assert '"dossier_y2027"' in done.output and '"dossier_event_default"' not in done.output
    assert check.exit_code == 0 and '"dossier_event.dossier_id": 0' in check.output


def test_sqlite_is_refused_with_a_reason(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with pytest.raises(partitioning.PartitioningError, match="PostgreSQL"), \
                engine.begin() as connection:
            partitioning.convert(connection, YEARS)
    finally:
        engine.dispose()
