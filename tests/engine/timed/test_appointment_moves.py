"""A new day off moves open dossiers' appointments (issue 15): each move is recorded on the
dossier (``engine.lifecycle.moves``) and told to the applicant and the returning counter
through the outbox, in the re-projection's transaction; re-running the re-projection records
and tells nothing twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import select

from engine.calendar import DayEntry, DayKind
from engine.calendar.store import delete_day, save_day
from engine.lifecycle import Applicant, act, moves_of, receive, reproject_open_dossiers
from engine.lifecycle.moves import AppointmentMove
from engine.outbox import OutboxMessage
from engine.samples import (
    APPLICANT,
    CENTRE,
    CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    PROCEDURE_CODE,
    local,
    seed_world,
)
from engine.timed import events
from engine.timed.recipients import ApplicantChannels
from engine.users import User

EMAIL = "an.nguyen@example.vn"
CITIZEN = Applicant(name=APPLICANT.name, id_number=APPLICANT.id_number, phone="0912345678",
                    email=EMAIL)


@pytest.fixture
def world(session) -> Iterator:
    seed_world(session)
    session.add_all([User(username=name, full_name=name, role="clerk", agency_code=CENTRE,
                          password_hash="-") for name in ("clerk1", "clerk3")])
    session.commit()
    yield session
    events.uninstall(session.get_bind())


def open_dossier(s):
    """Received Monday 03/03/2025 (5 working days): due Monday 10/03/2025."""
    d = receive(s, actor=CLERK, procedure_code=PROCEDURE_CODE, applicant=CITIZEN,
                components=COMPONENTS, competent_agency=DEPT, at=local("2025-03-03T09:00")).dossier
    s.commit()
    act(s, code=d.code, action="transfer", actor=CLERK, at=local("2025-03-03T09:05"))
    s.commit()
    assert d.appointment_date == date(2025, 3, 10)
    return d


def day_off(s):
    save_day(s, entry=DayEntry(date(2025, 3, 7), DayKind.LOCAL_OFF, "Mất điện toàn khu"),
             agency_code=DEPT)
    s.flush()


def outbox(s, code):
    return [(m.kind, m.channel, m.recipient, m.rung) for m in s.exec(
        select(OutboxMessage).where(OutboxMessage.dossier_code == code)
        .where(OutboxMessage.kind == "appointment_moved").order_by(OutboxMessage.id)).all()]


def test_a_moved_appointment_is_recorded_on_the_dossier_once(world):
    s = world
    d = open_dossier(s)
    day_off(s)
    moved = reproject_open_dossiers(s, agency_code=DEPT, reason="ngày nghỉ 07/03/2025")
    s.commit()
    assert [m["new_appointment"] for m in moved] == ["2025-03-11"]
    [move] = moves_of(s, d)
    assert (move.old_appointment, move.new_appointment) == (date(2025, 3, 10), date(2025, 3, 11))
    assert (move.old_due, move.new_due) == (date(2025, 3, 10), date(2025, 3, 11))
    assert move.reason == "ngày nghỉ 07/03/2025" and move.dossier_version == d.version
    # a re-run finds the same dates: no second move
    assert reproject_open_dossiers(s, agency_code=DEPT) == []
    s.commit()
    assert len(s.exec(select(AppointmentMove)).all()) == 1


def test_the_applicant_and_the_returning_counter_are_told_once_per_move(world):
    s = world
    events.install(s.get_bind(), channels=ApplicantChannels(email=True, sms=True))
    d = open_dossier(s)
    day_off(s)
    reproject_open_dossiers(s, agency_code=DEPT)
    s.commit()
    rung = f"move-{d.version}"
    assert outbox(s, d.code) == [
        ("appointment_moved", "email", EMAIL, rung),
        ("appointment_moved", "webhook", "sms:0912345678", rung),
        ("appointment_moved", "in_app", "clerk1", rung),
        ("appointment_moved", "in_app", "clerk3", rung)]
    email = s.exec(select(OutboxMessage).where(OutboxMessage.channel == "email",
                                               OutboxMessage.kind == "appointment_moved")).one()
    assert "thay đổi từ 10/03/2025 sang 11/03/2025" in email.body
    assert "Kính gửi: Nguyễn Văn An," in email.body
    reproject_open_dossiers(s, agency_code=DEPT)  # re-run: nothing new
    s.commit()
    assert len(outbox(s, d.code)) == 4
    # the day off is withdrawn: the appointment moves back, a new move and new messages
    delete_day(s, day=date(2025, 3, 7), agency_code=DEPT)
    s.flush()
    reproject_open_dossiers(s, agency_code=DEPT)
    s.commit()
    assert [m.new_appointment for m in moves_of(s, d)] == [date(2025, 3, 11), date(2025, 3, 10)]
    assert len(outbox(s, d.code)) == 8


def test_a_move_of_the_legal_date_alone_is_recorded_but_tells_nobody(world):
    s = world
    events.install(s.get_bind(), channels=ApplicantChannels(email=True, sms=True))
    d = open_dossier(s)
    act(s, code=d.code, action="apologise", actor=LEADER,
        at=local("2025-03-05T10:00"), reason="Chờ ý kiến", payload={"new_due": "2025-03-20"})
    s.commit()
    day_off(s)
    reproject_open_dossiers(s, agency_code=DEPT)
    s.commit()
    [move] = moves_of(s, d)
    assert move.old_appointment == move.new_appointment == date(2025, 3, 20)
    assert move.new_due == date(2025, 3, 11)
    assert outbox(s, d.code) == []
