"""Daily snapshots: the day's figures per agency, stored once the day is over; the chart over
time reads them, and a published figure changes only by a journaled re-run."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import false, or_, select, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from engine.lifecycle.visibility import visible_to
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.snapshots import (
    IndicatorSnapshot,
    Scope,
    SnapshotTooEarly,
    compose,
    history,
    over_time,
    read_days,
    take_daily,
    viewer_scope,
)
from engine.reports.sql import D
from engine.reports.totals import Totals
from engine.users import AuditorGrant, User

from .dataset import CENTRE, COMMUNE, DEPT, MARCH_FROM, MARCH_TO

#: Well after the dataset's days: every day of it is over.
LATER = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
#: The late dossier received 23/03 (due 26/03, still running): pending late from 27/03.
PENDING_LATE = "m-pending-late"
DAY = date(2026, 3, 27)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def _take(session, first: date, last: date, **kw) -> None:
    for day in _days(first, last):
        take_daily(session, day=day, computed_by="scheduler", now=LATER, **kw)
    session.commit()


def _where(scope: Scope):
    """The live report's condition for the dossiers a scope sees."""
    if scope.competent is None:
        return None
    return or_(D.c.competent_agency.in_(scope.competent),
               D.c.receiving_agency.in_(scope.receiving))


def _counts(t: Totals) -> dict[str, int]:
    return {f.name: getattr(t, f.name) for f in fields(Totals) if f.name != "replayed"}


READERS = {
    "whole province": Scope(),
    "leader of the department": Scope(frozenset({DEPT})),
    "leader of the commune": Scope(frozenset({COMMUNE})),
    "auditor of the provincial centre": Scope(frozenset({CENTRE}), frozenset({CENTRE})),
    "auditor of the department and the commune": Scope(frozenset({DEPT, COMMUNE}),
                                                       frozenset({DEPT, COMMUNE})),
}


def test_the_days_add_up_to_the_live_report_of_any_span_for_every_reader(dataset):
    """Received and ended counts add up, carried over is the first day's, pending and the open
    parts of the 766 numerator and of the apologies the last day's: exactly the report."""
    first = date(2026, 2, 23)
    _take(dataset, first, MARCH_TO)
    for name, scope in READERS.items():
        days = read_days(dataset, Period(first, MARCH_TO), scope)
        for span in (Period(MARCH_FROM, MARCH_TO), Period(first, MARCH_TO),
                     Period(date(2026, 3, 5), date(2026, 3, 23)), Period(DAY, DAY)):
            composed = compose([days[d].record for d in _days(span.start, span.end)])
            live = figures(dataset, span, where=_where(scope)).totals
            assert _counts(composed) == _counts(live), (name, span)
        chart = over_time(dataset, Period(first, MARCH_TO), scope=scope, where=_where(scope))
        assert [m["source"] for m in chart] == ["snapshot", "snapshot"], name
        live = over_time(dataset, Period(first, MARCH_TO), scope=None, where=_where(scope))
        for shown, computed in zip(chart, live, strict=True):
            assert {k: v for k, v in shown.items() if k not in ("source", "missing_days")} \
                == {k: v for k, v in computed.items() if k not in ("source", "missing_days")}


def test_a_published_figure_stays_until_a_journaled_rerun(dataset):
    _take(dataset, DAY, DAY)
    period = Period(DAY, DAY)
    before = over_time(dataset, period, scope=Scope(), where=None)[0]
    assert before["source"] == "snapshot"
    assert figures(dataset, period).totals.pending_late == 2

    # Later, the dossier's due date moves (a correction, a calendar re-projection): the live
    # report changes, the published figure does not.
    dataset.execute(update(D).where(D.c.code == PENDING_LATE)
                    .values(due_date=date(2026, 3, 31)))
    dataset.commit()
    assert figures(dataset, period).totals.pending_late == 1
    assert over_time(dataset, period, scope=Scope(), where=None)[0] == before

    # Taking the day again without a reason changes nothing.
    assert take_daily(dataset, day=DAY, computed_by="scheduler", now=LATER) == []

    # A re-run with a reason: the chart shows the new figure, the old one stays readable.
    rerun_at = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
    new = take_daily(dataset, day=DAY, computed_by="kiemsoat1", agencies=[DEPT],
                     reason="Sửa hạn giải quyết của hồ sơ m-pending-late", now=rerun_at)
    dataset.commit()
    assert [(s.agency_code, s.computed_by, s.reason, s.current) for s in new] == [
        (DEPT, "kiemsoat1", "Sửa hạn giải quyết của hồ sơ m-pending-late", True)]
    after = over_time(dataset, period, scope=Scope(), where=None)[0]
    assert after["source"] == "snapshot" and after["reruns"] == 1
    assert after["on_time_rate_766"] > before["on_time_rate_766"]
    journal = history(dataset, day=DAY, agency=DEPT)
    assert [(s.current, s.reason, s.computed_at) for s in journal] == [
        (False, None, LATER), (True, "Sửa hạn giải quyết của hồ sơ m-pending-late", rerun_at)]
    old, current = journal
    assert old.totals().pending_late == current.totals().pending_late + 1
    assert old.totals().dashboard()["pending"]["late"] == old.totals().pending_late


