"""The drill-down: every dossier behind a figure, from the same per-dossier verdicts as the
figures (the SQL verdict of :mod:`engine.reports.verdict_sql`, the replayed ones of
:mod:`engine.reports.judge`, the hand-off rows of :mod:`engine.reports.steps`), so a listed
dossier count always equals the figure (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.grouping import group_key
from engine.reports.judge import replayed
from engine.reports.period import Period
from engine.reports.sql import D
from engine.reports.steps import step_verdicts
from engine.reports.totals import By, Options
from engine.reports.verdict import (
    APOLOGY_IN_TIME,
    APOLOGY_LATE,
    APOLOGY_MISSING,
    CARRIED,
    DIRECT,
    EARLY,
    ENDED_CODES,
    LATE,
    ON_TIME,
    ONLINE,
    PENDING_LATE,
    PENDING_WITHIN,
    POSTAL,
    REPLAY,
    Verdict,
)
from engine.reports.verdict_sql import verdict_exprs


def verdicts(session: Session, period: Period, by: By | str = By.NONE, *,
             key: str | None = None, where: ColumnElement[bool] | None = None,
             ) -> Iterator[Verdict]:
    """Every dossier of the period with its verdict (streamed; for drill-down and checks)."""
    by = By(by)
    if by is By.STEP:
        yield from step_verdicts(session, period, key=key, where=where)
        return
    dialect = session.get_bind().dialect.name
    x = verdict_exprs(period, dialect)
    key_expr, frm = group_key(by, dialect)
    query = (select(D.c.code, key_expr.label("key"), x.cls.label("cls"),
                    x.entry.label("entry"), x.end_kind.label("end_kind"),
                    x.over_one_supplement.label("over1"), x.apology.label("apology"))
             .select_from(frm).where(x.population).order_by(D.c.code))
    if where is not None:
        query = query.where(where)
    if key is not None:
        query = query.where(key_expr == key)
    for row in session.execute(query.execution_options(yield_per=5000)):
        if row.cls == REPLAY:
            continue
        yield Verdict(row.code, row.key, row.cls, row.entry, row.end_kind, bool(row.over1),
                      row.apology, row.cls in (EARLY, ON_TIME, PENDING_WITHIN) and not row.over1)
    for row, key_value, entry, (cls, ok766, apology, end_kind) in replayed(
            session, period, by, where, key):
        yield Verdict(row.code, key_value, cls, entry, end_kind, False, apology, ok766,
                      replayed=True)


def drill(session: Session, period: Period, figure: str, *, by: By | str = By.NONE,
          key: str | None = None, where: ColumnElement[bool] | None = None,
          options: Options | None = None) -> list[str]:
    """The dossier codes behind one figure (of one group when ``key`` is given), sorted."""
    predicates = _figure_predicates(options or Options())
    if figure not in predicates:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join(predicates)}")
    test = predicates[figure]
    return sorted({v.code for v in verdicts(session, period, by, key=key, where=where)
                   if test(v)})


def _figure_predicates(options: Options) -> dict[str, Callable[[Verdict], bool]]:
    """Figure names accepted by :func:`drill`, each a predicate on a :class:`Verdict` — the
    same counting rules as :func:`engine.reports.verdict.fold`, one dossier at a time."""
    def counted(v: Verdict) -> bool:  # in ended/pending/rates
        return options.withdrawn_counts_as_ended or not (
            v.cls in ENDED_CODES and v.end_kind == "withdrawn")

    late = lambda v: v.cls in (LATE, PENDING_LATE) and counted(v)  # noqa: E731
    return {
        "received": lambda v: v.entry != CARRIED,
        "received_online": lambda v: v.entry == ONLINE,
        "received_direct": lambda v: v.entry == DIRECT,
        "received_postal": lambda v: v.entry == POSTAL,
        "carried_over": lambda v: v.entry == CARRIED,
        "total_in": lambda v: True,
        "ended": lambda v: v.cls in ENDED_CODES and counted(v),
        "ended_early": lambda v: v.cls == EARLY and counted(v),
        "ended_on_time": lambda v: v.cls == ON_TIME and counted(v),
        "ended_late": lambda v: v.cls == LATE and counted(v),
        "pending": lambda v: v.cls in (PENDING_WITHIN, PENDING_LATE),
        "pending_within": lambda v: v.cls == PENDING_WITHIN,
        "pending_late": lambda v: v.cls == PENDING_LATE,
        "withdrawn": lambda v: v.cls in ENDED_CODES and v.end_kind == "withdrawn",
        "refused": lambda v: v.cls in ENDED_CODES and v.end_kind == "refused",
        "stopped": lambda v: v.cls in ENDED_CODES and v.end_kind == "stopped",
        "on_time_766": lambda v: v.on_time_766 and counted(v),
        "not_on_time_766": lambda v: not v.on_time_766 and counted(v),
        "late_any": late,
        "apology_in_time": lambda v: late(v) and v.apology == APOLOGY_IN_TIME,
        "apology_late": lambda v: late(v) and v.apology == APOLOGY_LATE,
        "apology_missing": lambda v: late(v) and v.apology == APOLOGY_MISSING,
    }


#: The figure names :func:`drill` accepts (the API and the CLI validate against them).
FIGURES = tuple(_figure_predicates(Options()))
