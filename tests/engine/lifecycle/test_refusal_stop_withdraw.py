"""Ends other than a result (domain §2.2 #14, #16; T10, T11): refusal after appraisal (8,
Form 03), stop at the applicant's request (8, Form 05 only under the 2025 form set) and
withdrawal (7). They end the clock and nothing can happen afterwards."""

from datetime import date

import pytest

from engine.lifecycle import documents_of, steps_of
from engine.lifecycle.errors import Forbidden, IllegalAction, InvalidInput
from engine.lifecycle.states import State

from .conftest import CLERK, COMMUNE_CLERK, LEADER, OFFICER, at
from .flow import clock_kinds, do, forms, in_processing, receive_ok, refused

ACTORS = {"receive": CLERK, "transfer": CLERK, "forward": OFFICER, "finish": LEADER,
          "stop": CLERK, "withdraw": CLERK, "return_result": CLERK, "refuse": LEADER,
          "apologise": LEADER, "receive_supplement": CLERK, "correct_result": LEADER}


def test_refusal_after_appraisal_stops_the_dossier_with_form_03(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "forward", OFFICER, "2025-03-04T09:00")
    r = do(s, d.code, "refuse", LEADER, "2025-03-05T10:00",
           reason="Không đủ điều kiện theo Điều 5")
    assert (d.state, d.status_code, d.end_kind) == ("stopped", 8, "refused")
    assert d.ended_at == at("2025-03-05T10:00")
    assert d.current_step is None
    [doc] = r.documents
    assert (doc.form, doc.form_set, doc.number, doc.issued_by) == (
        "refusal", "2018", "01/TCHS", LEADER.id)
    assert doc.payload == {"reason": "Không đủ điều kiện theo Điều 5", "at_reception": False}
    assert clock_kinds(s, d) == ["received", "refused"]
    assert all(row.finished_at is not None for row in steps_of(s, d))
    assert steps_of(s, d)[-1].outcome == "refuse"


def test_refusal_needs_the_leader_and_a_reason(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    exc = refused(s, Forbidden, d.code, "refuse", OFFICER, "2025-03-05T10:00", reason="x")
    assert exc.details["allowed_roles"] == ["leader"]
    exc = refused(s, InvalidInput, d.code, "refuse", LEADER, "2025-03-05T10:00")
    assert exc.details["field"] == "reason"


@pytest.mark.parametrize(("received", "stop_notice"), [
    ("2025-09-12T09:00", False),  # received under the 2018 form set: no Form 05 existed
    ("2025-09-15T09:00", True),
])
def test_stop_issues_form_05_only_for_dossiers_received_from_15_september_2025(
        world, received, stop_notice):
    s = world
    d = in_processing(s, received)
    r = do(s, d.code, "stop", CLERK, "2025-09-16T10:00", reason="Công dân đề nghị dừng")
    assert (d.state, d.status_code, d.end_kind) == ("stopped", 8, "stopped")
    assert d.ended_at == at("2025-09-16T10:00")
    assert forms(r) == (["stop_notice"] if stop_notice else [])
    if stop_notice:
        doc = r.documents[0]
        assert (doc.form_set, doc.number) == ("2025", "01/TBDG")
        assert doc.payload == {"reason": "Công dân đề nghị dừng"}
    assert "stop_notice" not in forms(documents_of(s, d))[:-1]


def into(s, d, state):
    """Bring an in-processing dossier into ``state``."""
    if state == "paused":
        do(s, d.code, "pause", OFFICER, "2025-03-04T09:00", reason="Xác minh thực địa")
    elif state == "awaiting_supplement":
        do(s, d.code, "request_supplement", OFFICER, "2025-03-04T09:00", reason="Thiếu",
           payload={"missing": ["Đơn đề nghị"]})
    elif state == "awaiting_payment":
        do(s, d.code, "request_payment", OFFICER, "2025-03-04T09:00",
           payload={"amount_vnd": 100000})
    assert d.state == state


ACTIVE = ["received", "in_processing", "paused", "awaiting_supplement", "awaiting_payment"]


@pytest.mark.parametrize("state", ACTIVE)
@pytest.mark.parametrize(("action", "end", "code"), [("stop", "stopped", 8),
                                                     ("withdraw", "withdrawn", 7)])
def test_stop_and_withdrawal_end_every_active_dossier(world, state, action, end, code):
    s = world
    if state == "received":
        d = receive_ok(s, "2025-03-03T09:00")
    else:
        d = in_processing(s, "2025-03-03T09:00")
        into(s, d, state)
    do(s, d.code, action, CLERK, "2025-03-05T10:00", reason="Theo đề nghị của công dân")
    assert (d.state, d.status_code, d.end_kind) == (end, code, end)
    assert d.ended_at == at("2025-03-05T10:00")
    assert d.current_step is None
    assert all(row.finished_at is not None for row in steps_of(s, d))
    assert clock_kinds(s, d)[-1] == end


def test_stop_while_paused_counts_the_pause_up_to_the_stop(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "pause", OFFICER, "2025-03-05T09:00", reason="Xác minh thực địa")
    do(s, d.code, "stop", CLERK, "2025-03-07T09:00")
    assert d.due_date == date(2025, 3, 12)  # 06 and 07 paused


@pytest.mark.parametrize("final", ["stopped", "withdrawn", "refused"])
def test_nothing_is_allowed_after_the_end(world, final):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    if final == "refused":
        do(s, d.code, "refuse", LEADER, "2025-03-04T09:00", reason="Không đủ điều kiện")
    else:
        do(s, d.code, {"stopped": "stop", "withdrawn": "withdraw"}[final], CLERK,
           "2025-03-04T09:00")
    state = "withdrawn" if final == "withdrawn" else "stopped"
    for action in ("stop", "withdraw", "transfer", "finish", "return_result", "apologise",
                   "refuse", "receive_supplement", "correct_result"):
        exc = refused(s, IllegalAction, d.code, action, ACTORS[action], "2025-03-05T09:00",
                      reason="x", payload={"new_due": "2025-03-20"})
        assert (exc.state, exc.allowed) == (state, [])
        assert exc.permitted == []
        assert str(exc).endswith("Lúc này bạn không có thao tác nào trên hồ sơ này.")
        assert f"“{State(state).label_vi}”" in str(exc) and state not in str(exc)


def test_a_dossier_with_a_result_can_no_longer_be_stopped(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    do(s, d.code, "finish", OFFICER, "2025-03-04T09:00")
    exc = refused(s, IllegalAction, d.code, "stop", CLERK, "2025-03-04T10:00")
    assert (exc.state, exc.allowed) == ("result_ready", ["return_result"])


def test_stop_and_withdrawal_are_for_the_counter_of_the_dossier(world):
    s = world
    d = in_processing(s, "2025-03-03T09:00")
    for action in ("stop", "withdraw"):
        refused(s, Forbidden, d.code, action, OFFICER, "2025-03-04T09:00")
        refused(s, Forbidden, d.code, action, COMMUNE_CLERK, "2025-03-04T09:00")
