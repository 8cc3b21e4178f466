"""Pooled PostgreSQL connections are pinged before use only after sitting idle
(``MOTCUA_DB_PING_AFTER_IDLE``, ``engine.db``): a connection idle too long whose backend died
is replaced before the caller sees it, and one used a moment ago costs no extra round trip."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from engine.db import make_engine, ping_after_idle


def pg_engine(postgres_admin, monkeypatch, after: str):
    monkeypatch.setenv("MOTCUA_DB_PING_AFTER_IDLE", after)
    return make_engine(postgres_admin.url.render_as_string(hide_password=False),
                       pool_size=1, max_overflow=0)


def pings(engine, monkeypatch) -> list[int]:
    counted: list[int] = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping",
                        lambda connection: (counted.append(1), real(connection))[1])
    return counted


def test_an_idle_connection_whose_backend_died_is_replaced_before_use(postgres_admin,
                                                                      monkeypatch):
    engine = pg_engine(postgres_admin, monkeypatch, "0.05")
    try:
        with engine.connect() as connection:
            pid = connection.execute(text("select pg_backend_pid()")).scalar()
        with postgres_admin.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        time.sleep(0.1)  # idle longer than the setting
        counted = pings(engine, monkeypatch)
        with engine.connect() as connection:
            assert connection.execute(text("select pg_backend_pid()")).scalar() != pid
        assert counted == [1]
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_admin, monkeypatch):
    engine = pg_engine(postgres_admin, monkeypatch, "30")
    try:
        counted = pings(engine, monkeypatch)
        for _ in range(5):
            with engine.connect() as connection:
                connection.execute(text("select 1"))
        assert counted == []
    finally:
        engine.dispose()


def test_the_setting_is_seconds_zero_or_more():
    assert ping_after_idle({}) == 5.0
    assert ping_after_idle({"MOTCUA_DB_PING_AFTER_IDLE": "0"}) == 0
    for bad in ("-1", "năm", "nan"):
        with pytest.raises(ValueError, match="MOTCUA_DB_PING_AFTER_IDLE"):
            ping_after_idle({"MOTCUA_DB_PING_AFTER_IDLE": bad})
