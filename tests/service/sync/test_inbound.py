"""Dossiers submitted on the national portal come into the clerk's review queue
(``POST /api/v1/sync/inbound``, issue 17): signed, one dossier per portal id however often it
is sent, its files checked by content and named in the journal, and every bad payload refused
clearly with nothing stored."""

from __future__ import annotations

import base64
import json
import time
import unicodedata

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from engine.files.models import Attachment
from engine.files.settings import file_settings
from engine.files.store import LocalBlobStore
from engine.lifecycle.models import Dossier, DossierEvent
from service.delivery.webhook import signature
from tests.service.conftest import login

SECRET = "khoá-cổng-thử-nghiệm"
PATH = "/api/v1/sync/inbound"
PDF = b"%PDF-1.4\n" + b"x" * 2000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
EXE = b"MZ\x90\x00" + b"\x00" * 2000


@pytest.fixture
def inbound(client, tmp_path, monkeypatch):
    """The client, with the portal's secret set and a fresh file store."""
    monkeypatch.setenv("MOTCUA_PORTAL_SECRET", SECRET)
    monkeypatch.setenv("MOTCUA_FILES_DIR", str(tmp_path / "files"))
    settings = file_settings()
    client.app.state.files = (settings, LocalBlobStore(settings.root))
    return client


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def dossier(**changes) -> dict:
    """A dossier as the portal sends it: the required component and the optional third."""
    body = {
        "MaHoSo": "G22.99.31-250601-0007", "MaTTHC": "1.004873",
        "DonViXuLy": "000.00.31.H26", "ChuHoSo": "Trần Văn Bình",
        "SoDinhDanh": "031095004321", "SoDienThoai": "0912345678",
        "Email": "binh@example.vn", "DiaChi": "Thôn Đông, xã Vĩnh Bảo",
        "TaiLieuNop": [
            {"MaThanhPhanHoSo": "1", "TenTepDinhKem": "to-khai.pdf", "NoiDungBase64": b64(PDF)},
            {"MaThanhPhanHoSo": "3", "TenTepDinhKem": "uy-quyen.png", "NoiDungBase64": b64(PNG)},
        ]}
    body.update(changes)
    return body


def send(client, body: dict | bytes, *, secret: str = SECRET, at: float | None = None,
         signed: str | None = None, headers: dict | None = None):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(time.time() if at is None else at))
    return client.post(PATH, content=raw, headers={
        "Content-Type": "application/json", "X-MotCua-Timestamp": stamp,
        "X-MotCua-Signature": signed or signature(secret, stamp, raw), **(headers or {})})


def stored(client) -> tuple[int, int]:
    with Session(client.app.state.engine) as session:
        return (session.exec(select(func.count()).select_from(Dossier)).one(),
                session.exec(select(func.count()).select_from(Attachment)).one())


def test_a_signed_portal_dossier_waits_in_the_clerks_queue_with_its_files_in_the_journal(
        inbound):
    response = send(inbound, dossier())
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["created"] and answer["portal_id"] == "G22.99.31-250601-0007"
    assert (answer["state"], answer["status_code"]) == ("submitted", 1)
    assert answer["receiving_agency"] == "000.01.31.H26"
    assert [f["component_id"] for f in answer["files"]] == ["1", "3"]
    with Session(inbound.app.state.engine) as session:
        row = session.exec(select(Dossier)).one()
        assert (row.channel, row.portal_id, row.code) == ("online", answer["portal_id"],
                                                          answer["code"])
        assert row.received_at is None and row.clock_started_at is None
        event = session.exec(select(DossierEvent)
                             .where(DossierEvent.dossier_id == row.id)).one()
        named = sorted(f["sha256"] for f in event.payload["files"])
        rows = session.exec(select(Attachment)).all()
    assert named == sorted(r.sha256 for r in rows) == sorted(f["sha256"] for f in answer["files"])
    assert all(r.uploaded_by == "applicant" and r.event_seq == event.seq for r in rows)
    queue = inbound.get("/api/v1/dossiers", params={"state": "submitted"},
                       headers=login(inbound, "clerk")).json()
    assert [item["code"] for item in queue["items"]] == [answer["code"]]


