"""Who read which dossier: the API detail, each PDF and the staff page are journaled, and
only auditors and leaders, within their agencies, may read the journal."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from engine.db import session_scope
from engine.readjournal import ReadJournal
from engine.users import AuditorGrant, User
from service.auth import hash_password

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def reads(db_engine, code: str) -> list[ReadJournal]:
    with session_scope(db_engine) as session:
        return list(session.exec(select(ReadJournal).where(ReadJournal.dossier_code == code)
                                 .order_by(ReadJournal.id)).all())


@pytest.fixture
def code(client):
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=login(client, "clerk"))
    assert response.status_code == 201, response.text
    return response.json()["code"]


@pytest.fixture
def far_auditor(client, db_engine):
    """An auditor granted only the other commune (phường Hồng Bàng)."""
    with session_scope(db_engine) as session:
        session.add(User(username="auditor_hb", full_name="Kiểm soát Hồng Bàng", role="auditor",
                         agency_code="000.00.32.H26", password_hash=hash_password(PASSWORD)))
        session.add(AuditorGrant(username="auditor_hb", agency_code="000.00.32.H26"))
        session.add(AuditorGrant(username="auditor_hb", agency_code="000.01.32.H26"))
    return login(client, "auditor_hb")


def test_dossier_detail_is_journaled_with_user_role_request_and_address(client, db_engine,
                                                                        code):
    remote = TestClient(client.app, client=("10.20.30.40", 50000))
    headers = {**login(client, "officer"), "X-Request-ID": "doc-doc-1"}
    assert remote.get(f"/api/v1/dossiers/{code}", headers=headers).status_code == 200
    [entry] = reads(db_engine, code)
    assert (entry.username, entry.role, entry.agency_code, entry.what) == (
        "officer", "officer", "000.00.31.H26", "detail")
    assert entry.request_id == "doc-doc-1" and entry.client_address == "10.20.30.40"
    assert entry.at.utcoffset().total_seconds() == 0


def test_each_pdf_read_is_journaled_with_its_form(client, db_engine, code):
    clerk = {**login(client, "clerk"), "X-Request-ID": "in-bien-nhan"}
    response = client.get(f"/api/v1/dossiers/{code}/documents/receipt.pdf", headers=clerk)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    [entry] = reads(db_engine, code)
    assert (entry.username, entry.role, entry.what, entry.document, entry.request_id) == (
        "clerk", "clerk", "document", "receipt", "in-bien-nhan")
    assert entry.client_address == "testclient"


def test_a_refused_read_is_not_journaled(client, db_engine, code, far_auditor):
    assert client.get(f"/api/v1/dossiers/{code}", headers=far_auditor).status_code == 404
    assert reads(db_engine, code) == []


def test_auditor_and_leader_list_the_journal_with_filters(client, code):
    client.get(f"/api/v1/dossiers/{code}", headers=login(client, "officer"))
    client.get(f"/api/v1/dossiers/{code}", headers=login(client, "clerk"))
    for reviewer in ("auditor", "leader"):
        response = client.get("/api/v1/read-journal", params={"dossier": code},
                              headers=login(client, reviewer))
        assert response.status_code == 200, response.text
        assert [i["username"] for i in response.json()["items"]] == ["clerk", "officer"]
    auditor = login(client, "auditor")
    only = client.get("/api/v1/read-journal", params={"dossier": code, "user": "officer"},
                      headers=auditor).json()["items"]
    assert [i["username"] for i in only] == ["officer"]
    day = only[0]["at"][:10]
    same_day = client.get("/api/v1/read-journal", params={"from": day, "to": day},
                          headers=auditor).json()["items"]
    assert len(same_day) == 2
    before = client.get("/api/v1/read-journal", params={"to": "2020-01-01"},
                        headers=auditor).json()["items"]
    assert before == []
    page = client.get("/api/v1/read-journal", params={"limit": 1}, headers=auditor).json()
    rest = client.get("/api/v1/read-journal", params={"limit": 1, "before": page["next"]},
                      headers=auditor).json()
    assert [i["username"] for i in page["items"] + rest["items"]] == ["clerk", "officer"]


def test_auditor_outside_the_agency_cannot_see_the_journal(client, code, far_auditor):
    client.get(f"/api/v1/dossiers/{code}", headers=login(client, "officer"))
    response = client.get("/api/v1/read-journal", params={"dossier": code},
                          headers=far_auditor)
    assert response.status_code == 200 and response.json()["items"] == []
    everything = client.get("/api/v1/read-journal", headers=far_auditor).json()["items"]
    assert everything == []


@pytest.mark.parametrize("role", ["clerk", "officer", "admin"])
def test_clerks_officers_and_admins_cannot_list_the_journal(client, role):
    response = client.get("/api/v1/read-journal", headers=login(client, role))
    assert response.status_code == 403


def _sign_in(client, username: str) -> None:
    client.cookies.clear()
    page = client.get("/dang-nhap").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/dang-nhap", data={"username": username, "password": PASSWORD,
                                                "csrf": token}, follow_redirects=False)
    assert response.status_code == 303


def test_dossier_page_is_journaled_and_shows_the_history_to_auditors(client, db_engine, code):
    _sign_in(client, "clerk")
    clerk_page = client.get(f"/ho-so/{code}")
    assert clerk_page.status_code == 200 and "Lịch sử truy cập" not in clerk_page.text
    _sign_in(client, "auditor")
    auditor_page = client.get(f"/ho-so/{code}")
    assert "Lịch sử truy cập" in auditor_page.text
    assert "Cán bộ tiếp nhận" in auditor_page.text  # the clerk's view, listed by role
    assert [(e.username, e.what) for e in reads(db_engine, code)] == [
        ("clerk", "page"), ("auditor", "page")]


def test_page_of_a_dossier_out_of_scope_is_not_journaled(client, db_engine, code,
                                                         far_auditor):
    _sign_in(client, "auditor_hb")
    page = client.get(f"/ho-so/{code}")
    assert page.status_code == 200 and "Lịch sử truy cập" not in page.text
    assert reads(db_engine, code) == []


def test_a_reads_entry_is_committed_without_waiting_for_the_disk_unless_asked(client, db_engine,
                                                                              code):
    """PostgreSQL: the read's entry turns its own transaction's ``synchronous_commit`` off
    (the entry is committed all the same); ``MOTCUA_READ_JOURNAL_SYNC=on`` keeps the wait.
    SQLite does not wait for the disk at commit in WAL mode: nothing to say there."""
    from sqlalchemy import event

    sent: list[str] = []

    def record(conn, cursor, statement, *_):
        sent.append(statement)

    officer = login(client, "officer")
    relaxes = db_engine.dialect.name == "postgresql"
    event.listen(client.app.state.engine, "before_cursor_execute", record)
    try:
        for waits, expected in ((False, relaxes), (True, False)):
            client.app.state.read_journal_sync = waits
            sent.clear()
            assert client.get(f"/api/v1/dossiers/{code}", headers=officer).status_code == 200
            assert any("set_config" in s for s in sent) is expected, waits
    finally:
        event.remove(client.app.state.engine, "before_cursor_execute", record)
    assert [e.what for e in reads(db_engine, code)] == ["detail", "detail"]


@pytest.mark.parametrize("raw, waits", [("", False), ("off", False), ("0", False),
                                        ("on", True), ("1", True)])
def test_the_journals_disk_wait_is_a_setting(raw, waits):
    from engine.readjournal import journal_waits_for_disk

    assert journal_waits_for_disk({"MOTCUA_READ_JOURNAL_SYNC": raw}) is waits


def test_a_bad_journal_disk_setting_stops_the_start():
    from engine.readjournal import journal_waits_for_disk

    with pytest.raises(ValueError, match="MOTCUA_READ_JOURNAL_SYNC"):
        journal_waits_for_disk({"MOTCUA_READ_JOURNAL_SYNC": "sometimes"})
