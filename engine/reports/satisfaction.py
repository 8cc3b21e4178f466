"""Satisfaction (*mức độ hài lòng*, issue 16): the applicants' ratings after return per agency
and per procedure, and QĐ 766 criterion 5.4. Definitions and marks in ``docs/reports.md``
("Satisfaction and QĐ 766 5.4"); the ratings themselves: :mod:`engine.ratings`.

- The ratings of a period are those *given* in it (``rated_at``, server clock), grouped by the
  rated dossier's competent agency, procedure … like the other figures, within the reader's
  scope (a condition on the dossier).
- 5.4 = 100 % − (late-dossier rate + rate of dossiers with complaints or "dislike"), over the
  dossiers of criterion 2.1 (ended in the period or pending at its end: ``ended + pending``):
  late = not on time in the 2.1 sense (``ended + pending − on_time_766``); dislike = a rating
  ≤ ``MOTCUA_RATING_DISLIKE_MAX`` (default 2) given by the period end [I]. The system records
  no complaints (*phản ánh, kiến nghị*), so only dislikes count [I]. A dossier both late and
  disliked counts in both rates, as the formula adds them; the result is kept ≥ 0 [I].
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, and_, cast, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.ratings import REASONS, Rating, dislike_max
from engine.reports.drilldown import verdicts
from engine.reports.figures import figures
from engine.reports.grouping import group_key, key_labels
from engine.reports.period import Period
from engine.reports.sql import D
from engine.reports.totals import By, Options, Totals
from engine.reports.verdict import ENDED_CODES, Verdict

R = Rating.__table__
#: How many reasons the dashboard shows per group.
TOP_REASONS = 3


def indicator_5_4(population: int, late: int, disliked: int) -> float | None:
    """QĐ 766 criterion 5.4 as a fraction: 1 − (late / population + disliked / population),
    not below 0; None without dossiers. Pure: the SQL side only supplies the counts."""
    if population <= 0:
        return None
    return max(0.0, 1.0 - (late + disliked) / population)


@dataclass
class Satisfaction:
    """The ratings of one group and its 5.4 counts."""

    count: int = 0
    score_sum: int = 0
    satisfied: int = 0  # score ≥ 4
    disliked: int = 0  # score ≤ the dislike setting (ratings given in the period)
    reasons: Counter = field(default_factory=Counter)
    population_766: int = 0  # ended + pending (QĐ 766 2.1)
    late_766: int = 0  # … not on time in the 2.1 sense
    disliked_766: int = 0  # … with a dislike given by the period end

    @property
    def average(self) -> float | None:
        return self.score_sum / self.count if self.count else None

    @property
    def satisfied_rate(self) -> float | None:
        return self.satisfied / self.count if self.count else None

    @property
    def indicator_5_4(self) -> float | None:
        return indicator_5_4(self.population_766, self.late_766, self.disliked_766)

    def top_reasons(self, n: int = TOP_REASONS) -> list[dict[str, Any]]:
        ranked = sorted(self.reasons.items(), key=lambda item: (-item[1], item[0]))[:n]
        return [{"code": c, "label": REASONS.get(c, c), "count": k} for c, k in ranked]

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "average": self.average, "satisfied": self.satisfied,
                "satisfied_rate": self.satisfied_rate, "disliked": self.disliked,
                "top_reasons": self.top_reasons(), "population_766": self.population_766,
                "late_766": self.late_766, "disliked_766": self.disliked_766,
                "indicator_5_4": self.indicator_5_4}


@dataclass
class SatisfactionGroup:
    key: str
    label: str
    satisfaction: Satisfaction


@dataclass
class SatisfactionReport:
    period: Period
    by: By
    dislike_max: int
    totals: Satisfaction
    groups: list[SatisfactionGroup] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.as_dict(), "by": self.by.value,
                "dislike_max": self.dislike_max, "totals": self.totals.as_dict(),
                "groups": [{"key": g.key, "label": g.label,
                            "satisfaction": g.satisfaction.as_dict()} for g in self.groups]}


def _given_in(period: Period) -> ColumnElement[bool]:
    return and_(R.c.rated_at >= period.starts_at, R.c.rated_at < period.ends_before)


def _ratings(session: Session, period: Period, by: By, where: ColumnElement[bool] | None,
             worst: int, groups: dict[str, Satisfaction]) -> None:
    """Add the ratings given in the period, one grouped scan by (key, score, reasons): a few
    rows per group whatever the number of ratings."""
    dialect = session.get_bind().dialect.name
    key, frm = group_key(by, dialect)
    reasons = cast(R.c.reasons, String)
    query = (select(key.label("k"), R.c.score, reasons.label("reasons"), func.count())
             .select_from(frm.join(R, R.c.dossier_id == D.c.id))
             .where(_given_in(period)))
    query = query.group_by(*((key,) if by is not By.NONE else ()), R.c.score, reasons)
    if where is not None:
        query = query.where(where)
    for k, score, codes, n in session.execute(query):
        s = groups.setdefault(k or "", Satisfaction())
        s.count += n
        s.score_sum += score * n
        s.satisfied += n if score >= 4 else 0
        s.disliked += n if score <= worst else 0
        for code in json.loads(codes or "[]"):
            s.reasons[code] += n


def disliked_766(session: Session, period: Period, by: By | str = By.NONE, *,
                 key: str | None = None, where: ColumnElement[bool] | None = None,
                 options: Options | None = None, worst: int | None = None,
                 ) -> dict[str, Verdict]:
    """The dossiers of criterion 2.1's population (ended in the period or pending at its end,
    judged like the figures) with a dislike given by the period end, by code. Only the
    disliked dossiers are judged: the rating narrows the verdicts' scan."""
    options = options or Options()
    worst = dislike_max() if worst is None else worst
    disliked = D.c.id.in_(select(R.c.dossier_id).where(
        R.c.score <= worst, R.c.rated_at < period.ends_before))
    scope = disliked if where is None else and_(where, disliked)
    return {v.code: v for v in verdicts(session, period, by, key=key, where=scope)
            if options.withdrawn_counts_as_ended
            or not (v.cls in ENDED_CODES and v.end_kind == "withdrawn")}