def test_the_same_dossier_sent_again_creates_nothing_and_answers_the_first_dossier(inbound):
    first = send(inbound, dossier()).json()
    # the same content in NFD and another key order is the same dossier
    nfd = json.loads(unicodedata.normalize("NFD", json.dumps(dossier(), ensure_ascii=False)))
    for body in (dossier(), dict(reversed(list(nfd.items())))):
        again = send(inbound, body)
        assert again.status_code == 200, again.text
        assert again.json() == {**first, "created": False}
    assert stored(inbound) == (1, 2)


def test_the_same_portal_id_with_another_content_is_a_conflict(inbound):
    first = send(inbound, dossier()).json()
    response = send(inbound, dossier(ChuHoSo="Trần Văn Bính"))
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("portal-id-conflict") and problem["code"] == first["code"]
    assert "nội dung khác" in problem["detail"]
    assert stored(inbound) == (1, 2)


def test_nfd_text_is_stored_nfc(inbound):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    body = dossier(ChuHoSo=nfd("Nguyễn Thị Hường"), DiaChi=nfd("Xã Vĩnh Bảo"))
    body["TaiLieuNop"][0]["TenTepDinhKem"] = nfd("Tờ khai.pdf")
    response = send(inbound, body)
    assert response.status_code == 201, response.text
    assert response.json()["files"][0]["file_name"] == "Tờ khai.pdf"
    with Session(inbound.app.state.engine) as session:
        row = session.exec(select(Dossier)).one()
    assert row.applicant_name == "Nguyễn Thị Hường" and row.applicant_address == "Xã Vĩnh Bảo"
    assert unicodedata.is_normalized("NFC", row.applicant_name)


def _files(*documents) -> dict:
    return {"TaiLieuNop": list(documents)}


@pytest.mark.parametrize(("changes", "status", "kind", "words"), [
    ({"MaTTHC": "9.999999"}, 422, "procedure-not-found", "không có trong danh mục"),
    ({"MaTTHC": "khai sinh"}, 422, "validation", "Mã thủ tục hành chính"),
    (_files({"MaThanhPhanHoSo": "1", "TenTepDinhKem": "a.pdf", "NoiDungBase64": "%%không%%"}),
     422, "bad-base64", "base64"),
    (_files({"MaThanhPhanHoSo": "1", "TenTepDinhKem": "a.pdf", "NoiDungBase64": b64(EXE)}),
     415, "file-type", "không phải PDF"),
    (_files({"MaThanhPhanHoSo": "1", "TenTepDinhKem": "a.pdf", "NoiDungBase64": ""}),
     422, "file-empty", "rỗng"),
    (_files({"MaThanhPhanHoSo": "3", "TenTepDinhKem": "a.png", "NoiDungBase64": b64(PNG)}),
     422, "components-missing", "Tờ khai"),
    (_files({"MaThanhPhanHoSo": "9", "TenTepDinhKem": "a.pdf", "NoiDungBase64": b64(PDF)}),
     422, "component-unknown", "số 9"),
    ({"ChuHoSo": None, "SoDinhDanh": "123"}, 422, "validation", "trường dữ liệu"),
    ({"SoDienThoai": None, "Email": None}, 422, "validation", "trường dữ liệu"),
    ({"SoDinhDanh": "999095004321"}, 422, "validation", "mã quốc gia"),
    ({"DonViXuLy": "999.99.99.H99"}, 422, "agency-unknown", "Đơn vị xử lý"),
])
def test_a_bad_payload_is_refused_clearly_and_nothing_is_stored(inbound, changes, status, kind,
                                                                words):
    response = send(inbound, dossier(**changes))
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("/" + kind)
    text = problem["detail"] + json.dumps(problem.get("errors", []), ensure_ascii=False)
    assert words in text, problem
    assert stored(inbound) == (0, 0)


def test_missing_fields_are_named_in_vietnamese(inbound):
    body = dossier()
    del body["ChuHoSo"]
    body["TaiLieuNop"][0].pop("NoiDungBase64")
    errors = send(inbound, body).json()["errors"]
    messages = {e["field"]: e["message"] for e in errors}
    assert messages["ChuHoSo"] == "Họ và tên chủ hồ sơ: bắt buộc phải có."
    assert "NoiDungBase64" in messages["TaiLieuNop.0"]
    assert stored(inbound) == (0, 0)


