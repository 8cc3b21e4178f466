"""Attachments over HTTP: staff attach, list and download a dossier's files in scope; the
applicant downloads them with the secret; bad files are refused clearly and leave nothing;
the journal names each file's hash and a tampered row is caught."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from engine.db import session_scope
from engine.files.models import Attachment
from engine.files.settings import MB, FileSettings
from engine.files.store import LocalBlobStore
from engine.lifecycle.consistency import find_inconsistencies
from engine.lifecycle.models import DossierEvent
from engine.users import User
from service.auth import hash_password

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\x00\x01" + b"x" * 3000
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 500


@pytest.fixture
def store(client, tmp_path):
    """A store of its own and small limits (1 MB a file, 2 MB a dossier)."""
    settings = FileSettings(root=tmp_path / "files", max_file_bytes=1 * MB,
                            max_dossier_bytes=2 * MB)
    client.app.state.files = (settings, LocalBlobStore(settings.root))
    return client.app.state.files[1]


@pytest.fixture
def clerk(client):
    return login(client, "clerk")


@pytest.fixture
def dossier(client, clerk, store):
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk)
    assert response.status_code == 201, response.text
    return response.json()


def upload(client, headers, code, data, name="giay-to.pdf", **fields):
    return client.post(f"/api/v1/dossiers/{code}/attachments", headers=headers,
                       files={"file": (name, data, "application/pdf")},
                       data={"kind": "scan", **fields})


def blobs(store: LocalBlobStore) -> list[Path]:
    return [p for p in store.root.rglob("*") if p.is_file() and "incoming" not in p.parts]


def test_clerk_attaches_a_scan_lists_it_and_downloads_the_same_bytes(client, clerk, dossier,
                                                                     store):
    code = dossier["code"]
    response = upload(client, clerk, code, PDF, name="Giấy khai sinh.pdf", component_id="1")
    assert response.status_code == 201, response.text
    added = response.json()["items"][0]
    assert added["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (added["size"], added["media_type"], added["kind"]) == (len(PDF), "application/pdf",
                                                                   "scan")
    assert added["component_id"] == "1" and added["uploaded_by"] == "clerk"
    listing = client.get(f"/api/v1/dossiers/{code}/attachments", headers=clerk).json()
    assert [i["id"] for i in listing["items"]] == [added["id"]]
    assert listing["total_size"] == len(PDF) and listing["can_attach"] is True
    got = client.get(added["url"], headers=clerk)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("inline;")
    assert "filename*=UTF-8''Gi%E1%BA%A5y%20khai%20sinh.pdf" in disposition


def test_the_journal_names_the_hash_and_a_tampered_row_is_caught(client, clerk, dossier, store,
                                                                  db_engine):
    code = dossier["code"]
    added = upload(client, clerk, code, PDF).json()
    with Session(db_engine) as session:
        event = session.exec(select(DossierEvent).where(
            DossierEvent.seq == added["event_seq"])).one()
        assert event.action == "attach" and event.state_before == event.state_after
        assert event.payload["files"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
        assert find_inconsistencies(session, dossier_code=code) == []
    with session_scope(db_engine) as session:
        session.execute(text("UPDATE attachment SET sha256 = :h"), {"h": "0" * 64})
    with Session(db_engine) as session:
        found = find_inconsistencies(session, dossier_code=code)
    assert [f.code for f in found] == [code]
    assert "không được sự kiện" in found[0].reason


def test_staff_of_another_agency_get_404_and_cannot_attach(client, clerk, dossier, store,
                                                           db_engine):
    code = dossier["code"]
    added = upload(client, clerk, code, PDF).json()["items"][0]
    with session_scope(db_engine) as session:
        session.add(User(username="clerk_hb", full_name="clerk_hb", role="clerk",
                         agency_code="000.01.32.H26", password_hash=hash_password(PASSWORD)))
    outsider = login(client, "clerk_hb")
    assert client.get(f"/api/v1/dossiers/{code}/attachments", headers=outsider
                      ).status_code == 404
    assert client.get(added["url"], headers=outsider).status_code == 404
    assert upload(client, outsider, code, PNG).status_code == 404
    # an officer with nothing to do on a dossier still at the counter may not attach
    response = upload(client, login(client, "officer"), code, PNG)
    assert response.status_code == 403
    assert len(blobs(store)) == 1


def test_the_applicant_downloads_with_the_secret_and_a_wrong_secret_is_404(client, clerk,
                                                                            dossier, store):
    code, secret = dossier["code"], dossier["secret"]
    added = upload(client, clerk, code, PNG, name="anh.png").json()["items"][0]
    base = f"/api/v1/public/dossiers/{code}/attachments"
    listing = client.get(base, params={"secret": secret})
    assert listing.status_code == 200 and listing.json()[0]["media_type"] == "image/png"
    got = client.get(f"{base}/{added['id']}", params={"secret": secret})
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    wrong = client.get(f"{base}/{added['id']}", params={"secret": "sai-ma-tra-cuu"})
    assert wrong.status_code == 404 and wrong.json()["type"].endswith("/dossier-not-found")


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"", 422, "file-empty"),
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200, 415, "file-type"),
])
def test_a_bad_file_is_refused_in_vietnamese_and_nothing_is_stored(client, clerk, dossier, store,
                                                                   db_engine, data, status,
                                                                   code):
    response = upload(client, clerk, dossier["code"], data, name="chuong-trinh.pdf")
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"].endswith("/" + code)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(ch in problem["detail"] for ch in "ệạớ")
    assert blobs(store) == []
    with Session(db_engine) as session:
        assert session.exec(select(Attachment)).all() == []


def test_an_oversized_upload_is_stopped_early(client, clerk, dossier, store):
    code = dossier["code"]
    declared = upload(client, clerk, code, PDF + b"x" * (3 * MB))
    assert declared.status_code == 413
    assert declared.json()["type"].endswith("/file-too-large")

    sent = []

    def body():  # chunked: no Content-Length, stopped by the stream's count
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n"
        yield b"Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        for _ in range(200):
            sent.append(1)
            yield b"x" * (64 * 1024)
        yield b"\r\n--b--\r\n"

    chunked = client.post(f"/api/v1/dossiers/{code}/attachments", content=body(),
                          headers={**clerk, "Content-Type": "multipart/form-data; boundary=b"})
    assert chunked.status_code == 413
    assert blobs(store) == []


def test_a_file_just_over_the_per_file_limit_is_refused_by_the_store(client, clerk, dossier,
                                                                      store):
    response = upload(client, clerk, dossier["code"], PDF + b"x" * (MB - len(PDF) + 10))
    assert response.status_code == 413 and response.json()["type"].endswith("/file-too-large")
    assert blobs(store) == []


def test_the_per_dossier_limit_counts_the_files_already_there(client, clerk, dossier, store):
    code = dossier["code"]
    big = b"%PDF-1.7\n" + b"a" * (MB - 100)
    assert upload(client, clerk, code, big).status_code == 201
    assert upload(client, clerk, code, big.replace(b"a", b"b")).status_code == 201
    third = upload(client, clerk, code, big.replace(b"a", b"c"))
    assert third.status_code == 413
    assert third.json()["type"].endswith("/dossier-files-too-large")
    assert len(client.get(f"/api/v1/dossiers/{code}/attachments", headers=clerk
                          ).json()["items"]) == 2


def test_names_lose_their_folders_and_come_out_nfc(client, clerk, dossier, store):
    code = dossier["code"]
    nfd = unicodedata.normalize("NFD", "Đơn đề nghị.pdf")
    first = upload(client, clerk, code, PDF, name="../../etc/passwd").json()["items"][0]
    second = upload(client, clerk, code, PNG, name=nfd).json()["items"][0]
    assert first["file_name"] == "passwd.pdf"
    assert second["file_name"] == "Đơn đề nghị.pdf.png"
    assert unicodedata.is_normalized("NFC", second["file_name"])


def test_an_unknown_component_or_kind_is_422(client, clerk, dossier, store):
    code = dossier["code"]
    assert upload(client, clerk, code, PDF, component_id="99").status_code == 422
    response = upload(client, clerk, code, PDF, kind="virus")
    assert response.status_code == 422
    assert blobs(store) == []


def test_the_officer_of_the_current_step_attaches_the_result(client, clerk, dossier, store):
    code = dossier["code"]
    leader, officer = login(client, "leader"), login(client, "officer")
    for headers, action, body in [(clerk, "transfer", {}),
                                  (leader, "assign", {"payload": {"assignee": "officer"}})]:
        assert client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                           headers=headers).status_code == 200
    response = upload(client, officer, code, PDF, kind="result")
    assert response.status_code == 201, response.text
    detail = client.get(f"/api/v1/dossiers/{code}", headers=officer).json()
    assert "attach" not in detail["allowed_actions"]
    assert detail["state"] == "in_processing"


def test_the_generic_action_route_refuses_attach_without_a_file(client, clerk, dossier):
    """An `attach` event must name a stored file: through /actions/attach it would name none."""
    code = dossier["code"]
    refused = client.post(f"/api/v1/dossiers/{code}/actions/attach", json={}, headers=clerk)
    assert refused.status_code == 422 and "attachments" in refused.json()["detail"]
    listed = client.get(f"/api/v1/dossiers/{code}/attachments", headers=clerk).json()
    assert not (listed["items"] if isinstance(listed, dict) else listed)
