"""The applicant is told at each step (issue 16, "citizens told"): receipt (Mẫu 01: code, secret,
appointment, lookup link), supplement request (Mẫu 02 items with guidance), apology (Mẫu 04:
new date, reason, the PDF referenced for the e-mail and linked for the webhook), result ready,
refusal (Mẫu 03 reason) and return — each once per channel, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from engine.lifecycle import Applicant, act, receive
from engine.lifecycle.models import IssuedDocument
from engine.outbox import OutboxMessage
from engine.samples import (
    APPLICANT,
    CENTRE,
    CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE_CODE,
    local,
    seed_world,
)
from engine.timed import events
from engine.timed.recipients import ApplicantChannels
from engine.users import User

EMAIL = "an.nguyen@example.vn"
SMS = "sms:0912345678"
BASE = "https://dichvucong.example.gov.vn"
CITIZEN = Applicant(name=APPLICANT.name, id_number=APPLICANT.id_number, phone="0912 345 678",
                    email=EMAIL)
MISSING = [{"name": "Bản sao giấy tờ tùy thân", "copies": 1, "note": "bản chụp rõ nét"},
           "Đơn đề nghị"]


@pytest.fixture
def world(session) -> Iterator:
    seed_world(session)
    session.add(User(username="clerk3", full_name="clerk3", role="clerk", agency_code=CENTRE,
                     password_hash="-"))
    session.commit()
    engine = session.get_bind()
    events.install(engine, channels=ApplicantChannels(email=True, sms=True, base_url=BASE))
    yield session
    events.uninstall(engine)


def told(session, kind: str) -> list[OutboxMessage]:
    """The applicant's messages of ``kind`` (e-mail and webhook), in order."""
    return list(session.exec(
        select(OutboxMessage).where(OutboxMessage.kind == kind,
                                    OutboxMessage.channel.in_(["email", "webhook"]))
        .order_by(OutboxMessage.id)).all())


def do(session, code: str, action: str, actor, when: str, **kw):
    result = act(session, code=code, action=action, actor=actor, at=local(when), **kw)
    session.commit()
    return result


def receive_citizen(session, when: str = "2025-03-03T09:00", **kw):
    result = receive(session, actor=CLERK, procedure_code=PROCEDURE_CODE, applicant=CITIZEN,
                     components=COMPONENTS, competent_agency=DEPT, at=local(when), **kw)
    session.commit()
    return result.dossier


def one_per_channel(session, kind: str) -> tuple[OutboxMessage, OutboxMessage]:
    rows = told(session, kind)
    assert [(r.channel, r.recipient) for r in rows] == [("email", EMAIL), ("webhook", SMS)]
    return rows[0], rows[1]


def test_the_receipt_gives_code_secret_appointment_and_lookup_link(world):
    dossier = receive_citizen(world)
    email, sms = one_per_channel(world, "received")
    grouped = " ".join(dossier.secret[i:i + 4] for i in range(0, 16, 4))
    assert f"mã hồ sơ {dossier.code}" in email.body
    assert f"Ngày hẹn trả kết quả: {dossier.appointment_date:%d/%m/%Y}." in email.body
    assert f"Mã tra cứu: {grouped}." in email.body
    assert f"{BASE}/tra-cuu?ma={dossier.code}&k={dossier.secret}" in email.body
    assert sms.body == (f"Ho so {dossier.code} da duoc tiep nhan, hen tra ket qua ngay "
                        f"{dossier.appointment_date:%d/%m/%Y}. Ma tra cuu: {grouped}")
    assert len(sms.body) <= 160  # one SMS segment


def test_the_supplement_request_lists_every_item_with_its_guidance(world):
    code = receive_citizen(world).code
    do(world, code, "transfer", CLERK, "2025-03-03T09:30")
    do(world, code, "request_supplement", OFFICER, "2025-03-04T10:00", reason="Thiếu giấy tờ",
       payload={"missing": MISSING})
    email, sms = one_per_channel(world, "supplement_requested")
    assert ("Nội dung cần bổ sung, hoàn thiện (Mẫu 02):\n"
            "1. Bản sao giấy tờ tùy thân (bản sao: 1) — bản chụp rõ nét\n"
            "2. Đơn đề nghị\n") in email.body
    assert "Lý do: Thiếu giấy tờ." in email.body and f"{BASE}/tra-cuu?ma=" in email.body
    assert sms.body.startswith(f"Ho so {code} can bo sung")


