"""The action's result explains its due date (which days were skipped) from the very due date
the clock stored: the API and the counter screen show it instead of computing it again."""

from __future__ import annotations

from datetime import datetime

from engine.calendar.store import load_calendar
from engine.deadline import compute_due
from engine.lifecycle import act, clock_policy_for, receive
from engine.lifecycle.projection import limit_of

from .conftest import APPLICANT, CLERK, COMMUNE_CLERK, COMPONENTS, DEPT, LEADER, OFFICER, at
from .flow import PROC


def _receive(s, when, actor=CLERK):
    result = receive(s, actor=actor, procedure_code=PROC, applicant=APPLICANT,
                     components=COMPONENTS, competent_agency=DEPT, at=at(when))
    s.commit()
    return result


def test_a_receipt_explains_the_due_date_it_stored(world):
    result = _receive(world, "2026-04-29T10:00")  # before 30/4 and 1/5, two days off
    dossier = result.dossier
    explained = result.due_explanation
    assert explained is not None
    calendar = load_calendar(world, agency_code=dossier.competent_agency)
    expected = compute_due(dossier.received_at, limit_of(dossier), calendar,
                           clock_policy_for(world, dossier))
    assert explained == expected.explanation()
    assert expected.due_date == dossier.due_date
    assert {day["date"] for day in explained["skipped"]} >= {"2026-04-30", "2026-05-01"}


def test_a_boundary_free_receipt_explains_its_provisional_appointment(world):
    result = _receive(world, "2025-07-07T16:00", actor=COMMUNE_CLERK)
    assert result.dossier.boundary_free and result.dossier.clock_started_at is None
    explained = result.due_explanation
    assert explained is not None
    # Received at the counter at 16:00 (issue 15: it used to say "Tiếp nhận lúc 11:30 ngày
    # 08/07", the transfer deadline); the clock is told as starting at that deadline, and why.
    assert datetime.fromisoformat(explained["received_at"]) == at("2025-07-07T16:00")
    assert (datetime.fromisoformat(explained["clock_starts_at"])
            == result.dossier.transfer_due_at)
    assert "không phụ thuộc địa giới hành chính" in explained["start_reason"]
    assert explained["text"].startswith("Tiếp nhận lúc 16:00 ngày 07/07/2025.")
    assert "bắt đầu tính từ 11:30 Thứ Ba, 08/07/2025" in explained["text"]
    assert "hạn chuyển hồ sơ: 11:30 ngày 08/07/2025" in explained["text"]


def test_an_accepted_boundary_free_dossier_explains_receipt_and_acceptance(world):
    dossier = _receive(world, "2025-07-07T16:00", actor=COMMUNE_CLERK).dossier
    act(world, code=dossier.code, action="transfer", actor=COMMUNE_CLERK,
        at=at("2025-07-08T09:00"))
    result = act(world, code=dossier.code, action="accept_transfer", actor=OFFICER,
                 at=at("2025-07-09T10:00"))
    explained = result.due_explanation
    assert datetime.fromisoformat(explained["received_at"]) == at("2025-07-07T16:00")
    assert datetime.fromisoformat(explained["clock_starts_at"]) == at("2025-07-09T10:00")
    assert "cơ quan đã xác nhận nhận hồ sơ" in explained["start_reason"]
    assert "Không tính ngày bắt đầu (09/07/2025)" in explained["text"]


def test_a_refusal_at_the_counter_has_no_due_date_to_explain(world):
    from engine.lifecycle import refuse_at_reception

    result = refuse_at_reception(world, actor=CLERK, procedure_code=PROC,
                                 applicant=APPLICANT, reason="Không thuộc thẩm quyền")
    assert result.due_explanation is None


def test_a_later_action_explains_the_current_due_date(world):
    dossier = _receive(world, "2026-03-02T09:00").dossier
    act(world, code=dossier.code, action="transfer", actor=CLERK, at=at("2026-03-02T10:00"))
    result = act(world, code=dossier.code, action="assign", actor=LEADER,
                 at=at("2026-03-02T11:00"), payload={"assignee": "officer1"})
    assert datetime.fromisoformat(result.due_explanation["received_at"]) == dossier.received_at


def test_a_repeated_receipt_answers_the_same_explanation(world):
    kwargs = dict(actor=CLERK, procedure_code=PROC, applicant=APPLICANT, components=COMPONENTS,
                  competent_agency=DEPT, at=at("2026-04-29T10:00"),
                  idempotency_key="0b6f7a52-7c43-4d1e-9a8e-3f2d1c0b9a87")
    first = receive(world, **kwargs)
    world.commit()
    again = receive(world, **kwargs)
    assert again.replayed
    assert again.due_explanation == first.due_explanation


def test_a_repeated_boundary_free_receipt_answers_its_provisional_explanation(world):
    kwargs = dict(actor=COMMUNE_CLERK, procedure_code=PROC, applicant=APPLICANT,
                  components=COMPONENTS, competent_agency=DEPT, at=at("2025-07-07T16:00"),
                  idempotency_key="5a0e9a2c-2b3f-4f1e-8d8c-6a7b5c4d3e2f")
    first = receive(world, **kwargs)
    world.commit()
    again = receive(world, **kwargs)
    assert again.replayed and again.due_explanation == first.due_explanation
