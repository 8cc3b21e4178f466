"""Schema migrations (Alembic), run from code so installs and tests need no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

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