def satisfaction(session: Session, period: Period, by: By | str = By.AGENCY, *,
                 where: ColumnElement[bool] | None = None, options: Options | None = None,
                 worst: int | None = None) -> SatisfactionReport:
    """The ratings given in ``period`` and QĐ 766 5.4, grouped ``by`` (not by step)."""
    by, options = By(by), options or Options()
    if by is By.STEP:
        raise ValueError("mức độ hài lòng không tính theo bước xử lý")
    worst = dislike_max() if worst is None else worst
    groups: dict[str, Satisfaction] = {}
    _ratings(session, period, by, where, worst, groups)
    fig = figures(session, period, by, where=where, options=options)
    per_key: dict[str, Totals] = ({"": fig.totals} if by is By.NONE
                                  else {g.key: g.totals for g in fig.groups})
    for k, t in per_key.items():
        s = groups.setdefault(k, Satisfaction())
        s.population_766 = t.ended + t.pending
        s.late_766 = s.population_766 - t.on_time_766
    for v in disliked_766(session, period, by, where=where, options=options,
                          worst=worst).values():
        groups.setdefault(v.key, Satisfaction()).disliked_766 += 1
    total = Satisfaction()
    for s in groups.values():
        for name in ("count", "score_sum", "satisfied", "disliked", "population_766",
                     "late_766", "disliked_766"):
            setattr(total, name, getattr(total, name) + getattr(s, name))
        total.reasons.update(s.reasons)
    if by is By.NONE:
        return SatisfactionReport(period, by, worst, total)
    labels = key_labels(session, by, groups)
    return SatisfactionReport(period, by, worst, total,
                              [SatisfactionGroup(k, labels.get(k, k), groups[k])
                               for k in sorted(groups)])


#: Figures :func:`behind_satisfaction` lists.
SATISFACTION_FIGURES = ("rated", "disliked", "disliked_766")


def behind_satisfaction(session: Session, period: Period, figure: str, *,
                        by: By | str = By.NONE, key: str | None = None,
                        where: ColumnElement[bool] | None = None,
                        options: Options | None = None) -> dict[str, Verdict]:
    """The dossiers behind a satisfaction figure: ``rated`` (rated in the period),
    ``disliked`` (of which a dislike), ``disliked_766`` (the 5.4 numerator's dislikes)."""
    by = By(by)
    if figure not in SATISFACTION_FIGURES:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join(SATISFACTION_FIGURES)}")
    if by is By.STEP:
        raise ValueError("mức độ hài lòng không tính theo bước xử lý")
    if figure == "disliked_766":
        return disliked_766(session, period, by, key=key, where=where, options=options)
    dialect = session.get_bind().dialect.name
    key_expr, frm = group_key(by, dialect)
    query = (select(D.c.code, key_expr.label("k"), D.c.end_kind)
             .select_from(frm.join(R, R.c.dossier_id == D.c.id)).where(_given_in(period))
             .order_by(D.c.code))
    if figure == "disliked":
        query = query.where(R.c.score <= dislike_max())
    if where is not None:
        query = query.where(where)
    if key is not None:
        query = query.where(key_expr == key)
    return {row.code: Verdict(row.code, row.k or "", -1, "", row.end_kind, False, "", False)
            for row in session.execute(query)}
