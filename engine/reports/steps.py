"""Figures grouped by processing step: the hand-off rows of the control sheet (TT 01/2018
Art 13(2): each unit's time against its own budget), counted like dossiers.

For a step, *received* = hand-offs started in the period, *carried over* = started before and
not finished before it, *ended* = finished in the period split by the row's own classification
(written by the lifecycle when the step closes), *pending* = still open at the period end, late
when the step's due instant's local date is before the period's last day. *Withdrawn* and
*refused* count steps closed by those actions. Apology figures are those of the dossier of a
late step. Imported history has no step rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, case, func, literal, literal_column, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.grouping import key_labels
from engine.reports.period import Period
from engine.reports.sql import ST, D, date_param, json_text_contains, local_date
from engine.reports.totals import By, Figures, Group, Options, Totals
from engine.reports.verdict import (
    APOLOGY_IN_TIME,
    APOLOGY_LATE,
    APOLOGY_MISSING,
    CARRIED,
    DIRECT,
    EARLY,
    LATE,
    ON_TIME,
    ONLINE,
    PENDING_LATE,
    PENDING_WITHIN,
    POSTAL,
    Verdict,
    fold,
)


def _step_exprs(period: Period, dialect: str) -> dict[str, Any]:
    """The verdict parts of a hand-off row, as SQL (the codes of :mod:`engine.reports.verdict`)."""
    start, before = period.starts_at, period.ends_before
    finished_in = and_(ST.c.finished_at.is_not(None), ST.c.finished_at < before)
    cls = case(
        (finished_in, case((ST.c.classification == "early", literal(EARLY)),
                           (ST.c.classification == "late", literal(LATE)),
                           else_=literal(ON_TIME))),
        (or_(ST.c.due_at.is_(None),
             local_date(ST.c.due_at, dialect) >= date_param(period.end)),
         literal(PENDING_WITHIN)),
        else_=literal(PENDING_LATE))
    entry = case((ST.c.started_at < start, literal(CARRIED)),
                 (D.c.channel == "online", literal(ONLINE)),
                 (D.c.channel == "postal", literal(POSTAL)), else_=literal(DIRECT))
    end_kind = case((and_(finished_in, ST.c.outcome == "withdraw"), literal("withdrawn")),
                    (and_(finished_in, ST.c.outcome == "refuse"), literal("refused")),
                    (and_(finished_in, ST.c.outcome == "stop"), literal("stopped")),
                    else_=None)
    apology = case((D.c.apology_count == 0, literal(APOLOGY_MISSING)),
                   (json_text_contains(D.c.flags, "apology_late"), literal(APOLOGY_LATE)),
                   else_=literal(APOLOGY_IN_TIME))
    population = and_(ST.c.started_at < before,
                      or_(ST.c.finished_at.is_(None), ST.c.finished_at >= start))
    return {"cls": cls, "entry": entry, "end_kind": end_kind, "apology": apology,
            "population": population}


def step_figures(session: Session, period: Period, *, where: ColumnElement[bool] | None = None,
                 options: Options | None = None) -> Figures:
    """The figures grouped by step (``--by step``): one group per step of the control sheet."""
    options = options or Options()
    x = _step_exprs(period, session.get_bind().dialect.name)
    cols = (ST.c.step_id.label("r_key"), x["cls"].label("r_cls"), x["entry"].label("r_entry"),
            x["end_kind"].label("r_end"), x["apology"].label("r_apology"))
    query = (select(*cols, func.count().label("n"))
             .select_from(ST.join(D, D.c.id == ST.c.dossier_id)).where(x["population"])
             .group_by(*(literal_column(c.name) for c in cols)))
    if where is not None:
        query = query.where(where)
    groups: dict[str, Totals] = {}
    for row in session.execute(query):
        t = groups.setdefault(row.r_key, Totals())
        fold(t, row.r_cls, row.r_entry, row.r_end, row.r_cls in (EARLY, ON_TIME, PENDING_WITHIN),
              row.r_apology, row.n, options)
    total = Totals()
    for t in groups.values():
        total.add(t)
    labels = key_labels(session, By.STEP, groups)
    return Figures(period, By.STEP, total,
                   [Group(k, labels.get(k, k), groups[k]) for k in sorted(groups)], options)


def step_verdicts(session: Session, period: Period, *, key: str | None = None,
                  where: ColumnElement[bool] | None = None) -> Iterator[Verdict]:
    """One verdict per hand-off row; ``code`` is the dossier's (a dossier may appear twice
    when a step was sent back and done again)."""
    x = _step_exprs(period, session.get_bind().dialect.name)
    query = (select(D.c.code, ST.c.step_id, x["cls"].label("cls"), x["entry"].label("entry"),
                    x["end_kind"].label("end_kind"), x["apology"].label("apology"))
             .select_from(ST.join(D, D.c.id == ST.c.dossier_id)).where(x["population"])
             .order_by(D.c.code, ST.c.seq))
    if where is not None:
        query = query.where(where)
    if key is not None:
        query = query.where(ST.c.step_id == key)
    for row in session.execute(query.execution_options(yield_per=5000)):
        yield Verdict(row.code, row.step_id, row.cls, row.entry, row.end_kind, False,
                      row.apology, row.cls in (EARLY, ON_TIME, PENDING_WITHIN))
