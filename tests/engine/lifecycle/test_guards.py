"""Who may do what (domain §2.3): the role, the agency (receiving, competent, returning) and
the current step's role and actions; and illegal actions that name the state and what is
allowed instead."""

from datetime import datetime

import pytest

from engine.lifecycle import Actor, act, allowed_actions, receive
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput, NotFound
from engine.procedures import ProcedureSpec, save_version

from .conftest import (
    APPLICANT,
    CENTRE,
    CLERK,
    COMMUNE,
    COMMUNE_CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE,
    at,
)
from .flow import do, in_processing, receive_ok, refused

AUDITOR = Actor("audit1", "auditor", DEPT)
ADMIN = Actor("admin1", "admin", CENTRE)
COMMUNE_OFFICER = Actor("officer2", "officer", COMMUNE)
COMMUNE_LEADER = Actor("leader2", "leader", COMMUNE)


@pytest.mark.parametrize(("action", "actor"), [
    ("transfer", COMMUNE_CLERK), ("stop", COMMUNE_CLERK), ("withdraw", COMMUNE_CLERK),
    ("forward", COMMUNE_OFFICER), ("finish", COMMUNE_OFFICER), ("refuse", COMMUNE_LEADER),
    ("apologise", COMMUNE_LEADER), ("assign", COMMUNE_LEADER),
])
def test_staff_of_another_agency_cannot_act_on_the_dossier(world, action, actor):
    s = world
    d = receive_ok(s, "2025-03-03T09:00")
    if action != "transfer":
        do(s, d.code, "transfer", CLERK, "2025-03-03T09:30")
    exc = refused(s, Forbidden, d.code, action, actor, "2025-03-04T09:00", reason="x",
                  payload={"new_due": "2025-03-20", "assignee": "x"})
    assert d.code in exc.message and exc.details["action"] == action


def test_a_return_by_another_counter_is_forbidden(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "finish", OFFICER, "2025-03-04T09:00")
    refused(s, Forbidden, d.code, "return_result", COMMUNE_CLERK, "2025-03-04T10:00")


@pytest.mark.parametrize("actor", [AUDITOR, ADMIN])
def test_auditors_and_administrators_cannot_act(world, actor):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    for action in ("forward", "finish", "stop", "apologise", "pause", "transfer", "assign"):
        exc = refused(s, Forbidden, d.code, action, actor, "2025-03-04T09:00", reason="x")
        assert exc.details["role"] == actor.role


@pytest.mark.parametrize("actor", [AUDITOR, ADMIN, OFFICER, LEADER])
def test_only_a_counter_clerk_receives(world, actor):
    s = world
    with pytest.raises(Forbidden):
        receive(s, actor=actor, procedure_code="1.000001", applicant=APPLICANT,
                components=COMPONENTS, competent_agency=DEPT, at=at("2025-03-03T09:00"))
    s.rollback()
    assert receive_ok(s, "2025-03-03T09:00").code.endswith("-0001")  # no number spent


@pytest.mark.parametrize("action", ["apologise", "refuse", "assign"])
def test_officers_cannot_take_the_leaders_decisions(world, action):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, Forbidden, d.code, action, OFFICER, "2025-03-04T09:00", reason="x",
                  payload={"new_due": "2025-03-20", "assignee": "officer1"})
    assert exc.details["allowed_roles"] == ["leader"]


def test_the_step_role_is_enforced(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-04T09:00")
    exc = refused(s, Forbidden, d.code, "finish", OFFICER, "2025-03-04T10:00")
    assert exc.details["step"] == "approve"
    assert "lãnh đạo" in exc.message and "leader" not in exc.message  # the role's label


def test_the_step_actions_are_enforced_even_for_the_leader(world):
    s = world
    variant = dict(PROCEDURE, code="1.000002")
    variant["steps"] = [dict(step) for step in PROCEDURE["steps"]]
    variant["steps"][1]["actions"] = ["forward", "request_supplement", "consult"]
    save_version(s, spec=ProcedureSpec.from_dict(variant))
    s.commit()
    d = in_processing(s, "2025-03-03T09:00", procedure_code="1.000002")
    for actor in (OFFICER, LEADER):
        exc = refused(s, Forbidden, d.code, "finish", actor, "2025-03-04T09:00")
        assert exc.details["step"] == "appraise"
        assert exc.details["allowed"] == ["consult", "forward", "request_supplement"]
    refused(s, Forbidden, d.code, "pause", OFFICER, "2025-03-04T09:00",
            reason="Xác minh thực địa")
    do(s, d.code, "forward", OFFICER, "2025-03-04T09:00")
    do(s, d.code, "finish", LEADER, "2025-03-04T10:00")
    assert d.state == "result_ready" and d.flags == []


def test_illegal_action_names_the_state_and_the_allowed_actions(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, IllegalAction, d.code, "return_result", CLERK, "2025-03-04T09:00")
    assert (exc.action, exc.state) == ("return_result", "in_processing")
    assert exc.allowed == ["accept_transfer", "apologise", "assign", "consult", "finish",
                           "forward", "pause", "refuse", "request_payment",
                           "request_supplement", "send_back", "stop", "withdraw"]
    assert exc.permitted == ["stop", "withdraw"]  # what the clerk may do, not the machine


def test_illegal_action_tells_the_person_in_vietnamese_what_they_may_do(world):
    """A clerk once read "…(in_processing); được phép: accept_transfer, apologise…": the
    state's code and every action of every role."""
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    message = str(refused(s, IllegalAction, d.code, "return_result", CLERK, "2025-03-04T09:00"))
    assert message == ("Không thể “Trả kết quả” khi hồ sơ đang ở trạng thái “Đang xử lý”. "
                       "Bạn có thể: “Dừng giải quyết”, “Rút hồ sơ”.")
    officer = str(refused(s, IllegalAction, d.code, "resume", OFFICER, "2025-03-04T09:00"))
    assert "“Tiếp tục tính thời gian”" in officer and "“Tạm dừng tính thời gian”" in officer
    assert "“Dừng giải quyết”" not in officer  # the counter's, not the officer's
    for code in ("in_processing", "resume", "pause", "return_result", "withdraw", "_"):
        assert code not in message + officer


def test_allowed_actions_filtered_for_an_actor(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    assert allowed_actions(s, d, CLERK) == ["stop", "withdraw"]
    assert allowed_actions(s, d, COMMUNE_CLERK) == []
    assert allowed_actions(s, d, AUDITOR) == []
    # accept_transfer is only offered for boundary-free dossiers (it cannot succeed otherwise).
    assert allowed_actions(s, d, OFFICER) == [
        "consult", "finish", "forward", "pause", "request_payment", "request_supplement"]
    assert "apologise" in allowed_actions(s, d, LEADER)
    assert "refuse" in allowed_actions(s, d, LEADER)


def test_unknown_dossier_and_unknown_action(world):
    s = world
    with pytest.raises(NotFound):
        act(s, code="000.00.00.H31-250303-9999", action="transfer", actor=CLERK,
            at=at("2025-03-03T09:00"))
    s.rollback()
    d = receive_ok(s, "2025-03-03T09:00")
    exc = refused(s, InvalidInput, d.code, "approve_everything", CLERK, "2025-03-03T10:00")
    assert exc.details["field"] == "action"


def test_naive_times_are_refused(world):
    s = world
    d = receive_ok(s, "2025-03-03T09:00")
    with pytest.raises(InvalidInput):
        act(s, code=d.code, action="transfer", actor=CLERK, at=datetime(2025, 3, 3, 10, 0))
    s.rollback()
