"""A broken database connection: one safe retry before COMMIT, otherwise 503 (never a 500),
and nothing written twice. The middleware's rules are checked on a tiny ASGI app (no
database needed); the real thing on PostgreSQL by terminating the request's backend."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, make_url, select, text
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from engine.db import make_engine
from engine.lifecycle.audit import verify
from engine.lifecycle.models import Dossier, DossierEvent
from service import problems
from service.resilience import (
    DatabaseRetry,
    DatabaseWaitError,
    db_wait_seconds,
    unavailable_answer,
    wait_for_database,
)

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def lost_connection() -> OperationalError:
    return OperationalError("INSERT INTO dossier ...", {}, Exception("server closed the "
                            "connection unexpectedly"), connection_invalidated=True)


def refused_connection() -> OperationalError:
    return OperationalError(None, None, Exception("connection refused"))


class FlakyApp:
    """Echoes the request body; the first ``failures`` runs raise ``error`` (after a COMMIT on
    ``engine`` when ``commit_first``, after starting the response when ``start_first``)."""

    def __init__(self, engine, failures, error=lost_connection, *, commit_first=False,
                 start_first=False):
        self.engine, self.failures, self.error = engine, failures, error
        self.commit_first, self.start_first = commit_first, start_first
        self.bodies: list[bytes] = []

    async def __call__(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        if len(self.bodies) <= self.failures:
            if self.commit_first:
                with self.engine.begin() as connection:
                    connection.execute(text("SELECT 1"))
            if self.start_first:
                await send({"type": "http.response.start", "status": 200, "headers": []})
            raise self.error()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
def memory_engine():
    engine = make_engine("sqlite://")
    yield engine
    engine.dispose()


def run(app, memory_engine, body=b"ho so"):
    client = TestClient(DatabaseRetry(app, engine=memory_engine))  # no lifespan: plain ASGI
    return client.post("/api/v1/dossiers", content=body)


def assert_unavailable(response):
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["Retry-After"].isdigit()
    problem = response.json()
    assert problem["type"].endswith("/database-unavailable")
    assert problem["title"].startswith("Cơ sở dữ liệu")
    assert "Traceback" not in response.text


def test_connection_lost_before_commit_is_retried_once_with_the_same_body(memory_engine):
    app = FlakyApp(memory_engine, failures=1)
    response = run(app, memory_engine)
    assert response.status_code == 200 and response.content == b"ho so"
    assert app.bodies == [b"ho so", b"ho so"]


def test_connection_lost_twice_is_a_503_problem_not_a_third_try(memory_engine):
    app = FlakyApp(memory_engine, failures=2)
    assert_unavailable(run(app, memory_engine))
    assert len(app.bodies) == 2


def test_connection_lost_after_commit_was_attempted_is_never_retried(memory_engine):
    app = FlakyApp(memory_engine, failures=1, commit_first=True)
    assert_unavailable(run(app, memory_engine))
    assert len(app.bodies) == 1


def test_database_refusing_connections_is_a_503_without_retry(memory_engine):
    app = FlakyApp(memory_engine, failures=1, error=refused_connection)
    assert_unavailable(run(app, memory_engine))
    assert len(app.bodies) == 1


def test_other_errors_and_started_responses_pass_through_untouched(memory_engine):
    with pytest.raises(ZeroDivisionError):
        run(FlakyApp(memory_engine, failures=1, error=ZeroDivisionError), memory_engine)
    started = FlakyApp(memory_engine, failures=1, start_first=True)
    with pytest.raises(OperationalError):
        run(started, memory_engine)
    assert len(started.bodies) == 1


def test_the_catch_all_handler_answers_503_for_an_unavailable_database():
    """Without the middleware in the way (e.g. middlewares reordered): still 503, not 500."""
    app = FastAPI()
    problems.install(app, fallback=unavailable_answer)

    @app.get("/broken")
    def broken():
        raise refused_connection()

    assert_unavailable(TestClient(app, raise_server_exceptions=False).get("/broken"))


# ----- PostgreSQL: terminate the request's own backend ----------------------------------------

only_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def terminate_backend(admin, dbapi_connection) -> None:
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"),
                           {"pid": dbapi_connection.info.backend_pid})


def kill_on_statement(engine, admin, marker: str, times: int) -> list[str]:
    """Terminate the backend right before the first ``times`` statements containing ``marker``
    (the statement then fails on a dead connection, like a server restart mid-request)."""
    killed: list[str] = []

    def before(connection, _cursor, statement, *_args):
        if marker in statement and len(killed) < times:
            killed.append(statement)
            terminate_backend(admin, connection.connection.dbapi_connection)

    event.listen(engine, "before_cursor_execute", before)
    return killed


def counts(db_engine) -> tuple[int, int]:
    with db_engine.connect() as connection:
        return (connection.execute(select(func.count()).select_from(Dossier)).scalar_one(),
                connection.execute(select(func.count()).select_from(DossierEvent)).scalar_one())


@only_postgres
def test_backend_killed_mid_request_is_retried_and_writes_once(client, db_engine, session,
                                                               postgres_admin):
    clerk = login(client, "clerk")
    killed = kill_on_statement(client.app.state.engine, postgres_admin,
                               "INSERT INTO dossier_event", times=1)
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk)
    assert response.status_code == 201, response.text
    assert len(killed) == 1
    assert counts(db_engine) == (1, 1)
    assert verify(session) == (1, [])


@only_postgres
def test_backend_killed_on_both_attempts_is_a_503_and_writes_nothing(client, db_engine,
                                                                     postgres_admin):
    clerk = login(client, "clerk")
    killed = kill_on_statement(client.app.state.engine, postgres_admin,
                               "INSERT INTO dossier_event", times=2)
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk)
    assert_unavailable(response)
    assert len(killed) == 2
    assert counts(db_engine) == (0, 0)
    assert client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).status_code == 201


@only_postgres
def test_backend_killed_at_commit_is_a_503_and_not_repeated(client, db_engine, postgres_admin):
    clerk = login(client, "clerk")
    commits: list[int] = []

    def kill_at_commit(connection):
        if not commits:
            commits.append(1)
            terminate_backend(postgres_admin, connection.connection.dbapi_connection)

    event.listen(client.app.state.engine, "commit", kill_at_commit)
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk)
    assert_unavailable(response)
    assert commits == [1]
    assert counts(db_engine) == (0, 0)  # the COMMIT never reached the server; no second run


@only_postgres
def test_pooled_connections_killed_between_requests_do_not_fail_the_next(client,
                                                                         postgres_admin):
    clerk = login(client, "clerk")
    engine = client.app.state.engine
    held = [engine.connect() for _ in range(max(1, engine.pool.checkedin()))]
    for connection in held:
        terminate_backend(postgres_admin, connection.connection.dbapi_connection)
    for connection in held:
        connection.close()  # back to the pool, with a dead backend behind it
    for _ in range(3):
        assert client.get("/api/v1/dossiers", headers=clerk).status_code == 200


# ----- start-up: wait for the database ----------------------------------------------------------

def closed_port_url(password: str = "mat-khau-bi-mat") -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://motcua:{password}@127.0.0.1:{port}/motcua"


class FakeTime:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_start_up_retries_every_2_seconds_then_fails_with_a_bilingual_message():
    url, clock, lines = closed_port_url(), FakeTime(), []
    with pytest.raises(DatabaseWaitError) as raised:
        wait_for_database(url, 5, say=lines.append, sleep=clock.sleep, clock=lambda: clock.now)
    assert clock.sleeps == [2, 2]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    port = make_url(url).port
    assert f"127.0.0.1:{port}/motcua" in lines[0] and "thử lại sau 2 giây" in lines[0]
    message = str(raised.value)
    assert "không kết nối được cơ sở dữ liệu" in message and "Could not reach" in message
    assert "3 lần thử" in message
    assert "mat-khau-bi-mat" not in message + "".join(lines)


def test_start_up_goes_on_at_once_when_the_database_answers(database_url):
    assert wait_for_database(database_url, 60, sleep=pytest.fail) == 1


def test_wait_setting_defaults_to_60_and_refuses_nonsense():
    assert db_wait_seconds({}) == 60
    assert db_wait_seconds({"MOTCUA_DB_WAIT_SECONDS": "0"}) == 0
    for bad in ("-1", "soon", "nan"):
        with pytest.raises(ValueError, match="MOTCUA_DB_WAIT_SECONDS"):
            db_wait_seconds({"MOTCUA_DB_WAIT_SECONDS": bad})


def test_serve_exits_1_with_a_clear_message_when_the_database_never_comes(tmp_path):
    env = {**os.environ, "MOTCUA_DATABASE_URL": closed_port_url(),
           "MOTCUA_DB_WAIT_SECONDS": "0"}
    done = subprocess.run([sys.executable, "-m", "service.cli", "serve"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "Lỗi: không kết nối được cơ sở dữ liệu 127.0.0.1:" in done.stderr
    assert "Could not reach the database" in done.stderr
    assert "Traceback" not in done.stderr and "mat-khau-bi-mat" not in done.stderr
