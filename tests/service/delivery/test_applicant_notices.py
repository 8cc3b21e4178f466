"""The applicant's notices over the real service and real local receivers (an SMTP sink, a
signed-webhook fake), on both databases: the apology's e-mail carries Form 04 as a valid PDF
naming the new date, its webhook is signed and links the applicant's copy, which the public
route serves by secret; the delivery status is kept per message and recipient and is listed
for administrators."""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from engine.lifecycle.models import Dossier
from engine.outbox import OutboxMessage
from service.delivery import Couriers
from service.delivery.worker import deliver_due
from tests.service.conftest import login
from tests.service.delivery.test_deliver_due import settings

EXAMPLE = json.loads((Path(__file__).parents[3] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
EMAIL = "mai.nguyen@example.vn"


@pytest.fixture
def applicant_channels(monkeypatch):
    """SMS on (through the webhook) and a public address, before the app reads them."""
    monkeypatch.setenv("MOTCUA_NOTIFY_APPLICANT_SMS", "true")
    monkeypatch.setenv("MOTCUA_PUBLIC_BASE_URL", "https://dvc.example.gov.vn")


@pytest.fixture
def app(applicant_channels, client):
    """The service (``client``) created with :func:`applicant_channels`."""
    return client


def act(client, code: str, action: str, who: str, **body) -> dict:
    response = client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                           headers=login(client, who))
    assert response.status_code == 200, (action, response.text)
    return response.json()


def apologised(client) -> tuple[str, date]:
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "email": EMAIL}}
    created = client.post("/api/v1/dossiers", json=body, headers=login(client, "clerk"))
    assert created.status_code in (200, 201), created.text
    code = created.json()["code"]
    act(client, code, "transfer", "clerk")
    act(client, code, "assign", "leader", payload={"assignee": "officer"})
    with Session(client.app.state.engine) as s:
        due = s.exec(select(Dossier.appointment_date).where(Dossier.code == code)).one()
    new_due = due + timedelta(days=14)
    act(client, code, "apologise", "leader", reason="Cần xác minh thêm tại địa phương",
        payload={"new_due": new_due.isoformat()})
    return code, new_due


def deliver(client, smtp_sink, webhook_fake):
    config = settings(smtp_sink, webhook_fake)
    couriers = Couriers(config)
    try:
        return deliver_due(client.app.state.engine, worker="t", settings=config,
                           couriers=couriers)
    finally:
        couriers.close()


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "form04.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_apology_email_carries_form_04_and_the_webhook_links_it_signed(
        app, smtp_sink, webhook_fake, tmp_path):
    code, new_due = apologised(app)
    report = deliver(app, smtp_sink, webhook_fake)
    assert report.dead == 0 and report.retrying == 0, report.errors
    mails = {mail["X-MotCua-Kind"]: mail for _, to, mail in smtp_sink.received if to == [EMAIL]}
    assert set(mails) == {"received", "apology_sent"}
    apology = mails["apology_sent"]
    [attached] = list(apology.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == f"apology-{code}.pdf"
    pdf = attached.get_content()
    assert pdf.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf, tmp_path).split())  # lines joined: a date may wrap
    assert f"vào ngày {new_due:%d} tháng {new_due:%m} năm {new_due:%Y}" in text  # the new date
    assert "Lý do: Cần xác minh thêm tại địa phương." in text
    assert f"Ngày hẹn trả kết quả mới: {new_due:%d/%m/%Y}." in apology.get_body().get_content()
    assert list(mails["received"].iter_attachments()) == []  # only the apology carries a form

    assert webhook_fake.bad_signatures == []  # every request signed as the docs say
    hooks = {b["kind"]: b for b in webhook_fake.bodies.values()}
    assert set(hooks) == {"received", "apology_sent"}
    assert hooks["apology_sent"]["target"] == "sms:0912345678"
    link = urlsplit(hooks["apology_sent"]["payload"]["document_url"])
    assert (link.scheme, link.netloc) == ("https", "dvc.example.gov.vn")
    assert link.path == f"/api/v1/public/dossiers/{code}/documents/apology.pdf"
    served = app.get(f"{link.path}?{link.query}")
    assert served.status_code == 200 and served.content.startswith(b"%PDF")
    assert served.headers["content-type"] == "application/pdf"


def test_the_applicants_document_needs_the_secret_and_only_serves_issued_forms(app):
    code, _ = apologised(app)
    wrong = app.get(f"/api/v1/public/dossiers/{code}/documents/apology.pdf"
                    "?secret=AAAABBBBCCCCDDDD")
    assert wrong.status_code == 404 and wrong.json()["type"].endswith("dossier-not-found")
    with Session(app.app.state.engine) as s:
        secret = s.exec(select(Dossier.secret).where(Dossier.code == code)).one()
    assert app.get(f"/api/v1/public/dossiers/{code}/documents/control.pdf?secret={secret}"
                   ).status_code == 422  # the office's control sheet is not the applicant's
    missing = app.get(f"/api/v1/public/dossiers/{code}/documents/refusal.pdf?secret={secret}")
    assert missing.status_code == 404 and missing.json()["type"].endswith("document-not-issued")


def test_delivery_status_is_kept_per_message_and_recipient(app, smtp_sink, webhook_fake):
    code, _ = apologised(app)
    smtp_sink.refuse.add(EMAIL)  # the mail server refuses the address: dead at once
    deliver(app, smtp_sink, webhook_fake)
    with Session(app.app.state.engine) as s:
        rows = s.exec(select(OutboxMessage).where(OutboxMessage.dossier_code == code,
                                                  OutboxMessage.channel != "in_app")
                      .order_by(OutboxMessage.id)).all()
    assert [(r.kind, r.channel, r.state) for r in rows] == [
        ("received", "email", "dead"), ("received", "webhook", "delivered"),
        ("apology_sent", "email", "dead"), ("apology_sent", "webhook", "delivered")]
    admin = login(app, "admin")
    delivered = app.get("/api/v1/admin/deliveries?state=delivered", headers=admin).json()
    assert {(d["kind"], d["recipient"]) for d in delivered["items"]
            if d["dossier"] == code and d["channel"] == "webhook"} \
        == {("received", "sms:0912***678"), ("apology_sent", "sms:0912***678")}
    dead = app.get("/api/v1/admin/deliveries?state=dead", headers=admin).json()
    assert {d["kind"] for d in dead["items"] if d["dossier"] == code} == {
        "received", "apology_sent"}
    assert all("550" in d["last_error"] for d in dead["items"])
