"""Every transition of the state table (``engine.lifecycle.machine.RULES``, each action from
each of its source states) taken on a real dossier, on SQLite and PostgreSQL: the record the
lifecycle produces for it — built from the dossier as it stands after the action and the
action's event, as the outbox's after-effect builds it — is valid against the national schema
and carries the national status of the state reached. The table of cases must cover the rule
table exactly, so a new rule without a case fails here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from engine.lifecycle import act, events_of, get_dossier, receive, refuse_at_reception
from engine.lifecycle.machine import RULES
from engine.lifecycle.states import State
from engine.samples import (
    APPLICANT,
    CLERK,
    COMMUNE_CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE_CODE,
    local,
    received,
    seed_world,
)
from engine.sync.record import facts_of, national_record, validate

MISSING = {"missing": ["Bản sao giấy tờ tùy thân"]}
NEW_DUE = {"new_due": "2025-03-25"}
FILE = {"files": [{"sha256": "a" * 64, "size": 1024, "media_type": "application/pdf",
                   "file_name": "bien-ban.pdf"}]}


@pytest.fixture
def world(session):
    seed_world(session)
    session.commit()
    return session


@dataclass
class Walk:
    """One dossier's life, action by action, each committed alone (as the API does), with the
    record of every event checked as it is written."""

    s: Any
    at: datetime = field(default_factory=lambda: local("2025-03-03T09:00"))
    code: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)

    def _check(self, dossier) -> dict[str, Any]:
        event = events_of(self.s, dossier)[-1]
        record = validate(national_record(facts_of(dossier, event)))
        assert record["TrangThaiHoSo"] == State(event.state_after).national_code
        assert (record["MaHoSo"], record["SoThuTuSuKien"]) == (dossier.code, event.seq)
        self.records.append(record)
        return record

    def start(self, how: str) -> Walk:
        s = self.s
        if how == "counter":
            d = received(s, at=self.at)
        elif how == "online":
            self.at = local("2025-03-01T20:00")
            d = receive(s, actor=CLERK, procedure_code=PROCEDURE_CODE, applicant=APPLICANT,
                        components=COMPONENTS, competent_agency=DEPT, online=True,
                        at=self.at).dossier
        elif how == "boundary_free":  # a commune centre receives for a department
            self.at = local("2025-07-07T10:00")
            d = received(s, at=self.at, actor=COMMUNE_CLERK, competent_agency=DEPT)
        elif how == "postal":
            d = received(s, at=self.at, channel="postal", postal_delivered_on="2025-02-28",
                         return_method="post")
        elif how == "refused":
            d = refuse_at_reception(s, actor=CLERK, procedure_code=PROCEDURE_CODE,
                                    applicant=APPLICANT, reason="Sai thẩm quyền",
                                    at=self.at).dossier
        else:
            raise AssertionError(how)
        s.commit()
        self.code = d.code
        self._check(d)
        return self

    def do(self, action: str, actor=CLERK, *, reason: str | None = None,
           payload: dict[str, Any] | None = None) -> dict[str, Any]:
        self.at += timedelta(minutes=10)
        result = act(self.s, code=self.code, action=action, actor=actor, at=self.at,
                     reason=reason, payload=payload or {})
        self.s.commit()
        return self._check(result.dossier)


# ----- the ways to reach each source state ---------------------------------------------------

def in_processing(w: Walk) -> None:
    w.start("counter").do("transfer")


def at_approval(w: Walk) -> None:
    in_processing(w)
    w.do("forward", OFFICER)


PATHS = {
    State.NEW: lambda w: None,
    State.SUBMITTED: lambda w: w.start("online"),
    State.RECEIVED: lambda w: w.start("counter"),
    State.IN_PROCESSING: in_processing,
    State.PAUSED: lambda w: (in_processing(w),
                             w.do("pause", OFFICER, reason="Xác minh thực địa")),
    State.AWAITING_SUPPLEMENT: lambda w: (in_processing(w),
                                          w.do("request_supplement", OFFICER,
                                               reason="Thiếu giấy tờ", payload=MISSING)),
    State.AWAITING_PAYMENT: lambda w: (in_processing(w),
                                       w.do("request_payment", OFFICER,
                                            payload={"amount_vnd": 50000})),
    State.RESULT_READY: lambda w: (in_processing(w), w.do("finish", OFFICER)),
    State.RETURNED: lambda w: (in_processing(w), w.do("finish", OFFICER),
                               w.do("return_result")),
}


def pre_receipt_wait(w: Walk) -> None:
    w.start("online").do("request_supplement", reason="Thiếu giấy tờ", payload=MISSING)


def boundary_free_transferred(w: Walk) -> None:
    w.start("boundary_free").do("transfer", COMMUNE_CLERK)


def returned_by_post(w: Walk) -> None:
    w.start("postal").do("transfer")
    w.do("finish", OFFICER)
    w.do("return_result", payload={"tracking_number": "EB123456789VN"})


@dataclass(frozen=True)
class Case:
    """One transition: the action, its source state, how to get there, who acts and how."""

    action: str
    source: State
    actor: Any = CLERK
    reason: str | None = None
    payload: dict[str, Any] | None = None
    path: Any = None  # default: PATHS[source]


CASES = [
    Case("submit", State.NEW, path=lambda w: None),
    Case("receive", State.NEW), Case("receive", State.SUBMITTED),
    Case("refuse_at_reception", State.NEW), Case("refuse_at_reception", State.SUBMITTED,
                                                 reason="Không thuộc thẩm quyền"),
    Case("transfer", State.RECEIVED),
    Case("accept_transfer", State.IN_PROCESSING, OFFICER, path=boundary_free_transferred),
    Case("assign", State.IN_PROCESSING, LEADER, payload={"assignee": "officer1"}),
    Case("forward", State.IN_PROCESSING, OFFICER),
    Case("send_back", State.IN_PROCESSING, LEADER, reason="Bổ sung căn cứ", path=at_approval),
    Case("consult", State.IN_PROCESSING, OFFICER,
         payload={"agency": "Sở Tài chính", "reply_by": "2025-03-10"}),
    Case("request_supplement", State.SUBMITTED, reason="Thiếu giấy tờ", payload=MISSING),
    Case("request_supplement", State.IN_PROCESSING, OFFICER, reason="Thiếu giấy tờ",
         payload=MISSING),
    Case("receive_supplement", State.AWAITING_SUPPLEMENT, path=pre_receipt_wait,
         payload={"components": [COMPONENTS[1]]}),
    Case("receive_supplement", State.AWAITING_SUPPLEMENT),
    Case("request_payment", State.IN_PROCESSING, OFFICER, payload={"amount_vnd": 50000}),
    Case("confirm_payment", State.AWAITING_PAYMENT),
    Case("pause", State.IN_PROCESSING, OFFICER, reason="Xác minh thực địa"),
    Case("resume", State.PAUSED, OFFICER),
    *[Case("apologise", source, LEADER, reason="Chờ ý kiến phối hợp", payload=NEW_DUE)
      for source in (State.IN_PROCESSING, State.PAUSED, State.AWAITING_PAYMENT)],
    Case("refuse", State.IN_PROCESSING, LEADER, reason="Không đủ điều kiện"),
    *[Case("stop", source, reason="Công dân đề nghị dừng")
      for source in (State.RECEIVED, State.IN_PROCESSING, State.PAUSED,
                     State.AWAITING_SUPPLEMENT, State.AWAITING_PAYMENT)],
    *[Case("withdraw", source)
      for source in (State.SUBMITTED, State.RECEIVED, State.IN_PROCESSING, State.PAUSED,
                     State.AWAITING_SUPPLEMENT, State.AWAITING_PAYMENT)],
    Case("finish", State.IN_PROCESSING, OFFICER),
    Case("return_result", State.RESULT_READY),
    Case("correct_result", State.RETURNED, LEADER, reason="Sai tên"),
    Case("record_postal_delivery", State.RETURNED, path=returned_by_post,
         payload={"delivered_on": "2025-03-03"}),
    *[Case("attach", source, actor, payload=FILE)
      for source, actor in ((State.SUBMITTED, CLERK), (State.RECEIVED, CLERK),
                            (State.IN_PROCESSING, OFFICER), (State.PAUSED, OFFICER),
                            (State.AWAITING_SUPPLEMENT, CLERK),
                            (State.AWAITING_PAYMENT, OFFICER), (State.RESULT_READY, CLERK))],
]


def _id(case: Case) -> str:
    suffix = "-pre-receipt" if case.path is pre_receipt_wait else ""
    return f"{case.action}-from-{case.source.value}{suffix}"


def test_the_cases_cover_every_transition_of_the_state_table():
    table = {(r.action.value, s) for r in RULES for s in r.sources}
    covered = {(c.action, c.source) for c in CASES}
    assert covered == table
    # the two receive_supplement rules (before and after receipt) are both walked
    assert sum(c.action == "receive_supplement" for c in CASES) == 2


def _take(w: Walk, case: Case) -> dict[str, Any]:
    """The case's action, from the state its path reached (the first three start a dossier)."""
    if case.source is State.NEW:
        how = {"submit": "online", "receive": "counter", "refuse_at_reception": "refused"}
        w.start(how[case.action])
        return w.records[-1]
    return w.do(case.action, case.actor, reason=case.reason, payload=case.payload)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_every_transition_produces_a_record_valid_against_the_schema(world, case):
    w = Walk(world)
    (case.path or PATHS[case.source])(w)
    before = len(w.records)
    record = _take(w, case)
    assert len(w.records) == before + 1
    event = events_of(world, get_dossier(world, w.code))[-1]
    assert (event.action, event.state_before) == (case.action, case.source.value) or \
        case.source is State.NEW
    assert record["MaSuKien"] == case.action
    assert record["TrangThaiHoSo"] == State(event.state_after).national_code
    assert record["ThoiDiemXuLy"] == w.at.strftime("%Y%m%d%H%M%S")
    # each record of the dossier has its own event number: the idempotency keys differ
    assert [r["SoThuTuSuKien"] for r in w.records] == list(range(1, len(w.records) + 1))
