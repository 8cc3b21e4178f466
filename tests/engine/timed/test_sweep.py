"""Sweeps over real dossiers (made through the lifecycle) at chosen instants, on SQLite and
PostgreSQL: each warning reaches the outbox once and only once — a repeat sweep, a sweep by
another process, a crash half-way write nothing twice and lose nothing — a calendar edit
re-projects the due date and the next sweep warns for the new one, and the candidates come
from the partial indexes of migration 0010."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from engine.agencies import Agency
from engine.calendar import DayEntry, DayKind
from engine.calendar.store import save_day
from engine.lifecycle import act, reproject_open_dossiers
from engine.lifecycle.models import Dossier
from engine.outbox import OutboxMessage
from engine.samples import (
    CLERK,
    COMMUNE,
    COMMUNE_CLERK,
    DEPT,
    LEADER,
    OFFICER,
    local,
    received,
    seed_world,
)
from engine.timed.candidates import due_ids, due_rows_count, step_ids, waiting_ids
from engine.timed.messages import drafts_for_finding
from engine.timed.runs import SweepRun, last_successful
from engine.timed.sweep import judges, run_sweep
from engine.users import User

MISSING = {"missing": [{"name": "Bản sao giấy tờ tùy thân"}]}


@pytest.fixture
def world(session: Session) -> Session:
    seed_world(session)
    for actor in (CLERK, OFFICER, LEADER, COMMUNE_CLERK):
        session.add(User(username=actor.id, full_name=actor.name, role=actor.role,
                         agency_code=actor.agency, password_hash="x"))
    session.commit()
    return session


def in_processing(s: Session, when: str = "2025-03-03T09:00") -> Dossier:
    """Received at the centre for the department (5 working days), sent on 30 minutes later."""
    d = received(s, at=local(when))
    s.commit()
    act(s, code=d.code, action="transfer", actor=CLERK, at=local(when[:11] + "09:30"))
    s.commit()
    return d


def sweep(s: Session, when: str, **kw):
    return run_sweep(s, now=local(when), holder="test", **kw)


def messages(s: Session, code: str | None = None) -> list[tuple[str, str, str, int | None]]:
    query = select(OutboxMessage)
    if code:
        query = query.where(OutboxMessage.dossier_code == code)
    return sorted((m.kind, m.rung, m.recipient, m.step_seq) for m in s.exec(query).all())


def test_each_warning_reaches_its_people_once_at_chosen_instants(world):
    s = world
    d = in_processing(s)  # due Monday 10/03/2025; appraisal step due Thursday 06/03 17:00
    assert d.due_date == date(2025, 3, 10)
    first = sweep(s, "2025-03-06T08:00")
    assert first.findings == {"apology_due": 1, "step_due_soon": 1}
    assert messages(s) == [("apology_due", "2025-03-10", "leader1", None),
                           ("apology_due", "2025-03-10", "officer1", None),
                           ("step_due_soon", "2025-03-06", "officer1", 2)]
    assert sweep(s, "2025-03-06T08:05").new_messages == 0
    assert sweep(s, "2025-03-07T08:00").findings == {"due_soon": 1, "step_overdue": 1}
    assert sweep(s, "2025-03-10T08:00").findings == {"due_today": 1, "apology_missed": 1}
    assert sweep(s, "2025-03-11T08:00").findings == {"overdue": 1}
    later = [sweep(s, when) for when in ("2025-03-11T08:00", "2025-03-12T08:00",
                                         "2025-03-20T08:00")]
    assert [(r.findings, r.new_messages) for r in later] == [({}, 0)] * 3
    assert Counter(kind for kind, *_ in messages(s)) == {
        "apology_due": 2, "step_due_soon": 1, "due_soon": 1, "step_overdue": 1, "due_today": 1,
        "apology_missed": 2, "overdue": 2}


def test_a_second_sweep_or_another_process_at_the_same_instant_writes_nothing(world):
    s = world
    for when in ("2025-03-03T09:00", "2025-03-04T09:00", "2025-03-05T09:00"):
        in_processing(s, when)
    first = sweep(s, "2025-03-12T08:00")
    assert first.new_messages > 0 and first.full
    # marks aside, as another process judging everything again would: nothing new either
    s.execute(text("UPDATE dossier SET sweep_version = NULL"))
    s.execute(text("UPDATE dossier_step SET sweep_next_at = NULL"))
    s.commit()
    again = run_sweep(s, now=local("2025-03-12T08:00"), holder="other")
    assert again.dossiers == 3 and again.new_messages == 0
    assert len(messages(s)) == first.new_messages


def test_judged_rows_stay_out_of_the_candidates_until_they_change(world):
    s = world
    d = in_processing(s)
    sweep(s, "2025-03-07T08:00")
    bounds = judges(s).bounds(local("2025-03-07T09:00"))
    assert [s.execute(q).all() for q in (due_ids(bounds), waiting_ids(bounds),
                                         step_ids(bounds))] == [[], [], []]
    assert due_rows_count(s, bounds) == 2  # the dossier and its open step, marks aside
    act(s, code=d.code, action="assign", actor=LEADER, at=local("2025-03-07T09:00"),
        payload={"assignee": OFFICER.id})
    s.commit()
    assert s.execute(due_ids(bounds)).scalars().all() == [d.id]
    assert sweep(s, "2025-03-07T09:30").dossiers == 1


def dossier_findings(result) -> dict[str, int]:
    """A run's findings about dossiers themselves (the hand-off rows' aside)."""
    return {k: n for k, n in result.findings.items() if not k.startswith("step_")}


def test_a_calendar_edit_re_projects_the_due_date_and_the_next_sweep_warns_for_it(world):
    s = world
    in_processing(s)
    sweep(s, "2025-03-06T08:00")
    # The department closes on Friday 07/03 (its own day off): the due date moves to 11/03.
    save_day(s, entry=DayEntry(date(2025, 3, 7), DayKind.LOCAL_OFF, "Mất điện toàn khu"),
             agency_code=DEPT)
    moved = reproject_open_dossiers(s, agency_code=DEPT)
    s.commit()
    assert moved[0]["new_due"] == "2025-03-11"
    r = sweep(s, "2025-03-10T08:00")
    assert dossier_findings(r) == {"due_soon": 1, "apology_due": 1}
    assert ("due_soon", "2025-03-11", "officer1", None) in messages(s)
    assert ("apology_due", "2025-03-11", "leader1", None) in messages(s)
    run = s.get(SweepRun, r.run_id)
    assert set(run.judged_with) == {"", DEPT} and not run.full


def test_a_calendar_change_makes_the_next_sweep_judge_again_the_agencies_it_concerns(world):
    s = world
    in_processing(s)
    assert sweep(s, "2025-03-07T08:00").dossiers == 1  # marked until Monday 10/03
    assert sweep(s, "2025-03-07T08:05").dossiers == 0
    # a day off of the department's that moves no due date (nothing re-projected): its
    # dossiers in the horizon are judged again anyway, the rest are not
    save_day(s, entry=DayEntry(date(2025, 4, 30), DayKind.LOCAL_OFF, "Nghỉ do bão"),
             agency_code=DEPT)
    assert reproject_open_dossiers(s, agency_code=DEPT) == []
    s.commit()
    r = sweep(s, "2025-03-07T08:10")
    assert (r.dossiers, r.full, r.new_messages) == (1, False, 0)
    assert sweep(s, "2025-03-07T08:15").dossiers == 0
    # a national change: every agency is judged again
    save_day(s, entry=DayEntry(date(2025, 11, 22), DayKind.MAKEUP_WORKDAY, "Làm bù thử"))
    s.commit()
    r = sweep(s, "2025-03-07T08:20")
    assert (r.dossiers, r.full, r.new_messages) == (1, True, 0)


def test_an_agencys_warning_horizon_is_its_own(world):
    s = world
    in_processing(s)
    assert dossier_findings(sweep(s, "2025-03-05T08:00")) == {}
    s.get(Agency, DEPT).warn_ahead_amount = 3
    s.commit()
    r = sweep(s, "2025-03-05T08:05")  # settings changed: judged again at once
    assert dossier_findings(r) == {"due_soon": 1, "apology_due": 1}


def test_a_crash_half_way_loses_nothing_and_repeats_nothing(world):
    s = world
    codes = [in_processing(s, f"2025-03-0{day}T09:00").code for day in (3, 4, 5, 6, 7)]
    calls = 0

    def failing(session, finding):
        nonlocal calls
        calls += 1
        if calls > 4:
            raise RuntimeError("mất kết nối giữa chừng")
        return drafts_for_finding(session, finding)

    with pytest.raises(RuntimeError):
        sweep(s, "2025-03-20T08:00", chunk=2, drafts=failing)
    failed = s.exec(select(SweepRun).order_by(SweepRun.id.desc())).first()
    assert (failed.ok, failed.finished_at) == (False, None)
    assert "mất kết nối" in failed.error
    half = messages(s)
    assert len(half) > 0
    r = sweep(s, "2025-03-20T08:00", chunk=2)
    assert r.ok and last_successful(s).id == r.run_id
    every = messages(s)
    assert len(every) == len(set(every)) and set(half) <= set(every)
    # every dossier has the same warnings (all five are overdue, none apologised)
    per_dossier = {code: sorted((k, who) for k, _, who, _ in messages(s, code))
                   for code in codes}
    assert len({tuple(v) for v in per_dossier.values()}) == 1
    assert ("overdue", "officer1") in per_dossier[codes[0]]


def test_a_supplement_awaited_too_long_paper_not_sent_and_a_transfer_not_accepted(world):
    s = world
    waiting = in_processing(s)
    act(s, code=waiting.code, action="request_supplement", actor=OFFICER,
        at=local("2025-03-04T10:00"), reason="Bản sao bị mờ", payload=MISSING)
    s.commit()
    unsent = received(s, at=local("2025-03-17T15:30"))  # after 15:00: by Tuesday 11:30
    s.commit()
    assert dossier_findings(sweep(s, "2025-03-18T11:30")) == {}
    r = sweep(s, "2025-03-19T08:00")
    assert dossier_findings(r) == {"supplement_awaited": 1, "transfer_late": 1}
    assert ("supplement_awaited", "2025-03-04", "clerk1", None) in messages(s, waiting.code)
    # the clerk hears that the paper is late, and that the receipt step (4 working hours,
    # by Tuesday 10:00) is overdue
    assert messages(s, unsent.code) == [("step_overdue", "2025-03-18", "clerk1", 1),
                                        ("transfer_late", "2025-03-18", "clerk1", None)]
    # a commune centre receives for the department (boundary-free) and sends it at 10:30:
    # the department has until 17:00 the same day to accept it
    free = received(s, at=local("2025-07-07T10:00"), actor=COMMUNE_CLERK)
    s.commit()
    act(s, code=free.code, action="transfer", actor=COMMUNE_CLERK, at=local("2025-07-07T10:30"))
    s.commit()
    assert free.boundary_free and free.receiving_agency == COMMUNE
    assert "not_accepted" not in sweep(s, "2025-07-07T17:00").findings
    assert sweep(s, "2025-07-07T17:01").findings.get("not_accepted") == 1
    assert {(k, who) for k, _, who, _ in messages(s, free.code)} >= {
        ("not_accepted", "officer1"), ("not_accepted", "leader1")}
    act(s, code=free.code, action="accept_transfer", actor=OFFICER, at=local("2025-07-08T08:00"))
    s.commit()
    assert "not_accepted" not in sweep(s, "2025-07-08T08:05").findings


def test_a_dossier_whose_processing_ended_is_warned_no_more(world):
    s = world
    d = in_processing(s)
    act(s, code=d.code, action="finish", actor=OFFICER, at=local("2025-03-05T10:00"))
    s.commit()
    assert sweep(s, "2025-03-20T08:00").findings == {}
    assert messages(s) == []


def test_the_run_is_recorded_with_what_it_found(world):
    s = world
    in_processing(s)
    assert last_successful(s) is None
    r = sweep(s, "2025-03-11T08:00")
    run = s.get(SweepRun, r.run_id)
    assert (run.ok, run.holder, run.new_messages, run.candidates, run.full) == (
        True, "test", r.new_messages, 2, True)
    assert run.findings == r.findings and run.finished_at >= run.started_at
    assert run.judged_with[""].endswith("|1d|10|0")


def _plan(s: Session, query) -> str:
    compiled = query.compile(s.get_bind(), compile_kwargs={"literal_binds": True})
    if s.get_bind().dialect.name == "sqlite":
        rows = s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        return " ".join(str(r[-1]) for r in rows)
    s.execute(text("SET LOCAL enable_seqscan = off"))
    s.execute(text("SET LOCAL enable_bitmapscan = off"))
    return " ".join(r[0] for r in s.execute(text(f"EXPLAIN {compiled}")).all())


def test_the_candidates_are_read_from_the_partial_indexes_alone(world):
    s = world
    bounds = judges(s).bounds(local("2025-03-11T08:00"))
    plans = {name: _plan(s, q) for name, q in (("due", due_ids(bounds)),
                                               ("waiting", waiting_ids(bounds)),
                                               ("steps", step_ids(bounds)))}
    s.rollback()
    covering = ("COVERING INDEX" if s.get_bind().dialect.name == "sqlite"
                else "Index Only Scan using")
    for name, index in (("due", "ix_dossier_sweep_due"), ("waiting", "ix_dossier_sweep_waiting"),
                        ("steps", "ix_dossier_step_sweep")):
        assert f"{covering} {index}" in plans[name], plans[name]


def test_drafts_go_in_batches_of_a_few_lengths_only():
    from engine.timed.sweep import batches

    assert batches(0) == [] and batches(1) == [(0, 1)]
    assert batches(300, 256) == [(0, 256), (256, 288), (288, 296), (296, 300)]
    for total in range(0, 700, 7):
        parts = batches(total, 64)
        assert [p for s, e in parts for p in range(s, e)] == list(range(total))
    lengths = {e - s for total in range(2000) for s, e in batches(total, 64)}
    assert lengths <= {64, 32, 16, 8, 4, 2, 1}
