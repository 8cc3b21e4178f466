"""Dossiers driven through the lifecycle (with hand-off rows): grouping by step,
responsibility for lateness, anomalies, and the TT 01/2018 scoring scheme."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from engine.lifecycle import Actor, Applicant, act
from engine.lifecycle.models import Dossier, DossierEvent
from engine.reports import By, Period, figures
from engine.reports.anomalies import AnomalySettings, anomalies
from engine.reports.responsibility import responsibility
from engine.reports.scoring import agency_grade, get_scheme, officer_grade
from engine.samples import CLERK, DEPT, LEADER, OFFICER, received
from engine.samples import local as at

from .dataset import MARCH_FROM, MARCH_TO

MARCH = Period(MARCH_FROM, MARCH_TO)


def lived(session, received_at: str, steps: list[tuple[str, Actor, str]]) -> str:
    d = received(session, at=at(received_at), applicant=Applicant(name="Nguyễn Văn An"))
    session.commit()
    for action, actor, when in steps:
        act(session, code=d.code, action=action, actor=actor, at=at(when),
            payload={"assignee": "officer1"} if action == "forward" else None)
        session.commit()
    return d.code


def test_late_dossier_is_attributed_to_the_first_step_over_its_budget(world):
    # 3 working days (version of 01/07/2025): due Thu 05/03. Appraisal (3 wd budget from
    # 02/03 → 05/03) hands over only on Mon 09/03: it overran first.
    late = lived(world, "2026-03-02T09:00", [("transfer", CLERK, "2026-03-02T09:05"),
                                              ("forward", OFFICER, "2026-03-09T10:00"),
                                              ("finish", LEADER, "2026-03-10T10:00")])
    ok = lived(world, "2026-03-02T09:00", [("transfer", CLERK, "2026-03-02T09:05"),
                                            ("forward", OFFICER, "2026-03-03T10:00"),
                                            ("finish", LEADER, "2026-03-04T10:00")])
    report = responsibility(world, MARCH)
    assert [r.as_dict() for r in report.dossiers] == [
        {"code": late, "verdict": "late", "step": "appraise", "step_name": "Thẩm định",
         "unit": DEPT}]
    assert report.by_unit_step() == [{"unit": DEPT, "step": "appraise",
                                      "step_name": "Thẩm định", "late": 1}]
    fig = figures(world, MARCH, By.STEP)
    steps = {g.key: g.totals for g in fig.groups}
    assert (steps["appraise"].late, steps["appraise"].early) == (1, 1)
    assert steps["approve"].ended == 2
    assert steps["return"].pending == 2  # results waiting at the counter
    assert ok != late


def test_anomalies_list_the_codes(dataset):
    found = anomalies(dataset, MARCH).found
    assert found["supplement_repeated"] == ["m-supplement-twice"]
    assert found["supplement_request_late"] == ["m-awaiting-supplement",
                                                "m-supplement-late-request"]
    assert found["apology_late"] == ["m-apology-late"]
    assert found["receipt_entered_late"] == []  # imported receipts are not judged
    assert found["events_do_not_replay"] == []


def test_receipt_entered_late_and_tampered_state_are_flagged(world):
    code = lived(world, "2026-03-02T09:00", [("transfer", CLERK, "2026-03-02T09:05")])
    other = lived(world, "2026-03-02T10:00", [])
    d = world.exec(select(Dossier).where(Dossier.code == code)).one()
    # the tests act "in the past": make every entry immediate, then one two days late
    world.execute(update(DossierEvent).values(recorded_at=DossierEvent.at))
    world.execute(update(DossierEvent).where(DossierEvent.dossier_id == d.id,
                                             DossierEvent.action == "receive")
                  .values(recorded_at=at("2026-03-04T09:00")))
    world.execute(update(Dossier).where(Dossier.code == other).values(state="returned"))
    world.commit()
    found = anomalies(world, MARCH).found
    assert found["receipt_entered_late"] == [code]
    assert found["events_do_not_replay"] == [other]
    relaxed = anomalies(world, MARCH, settings=AnomalySettings(
        receipt_entry_delay=timedelta(days=3))).found
    assert relaxed["receipt_entered_late"] == []


def test_tt01_scoring_per_officer_and_agency(dataset):
    report = get_scheme("tt01_2018").score(dataset, MARCH, include_dossiers=True)
    officer = report.officers[0].as_dict()
    # 13 scored dossiers: indicator 1 = (4×2 + 5×1 + 4×0)/13 = 1.0; indicator 3 =
    # (10×2 + 1 + 0 + 1)/13 = 1.7; indicator 4 = (12×1 + 2)/13 = 1.1; indicator 7 = 1.0
    assert officer == {"key": "officer1", "dossiers": 13,
                       "indicators": {"1": 1.0, "3": 1.7, "4": 1.1, "7": 1.0},
                       "indicators_scored": 4, "total": 4.8,
                       "grade": "Hoàn thành từ 70% đến dưới 100% nhiệm vụ"}
    commune = next(a for a in report.agencies if a.key == "000.01.00.H31").as_dict()
    # one late dossier; online share 1/2 but an online dossier is late → indicator 9 = 0
    assert commune["indicators"] == {"1": 0.0, "3": 2.0, "4": 1.0, "7": 0.0, "9": 0.0}
    assert (commune["total"], commune["grade"]) == (3.0, "Yếu")
    per_dossier = {d["code"]: d for d in report.dossiers}
    assert per_dossier["m-supplement-twice"]["indicators"] == {"1": 2, "3": 0, "4": 1, "7": 2}
    assert "m-withdrawn" not in per_dossier


def test_grades_follow_article_15(world):
    assert officer_grade(5) == "Hoàn thành 100% nhiệm vụ"
    assert officer_grade(3.5).startswith("Hoàn thành từ 70%")
    assert officer_grade(3.4) == "Hoàn thành dưới 70% nhiệm vụ"
    assert [agency_grade(x) for x in (15, 14.9, 12, 9, 6, 5.9)] == [
        "Xuất sắc", "Tốt", "Tốt", "Khá", "Trung bình", "Yếu"]


def test_average_processing_time_in_each_procedures_unit(dataset):
    from engine.reports.processing import average_processing_time

    times = {t.procedure: t for t in average_processing_time(dataset, MARCH)}
    certify = times["2.000815"]
    # case 6a: 10:45 → 14:00 = 45 + 30 min office time; 6b: 16:15 → 10:00 next day =
    # 45 + 150 min: mean (75 + 195)/2 min = 2.25 office hours
    assert (certify.unit, certify.count, round(certify.average, 2)) == ("working_hours", 2, 2.25)
    main = times["1.000001"]
    assert main.unit == "working_days" and main.count == 13
