"""Every role against every resource, including other agencies' dossiers; login throttling;
the public lookup; the administrator's calendar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.db import session_scope
from engine.users import User
from service.auth import hash_password

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
ROLES = ("clerk", "officer", "leader", "auditor", "admin")


@pytest.fixture
def dossier(client):
    return client.post("/api/v1/dossiers", json=EXAMPLE, headers=login(client, "clerk")).json()


@pytest.fixture
def outsider(client, db_engine):
    """A clerk and an officer of the other commune (phường Hồng Bàng)."""
    with session_scope(db_engine) as session:
        for username, role, agency in (("clerk_hb", "clerk", "000.01.32.H26"),
                                       ("officer_hb", "officer", "000.00.32.H26")):
            session.add(User(username=username, full_name=username, role=role,
                             agency_code=agency, password_hash=hash_password(PASSWORD)))
    return {u: login(client, u) for u in ("clerk_hb", "officer_hb")}


# role → (can read the dossier, can receive, can list the queue)
EXPECTED = {
    "clerk": (200, 201, 200),
    "officer": (200, 403, 200),
    "leader": (200, 403, 200),
    "auditor": (200, 403, 200),
    "admin": (403, 403, 403),
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reads_and_writes_only_what_it_may(client, dossier, role):
    headers = login(client, role)
    read, write, queue = EXPECTED[role]
    assert client.get(f"/api/v1/dossiers/{dossier['code']}", headers=headers).status_code == read
    assert client.post("/api/v1/dossiers", json=EXAMPLE, headers=headers).status_code == write
    assert client.get("/api/v1/dossiers", headers=headers).status_code == queue


def test_other_agencies_cannot_see_or_touch_a_dossier(client, dossier, outsider):
    code = dossier["code"]
    for headers in outsider.values():
        assert client.get(f"/api/v1/dossiers/{code}", headers=headers).status_code == 404
        response = client.post(f"/api/v1/dossiers/{code}/actions/transfer", json={},
                               headers=headers)
        assert response.status_code == 404
        assert client.get("/api/v1/dossiers", headers=headers).json()["items"] == []


def test_auditor_cannot_act(client, dossier):
    response = client.post(f"/api/v1/dossiers/{dossier['code']}/actions/transfer", json={},
                           headers=login(client, "auditor"))
    assert response.status_code == 403


def test_officer_cannot_do_the_counters_work(client, dossier):
    response = client.post(f"/api/v1/dossiers/{dossier['code']}/actions/transfer", json={},
                           headers=login(client, "officer"))
    assert response.status_code == 403 and response.json()["type"].endswith("/forbidden")


def test_without_a_token_everything_but_public_answers_401(client, dossier):
    for path in ("/api/v1/dossiers", f"/api/v1/dossiers/{dossier['code']}",
                 "/api/v1/procedures", "/api/v1/calendar/2026", "/api/v1/auth/me"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/problem+json")
    bad = client.get("/api/v1/dossiers", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_login_is_throttled_after_five_failures(client):
    for _ in range(5):
        response = client.post("/api/v1/auth/token", data={"username": "clerk",
                                                           "password": "sai"})
        assert response.status_code == 401
    response = client.post("/api/v1/auth/token", data={"username": "clerk",
                                                       "password": PASSWORD})
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_me_tells_role_and_agency(client):
    me = client.get("/api/v1/auth/me", headers=login(client, "officer")).json()
    assert me == {"username": "officer", "full_name": "Trần Văn Minh", "role": "officer",
                  "agency": "000.00.31.H26", "granted_agencies": []}


def test_public_lookup_shows_status_without_personal_data(client, dossier):
    response = client.get(f"/api/v1/public/dossiers/{dossier['code']}",
                          params={"secret": dossier["secret"]})
    assert response.status_code == 200
    body = response.json()
    assert body["status_code"] == 2 and body["appointment"] == dossier["appointment"]
    assert "Nguyễn Thị Mai" not in response.text and "031195004321" not in response.text


def test_public_lookup_answers_the_same_for_wrong_secret_and_unknown_code(client, dossier):
    wrong = client.get(f"/api/v1/public/dossiers/{dossier['code']}", params={"secret": "x"})
    unknown = client.get("/api/v1/public/dossiers/000.01.31.H26-990101-0001",
                         params={"secret": dossier["secret"]})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_public_lookup_is_rate_limited(client, dossier):
    """Wrong secrets on one code slow that code (tests/service/test_lookup_limits.py)."""
    statuses = [client.get(f"/api/v1/public/dossiers/{dossier['code']}",
                           params={"secret": "x"}).status_code for _ in range(6)]
    assert statuses[-1] == 429 and set(statuses[:5]) == {404}


def test_admin_day_off_reprojects_open_deadlines_and_is_journaled(client, dossier):
    admin = login(client, "admin")
    due = dossier["dossier"]["due"]
    response = client.put(f"/api/v1/calendar/days/{due}", params={"agency": "000.00.31.H26"},
                          headers=admin, json={"kind": "local_off", "name": "Nghỉ do bão"})
    assert response.status_code == 200, response.text
    moved = response.json()["reprojected"]
    assert [m["code"] for m in moved] == [dossier["code"]]
    assert moved[0]["new_due"] > due
    journal = client.get("/api/v1/calendar/journal/entries", headers=admin).json()
    assert journal[0]["actor"] == "admin" and journal[0]["reprojected"] == moved
    year = int(due[:4])
    days = client.get(f"/api/v1/calendar/{year}", params={"agency": "000.00.31.H26"},
                      headers=admin).json()
    assert any(d["date"] == due and d["kind"] == "local_off" for d in days["days"])
    undo = client.delete(f"/api/v1/calendar/days/{due}", params={"agency": "000.00.31.H26"},
                         headers=admin)
    assert undo.json()["reprojected"][0]["new_due"] == due


def test_calendar_is_for_administrators_only(client):
    response = client.get("/api/v1/calendar/2026", headers=login(client, "clerk"))
    assert response.status_code == 403
    bad = client.put("/api/v1/calendar/office-hours", headers=login(client, "admin"),
                     json={"sessions": "12:00-11:00"})
    assert bad.status_code == 422


def test_health_and_metrics(client, dossier, monkeypatch):
    assert client.get("/healthz").json() == {"status": "ok"}
    monkeypatch.setenv("MOTCUA_METRICS_TOKEN", "jeton-de-test")  # the test client has no IP
    metrics = client.get("/metrics", headers={"Authorization": "Bearer jeton-de-test"}).text
    assert 'motcua_http_requests_total{method="POST",route="/api/v1/dossiers",status="201"}' \
        in metrics
