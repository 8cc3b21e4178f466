"""Alembic environment: run migrations on the connection or URL the caller hands over.

``engine.migrate.upgrade`` (and the ``alembic`` CLI through ``alembic.ini``) set
``sqlalchemy.url``; a caller that already holds a connection can pass it as
``config.attributes["connection"]``. Nothing here reads the environment except as the CLI's
last resort, so tests can migrate throwaway databases and schemas side by side.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from engine.db import make_engine
from engine.settings import load_settings, normalize_database_url

config = context.config


def _url() -> str:
    return normalize_database_url(
        config.get_main_option("sqlalchemy.url") or load_settings().database_url
    )


def _run(connection: Connection) -> None:
    # The migrations are written by hand and are the schema's authority: no target_metadata.
    # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
    context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
