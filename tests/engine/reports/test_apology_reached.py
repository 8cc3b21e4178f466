"""The apology figure gains "reached the applicant" (issue 16): of the late dossiers with an
apology, those whose apology message to the applicant (e-mail or SMS webhook) was delivered by
the period end. On the fixed dataset (both databases): one apology reached (its e-mail
delivered), one not (its e-mail dead after failing, its SMS still pending), one late dossier
without apology; drill-down lists exactly the counted dossiers."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from engine.outbox import Channel, DeliveryState, Draft, OutboxMessage, enqueue
from engine.reports.exports import FLAT_COLUMNS, FLAT_LABELS, to_csv
from engine.reports.figures import By, Options, drill, figures
from engine.reports.period import Period
from engine.reports.snapshots import compose, day_figures, snapshot_agencies

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


def apology_message(session, code: str, channel: Channel, recipient: str, state: DeliveryState,
                    delivered: datetime | None = None) -> None:
    """The apology message as the lifecycle writes it and a worker leaves it."""
    draft = Draft(kind="apology_sent", channel=channel, recipient=recipient,
                  subject=f"Hồ sơ {code}: xin lỗi và hẹn lại ngày trả kết quả", body="…",
                  dossier_code=code, rung="event-2")
    enqueue(session, [draft], at=datetime(2026, 3, 4, 3, 0, tzinfo=UTC))
    table = OutboxMessage.__table__
    session.connection().execute(update(table).where(table.c.key == draft.key).values(
        state=state.value, delivered_at=delivered,
        last_error=None if state is DeliveryState.DELIVERED else "HTTP 500"))


def messages(session, *, delivered_at=datetime(2026, 3, 4, 3, 5, tzinfo=UTC)) -> None:
    apology_message(session, "m-apology-in-time", Channel.EMAIL, "a@example.vn",
                    DeliveryState.DELIVERED, delivered_at)
    apology_message(session, "m-apology-late", Channel.EMAIL, "b@example.vn",
                    DeliveryState.DEAD)
    apology_message(session, "m-apology-late", Channel.WEBHOOK, "sms:0912345678",
                    DeliveryState.PENDING)
    # the returning counter's in-app copy, delivered: not the applicant
    apology_message(session, "m-apology-late", Channel.IN_APP, "clerk1",
                    DeliveryState.DELIVERED, datetime(2026, 3, 5, 3, 5, tzinfo=UTC))
    session.commit()


def test_one_reached_one_failed_one_missing(dataset):
    before = figures(dataset, MARCH).totals
    assert (before.apology_in_time, before.apology_late, before.apology_reached) == (1, 1, 0)
    messages(dataset)
    t = figures(dataset, MARCH).totals
    assert (t.apology_in_time, t.apology_late, t.apology_missing) == (1, 1, 5)
    assert t.apology_reached == 1
    assert t.dashboard()["apology"] == {"in_time": 1, "late": 1, "missing": 5, "reached": 1}
    assert drill(dataset, MARCH, "apology_reached") == ["m-apology-in-time"]


def test_reached_is_drillable_per_group_and_adds_up(dataset):
    messages(dataset)
    for by in (By.AGENCY, By.PROCEDURE, By.CHANNEL, By.STEP):
        fig = figures(dataset, MARCH, by)
        assert sum(g.totals.apology_reached for g in fig.groups) == fig.totals.apology_reached
        for group in fig.groups:
            codes = drill(dataset, MARCH, "apology_reached", by=by, key=group.key)
            assert len(codes) == group.totals.apology_reached, (by, group.key)


def test_a_delivery_after_the_period_or_the_due_date_does_not_count(dataset):
    messages(dataset, delivered_at=datetime(2026, 3, 6, 3, 0, tzinfo=UTC))  # after due 05/03
    assert figures(dataset, MARCH).totals.apology_reached == 1  # any delivery by the end
    by_due = Options(apology_reached_by_due=True)
    assert figures(dataset, MARCH, options=by_due).totals.apology_reached == 0
    assert drill(dataset, MARCH, "apology_reached", options=by_due) == []
    early_march = Period(date(2026, 3, 1), date(2026, 3, 5))  # ends before the delivery
    assert figures(dataset, early_march).totals.apology_reached == 0


def test_exports_and_daily_snapshots_carry_the_figure(dataset):
    messages(dataset)
    assert "apology_reached" in FLAT_COLUMNS
    assert FLAT_LABELS["apology_reached"] == "Thư xin lỗi đã đến người nộp"
    header, *rows = to_csv(figures(dataset, MARCH)).splitlines()
    column = header.split(",").index("apology_reached")
    assert rows[-1].split(",")[column] == "1"
    days = []
    for day in range(1, 32):
        period = Period(date(2026, 3, day), date(2026, 3, day))
        record = {}
        for agency in snapshot_agencies(dataset):
            figures_of_day, _ = day_figures(dataset, period, agency)
            for name, value in figures_of_day.items():
                record[name] = record.get(name, 0) + value
        days.append(record)
    assert compose(days).apology_reached == figures(dataset, MARCH).totals.apology_reached
