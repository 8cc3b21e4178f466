"""Scoring schemes: pluggable ways to score dossiers, officers and agencies.

``tt01_2018`` is Thông tư 01/2018/TT-VPCP Arts 13–15 (domain §6.1 [V]): nine indicators scored
2 / 1 / 0; an indicator's score is the mean over the dossiers that have it, rounded to one
decimal; the total is the sum; indicators without enough data are left out (Art 15(2)).
Whether TT 03/2025 keeps this scoring is unknown (domain §8 item 3) [?]: hence a scheme that
can be replaced by registering another one in :data:`SCHEMES`.

What the data allows (the rest is left out, as the article says) [I]:

1. total processing time vs the legal limit — early 2, on time 1, late 0;
2. each unit's time vs its own budget — from the control sheet: every step early 2, none late 1,
   any late 0; left out for dossiers without hand-off rows (imported history);
3. contacts to complete the dossier — no supplement request 2, one 1, more 0;
4. agencies contacted — online dossier 2 (none), otherwise 1 (only the one-stop unit); the
   system cannot see other contacts, so 0 is never given;
5. scope of work done at the one-stop unit — no data, left out;
6. publication of procedures — no data, left out;
7. attitude — no complaint data: early 2, on time 1, late 0;
8. handling of feedback — no data, left out;
9. online public services (unit) — share of online dossiers received ≥ 30 % and no online
   dossier late 2; ≥ 15 % and none late 1; otherwise 0 (the share of procedures offered online
   is not in the data).

Scored dossiers: those whose processing ended in the period by a result or a refusal
(withdrawn and stopped dossiers end at the applicant's request and are not scored) [I].
Grades (Art 15(3)): officers ≥ 5 → 100 % of tasks, 3.5–< 5 → 70 % to < 100 %, < 3.5 → below
70 %; agencies ≥ 15 xuất sắc, 12–< 15 tốt, 9–< 12 khá, 6–< 9 trung bình, < 6 yếu. With four
indicators out of nine missing, an agency's total cannot reach "xuất sắc": the report says how
many indicators were scored.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.period import Period
from engine.reports.sql import ST, D
from engine.reports.verdict import EARLY, ENDED_CODES, LATE, ON_TIME, REPLAY
from engine.reports.verdict_sql import verdict_exprs

INDICATORS = {
    1: "Thời gian giải quyết so với quy định",
    2: "Thời gian thực hiện của từng cơ quan, đơn vị so với quy định",
    3: "Số lần liên hệ với nơi tiếp nhận để hoàn thiện hồ sơ",
    4: "Số lượng cơ quan, đơn vị phải liên hệ",
    5: "Phạm vi giải quyết tại Bộ phận Một cửa",
    6: "Công khai thủ tục hành chính",
    7: "Thái độ của cán bộ",
    8: "Tiếp nhận, xử lý phản ánh, kiến nghị",
    9: "Cung cấp dịch vụ công trực tuyến",
}


@dataclass
class Score:
    """Indicator scores of one officer or agency (means, one decimal) and its grade."""

    key: str
    dossiers: int
    indicators: dict[int, float]
    total: float
    grade: str

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "dossiers": self.dossiers,
                "indicators": {str(k): v for k, v in sorted(self.indicators.items())},
                "indicators_scored": len(self.indicators), "total": self.total,
                "grade": self.grade}


@dataclass
class ScoreReport:
    scheme: str
    period: Period
    officers: list[Score] = field(default_factory=list)
    agencies: list[Score] = field(default_factory=list)
    dossiers: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"scheme": self.scheme, "period": self.period.as_dict(),
               "indicators": {str(k): v for k, v in INDICATORS.items()},
               "officers": [s.as_dict() for s in self.officers],
               "agencies": [s.as_dict() for s in self.agencies]}
        if self.dossiers is not None:
            out["dossiers"] = self.dossiers
        return out


class ScoringScheme(Protocol):
    name: str
    title: str

    def score(self, session: Session, period: Period, *,
              where: ColumnElement[bool] | None = None,
              include_dossiers: bool = False) -> ScoreReport: ...


def officer_grade(total: float) -> str:
    if total >= 5:
        return "Hoàn thành 100% nhiệm vụ"
    if total >= 3.5:
        return "Hoàn thành từ 70% đến dưới 100% nhiệm vụ"
    return "Hoàn thành dưới 70% nhiệm vụ"


def agency_grade(total: float) -> str:
    for threshold, grade in ((15, "Xuất sắc"), (12, "Tốt"), (9, "Khá"), (6, "Trung bình")):
        if total >= threshold:
            return grade
    return "Yếu"


class _Sums:
    def __init__(self) -> None:
        self.n = 0
        self.sums: dict[int, int] = defaultdict(int)
        self.counts: dict[int, int] = defaultdict(int)

    def add(self, scores: dict[int, int]) -> None:
        self.n += 1
        for k, v in scores.items():
            self.sums[k] += v
            self.counts[k] += 1

    def means(self) -> dict[int, float]:
        return {k: round(self.sums[k] / self.counts[k] + 1e-9, 1) for k in sorted(self.sums)}


class Tt01Scheme:
    name = "tt01_2018"
    title = "Thông tư 01/2018/TT-VPCP, Điều 13–15"

    def dossier_scores(self, session: Session, period: Period, *,
                       where: ColumnElement[bool] | None = None) -> Iterator[dict[str, Any]]:
        """Per scored dossier: code, officer, agency, and indicators 1, 2, 3, 4, 7."""
        x = verdict_exprs(period, session.get_bind().dialect.name)
        worst = (select(func.max(case((ST.c.classification == "late", literal(3)),
                                      (ST.c.classification == "on_time", literal(2)),
                                      (ST.c.classification == "early", literal(1)),
                                      else_=None)))
                 .where(ST.c.dossier_id == D.c.id).scalar_subquery())
        query = (select(D.c.code, D.c.assignee, D.c.competent_agency, D.c.channel,
                        D.c.supplement_count, x.cls.label("cls"), worst.label("worst"))
                 .where(x.population, x.cls.in_(ENDED_CODES), x.cls != REPLAY,
                        D.c.end_kind.in_(("result_ready", "returned", "refused")))
                 .order_by(D.c.code))
        if where is not None:
            query = query.where(where)
        for row in session.execute(query.execution_options(yield_per=5000)):
            timing = {EARLY: 2, ON_TIME: 1, LATE: 0}[row.cls]
            scores = {1: timing, 3: 2 if row.supplement_count == 0 else
                      1 if row.supplement_count == 1 else 0,
                      4: 2 if row.channel == "online" else 1, 7: timing}
            if row.worst is not None:
                scores[2] = {1: 2, 2: 1, 3: 0}[row.worst]
            yield {"code": row.code, "officer": row.assignee or "",
                   "agency": row.competent_agency, "indicators": scores,
                   "total": sum(scores.values())}

    def online_indicator(self, session: Session, period: Period, *,
                         where: ColumnElement[bool] | None = None) -> dict[str, int]:
        """Indicator 9 per agency: online share of dossiers received, and no online one late."""
        x = verdict_exprs(period, session.get_bind().dialect.name)
        received = and_(D.c.received_at >= period.starts_at)
        query = (select(D.c.competent_agency,
                        func.sum(case((received, 1), else_=0)).label("received"),
                        func.sum(case((and_(received, D.c.channel == "online"), 1),
                                      else_=0)).label("online"),
                        func.sum(case((and_(D.c.channel == "online",
                                            x.cls.in_((LATE, 5))), 1),
                                      else_=0)).label("online_late"))
                 .where(x.population).group_by(D.c.competent_agency))
        if where is not None:
            query = query.where(where)
        out = {}
        for row in session.execute(query):
            share = (row.online or 0) / row.received if row.received else 0.0
            none_late = not row.online_late
            out[row.competent_agency] = (2 if share >= 0.30 and none_late else
                                         1 if share >= 0.15 and none_late else 0)
        return out

    def score(self, session: Session, period: Period, *,
              where: ColumnElement[bool] | None = None,
              include_dossiers: bool = False) -> ScoreReport:
        officers: dict[str, _Sums] = defaultdict(_Sums)
        agencies: dict[str, _Sums] = defaultdict(_Sums)
        kept: list[dict[str, Any]] | None = [] if include_dossiers else None
        for d in self.dossier_scores(session, period, where=where):
            officers[d["officer"]].add(d["indicators"])
            agencies[d["agency"]].add(d["indicators"])
            if kept is not None:
                kept.append({**d, "indicators": {str(k): v for k, v in
                                                 sorted(d["indicators"].items())}})
        online = self.online_indicator(session, period, where=where)
        report = ScoreReport(self.name, period, dossiers=kept)
        for key, sums in sorted(officers.items()):
            means = sums.means()
            total = round(sum(means.values()), 1)
            report.officers.append(Score(key, sums.n, means, total, officer_grade(total)))
        for key, sums in sorted(agencies.items()):
            means = sums.means()
            if key in online:
                means[9] = float(online[key])
            total = round(sum(means.values()), 1)
            report.agencies.append(Score(key, sums.n, means, total, agency_grade(total)))
        return report


SCHEMES: dict[str, ScoringScheme] = {Tt01Scheme.name: Tt01Scheme()}


def get_scheme(name: str) -> ScoringScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"không có cách chấm điểm {name!r}; có: {', '.join(SCHEMES)}") from None