def test_the_apology_carries_the_new_date_reason_and_its_form_04(world):
    dossier = receive_citizen(world)
    do(world, dossier.code, "transfer", CLERK, "2025-03-03T09:30")
    do(world, dossier.code, "apologise", LEADER, "2025-03-06T10:00", reason="Cần xác minh thêm",
       payload={"new_due": "2025-03-24"})
    email, sms = one_per_channel(world, "apology_sent")
    form04 = world.exec(select(IssuedDocument).where(IssuedDocument.form == "apology")).one()
    link = (f"{BASE}/api/v1/public/dossiers/{dossier.code}/documents/apology.pdf"
            f"?secret={dossier.secret}")
    assert "Ngày hẹn trả kết quả mới: 24/03/2025." in email.body
    assert "Lý do: Cần xác minh thêm." in email.body and link in email.body
    assert email.payload["attach"] == {"form": "apology", "document_id": form04.id}
    assert "attach" not in sms.payload and sms.payload["document_url"] == link
    assert sms.body == f"Xin loi Ong/Ba: ho so {dossier.code} duoc hen lai ngay tra ket qua " \
                       "24/03/2025."


def test_result_ready_refusal_and_return_by_post_each_tell_once(world):
    code = receive_citizen(world).code
    do(world, code, "transfer", CLERK, "2025-03-03T09:30")
    do(world, code, "finish", OFFICER, "2025-03-05T09:00")
    email, _ = one_per_channel(world, "result_ready")
    assert "đã được giải quyết xong" in email.body
    do(world, code, "return_result", CLERK, "2025-03-06T10:00",
       payload={"method": "post", "tracking_number": "EB123456789VN",
                "recipient_address": "12 Lê Lợi, Hải Phòng"})
    email, sms = one_per_channel(world, "returned")
    assert email.subject == f"Hồ sơ {code} đã trả kết quả"
    assert ("đã được trả qua dịch vụ bưu chính công ích (giao bưu điện lúc 10:00 ngày "
            "06/03/2025, số hiệu bưu gửi EB123456789VN).") in email.body
    assert sms.body.startswith(f"Ho so {code} da tra ket qua")

    other = receive_citizen(world, "2025-03-04T09:00").code
    do(world, other, "transfer", CLERK, "2025-03-04T09:30")
    do(world, other, "refuse", LEADER, "2025-03-05T10:00", reason="Không đủ điều kiện cấp phép")
    email, _ = one_per_channel(world, "refused")
    assert "Lý do: Không đủ điều kiện cấp phép." in email.body


def test_a_return_at_the_counter_says_where(world):
    code = receive_citizen(world).code
    do(world, code, "transfer", CLERK, "2025-03-03T09:30")
    do(world, code, "finish", OFFICER, "2025-03-05T09:00")
    do(world, code, "return_result", CLERK, "2025-03-06T14:30")
    email, _ = one_per_channel(world, "returned")
    assert "đã được trả tại Bộ phận Một cửa lúc 14:30 ngày 06/03/2025." in email.body


def test_a_replayed_apology_or_return_writes_no_second_message(world):
    code = receive_citizen(world).code
    do(world, code, "transfer", CLERK, "2025-03-03T09:30")
    for _ in range(2):
        do(world, code, "apologise", LEADER, "2025-03-06T10:00", reason="Cần xác minh",
           payload={"new_due": "2025-03-24"},
           idempotency_key="6f9b3f9e-0000-4000-8000-000000000001")
    do(world, code, "finish", OFFICER, "2025-03-07T09:00")
    for _ in range(2):
        do(world, code, "return_result", CLERK, "2025-03-10T10:00",
           idempotency_key="6f9b3f9e-0000-4000-8000-000000000002")
    assert len(told(world, "apology_sent")) == 2 and len(told(world, "returned")) == 2


def test_the_public_address_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MOTCUA_PUBLIC_BASE_URL", "https://dvc.haiphong.gov.vn/")
    assert ApplicantChannels.from_env().base_url == "https://dvc.haiphong.gov.vn"
    monkeypatch.delenv("MOTCUA_PUBLIC_BASE_URL")
    assert ApplicantChannels.from_env().base_url == "http://127.0.0.1:8000"
