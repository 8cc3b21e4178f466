"""The holes an outside probe found in the API (issue 12), each shown closed: idempotency keys
scoped to their user with the request's hash, the server's clock for every action, dates out of
the supported range, and the agencies a clerk may name."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from engine.lifecycle.models import Dossier, DossierEvent
from engine.users import User
from service.auth import hash_password

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
PROBLEM = "application/problem+json"


def other_applicant(name: str = "Trần Văn Khách") -> dict:
    body = copy.deepcopy(EXAMPLE)
    body["applicant"] = {"name": name, "id_number": "031095001234", "phone": "0987654321"}
    return body


def count_dossiers(db_engine) -> int:
    with Session(db_engine) as session:
        return session.exec(select(func.count()).select_from(Dossier)).one()


def add_clerk(db_engine, username: str, agency: str) -> None:
    with Session(db_engine) as session:
        session.add(User(username=username, full_name="Hoàng Thị Thu", role="clerk",
                         agency_code=agency, password_hash=hash_password(PASSWORD)))
        session.commit()


def post(client, headers, body, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/api/v1/dossiers", json=body, headers={**headers, **extra})


# ----- idempotency keys ---------------------------------------------------------------------

def test_the_readme_key_from_another_agency_receives_its_own_applicant(client, db_engine):
    """Before: the second clerk got 200 with the first dossier (name, CCCD, phone, secret)
    and the new applicant was never received."""
    add_clerk(db_engine, "clerk2", "000.01.32.H26")
    first = post(client, login(client, "clerk"), EXAMPLE, key="quay-1-0001")
    assert first.status_code == 201, first.text
    second = post(client, login(client, "clerk2"), other_applicant(), key="quay-1-0001")
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["replayed"] is False and body["code"] != first.json()["code"]
    assert body["dossier"]["applicant"]["name"] == "Trần Văn Khách"
    assert body["secret"] != first.json()["secret"]
    assert count_dossiers(db_engine) == 2


def test_a_key_reused_with_another_body_is_refused_and_nothing_is_received(client, db_engine):
    clerk = login(client, "clerk")
    key = str(uuid.uuid4())
    assert post(client, clerk, EXAMPLE, key=key).status_code == 201
    again = post(client, clerk, EXAMPLE, key=key)
    assert again.status_code == 200 and again.json()["replayed"] is True
    other = post(client, clerk, other_applicant(), key=key)
    assert other.status_code == 422, other.text
    assert other.headers["content-type"].startswith(PROBLEM)
    assert other.json()["type"].endswith("/idempotency-key-reused")
    assert count_dossiers(db_engine) == 1


def test_an_action_key_reused_for_another_dossier_is_refused(client):
    clerk = login(client, "clerk")
    one = post(client, clerk, EXAMPLE).json()["code"]
    two = post(client, clerk, other_applicant()).json()["code"]
    url = "/api/v1/dossiers/{}/actions/transfer"
    headers = {**clerk, "Idempotency-Key": "chuyen-1"}
    assert client.post(url.format(one), json={}, headers=headers).status_code == 200
    replay = client.post(url.format(one), json={}, headers=headers)
    assert replay.status_code == 200 and replay.json()["replayed"] is True
    refused = client.post(url.format(two), json={}, headers=headers)
    assert refused.status_code == 422 and refused.json()["type"].endswith(
        "/idempotency-key-reused")
    assert client.get(f"/api/v1/dossiers/{two}", headers=clerk).json()["state"] == "received"


# ----- the server's clock -------------------------------------------------------------------

def test_a_client_cannot_date_an_action_and_the_server_clock_is_used(client, db_engine):
    """Before: ``{"at": "2039-12-30T08:00+07:00"}`` was accepted and jammed the dossier."""
    clerk = login(client, "clerk")
    code = post(client, clerk, EXAMPLE).json()["code"]
    url = f"/api/v1/dossiers/{code}/actions/transfer"
    future = client.post(url, json={"at": "2039-12-30T08:00:00+07:00",
                                    "backdate_reason": "thử"}, headers=clerk)
    assert future.status_code == 403, future.text
    before = datetime.now(UTC)
    done = client.post(url, json={}, headers=clerk)
    assert done.status_code == 200, done.text
    with Session(db_engine) as session:
        event = session.exec(select(DossierEvent).where(DossierEvent.action == "transfer")).one()
    assert before - timedelta(seconds=1) <= event.at <= datetime.now(UTC)
    assert "backdated" not in (event.payload or {})


def test_recording_an_earlier_instant_is_a_journaled_permission(client, monkeypatch):
    monkeypatch.setenv("MOTCUA_BACKDATE_ROLES", "clerk,leader")
    clerk = login(client, "clerk")
    now = datetime.now(UTC)
    body = {**EXAMPLE, "received_at": (now - timedelta(days=2)).isoformat()}
    no_reason = post(client, clerk, body)
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "backdate_reason"
    for wrong in (now + timedelta(hours=1), now - timedelta(days=30),
                  datetime(1900, 1, 1, tzinfo=UTC)):
        refused = post(client, clerk, {**body, "received_at": wrong.isoformat(),
                                       "backdate_reason": "Hồ sơ giấy nhận khi mất điện"})
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith(PROBLEM)
    ok = post(client, clerk, {**body, "backdate_reason": "Hồ sơ giấy nhận khi mất điện"})
    assert ok.status_code == 201, ok.text
    dossier = ok.json()["dossier"]
    assert "backdated" in dossier["flags"]
    receipt = dossier["events"][0]
    assert receipt["backdated"] == {"reason": "Hồ sơ giấy nhận khi mất điện"}
    assert datetime.fromisoformat(receipt["recorded_at"]) - datetime.fromisoformat(
        receipt["at"]) > timedelta(days=1)
    auditor = login(client, "auditor")
    day = (now + timedelta(hours=7)).date()
    found = client.get(f"/api/v1/reports/anomalies?from={day.replace(day=1)}&to={day}",
                       headers=auditor).json()
    backdated = next(a for a in found["anomalies"] if a["kind"] == "backdated")
    assert backdated["codes"] == [ok.json()["code"]]


def test_by_default_only_leaders_may_record_an_earlier_instant(client, monkeypatch):
    monkeypatch.delenv("MOTCUA_BACKDATE_ROLES", raising=False)
    clerk = login(client, "clerk")
    earlier = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    refused = post(client, clerk, {**EXAMPLE, "received_at": earlier,
                                   "backdate_reason": "giấy"})
    assert refused.status_code == 403 and refused.json()["allowed_roles"] == ["leader"]


# ----- ranges and agencies ------------------------------------------------------------------

def test_report_periods_outside_the_calendar_are_422_not_500(client):
    auditor = login(client, "auditor")
    for path in ("/api/v1/reports?from=0001-01-01&to=2026-01-31",
                 "/api/v1/reports/anomalies?from=2026-01-01&to=9999-12-31",
                 "/api/v1/reports/charts?from=1900-01-01&to=1900-12-31"):
        response = client.get(path, headers=auditor)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["supported"]["from"] == "2015-01-01"


def test_a_clerk_may_name_only_agencies_the_tree_allows(client, db_engine):
    clerk = login(client, "clerk")
    department = post(client, clerk, {**EXAMPLE, "competent_agency": "000.00.12.H26"})
    assert department.status_code == 422, department.text
    assert department.json()["field"] == "competent_agency"
    not_a_counter = post(client, clerk, {**EXAMPLE, "returning_agency": "000.00.12.H26"})
    assert not_a_counter.status_code == 422 and not_a_counter.json()[
        "field"] == "returning_agency"
    assert count_dossiers(db_engine) == 0
    # Boundary-free: another commune of the province decides; another commune's counter returns.
    other_commune = post(client, clerk, {**EXAMPLE, "competent_agency": "000.00.32.H26",
                                         "returning_agency": "000.01.32.H26"})
    assert other_commune.status_code == 201, other_commune.text
