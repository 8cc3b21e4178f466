"""The worked cases of shared/deadline_cases.md, imported, classified by the report."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from engine.lifecycle.models import Dossier
from engine.reports import Period, verdicts

NAMES = {1: "early", 2: "on_time", 3: "late", 4: "pending_within", 5: "pending_late"}
EXPECTED = {  # code: (due date, verdict) — from deadline_cases.md
    "case01-early": (date(2024, 11, 7), "early"),
    "case01-ontime": (date(2024, 11, 7), "on_time"),
    "case01-late": (date(2024, 11, 7), "late"),
    "case02": (date(2024, 11, 22), "on_time"),
    "case03": (date(2024, 9, 5), "early"),
    "case04": (date(2024, 2, 21), "late"),
    "case05": (date(2024, 5, 4), "late"),
    "case06a": (date(2026, 3, 12), "on_time"),
    "case06b": (date(2026, 3, 13), "on_time"),
    "case07a": (date(2025, 5, 6), "early"),
    "case07b": (date(2025, 4, 28), "on_time"),
    "case08": (date(2025, 2, 14), "on_time"),
    "case09a": (date(2025, 12, 11), "on_time"),
    "case09b": (date(2025, 12, 12), "on_time"),
    "case09c": (date(2025, 12, 15), "on_time"),
    "case10": (date(2026, 3, 10), "on_time"),
    "case11": (date(2026, 1, 5), "on_time"),
    "case12a": (date(2026, 1, 10), "late"),
    "case12b": (date(2026, 1, 8), "on_time"),
    "case13": (date(2026, 3, 19), "on_time"),
}


def test_every_deadline_case_is_due_and_classified_as_worked_out(dataset):
    dues = {d.code: d.due_date for d in dataset.exec(select(Dossier)).all()}
    got = {v.code: NAMES[v.cls] for v in verdicts(dataset, Period(date(2024, 1, 1),
                                                                   date(2026, 3, 31)))}
    for code, (due, verdict) in EXPECTED.items():
        assert dues[code] == due, code
        assert got[code] == verdict, code


def test_case_6c_is_due_the_monday_after_the_holidays(dataset):
    due = dataset.exec(select(Dossier.due_at).where(Dossier.code == "case06c")).one()
    from engine.timezone import to_local

    assert to_local(due).strftime("%Y-%m-%d %H:%M") == "2026-05-04 08:30"
