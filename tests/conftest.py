"""Database fixtures: every storage test runs on SQLite and on PostgreSQL.

The two differ where it hurts (types, constraints, transactional DDL, time zones), so a test
that passes on only one proves little. PostgreSQL needs ``MOTCUA_TEST_DATABASE_URL``, e.g.
``postgresql://postgres@127.0.0.1:5432/test``; without it that variant is skipped, unless
``MOTCUA_REQUIRE_POSTGRES=1`` (CI) turns the skip into a failure.

PostgreSQL schemas are named in the URL itself (``?options=-csearch_path=t_<hex>``), so a
URL alone reaches the isolated database: ``make_engine``, ``engine.migrate.upgrade``, a CLI
subprocess given ``MOTCUA_DATABASE_URL`` all land in the same schema. Migrating costs
0.4–0.6 s, so ``database_url`` is migrated once per worker and emptied per test;
``empty_database_url`` is a truly new database for the migration tests.
"""

from __future__ import annotations

import os

os.environ.setdefault("MOTCUA_ARGON2_PROFILE", "test")  # cheap password hashes in tests only
# Tests read the figures right after acting; the reuse of an open period's report for a
# minute (engine.reports.cache, on by default) has its own tests, which set it.
os.environ.setdefault("MOTCUA_OPEN_REPORT_MAX_AGE", "0")
import secrets
import shutil
from collections.abc import Iterator
from typing import NoReturn

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine

from engine.db import make_engine
from engine.migrate import upgrade
from engine.settings import normalize_database_url

STORAGE_FIXTURES = {"database_url", "empty_database_url", "db_engine", "session"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if STORAGE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.storage)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("MOTCUA_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"MOTCUA_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason}: PostgreSQL variant skipped")


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An autocommit engine on the PostgreSQL test database, checked once per run."""
    url = os.environ.get("MOTCUA_TEST_DATABASE_URL", "").strip()
    if not url:
        _unavailable("MOTCUA_TEST_DATABASE_URL not set")
    engine = create_engine(
        normalize_database_url(url),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as exc:
        engine.dispose()
        _unavailable(f"PostgreSQL at MOTCUA_TEST_DATABASE_URL is unreachable ({exc.orig})")
    yield engine
    engine.dispose()


def new_schema(admin: Engine) -> tuple[str, str]:
    """A fresh PostgreSQL schema and the URL that reaches it (``search_path`` in the URL)."""
    schema = f"t_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin.url).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    ).render_as_string(hide_password=False)
    return schema, url


def drop_schema(admin: Engine, schema: str) -> None:
    with admin.connect() as connection:
        # Fail rather than hang if a test left a transaction open on the schema.
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty, unmigrated database of each kind, as a URL (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema, url = new_schema(admin)
    yield url
    drop_schema(admin, schema)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """One migrated SQLite file per worker; each test gets a copy (migrating costs ~0.6 s)."""
    path = tmp_path_factory.mktemp("template") / "migrated.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
def postgres_worker(postgres_admin) -> Iterator[tuple[str, list[str]]]:
    """One migrated schema per worker; tests empty it instead of migrating a new one."""
    schema, url = new_schema(postgres_admin)
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        tables = sorted(connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'")).scalars())
    engine.dispose()
    yield url, tables
    drop_schema(postgres_admin, schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A migrated database of each kind with no rows, as a URL.

    SQLite: a copy of the worker's migrated template file. PostgreSQL: the worker's migrated
    schema, emptied (``TRUNCATE … RESTART IDENTITY``) before the test.
    """
    if request.param == "sqlite":
        path = tmp_path / "motcua.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url, tables = request.getfixturevalue("postgres_worker")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                    + " RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
    yield url


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated, empty database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    with Session(db_engine) as session:
        yield session