def test_a_month_with_a_day_never_taken_is_computed_now_and_says_so(dataset):
    _take(dataset, MARCH_FROM, date(2026, 3, 30))
    chart = over_time(dataset, Period(MARCH_FROM, MARCH_TO), scope=Scope(), where=None)
    assert [(m["source"], m["missing_days"]) for m in chart] == [("live", 1)]
    live = figures(dataset, Period(MARCH_FROM, MARCH_TO)).totals
    assert chart[0]["on_time_rate_766"] == live.on_time_rate_766
    # A day taken for some agencies only is not enough for a reader who sees every agency…
    take_daily(dataset, day=MARCH_TO, computed_by="scheduler", agencies=[COMMUNE], now=LATER)
    assert over_time(dataset, Period(MARCH_FROM, MARCH_TO), scope=Scope(),
                     where=None)[0]["source"] == "live"
    # … but is for the leader of that agency; and a backfill without a reason fills the rest.
    leader = Scope(frozenset({COMMUNE}))
    assert over_time(dataset, Period(MARCH_FROM, MARCH_TO), scope=leader,
                     where=_where(leader))[0]["source"] == "snapshot"
    written = take_daily(dataset, day=MARCH_TO, computed_by="scheduler", now=LATER)
    assert sorted(s.agency_code for s in written) == sorted({CENTRE, DEPT})
    assert over_time(dataset, Period(MARCH_FROM, MARCH_TO), scope=Scope(),
                     where=None)[0]["source"] == "snapshot"


def test_a_day_is_taken_only_once_it_is_over(world):
    end_of_day = datetime(2026, 3, 27, 17, 0, tzinfo=UTC)  # 00:00 on 28/03 local
    with pytest.raises(SnapshotTooEarly, match="chưa kết thúc"):
        take_daily(world, day=DAY, computed_by="scheduler",
                   now=end_of_day - timedelta(minutes=10))  # 23:50 local on the day
    rows = take_daily(world, day=DAY, computed_by="scheduler", now=end_of_day)
    assert sorted(s.agency_code for s in rows) == sorted({CENTRE, DEPT, COMMUNE})
    assert all(s.totals() == Totals() for s in rows)  # a day without dossiers: zeros, stored


def test_a_rerun_needs_a_reason_and_a_known_agency(world):
    with pytest.raises(ValueError, match="lý do"):
        take_daily(world, day=DAY, computed_by="x", reason="  ", now=LATER)
    with pytest.raises(ValueError, match="không có cơ quan NOPE"):
        take_daily(world, day=DAY, computed_by="x", agencies=["NOPE"], now=LATER)
    with pytest.raises(ValueError, match="computed_by"):
        take_daily(world, day=DAY, computed_by=" ", now=LATER)


def test_the_database_keeps_one_current_snapshot_per_agency_and_day(world):
    take_daily(world, day=DAY, computed_by="scheduler", agencies=[DEPT], now=LATER)
    world.commit()
    world.add(IndicatorSnapshot(agency_code=DEPT, day=DAY, figures={}, receiving={},
                                computed_at=LATER, computed_by="x", current=False))
    world.commit()  # earlier computations: as many as there were
    world.add(IndicatorSnapshot(agency_code=DEPT, day=DAY, figures={}, receiving={},
                                computed_at=LATER, computed_by="x", current=True))
    with pytest.raises(IntegrityError):
        world.commit()
    world.rollback()
    assert world.scalar(select(IndicatorSnapshot.id).where(
        IndicatorSnapshot.current == false())) is not None


def test_two_first_takes_at_once_write_the_day_once(world):
    """Two schedulers (or the scheduler and a backfill) taking the same day: the insert names
    the current-row index in its ON CONFLICT, so the second writes nothing instead of failing."""
    from engine.reports.snapshots import _insert

    values = {"agency_code": DEPT, "day": DAY, "figures": {}, "receiving": {},
              "computed_at": LATER, "computed_by": "scheduler", "reason": None,
              "current": True}
    assert _insert(world, values, rerun=False) is not None
    assert _insert(world, dict(values, computed_by="backfill"), rerun=False) is None
    with pytest.raises(IntegrityError):  # a re-run never passes silently
        _insert(world, dict(values, computed_by="x"), rerun=True)
    world.rollback()


