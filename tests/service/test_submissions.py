"""Online submission (issue 16): a citizen submits with files, proof of work and rate limits
keep abuse costly, every refusal stores nothing, and the clerk's review (accept, supplement
before receipt, refuse) starts the clock only at acceptance (T15)."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from engine.files.models import Attachment
from engine.files.settings import file_settings
from engine.files.store import LocalBlobStore
from engine.lifecycle.models import Dossier
from engine.outbox import OutboxMessage
from engine.timed import events as timed_events
from engine.timed.recipients import ApplicantChannels
from service import pow as hashcash
from service.streaming import files_config

from .conftest import login

PROCEDURE = "1.004873"
PDF = b"%PDF-1.4\n" + b"x" * 2000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 500
EXE = b"MZ\x90\x00" + b"\x00" * 2000


@pytest.fixture
def online(client, tmp_path, monkeypatch):
    """The client, with an easy proof of work, a fresh file store and the applicant told."""
    monkeypatch.setenv("MOTCUA_POW_BITS", "6")
    monkeypatch.setenv("MOTCUA_FILES_DIR", str(tmp_path / "files"))
    settings = file_settings()
    client.app.state.files = (settings, LocalBlobStore(settings.root))
    timed_events.install(client.app.state.engine, channels=ApplicantChannels(email=True))
    return client


def proof(client) -> dict[str, str]:
    issued = client.get("/api/v1/public/submissions/challenge").json()
    return {"X-PoW-Challenge": issued["challenge"],
            "X-PoW-Nonce": hashcash.solve(issued["challenge"], issued["bits"])}


def body(**applicant) -> dict:
    return {"procedure": PROCEDURE,
            "applicant": {"name": "Trần Văn Bình", "id_number": "031095004321",
                          "phone": "0912345678", "email": "binh@example.vn", **applicant},
            "return_method": "counter", "competent_agency": "000.00.31.H26"}


def submit(client, files=None, data=None, headers=None):
    files = files if files is not None else {"file-1": ("to-khai.pdf", PDF, "application/pdf"),
                                             "file-3": ("uy-quyen.png", PNG, "image/png")}
    return client.post("/api/v1/public/submissions",
                       data={"submission": json.dumps(data or body())},
                       files=files, headers=headers if headers is not None else proof(client))


def stored(client) -> tuple[int, int]:
    with Session(client.app.state.engine) as session:
        return (session.exec(select(func.count()).select_from(Dossier)).one(),
                session.exec(select(func.count()).select_from(Attachment)).one())


def on_disk(client) -> list:
    """Every file under the store's folder, staging area included (the parser writes each
    upload there as it arrives: a refused request must leave none)."""
    return [p for p in files_config(client.app)[1].root.rglob("*") if p.is_file()]


def test_a_submission_with_two_files_is_submitted_with_code_secret_and_a_message(online):
    response = submit(online)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["status_code"] == 1 and answer["status"] == "Mới đăng ký"
    assert answer["secret"] and answer["code"].startswith("000.01.31.H26-")
    assert [f["component_id"] for f in answer["files"]] == ["1", "3"]
    with Session(online.app.state.engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.code == answer["code"])).one()
        assert dossier.state == "submitted" and dossier.channel == "online"
        assert dossier.received_at is None and dossier.clock_started_at is None
        rows = session.exec(select(Attachment).where(Attachment.dossier_id == dossier.id)).all()
        assert sorted(r.sha256 for r in rows) == sorted(f["sha256"] for f in answer["files"])
        assert all(r.uploaded_by == "applicant" and r.event_seq == 1 for r in rows)
        message = session.exec(select(OutboxMessage)
                               .where(OutboxMessage.dossier_code == dossier.code)).one()
    assert message.recipient == "binh@example.vn" and answer["secret"] in message.body
    assert answer["notified"] == ["email"]
    lookup = online.get(f"/api/v1/public/dossiers/{answer['code']}",
                        params={"secret": answer["secret"]})
    assert lookup.json()["status_code"] == 1


@pytest.mark.parametrize(("files", "status", "kind"), [
    ({"file-1": ("rong.pdf", b"", "application/pdf")}, 422, "file-empty"),
    ({"file-1": ("to-khai.pdf", EXE, "application/pdf")}, 415, "file-type"),
    ({"file-9": ("to-khai.pdf", PDF, "application/pdf")}, 422, "component-unknown"),
    ({"file-3": ("uy-quyen.pdf", PDF, "application/pdf")}, 422, "components-missing"),
])
def test_a_bad_file_is_refused_clearly_and_nothing_is_stored(online, files, status, kind):
    response = submit(online, files=files)
    assert response.status_code == status, response.text
    assert response.json()["type"].endswith(kind) and response.json()["detail"]
    assert stored(online) == (0, 0)
    assert on_disk(online) == []


def test_a_path_in_the_file_name_and_nfd_names_are_cleaned(online):
    nfd = unicodedata.normalize("NFD", "Tờ khai Nguyễn.pdf")
    data = body(name=unicodedata.normalize("NFD", "Trần Văn Bình"))
    response = submit(online, files={"file-1": ("../../etc/" + nfd, PDF, "application/pdf")},
                      data=data)
    assert response.status_code == 201, response.text
    assert response.json()["files"][0]["file_name"] == "Tờ khai Nguyễn.pdf"
    with Session(online.app.state.engine) as session:
        dossier = session.exec(select(Dossier)).one()
        assert dossier.applicant_name == unicodedata.normalize("NFC", "Trần Văn Bình")


def test_a_bad_cccd_or_no_contact_is_refused_before_anything_is_stored(online):
    response = submit(online, data=body(id_number="12345"))
    assert response.status_code == 422
    response = submit(online, data=body(phone=None, email=None))
    assert response.status_code == 422
    assert stored(online) == (0, 0)
    assert on_disk(online) == []


def test_without_or_with_a_reused_proof_of_work_nothing_is_stored(online):
    assert submit(online, headers={}).json()["type"].endswith("pow-missing")
    headers = proof(online)
    assert submit(online, headers=headers).status_code == 201
    again = submit(online, headers=headers)
    assert again.status_code == 400 and again.json()["type"].endswith("pow-reused")
    forged = dict(headers, **{"X-PoW-Nonce": "1"})
    assert submit(online, headers=forged).status_code == 400
    assert stored(online) == (1, 2)


def test_the_proof_of_work_expires(online):
    headers = proof(online)
    real = online.app.state.clock
    online.app.state.clock = lambda: real() + timedelta(hours=1)
    response = submit(online, headers=headers)
    assert response.status_code == 400 and response.json()["type"].endswith("pow-expired")


def test_submissions_are_limited_per_phone(online, monkeypatch):
    monkeypatch.setattr(online.app.state.limits.submit_contact, "limit", 2)
    assert [submit(online).status_code for _ in range(2)] == [201, 201]
    response = submit(online)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert stored(online) == (2, 4)


def test_a_200_mb_upload_is_stopped_while_streaming_and_stores_nothing(online):
    """200 MB simulated by a body generator: the request is refused after the per-file limit
    (20 MB by default), without reading the rest and without holding it in memory."""
    app = online.app
    boundary = "xyzBOUNDARY"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"submission\"\r\n\r\n"
            f"{json.dumps(body())}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"file-1\"; filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            ).encode()
    chunk = b"0" * (1024 * 1024)
    sent = 0
    total = 200

    async def run():
        nonlocal sent
        messages = [{"type": "http.request", "body": head + b"%PDF-1.4\n", "more_body": True}]

        async def receive():
            nonlocal sent
            if messages:
                return messages.pop(0)
            sent += 1
            return {"type": "http.request", "body": chunk, "more_body": sent < total}

        answer = {}

        async def send(message):
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["body"] = answer.get("body", b"") + message.get("body", b"")

        headers = [(b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                   *[(k.lower().encode(), v.encode()) for k, v in proof(online).items()]]
        scope = {"type": "http", "http_version": "1.1", "method": "POST", "scheme": "http",
                 "path": "/api/v1/public/submissions", "raw_path": b"/api/v1/public/submissions",
                 "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1234),
                 "server": ("testserver", 80), "root_path": "", "app": app}
        await app(scope, receive, send)
        return answer

    # a thread of its own: a browser test earlier in this worker may leave an event loop
    # running in the main thread (Playwright's sync API), where asyncio.run() refuses to start
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(asyncio.run, run()).result()
    assert answer["status"] == 413, answer
    assert "file-too-large" in answer["body"].decode()
    assert sent <= 22  # stopped at the 20 MB limit, not after 200 MB
    assert stored(online) == (0, 0)


def test_the_clerk_accepts_and_the_clock_starts_then_not_at_submission(online):
    answer = submit(online).json()
    clerk = login(online, "clerk")
    queue = online.get("/api/v1/dossiers", params={"state": "submitted"}, headers=clerk).json()
    assert [d["code"] for d in queue["items"]] == [answer["code"]]
    files = online.get(f"/api/v1/dossiers/{answer['code']}/attachments", headers=clerk)
    assert files.status_code == 200 and len(files.json()["items"]) == 2
    done = online.post(f"/api/v1/dossiers/{answer['code']}/actions/receive", json={},
                       headers=clerk)
    assert done.status_code == 200, done.text
    with Session(online.app.state.engine) as session:
        dossier = session.exec(select(Dossier)).one()
        assert dossier.state == "received" and dossier.received_at is not None
        assert dossier.clock_started_at == dossier.received_at > dossier.submitted_at
    assert "receipt" in [d["form"] for d in done.json()["documents_issued"]]


def test_supplement_before_receipt_then_upload_with_the_secret_then_accept(online):
    answer = submit(online, files={"file-1": ("mo.pdf", PDF, "application/pdf")}).json()
    code, secret = answer["code"], answer["secret"]
    clerk = login(online, "clerk")
    asked = online.post(f"/api/v1/dossiers/{code}/actions/request_supplement", headers=clerk,
                        json={"reason": "Tờ khai bị mờ",
                              "payload": {"missing": [{"name": "Tờ khai chụp rõ nét"}]}})
    assert asked.status_code == 200, asked.text
    view = online.get(f"/api/v1/public/dossiers/{code}", params={"secret": secret}).json()
    assert view["status_code"] == 5 and view["supplement"]["missing"] == ["Tờ khai chụp rõ nét"]

    url = f"/api/v1/public/dossiers/{code}/supplements"
    files = {"file-1": ("to-khai-ro.pdf", PDF + b"2", "application/pdf")}
    wrong = online.post(url, files=files, headers={"X-Dossier-Secret": "sai-ma"})
    assert wrong.status_code == 404
    upload = online.post(url, files=files, headers={"X-Dossier-Secret": secret})
    assert upload.status_code == 201, upload.text
    assert upload.json()["status_code"] == 1
    with Session(online.app.state.engine) as session:
        dossier = session.exec(select(Dossier)).one()
        assert dossier.clock_started_at is None and dossier.received_at is None  # T15
        kinds = sorted(r.kind for r in session.exec(select(Attachment)).all())
    assert kinds == ["component", "supplement"]
    again = online.post(url, files=files, headers={"X-Dossier-Secret": secret})
    assert again.status_code == 409
    done = online.post(f"/api/v1/dossiers/{code}/actions/receive", json={}, headers=clerk)
    assert done.status_code == 200, done.text
    with Session(online.app.state.engine) as session:
        dossier = session.exec(select(Dossier)).one()
        assert dossier.state == "received" and dossier.clock_started_at == dossier.received_at
    audit = online.get(f"/api/v1/dossiers/{code}", headers=clerk).json()
    assert [e["action"] for e in audit["events"]] == [
        "submit", "request_supplement", "receive_supplement", "receive"]


def test_the_clerk_refuses_an_online_dossier_with_form_03(online):
    code = submit(online).json()["code"]
    clerk = login(online, "clerk")
    done = online.post(f"/api/v1/dossiers/{code}/actions/refuse_at_reception", headers=clerk,
                       json={"reason": "Không thuộc thẩm quyền"})
    assert done.status_code == 200, done.text
    assert done.json()["status_code"] == 3
    assert "refusal" in [d["form"] for d in done.json()["documents_issued"]]


def test_the_public_catalogue_search_is_accent_insensitive_and_lists_agencies(online):
    hits = online.get("/api/v1/public/procedures", params={"q": "xac nhan tinh trang hon nhan"})
    assert hits.json()[0]["code"] == PROCEDURE
    detail = online.get(f"/api/v1/public/procedures/{PROCEDURE}").json()
    assert detail["components"][0]["id"] == "1" and detail["agencies"]
    assert detail["max_file_mb"] == 20


def test_the_submission_limits_are_settings(monkeypatch):
    """[I] numbers: a province whose kiosks share one address raises the per-address limit."""
    from service.ratelimit import submit_limits

    assert submit_limits({}) == (20, 5)
    assert submit_limits({"MOTCUA_SUBMIT_PER_ADDRESS_HOUR": "500",
                          "MOTCUA_SUBMIT_PER_CONTACT_DAY": "8"}) == (500, 8)
    with pytest.raises(ValueError, match="MOTCUA_SUBMIT_PER_ADDRESS_HOUR"):
        submit_limits({"MOTCUA_SUBMIT_PER_ADDRESS_HOUR": "0"})


def test_a_file_refused_while_streaming_names_its_field_for_the_page(online):
    """The page shows the error next to the file that caused it: the refusal raised while
    the form is still arriving (wrong type, too large) names that file's field."""
    response = submit(online, files={"file-1": ("to-khai.pdf", PDF, "application/pdf"),
                                     "file-3": ("uy-quyen.pdf", EXE, "application/pdf")})
    assert response.status_code == 415, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["file-3"]
    assert stored(online) == (0, 0)


def test_the_review_queue_says_when_each_dossier_was_submitted(online):
    answer = submit(online).json()
    queue = online.get("/api/v1/dossiers", params={"state": "submitted"},
                       headers=login(online, "clerk")).json()["items"]
    [item] = [d for d in queue if d["code"] == answer["code"]]
    assert item["submitted_at"] and item["submitted_at"].endswith("+07:00")
    assert item["received_at"] is None
