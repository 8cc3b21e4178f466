"""Reports that do not queue (issue 18): bounded report slots, 503 with Retry-After beyond
them, the rest of the service answering meanwhile, closed periods from the cache."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from engine.timezone import now_local
from service.api import reports
from service.report_gate import ReportGate, concurrency_from_env, open_max_age_from_env

from .conftest import login
from .test_api_dossier_flow import receive

TODAY = now_local().date()  # the law's date: UTC's is a day behind from 17:00 UTC
OPEN = {"from": TODAY.replace(month=1, day=1).isoformat(), "to": TODAY.isoformat()}
CLOSED = {"from": "2025-01-01", "to": "2025-12-31"}
WAIT = 30  # seconds: only a hang would reach it


class HeldReport:
    """The report's computation, counted; the first call holds its slot until released."""

    def __init__(self, real) -> None:
        self.real, self.calls = real, 0
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            assert self.release.wait(WAIT)
        return self.real(*args, **kwargs)


def in_background(call):
    """Run ``call`` in a thread; the returned list gets its answer."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


@pytest.fixture
def held(client, monkeypatch):
    client.app.state.report_gate = ReportGate(concurrency=1, wait_seconds=0.2)
    report = HeldReport(reports.figures)
    monkeypatch.setattr(reports, "figures", report)
    return report


def test_a_second_report_gets_503_while_the_rest_of_the_service_answers(client, held):
    auditor, clerk = login(client, "auditor"), login(client, "clerk")
    code = receive(client, clerk).json()["code"]
    first, answers = in_background(
        lambda: client.get("/api/v1/reports", params=OPEN, headers=auditor))
    assert held.started.wait(WAIT)  # the first report holds the only slot

    busy = client.get("/api/v1/reports", params=OPEN, headers=auditor)
    assert busy.status_code == 503
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert int(busy.headers["Retry-After"]) >= 1
    problem = busy.json()
    assert problem["type"].endswith("/reports-busy")
    assert "thử lại sau" in problem["detail"] and problem["retry_after"] >= 1
    other = client.get("/api/v1/reports/processing-time", params=OPEN, headers=auditor)
    assert other.status_code == 503  # every report route shares the slots
    # a browser that opened a download link gets the message as a page
    page = client.get("/api/v1/reports/export.csv", params=OPEN,
                      headers={**auditor, "Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "thử lại sau" in page.text and page.headers["Retry-After"]

    # meanwhile: liveness and a dossier's detail answer (they would hang if blocked)
    assert client.get("/healthz").status_code == 200
    assert client.get(f"/api/v1/dossiers/{code}", headers=clerk).status_code == 200
    assert first.is_alive()  # ...and the report is still held

    held.release.set()
    first.join(WAIT)
    assert answers[0].status_code == 200
    assert client.get("/api/v1/reports", params=OPEN, headers=auditor).status_code == 200


def test_a_closed_period_is_served_from_the_cache_without_a_slot(client, held):
    auditor = login(client, "auditor")
    held.release.set()  # the first computation does not wait
    first = client.get("/api/v1/reports", params={**CLOSED, "by": "agency"}, headers=auditor)
    assert first.status_code == 200 and held.calls == 1

    held.calls = 0  # the next computation holds the slot
    held.started, held.release = threading.Event(), threading.Event()
    running, _ = in_background(
        lambda: client.get("/api/v1/reports", params=OPEN, headers=auditor))
    assert held.started.wait(WAIT)
    again = client.get("/api/v1/reports", params={**CLOSED, "by": "agency"}, headers=auditor)
    assert again.status_code == 200 and again.json() == first.json()
    assert held.calls == 1  # only the open period's report ran: the closed one was cached
    other_grouping = client.get("/api/v1/reports", params=CLOSED, headers=auditor)
    assert other_grouping.status_code == 503  # not cached yet: needs a slot
    held.release.set()
    running.join(WAIT)


def test_the_concurrency_setting_is_a_positive_whole_number():
    assert concurrency_from_env({}) == 2
    assert concurrency_from_env({"MOTCUA_REPORT_CONCURRENCY": "4"}) == 4
    for bad in ("0", "-1", "1.5", "hai"):
        with pytest.raises(ValueError, match="MOTCUA_REPORT_CONCURRENCY"):
            concurrency_from_env({"MOTCUA_REPORT_CONCURRENCY": bad})


def test_an_open_period_is_computed_once_a_minute_and_says_when(client, monkeypatch):
    client.app.state.report_gate = ReportGate(open_max_age=timedelta(seconds=60))
    report = HeldReport(reports.figures)
    report.release.set()
    monkeypatch.setattr(reports, "figures", report)
    auditor, clerk = login(client, "auditor"), login(client, "clerk")
    first = client.get("/api/v1/reports", params=OPEN, headers=auditor)
    assert first.status_code == 200 and report.calls == 1
    computed_at = first.json()["computed_at"]
    assert computed_at.endswith("+07:00")
    receive(client, clerk)
    again = client.get("/api/v1/reports", params=OPEN, headers=auditor)
    assert again.status_code == 200 and report.calls == 1  # served again, not recomputed
    assert again.json() == first.json()  # the same figures, computed at the same instant
    client.app.state.report_gate = ReportGate(open_max_age=timedelta(0))
    live = client.get("/api/v1/reports", params=OPEN, headers=auditor)
    assert report.calls == 2 and live.json()["computed_at"] > computed_at
    assert live.json()["totals"]["received"] == first.json()["totals"]["received"] + 1


def test_the_open_report_age_setting_is_seconds_zero_or_more():
    assert open_max_age_from_env({}) == timedelta(seconds=60)
    assert open_max_age_from_env({"MOTCUA_OPEN_REPORT_MAX_AGE": "0"}) == timedelta(0)
    assert open_max_age_from_env({"MOTCUA_OPEN_REPORT_MAX_AGE": "2.5"}) == timedelta(seconds=2.5)
    for bad in ("-1", "một phút", "inf"):
        with pytest.raises(ValueError, match="MOTCUA_OPEN_REPORT_MAX_AGE"):
            open_max_age_from_env({"MOTCUA_OPEN_REPORT_MAX_AGE": bad})
