"""Irregularities an auditor wants flagged, each with the list of dossier codes behind it.

Scope: the dossiers of the period (received before its end and not ended before its start).
Most kinds read flags the clock and the lifecycle stored on the dossier when the event
happened; the receipt delay reads the audit trail; the replay check re-fires every stored event
through the shared state machine (:mod:`engine.lifecycle.consistency`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.lifecycle.consistency import find_inconsistencies
from engine.reports.period import Period
from engine.reports.sql import EV, D, json_text_contains
from engine.reports.verdict_sql import verdict_exprs

#: kind → Vietnamese label (the rule in brackets).
KINDS: dict[str, str] = {
    "supplement_repeated": "Yêu cầu bổ sung hồ sơ quá 1 lần (hướng dẫn phải một lần, đầy đủ)",
    "supplement_request_late": "Yêu cầu bổ sung sau 3 ngày làm việc kể từ ngày tiếp nhận "
                               "(ND 61 Điều 19(4))",
    "apology_late": "Thư xin lỗi gửi sau thời hạn (chậm nhất 1 ngày trước ngày hết hạn, T9)",
    "apology_repeated": "Xin lỗi, hẹn lại quá 1 lần (T9)",
    "result_before_last_step": "Có kết quả khi chưa xong bước xử lý cuối",
    "receipt_entered_late": "Tiếp nhận được nhập vào hệ thống muộn so với thời điểm tại quầy",
    "transfer_late": "Chuyển hồ sơ cho cơ quan giải quyết muộn (ND 61 Điều 18(2))",
    "events_do_not_replay": "Sự kiện lưu trữ không dẫn tới trạng thái đang lưu",
    "backdated": "Thao tác được ghi lùi thời điểm (hồ sơ giấy nhập sau; có lý do, người ghi)",
}


@dataclass(frozen=True, slots=True)
class AnomalySettings:
    #: A receipt recorded more than this after the counter time is flagged [I].
    receipt_entry_delay: timedelta = timedelta(hours=24)
    #: Run the state-machine replay check (reads every event of every dossier).
    check_replay: bool = True


@dataclass
class Anomalies:
    period: Period
    found: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.as_dict(),
                "anomalies": [{"kind": k, "label": KINDS[k], "count": len(self.found.get(k, [])),
                               "codes": self.found.get(k, [])} for k in KINDS]}


def anomalies(session: Session, period: Period, *, where: ColumnElement[bool] | None = None,
              settings: AnomalySettings | None = None) -> Anomalies:
    settings = settings or AnomalySettings()
    dialect = session.get_bind().dialect.name
    population = verdict_exprs(period, dialect).population
    if where is not None:
        population = and_(population, where)
    conditions = {
        "supplement_repeated": D.c.supplement_count > 1,
        "supplement_request_late": json_text_contains(D.c.flags, "supplement_request_late"),
        "apology_late": json_text_contains(D.c.flags, "apology_late"),
        "apology_repeated": (D.c.apology_count > 1)
        | json_text_contains(D.c.flags, "apology_repeated"),
        "result_before_last_step": json_text_contains(D.c.flags, "finished_before_last_step"),
        "transfer_late": json_text_contains(D.c.flags, "transfer_late"),
        "backdated": json_text_contains(D.c.flags, "backdated"),
    }
    out = Anomalies(period)
    for kind, condition in conditions.items():
        out.found[kind] = list(session.execute(
            select(D.c.code).where(population, condition).order_by(D.c.code)).scalars())
    if dialect == "sqlite":
        delay = (func.julianday(EV.c.recorded_at) - func.julianday(EV.c.at)) * 86400.0 \
            > settings.receipt_entry_delay.total_seconds()
    else:
        delay = EV.c.recorded_at - EV.c.at > settings.receipt_entry_delay
    out.found["receipt_entered_late"] = list(session.execute(
        select(D.c.code).select_from(D.join(EV, EV.c.dossier_id == D.c.id))
        .where(population, EV.c.action == "receive", EV.c.imported.is_(False), delay)
        .distinct().order_by(D.c.code)).scalars())
    out.found["events_do_not_replay"] = (
        _inconsistent(session, population) if settings.check_replay else [])
    return out


def _inconsistent(session: Session, population: ColumnElement[bool]) -> list[str]:
    found = {i.code for i in find_inconsistencies(session)}
    if not found:
        return []
    return list(session.execute(select(D.c.code).where(population, D.c.code.in_(sorted(found)))
                                .order_by(D.c.code)).scalars())