@pytest.mark.parametrize(("how", "kind"), [
    ("wrong secret", "bad-signature"), ("body changed", "bad-signature"),
    ("stale", "stale-timestamp"), ("future", "stale-timestamp"), ("unsigned", "signature-missing"),
])
def test_an_unsigned_or_stale_request_is_refused_and_nothing_is_stored(inbound, how, kind):
    raw = json.dumps(dossier()).encode()
    if how == "wrong secret":
        response = send(inbound, raw, secret="khoá-khác")
    elif how == "body changed":
        stamp = str(int(time.time()))
        response = send(inbound, raw.replace(b"0912345678", b"0912345679"),
                        signed=signature(SECRET, stamp, raw))
    elif how in ("stale", "future"):
        # an hour off, not 301 s: on a busy machine a second or two passes before the check
        response = send(inbound, raw, at=time.time() + (-3600 if how == "stale" else 3600))
    else:
        response = inbound.post(PATH, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 401, response.text
    assert response.json()["type"].endswith("/" + kind) and response.json()["detail"]
    assert stored(inbound) == (0, 0)


def test_without_a_configured_secret_the_route_is_closed(inbound, monkeypatch):
    monkeypatch.delenv("MOTCUA_PORTAL_SECRET")
    response = send(inbound, dossier())
    assert response.status_code == 503
    assert "Chưa cấu hình" in response.json()["detail"]
    assert stored(inbound) == (0, 0)


def test_a_body_past_the_route_cap_is_refused_declared_or_chunked(inbound, monkeypatch):
    monkeypatch.setenv("MOTCUA_SYNC_INBOUND_MAX_MB", "0.01")  # 10 KB
    big = dossier(TrichYeuHoSo="x" * 200)
    big["TaiLieuNop"][0]["NoiDungBase64"] = b64(b"%PDF-1.4\n" + b"x" * 12_000)
    response = send(inbound, big)
    assert response.status_code == 413
    assert response.json()["type"].endswith("/body-too-large")
    assert "MOTCUA_SYNC_INBOUND_MAX_MB" in response.json()["detail"]
    raw = json.dumps(big).encode()
    stamp = str(int(time.time()))
    chunked = inbound.post(PATH, content=iter([raw[:5000], raw[5000:]]), headers={
        "X-MotCua-Timestamp": stamp, "X-MotCua-Signature": signature(SECRET, stamp, raw)})
    assert chunked.status_code == 413 and chunked.json()["type"].endswith("/body-too-large")
    assert stored(inbound) == (0, 0)


def test_a_body_larger_than_the_global_cap_but_under_the_routes_is_taken(inbound):
    """1.5 MB of base64 would be refused by MOTCUA_MAX_BODY_BYTES (1 MiB) anywhere else."""
    body = dossier()
    body["TaiLieuNop"][0]["NoiDungBase64"] = b64(b"%PDF-1.4\n" + b"\x00" * 1_500_000)
    response = send(inbound, body)
    assert response.status_code == 201, response.text
    assert response.json()["files"][0]["size"] == 1_500_009


def test_an_attachment_past_the_file_limit_is_refused(inbound, monkeypatch):
    monkeypatch.setenv("MOTCUA_FILE_MAX_MB", "0.001")  # 1 KB
    settings = file_settings()
    inbound.app.state.files = (settings, LocalBlobStore(settings.root))
    response = send(inbound, dossier())
    assert response.status_code == 413
    problem = response.json()
    assert problem["type"].endswith("/file-too-large") and problem["errors"][0]["field"] == \
        "TaiLieuNop.0"
    assert stored(inbound) == (0, 0)


def test_two_deliveries_racing_past_the_repeat_check_make_one_dossier(inbound):
    """The second transaction meets the unique portal id, is rolled back and answers like a
    repeat (what two portal workers sending the same dossier at once would do)."""
    from service.api import sync

    app = inbound.app
    body = sync.PortalDossierIn.model_validate(dossier())
    checked = sync._check(app.state.engine, body, sync.digest(body))
    files = sync._store_all(body.TaiLieuNop, *app.state.files, sync.InboundSettings.from_env())
    first = sync._create(app, checked, files, None)
    second = sync._create(app, checked, files, None)
    assert first.created and not second.created and second.code == first.code
    assert stored(inbound) == (1, 2)
