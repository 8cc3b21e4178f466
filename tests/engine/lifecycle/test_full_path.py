"""The main path: receive → transfer → appraise → approve → result → return."""

from engine.lifecycle import act, audit, events_of, receive, steps_of
from engine.lifecycle.states import State

from .conftest import APPLICANT, CLERK, COMPONENTS, DEPT, LEADER, OFFICER, at


def test_dossier_goes_from_counter_to_return_with_a_verified_chain(world):
    s = world
    r = receive(s, actor=CLERK, procedure_code="1.000001", applicant=APPLICANT,
                components=COMPONENTS, competent_agency=DEPT, at=at("2025-01-24T16:10"))
    d = r.dossier
    assert d.state == State.RECEIVED and d.status_code == 2
    assert d.code.endswith("-250124-0001")
    assert str(d.due_date) == "2025-02-07"  # 5 wd after 24/01/2025: 03–07/02 (2019 version)
    assert [doc.form for doc in r.documents] == ["receipt"]
    act(s, code=d.code, action="transfer", actor=CLERK, at=at("2025-01-24T16:30"))
    act(s, code=d.code, action="forward", actor=OFFICER, at=at("2025-02-04T10:00"))
    act(s, code=d.code, action="finish", actor=LEADER, at=at("2025-02-05T10:00"))
    r = act(s, code=d.code, action="return_result", actor=CLERK, at=at("2025-02-06T09:00"),
            payload={"collected_by": "Nguyễn Văn An"})
    s.commit()
    assert r.dossier.state == State.RETURNED and r.dossier.status_code == 10
    assert r.dossier.end_kind == "result_ready"
    steps = steps_of(s, d)
    assert [x.step_id for x in steps] == ["receive", "appraise", "approve", "return"]
    assert all(x.finished_at for x in steps)
    assert [e.seq for e in events_of(s, d)] == [1, 2, 3, 4, 5]
    assert audit.verify(s) == (1, [])