def test_the_readers_scope_is_what_they_may_see(dataset):
    """The chart reads snapshots with the same reach as the live report (visible_to)."""
    dataset.add(AuditorGrant(username="aud", agency_code=CENTRE))
    dataset.commit()
    pairs = dataset.execute(select(D.c.code, D.c.competent_agency,
                                   D.c.receiving_agency)).all()
    for user in (User(username="aud", full_name="a", role="auditor", agency_code=COMMUNE),
                 User(username="lead", full_name="l", role="leader", agency_code=DEPT),
                 User(username="off", full_name="o", role="officer", agency_code=COMMUNE)):
        scope = viewer_scope(dataset, user)
        seen = {code for code, competent, receiving in pairs
                if competent in scope.competent or receiving in scope.receiving}
        visible = set(dataset.execute(select(D.c.code).where(visible_to(dataset, user)))
                      .scalars())
        assert seen == visible, user.role
    assert viewer_scope(dataset, User(username="c", full_name="c", role="clerk",
                                      agency_code=CENTRE)) is None


def test_motcua_report_snapshot_takes_reruns_and_shows_the_journal(dataset, database_url):
    from service.cli import app

    def run(*args: str):
        return CliRunner().invoke(app, ["report", "snapshot", *args],
                                  env={"MOTCUA_DATABASE_URL": database_url})

    first = run("--day", DAY.isoformat())
    assert first.exit_code == 0, first.output
    assert "Đã chốt số liệu ngày 27/03/2026: 3 cơ quan" in first.output
    again = run("--day", DAY.isoformat())
    assert again.exit_code == 0 and "Đã chốt số liệu ngày 27/03/2026: 0 cơ quan" in again.output
    rerun = run("--day", DAY.isoformat(), "--agency", DEPT, "--reason", "Nhập bổ sung hồ sơ",
                "--computed-by", "kiemsoat1")
    assert rerun.exit_code == 0, rerun.output
    assert "chạy lại" in rerun.output
    shown = run("--day", DAY.isoformat(), "--agency", DEPT, "--show")
    assert shown.exit_code == 0, shown.output
    assert "Nhập bổ sung hồ sơ" in shown.output and "kiemsoat1" in shown.output
    assert "không dùng" in shown.output  # the earlier computation, kept
    backfill = run("--day", "2026-03-25", "--to", "2026-03-26")
    assert backfill.exit_code == 0 and backfill.output.count("3 cơ quan") == 2
    bad = run("--day", "2999-01-01")
    assert bad.exit_code == 2 and "Lỗi" in bad.output
    # `motcua report` itself still works as before
    report = CliRunner().invoke(app, ["report", "--from", "2026-03-01", "--to", "2026-03-31",
                                      "--format", "json"],
                                env={"MOTCUA_DATABASE_URL": database_url})
    assert report.exit_code == 0, report.output
    missing = CliRunner().invoke(app, ["report"], env={"MOTCUA_DATABASE_URL": database_url})
    assert missing.exit_code == 2 and "--from" in missing.output


def test_the_dashboard_chart_reads_the_snapshots_of_what_the_reader_sees(dataset, database_url):
    from fastapi.testclient import TestClient

    from service.api import reports
    from service.app import create_app
    from service.auth import hash_password

    hashed = hash_password("pw-thu-nghiem")
    dataset.add(User(username="lead", full_name="l", role="leader", agency_code=DEPT,
                     password_hash=hashed))
    dataset.add(User(username="aud", full_name="a", role="auditor", agency_code=COMMUNE,
                     password_hash=hashed))
    dataset.add(AuditorGrant(username="aud", agency_code=CENTRE))
    dataset.commit()
    _take(dataset, MARCH_FROM, MARCH_TO)
    app = create_app(database_url)
    app.include_router(reports.router)
    with TestClient(app) as client:
        def months(user: str) -> list[dict]:
            token = client.post("/api/v1/auth/token",
                                data={"username": user, "password": "pw-thu-nghiem"})
            answer = client.get("/api/v1/reports/charts?from=2026-03-01&to=2026-04-30",
                                headers={"Authorization": f"Bearer {token.json()['access_token']}"})
            assert answer.status_code == 200, answer.text
            return answer.json()["over_time"]

        lead, aud = months("lead"), months("aud")
        assert [(m["source"], m["missing_days"]) for m in lead] == [("snapshot", 0),
                                                                    ("live", 30)]
        assert [m["source"] for m in aud] == ["snapshot", "live"]
        # the department's late dossier is corrected after March was published
        dataset.execute(update(D).where(D.c.code == PENDING_LATE)
                        .values(due_date=date(2026, 4, 30)))
        dataset.commit()
        march = Period(MARCH_FROM, MARCH_TO)
        assert figures(dataset, march, where=D.c.competent_agency == DEPT).totals \
            .on_time_rate_766 != lead[0]["on_time_rate_766"]  # the live figure moved …
        after = months("lead")
        assert after[0] == lead[0]  # … the published March did not,
        assert after[1] != lead[1]  # April, not published yet, is computed now
        assert months("aud")[0] == aud[0]
    app.state.engine.dispose()
