"""Lifecycle events write their messages to the outbox in the action's own transaction: to the
applicant (e-mail, SMS through the webhook) and, for a result ready, to the returning counter's
clerks; rolled back with the action, never written twice, and only on an installed engine."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from engine.lifecycle import Applicant, act, after_effects, receive
from engine.lifecycle.states import Action
from engine.outbox import DeliveryState, OutboxMessage
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
    received,
    seed_world,
)
from engine.timed import events
from engine.timed.recipients import ApplicantChannels
from engine.users import User

EMAIL = "an.nguyen@example.vn"
CITIZEN = Applicant(name=APPLICANT.name, id_number=APPLICANT.id_number, phone="0912 345 678",
                    email=EMAIL)
BOTH = ApplicantChannels(email=True, sms=True)


def staff(username: str, role: str, agency: str, active: bool = True) -> User:
    return User(username=username, full_name=username, role=role, agency_code=agency,
                password_hash="-", active=active)


@pytest.fixture
def world(session) -> Iterator:
    seed_world(session)
    session.add_all([staff("clerk1", "clerk", CENTRE), staff("clerk3", "clerk", CENTRE),
                      staff("clerk9", "clerk", CENTRE, active=False),
                      staff("officer1", "officer", DEPT), staff("leader1", "leader", DEPT)])
    session.commit()
    engine = session.get_bind()
    events.install(engine, channels=BOTH)
    yield session
    events.uninstall(engine)


def messages(session, **where) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    for name, value in where.items():
        query = query.where(getattr(OutboxMessage, name) == value)
    return list(session.exec(query).all())


def receive_citizen(session, when: str = "2025-03-03T09:00", **kw):
    result = receive(session, actor=CLERK, procedure_code=PROCEDURE_CODE, applicant=CITIZEN,
                     components=COMPONENTS, competent_agency=DEPT, at=local(when), **kw)
    session.commit()
    return result


def do(session, code: str, action: str, actor, when: str, **kw):
    result = act(session, code=code, action=action, actor=actor, at=local(when), **kw)
    session.commit()
    return result


def test_a_receipt_tells_the_applicant_by_email_and_sms_with_the_appointment(world):
    dossier = receive_citizen(world).dossier
    rows = messages(world, dossier_code=dossier.code)
    assert [(r.kind, r.channel, r.recipient, r.rung) for r in rows] == [
        ("received", "email", EMAIL, "event-1"),
        ("received", "webhook", "sms:0912345678", "event-1")]
    email, sms = rows
    assert email.subject == f"Hồ sơ {dossier.code} đã được tiếp nhận"
    assert "Kính gửi: Nguyễn Văn An," in email.body
    assert f"Ngày hẹn trả kết quả: {dossier.appointment_date:%d/%m/%Y}." in email.body
    assert "«Cấp giấy phép thử nghiệm»" in email.body and "09:00 ngày 03/03/2025" in email.body
    # the applicant's own address gets the lookup secret and link (an online applicant has no
    # paper receipt; docs/notifications.md)
    assert f"k={dossier.secret}" in email.body and "Ma tra cuu: " in sms.body
    assert sms.body.startswith(f"Ho so {dossier.code} da duoc tiep nhan")
    assert all(r.state == DeliveryState.PENDING and r.next_attempt_at == local(
        "2025-03-03T09:00") for r in rows)


def test_an_engine_not_installed_writes_no_message(world):
    events.uninstall(world.get_bind())
    receive_citizen(world)
    assert messages(world) == []


def test_the_environment_chooses_the_applicants_channels(world, monkeypatch):
    monkeypatch.setenv("MOTCUA_NOTIFY_APPLICANT_EMAIL", "false")
    monkeypatch.setenv("MOTCUA_NOTIFY_APPLICANT_SMS", "true")
    events.install(world.get_bind())
    receive_citizen(world)
    assert [r.channel for r in messages(world)] == ["webhook"]


def test_the_messages_roll_back_with_the_action(world):
    def broken(ctx, event):
        raise RuntimeError("a later after-effect fails")

    after_effects.register(broken, actions=[Action.RECEIVE])
    try:
        with pytest.raises(RuntimeError):
            receive_citizen(world)
        world.rollback()
    finally:
        after_effects.unregister(broken)
    assert messages(world) == []
    receive_citizen(world)
    assert len(messages(world)) == 2


def test_a_replayed_request_writes_no_message_again(world):
    key = "0b7e7a0e-3c51-4d7e-9b55-0a4f7c2f9a10"
    first = receive_citizen(world, idempotency_key=key)
    again = receive_citizen(world, idempotency_key=key)
    assert again.replayed and again.dossier.code == first.dossier.code
    assert len(messages(world)) == 2


def test_a_result_ready_tells_the_applicant_and_the_returning_counters_active_clerks(world):
    code = receive_citizen(world).dossier.code
    do(world, code, "transfer", CLERK, "2025-03-03T10:00")
    do(world, code, "forward", OFFICER, "2025-03-04T10:00")
    do(world, code, "finish", LEADER, "2025-03-05T10:00")
    rows = messages(world, kind="result_ready")
    assert [(r.channel, r.recipient) for r in rows] == [
        ("email", EMAIL), ("webhook", "sms:0912345678"),
        ("in_app", "clerk1"), ("in_app", "clerk3")]
    clerk = rows[2]
    assert clerk.subject == f"Hồ sơ {code} đã có kết quả, chờ trả"
    assert clerk.payload["link"] == f"/ho-so/{code}"
    assert "Hình thức nhận kết quả: Trực tiếp" in rows[0].body


def test_the_actor_is_not_told_of_their_own_action(world):
    world.add(staff("clerk4", "clerk", CENTRE))
    world.commit()
    dossier = received(world, at=local("2025-03-03T09:00"), applicant=CITIZEN)
    world.commit()
    do(world, dossier.code, "transfer", CLERK, "2025-03-03T10:00")
    do(world, dossier.code, "forward", OFFICER, "2025-03-04T10:00")
    clerk_leader = type(LEADER)("clerk4", "leader", DEPT, "x")  # a leader named like a clerk
    do(world, dossier.code, "finish", clerk_leader, "2025-03-05T10:00")
    assert "clerk4" not in {r.recipient for r in messages(world, kind="result_ready")}


def test_supplement_apology_and_refusal_say_what_the_forms_say(world):
    code = receive_citizen(world, "2025-03-05T09:00").dossier.code
    do(world, code, "transfer", CLERK, "2025-03-05T09:30")
    do(world, code, "request_supplement", OFFICER, "2025-03-05T10:00", reason="Bản sao bị mờ",
       payload={"missing": ["Bản sao giấy tờ tùy thân (bản rõ nét)", "Đơn đề nghị"]})
    [email] = messages(world, kind="supplement_requested", channel="email")
    assert "Lý do: Bản sao bị mờ." in email.body
    assert ("Nội dung cần bổ sung, hoàn thiện (Mẫu 02):\n1. Bản sao giấy tờ tùy thân (bản rõ "
            "nét)\n2. Đơn đề nghị\n" in email.body)
    do(world, code, "receive_supplement", CLERK, "2025-03-06T09:00")
    do(world, code, "apologise", LEADER, "2025-03-10T10:00", reason="Cần xác minh thêm",
       payload={"new_due": "2025-03-24"})
    [email] = messages(world, kind="apology_sent", channel="email")
    assert "Ngày hẹn trả kết quả mới: 24/03/2025." in email.body
    assert email.body.startswith("Kính gửi: Nguyễn Văn An,\nSở Thử nghiệm xin lỗi Ông/Bà")
    counter = messages(world, kind="apology_sent", channel="in_app")
    assert [r.recipient for r in counter] == ["clerk1", "clerk3"]  # the one-stop unit is told
    assert counter[0].subject == f"Hồ sơ {code}: hẹn lại ngày trả kết quả 24/03/2025"
    do(world, code, "refuse", LEADER, "2025-03-11T10:00", reason="Không đủ điều kiện")
    [email] = messages(world, kind="refused", channel="email")
    assert email.subject == f"Hồ sơ {code} không được giải quyết"
    assert "Lý do: Không đủ điều kiện." in email.body
    rungs = [r.rung for r in messages(world, dossier_code=code, channel="email")]
    assert rungs == ["event-1", "event-3", "event-5", "event-6"]


def test_a_second_supplement_request_is_a_second_message(world):
    code = receive_citizen(world, "2025-03-05T09:00").dossier.code
    do(world, code, "transfer", CLERK, "2025-03-05T09:30")
    for day in ("05", "07"):
        do(world, code, "request_supplement", OFFICER, f"2025-03-{day}T10:00", reason="Thiếu",
           payload={"missing": ["Đơn đề nghị"]})
        do(world, code, "receive_supplement", CLERK, f"2025-03-{day}T15:00")
    assert len(messages(world, kind="supplement_requested", channel="email")) == 2


def test_a_refusal_at_the_counter_says_not_received(world):
    from engine.lifecycle import refuse_at_reception

    result = refuse_at_reception(world, actor=CLERK, procedure_code=PROCEDURE_CODE,
                                 applicant=CITIZEN, reason="Không thuộc thẩm quyền",
                                 at=local("2025-03-03T09:00"))
    world.commit()
    email = messages(world, channel="email")[0]
    assert email.kind == "refused" and email.subject.endswith("không được tiếp nhận")
    assert ("Trung tâm Phục vụ hành chính công thành phố Hải Phòng từ chối tiếp nhận hồ sơ"
            in email.body)
    assert email.dossier_code == result.dossier.code


def test_actions_that_announce_nothing_write_nothing(world):
    code = receive_citizen(world).dossier.code
    before = len(messages(world))
    do(world, code, "transfer", CLERK, "2025-03-03T10:00")
    do(world, code, "assign", LEADER, "2025-03-03T11:00", payload={"assignee": "officer1"})
    assert len(messages(world)) == before


def test_an_applicant_without_address_gets_nothing_and_the_action_still_works(world):
    dossier = received(world, at=local("2025-03-03T09:00"),
                       applicant=Applicant(name="Trần Thị Bình"))
    world.commit()
    assert messages(world, dossier_code=dossier.code) == []
