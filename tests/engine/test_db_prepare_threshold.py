"""``MOTCUA_PG_PREPARE_THRESHOLD``: behind PgBouncer < 1.21 in transaction mode, psycopg's
server-side prepared statements break (docs/scaling.md); the setting turns them off."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import make_engine, prepare_threshold


@pytest.mark.parametrize(("raw", "expected"), [("none", None), ("OFF", None), ("0", None),
                                               ("1", 1), (" 12 ", 12)])
def test_the_setting_reads_none_or_a_whole_number(raw, expected):
    assert prepare_threshold(raw) == expected


@pytest.mark.parametrize("raw", ["-1", "five", "2.5"])
def test_a_bad_value_names_the_setting(raw):
    with pytest.raises(ValueError, match="MOTCUA_PG_PREPARE_THRESHOLD"):
        prepare_threshold(raw)


@pytest.mark.parametrize(("raw", "expected"), [("none", None), ("3", 3), ("", 5)])
def test_postgresql_connections_take_the_setting(postgres_admin, monkeypatch, raw, expected):
    monkeypatch.setenv("MOTCUA_PG_PREPARE_THRESHOLD", raw)
    engine = make_engine(postgres_admin.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
            assert connection.connection.driver_connection.prepare_threshold == expected
    finally:
        engine.dispose()


def test_sqlite_ignores_the_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_PG_PREPARE_THRESHOLD", "none")
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("select 1")).scalar() == 1
    engine.dispose()
