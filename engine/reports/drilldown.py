"""The drill-down: every dossier behind a figure, from the same per-dossier verdicts as the
figures (the SQL verdict of :mod:`engine.reports.verdict_sql`, the replayed ones of
:mod:`engine.reports.judge`, the hand-off rows of :mod:`engine.reports.steps`), so a listed
dossier count always equals the figure (tested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.clock import Classification
from engine.reports.grouping import group_key
from engine.reports.judge import replayed
from engine.reports.period import Period
from engine.reports.reached import reached_clause, with_apology
from engine.reports.sql import D
from engine.reports.steps import step_verdicts
from engine.reports.totals import By, Options
from engine.reports.verdict import (
    APOLOGY_IN_TIME,
    APOLOGY_LATE,
    APOLOGY_MISSING,
    CARRIED,
    CLS_CODE,
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
    return sorted(behind(session, period, figure, by=by, key=key, where=where,
                         options=options))


def behind(session: Session, period: Period, figure: str, *, by: By | str = By.NONE,
           key: str | None = None, where: ColumnElement[bool] | None = None,
           options: Options | None = None) -> dict[str, Verdict]:
    """The verdicts behind one figure by dossier code: :func:`drill`'s codes, with what
    :func:`describe` needs to say how each dossier was judged."""
    predicates = _figure_predicates(options or Options())
    if figure not in predicates:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join(predicates)}")
    test = predicates[figure]
    if figure == "apology_reached":  # the outbox decides: only those dossiers are judged
        clause = reached_clause(period, session.get_bind().dialect.name, options or Options())
        where = clause if where is None else and_(where, clause)
    return {v.code: v for v in verdicts(session, period, by, key=key, where=where) if test(v)}


# ----- the list for people -------------------------------------------------------------------

_CLASSIFICATION = {code: c for c, code in CLS_CODE.items()}


@dataclass(frozen=True, slots=True)
class DrillRow:
    """One dossier of a drill-down list as an auditor reads it: who applied for what, when it
    was received, due (the legal date, the one judged against) and ended, and the verdict
    (:class:`engine.clock.Classification`; ``end_kind`` says a withdrawal, refusal or stop)."""

    code: str
    applicant: str
    procedure: str
    procedure_name: str
    received_at: datetime | None
    due: date | None
    ended_at: datetime | None
    end_kind: str | None
    verdict: Classification | None

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "applicant": self.applicant, "procedure": self.procedure,
                "procedure_name": self.procedure_name, "received_at": self.received_at,
                "due": self.due, "ended_at": self.ended_at, "end_kind": self.end_kind,
                "verdict": self.verdict}


def describe(session: Session, found: Mapping[str, Verdict], *,
             limit: int | None = None) -> list[DrillRow]:
    """The first ``limit`` dossiers of ``found`` (by code) with their names and dates, read in
    batches of codes (a figure can stand for many thousand dossiers; the page shows a few
    hundred, the codes are all in :func:`drill`)."""
    codes = sorted(found)[:limit]
    stored: dict[str, object] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start:start + 500]
        query = (select(D.c.code, D.c.applicant_name, D.c.procedure_code, D.c.procedure_name,
                        D.c.received_at, D.c.due_date, D.c.ended_at, D.c.end_kind)
                 .where(D.c.code.in_(chunk)))
        stored.update((row.code, row) for row in session.execute(query))
    rows = []
    for code in codes:
        row, verdict = stored.get(code), found[code]
        if row is None:  # gone since the scan (deleted by a restore): skip, never invent
            continue
        rows.append(DrillRow(code, row.applicant_name or "", row.procedure_code,
                             row.procedure_name or "", row.received_at, row.due_date,
                             row.ended_at, verdict.end_kind or row.end_kind,
                             _CLASSIFICATION.get(verdict.cls)))
    return rows


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
        # narrowed by reached_clause in :func:`behind`: delivered to the applicant
        "apology_reached": lambda v: with_apology(v, counted),
    }


#: The figure names :func:`drill` accepts (the API and the CLI validate against them).
FIGURES = tuple(_figure_predicates(Options()))
