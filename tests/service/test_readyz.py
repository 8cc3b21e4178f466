"""``/healthz`` is liveness (never the database); ``/readyz`` is readiness: the database answers
and is migrated to the head of ``migrations/``, each check named in the answer."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy import event

from engine.migrate import head_revision, upgrade
from service.resilience import readiness_engine


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unreachable_url(database_url: str, tmp_path) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'motcua.db'}"
    return f"postgresql://postgres@127.0.0.1:{closed_port()}/test"


def point_readiness_at(client, url: str) -> None:
    client.app.state.readiness_engine = readiness_engine(url)


def test_ready_when_the_database_answers_and_is_at_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"] == {"ok": True, "detail": head_revision()}


@pytest.mark.parametrize(("database_url", "empty_database_url"),
                         [("sqlite", "sqlite"), ("postgresql", "postgresql")], indirect=True)
def test_not_ready_when_the_database_is_behind_head(client, empty_database_url):
    upgrade(empty_database_url, "0007")
    point_readiness_at(client, empty_database_url)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["ok"] is True
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False
    assert "0007" in migrations["detail"] and head_revision() in migrations["detail"]


def test_not_ready_when_the_database_is_unreachable_but_still_alive(client, database_url,
                                                                     tmp_path):
    point_readiness_at(client, unreachable_url(database_url, tmp_path))
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": False, "detail": "không kết nối được cơ sở dữ liệu"}
    assert checks["migrations"]["ok"] is False
    assert "127.0.0.1" not in response.text  # where the database lives stays in the log
    assert client.get("/healthz").json()["status"] == "ok"  # + the scheduler, under serve


def test_healthz_never_touches_the_database(client):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(client.app.state.engine, "before_cursor_execute", record)
    client.app.state.engine.dispose()
    assert client.get("/healthz").status_code == 200
    assert statements == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_never_migrated_database_is_not_ready(client, tmp_path):
    point_readiness_at(client, f"sqlite:///{tmp_path / 'blank.db'}")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "chưa khởi tạo" in response.json()["checks"]["migrations"]["detail"]
