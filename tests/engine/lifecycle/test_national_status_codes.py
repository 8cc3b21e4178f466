"""The national status code (``TrangThaiHoSo``, domain §2.1) after every action, on every
path: the dossier row, its state and the table agree at each step."""

from engine.lifecycle import events_of, receive, refuse_at_reception
from engine.lifecycle.states import State

from .conftest import APPLICANT, CLERK, COMPONENTS, DEPT, LEADER, OFFICER, at
from .flow import PROC, do, receive_ok

DOMAIN_TABLE = {  # domain §2.1
    "submitted": 1, "received": 2, "refused_at_reception": 3, "in_processing": 4,
    "paused": 4, "awaiting_supplement": 5, "awaiting_payment": 6, "withdrawn": 7,
    "stopped": 8, "result_ready": 9, "returned": 10,
}


def test_every_state_maps_to_its_national_code():
    assert {s.value: s.national_code for s in State if s is not State.NEW} == DOMAIN_TABLE
    assert {s.value for s in State if s.is_terminal} == {
        "refused_at_reception", "withdrawn", "stopped", "returned"}


def walk(s, d, steps):
    seen = [(d.state, d.status_code)]
    for action, actor, when, kw in steps:
        do(s, d.code, action, actor, when, **kw)
        assert d.status_code == State(d.state).national_code
        seen.append((d.state, d.status_code))
    return seen


def test_codes_along_the_longest_path(world):
    s = world
    d = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=[COMPONENTS[0]], competent_agency=DEPT, online=True,
                at=at("2025-03-01T20:00")).dossier
    s.commit()
    missing = {"missing": ["Bản sao giấy tờ tùy thân"]}
    seen = walk(s, d, [
        ("request_supplement", CLERK, "2025-03-03T08:00", {"reason": "Thiếu",
                                                           "payload": missing}),
        ("receive_supplement", CLERK, "2025-03-03T09:00",
         {"payload": {"components": [COMPONENTS[1]]}}),
        ("receive", CLERK, "2025-03-03T09:30", {}),
        ("transfer", CLERK, "2025-03-03T10:00", {}),
        ("assign", LEADER, "2025-03-03T11:00", {"payload": {"assignee": "officer1"}}),
        ("pause", OFFICER, "2025-03-04T09:00", {"reason": "Xác minh thực địa"}),
        ("apologise", LEADER, "2025-03-04T10:00", {"reason": "Chậm",
                                                    "payload": {"new_due": "2025-03-25"}}),
        ("resume", OFFICER, "2025-03-05T09:00", {}),
        ("request_payment", OFFICER, "2025-03-05T10:00", {"payload": {"amount_vnd": 1}}),
        ("confirm_payment", CLERK, "2025-03-05T11:00", {}),
        ("request_supplement", OFFICER, "2025-03-05T14:00", {"reason": "Thiếu",
                                                              "payload": missing}),
        ("receive_supplement", CLERK, "2025-03-06T09:00", {}),
        ("consult", OFFICER, "2025-03-06T10:00", {"payload": {"agency": "Sở Tài chính",
                                                              "reply_by": "2025-03-10"}}),
        ("forward", OFFICER, "2025-03-07T09:00", {}),
        ("send_back", LEADER, "2025-03-07T10:00", {"reason": "Bổ sung căn cứ"}),
        ("forward", OFFICER, "2025-03-07T11:00", {}),
        ("finish", LEADER, "2025-03-10T09:00", {}),
        ("return_result", CLERK, "2025-03-10T10:00", {}),
        ("correct_result", LEADER, "2025-03-11T09:00", {"reason": "Sai tên"}),
        ("return_result", CLERK, "2025-03-11T10:00", {}),
    ])
    assert [code for _, code in seen] == [1, 5, 1, 2, 4, 4, 4, 4, 4, 6, 4, 5, 4, 4, 4, 4, 4, 9,
                                          10, 9, 10]
    assert [state for state, _ in seen][6:8] == ["paused", "paused"]
    events = events_of(s, d)
    assert [State(e.state_after).national_code for e in events] == [c for _, c in seen]


def test_codes_of_the_other_endings(world):
    s = world
    refusal = refuse_at_reception(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                                  reason="Sai thẩm quyền", at=at("2025-03-03T08:00")).dossier
    s.commit()
    assert refusal.status_code == 3

    stopped = receive_ok(s, "2025-03-03T09:00")
    assert walk(s, stopped, [("transfer", CLERK, "2025-03-03T10:00", {}),
                             ("refuse", LEADER, "2025-03-04T10:00", {"reason": "Không đạt"})]
                ) == [("received", 2), ("in_processing", 4), ("stopped", 8)]

    withdrawn = receive_ok(s, "2025-03-03T09:00")
    assert walk(s, withdrawn, [("withdraw", CLERK, "2025-03-03T10:00", {})]) == [
        ("received", 2), ("withdrawn", 7)]

    online = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                     components=COMPONENTS, competent_agency=DEPT, online=True,
                     at=at("2025-03-01T20:00")).dossier
    s.commit()
    assert walk(s, online, [("withdraw", CLERK, "2025-03-03T10:00", {})]) == [
        ("submitted", 1), ("withdrawn", 7)]
