"""The cache of closed periods' reports and the data version that keeps it true (issue 18)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import col, select

from engine.calendar.model import DayEntry, DayKind
from engine.calendar.store import save_day
from engine.data_version import current_version, note_change
from engine.lifecycle import reproject_open_dossiers
from engine.lifecycle.models import Dossier
from engine.reports import cache
from engine.reports.figures import By, figures
from engine.reports.period import Period
from engine.samples import DEPT, received
from engine.samples import local as at
from engine.timezone import VN_TZ, now_local

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def now() -> datetime:
    return datetime.now(UTC)


class Counted:
    """The report's computation, counted."""

    def __init__(self, session, period: Period = MARCH, by: By = By.AGENCY) -> None:
        self.session, self.period, self.by, self.calls = session, period, by, 0

    def __call__(self) -> dict:
        self.calls += 1
        return figures(self.session, self.period, self.by).dashboard()

    def key(self, scope: str = "") -> cache.CacheKey:
        return cache.CacheKey("figures", self.period, scope, cache.params(by=self.by))

    def served(self, scope: str = "") -> tuple[dict, bool]:
        answer = cache.cached(self.session, self.key(scope), self, now=now(), by=self.by)
        self.session.commit()
        return answer


def test_history_import_and_backdated_actions_move_the_version_an_action_now_does_not(
        dataset):
    assert current_version(dataset) == 1  # the fixed dataset's import
    received(dataset, at=now())
    dataset.commit()
    assert current_version(dataset) == 1
    received(dataset, at=at("2026-03-10T09:00"))
    dataset.rollback()  # not committed: nothing changed
    assert current_version(dataset) == 1
    received(dataset, at=at("2026-03-10T09:00"))
    dataset.commit()
    assert current_version(dataset) == 2


def test_a_mark_survives_a_savepoint_and_moves_the_version_at_the_real_commit(dataset):
    note_change(dataset, "backdated", date(2026, 3, 10))
    dataset.begin_nested().rollback()
    nested = dataset.begin_nested()
    note_change(dataset, "calendar")
    nested.commit()
    assert current_version(dataset) == 1  # a savepoint's release is not the commit
    dataset.commit()
    assert current_version(dataset) == 2


def test_closed_period_is_served_from_the_cache_until_a_backdated_receipt(dataset):
    report = Counted(dataset)
    first, hit = report.served()
    assert not hit and report.calls == 1
    again, hit = report.served()
    assert hit and report.calls == 1 and again == first
    _, hit = report.served(scope="competent_agency = 'x'")
    assert not hit and report.calls == 2  # another reader's scope is another row

    received(dataset, at=at("2026-03-10T09:00"))  # typed in late, dated in March
    dataset.commit()
    after, hit = report.served()
    assert not hit and report.calls == 3
    assert after["totals"]["received"] == first["totals"]["received"] + 1
    assert after == figures(dataset, MARCH, By.AGENCY).dashboard()
    assert report.served() == (after, True)


def test_a_calendar_edit_recomputes_a_closed_period(dataset):
    """Days off added in March re-project the due dates of dossiers still open: the March
    report judged them against the old dates, so its cached figures must go. (m-pending-late,
    received Mon 23/03 and due Thu 26/03, is due Wed 01/04 once 24–27/03 are days off.)"""
    report = Counted(dataset)
    before, _ = report.served()
    assert "m-pending-late" in dataset.exec(select(Dossier.code).where(
        col(Dossier.ended_at).is_(None))).all()
    for day in (24, 25, 26, 27):
        save_day(dataset, entry=DayEntry(date(2026, 3, day), DayKind.HOLIDAY, "Nghỉ thử"))
    reproject_open_dossiers(dataset)
    dataset.commit()
    after, hit = report.served()
    assert not hit and report.calls == 2
    assert after == figures(dataset, MARCH, By.AGENCY).dashboard()
    assert after["totals"]["pending"]["late"] < before["totals"]["pending"]["late"]


def test_open_periods_and_directory_groupings_are_never_cached(dataset):
    today = now_local().date()  # the law's date, not UTC's (they differ 17:00–24:00 UTC)
    running = Counted(dataset, Period(date(today.year, 1, 1), today))
    running.served()
    assert running.served()[1] is False and running.calls == 2
    by_level = Counted(dataset, by=By.LEVEL)
    by_level.served()
    assert by_level.served()[1] is False and by_level.calls == 2


def test_the_version_is_read_before_computing_so_a_change_meanwhile_is_not_hidden(dataset):
    report = Counted(dataset)
    found = cache.lookup(dataset, report.key())
    body = report()
    received(dataset, at=at("2026-03-11T09:00"), competent_agency=DEPT)
    dataset.commit()  # committed between the computation and the store
    cache.store(dataset, report.key(), found, body, 0.1)
    assert not cache.lookup(dataset, report.key()).hit


def test_an_open_period_is_served_again_within_its_maximum_age_then_recomputed(dataset):
    today = now_local().date()  # the law's date, not UTC's (they differ 17:00–24:00 UTC)
    month = Period(today.replace(day=1), today)
    minute = timedelta(seconds=60)
    key = cache.key_for("figures", month, "", cache.params(by=By.AGENCY), now=now(),
                        open_max_age=minute)
    assert cache.cacheable(month, now(), By.AGENCY, minute)
    assert not cache.cacheable(month, now(), By.AGENCY, timedelta(0))
    found = cache.lookup(dataset, key)
    assert not found.hit
    body = figures(dataset, month, By.AGENCY).dashboard()
    computed = now()
    cache.store(dataset, key, found, body, 0.1, computed)
    again = cache.lookup(dataset, key, now=computed + timedelta(seconds=59))
    assert again.hit and again.body == body and again.computed_at == computed
    # a receipt now does not move the version: only the age ends the reuse
    received(dataset, at=datetime.now(VN_TZ), competent_agency=DEPT)
    dataset.commit()
    assert cache.lookup(dataset, key, now=computed + timedelta(seconds=59)).hit
    assert not cache.lookup(dataset, key, now=computed + timedelta(seconds=61)).hit


def test_figures_kept_while_a_period_was_open_are_not_its_closed_figures(dataset):
    march = MARCH
    while_open = cache.key_for("figures", march, "", (), now=datetime(2026, 3, 20, tzinfo=UTC),
                               open_max_age=timedelta(seconds=60))
    once_closed = cache.key_for("figures", march, "", (), now=datetime(2026, 5, 1, tzinfo=UTC),
                                open_max_age=timedelta(seconds=60))
    assert while_open.max_age is not None and once_closed.max_age is None
    assert while_open.digest() != once_closed.digest()
    found = cache.lookup(dataset, while_open)
    cache.store(dataset, while_open, found, {"stale": True}, 0.1)
    assert not cache.lookup(dataset, once_closed).hit
