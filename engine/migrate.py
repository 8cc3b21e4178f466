"""Schema migrations (Alembic), run from code so installs and tests need no alembic.ini."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for ``url`` and the repository's ``migrations/`` directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # The config goes through ConfigParser interpolation: a '%' in the URL (an encoded
    # password, or "?options=-csearch_path%3D...") must be doubled or it raises.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``; a no-op when it is already there."""
    command.upgrade(alembic_config(url), revision)


@cache
def head_revision() -> str:
    """The newest revision in ``migrations/``: what a database must be at to serve this code."""
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    if head is None:  # pragma: no cover - the repository always ships migrations
        raise RuntimeError(f"no migrations in {MIGRATIONS_DIR}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database on ``connection`` was migrated to (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def known_revisions() -> frozenset[str]:
    """Every revision in ``migrations/`` (a database at any other one was made by newer code)."""
    return frozenset(s.revision for s in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions())
