"""Reports for the dashboard: figures, drill-down, charts, processing time, responsibility,
anomalies and scoring. Auditors (their granted agencies) and leaders (their agency) only,
scoped in SQL exactly like the dossier list (``engine.lifecycle.visibility.visible_to``).

``GET /api/v1/reports`` returns the dashboard document, a contract:
``{"period": {"from", "to"}, "totals": {…}, "groups": [{"key", "totals"}]}``; every answer's
shape is declared in ``service/api/schemas/reports.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from engine.lifecycle.visibility import visible_to
from engine.reports.figures import FIGURES, By, Options, drill, figures
from engine.reports.period import SUPPORTED_FIRST, SUPPORTED_LAST, Period, PeriodOutOfRange
from engine.users import Role, User
from service.api.schemas.reports import (
    Anomalies,
    Charts,
    Dashboard,
    Drill,
    ProcessingTime,
    Responsibility,
    Scoring,
)
from service.deps import SessionDep, require_roles
from service.problems import Problem

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
Reader = Annotated[User, Depends(require_roles(Role.AUDITOR, Role.LEADER))]
MAX_DAYS = 366 * 5


def _period(date_from: date, date_to: date) -> Period:
    if date_to < date_from:
        raise Problem(422, "validation", "Ngày cuối kỳ phải sau ngày đầu kỳ.",
                      errors=[{"field": "to", "message": "trước 'from'"}])
    try:
        period = Period(date_from, date_to)
    except PeriodOutOfRange as exc:
        raise Problem(422, "period-out-of-range", str(exc).capitalize() + ".",
                      supported={"from": SUPPORTED_FIRST.isoformat(),
                                 "to": SUPPORTED_LAST.isoformat()},
                      errors=[{"field": "from", "message": str(exc)}]) from None
    if date_to - date_from > timedelta(days=MAX_DAYS):
        raise Problem(422, "validation", "Kỳ báo cáo tối đa 5 năm.",
                      errors=[{"field": "to", "message": "kỳ quá dài"}])
    return period


From = Annotated[date, Query(alias="from", description="Ngày đầu kỳ (YYYY-MM-DD)")]
To = Annotated[date, Query(alias="to", description="Ngày cuối kỳ (YYYY-MM-DD)")]


@router.get("", summary="Số liệu giải quyết TTHC của kỳ (bảng điều khiển)")
def dashboard(session: SessionDep, user: Reader, date_from: From, date_to: To,
              by: By = By.NONE, withdrawn_separate: bool = False) -> Dashboard:
    period = _period(date_from, date_to)
    return Dashboard.model_validate(figures(
        session, period, by, where=visible_to(session, user),
        options=Options(withdrawn_counts_as_ended=not withdrawn_separate)).dashboard())


@router.get("/drill", summary="Danh sách mã hồ sơ của một chỉ tiêu")
def drill_down(session: SessionDep, user: Reader, date_from: From, date_to: To,
               figure: Annotated[str, Query(description=", ".join(FIGURES))],
               by: By = By.NONE, key: Annotated[str | None, Query(max_length=255)] = None,
               withdrawn_separate: bool = False) -> Drill:
    period = _period(date_from, date_to)
    if figure not in FIGURES:
        raise Problem(422, "validation", f"Chỉ tiêu không hợp lệ: {figure}.",
                      errors=[{"field": "figure", "message": "không hợp lệ"}])
    codes = drill(session, period, figure, by=by, key=key, where=visible_to(session, user),
                  options=Options(withdrawn_counts_as_ended=not withdrawn_separate))
    return Drill(period=period.as_dict(), figure=figure, by=by.value, key=key,
                 count=len(codes), codes=codes)


@router.get("/charts", summary="Dữ liệu biểu đồ: tỷ lệ đúng hạn theo tháng và theo cơ quan")
def charts(session: SessionDep, user: Reader, date_from: From, date_to: To) -> Charts:
    from engine.reports.exports import chart_data
    from engine.reports.snapshots import viewer_scope

    return Charts.model_validate(chart_data(session, _period(date_from, date_to),
                                            where=visible_to(session, user),
                                            scope=viewer_scope(session, user)))


@router.get("/processing-time", summary="Thời gian giải quyết trung bình theo thủ tục")
def processing_time(session: SessionDep, user: Reader, date_from: From,
                    date_to: To) -> list[ProcessingTime]:
    from engine.reports.processing import average_processing_time

    return [ProcessingTime.model_validate(t.as_dict()) for t in average_processing_time(
        session, _period(date_from, date_to), where=visible_to(session, user))]


@router.get("/responsibility", summary="Bước, đơn vị làm quá hạn đầu tiên")
def responsible(session: SessionDep, user: Reader, date_from: From,
                date_to: To) -> Responsibility:
    from engine.reports.responsibility import responsibility

    return Responsibility.model_validate(responsibility(
        session, _period(date_from, date_to), where=visible_to(session, user)).as_dict())


@router.get("/anomalies", summary="Bất thường cần kiểm tra")
def irregular(session: SessionDep, user: Reader, date_from: From, date_to: To,
              receipt_delay_hours: Annotated[float, Query(gt=0, le=24 * 365)] = 24
              ) -> Anomalies:
    from engine.reports.anomalies import AnomalySettings, anomalies

    return Anomalies.model_validate(anomalies(
        session, _period(date_from, date_to), where=visible_to(session, user),
        settings=AnomalySettings(receipt_entry_delay=timedelta(hours=receipt_delay_hours))
    ).as_dict())


@router.get("/scoring", summary="Chấm điểm theo bộ chỉ số (mặc định TT 01/2018)",
            response_model_exclude_unset=True)  # "dossiers" only when asked for
def scoring(session: SessionDep, user: Reader, date_from: From, date_to: To,
            scheme: str = "tt01_2018", dossiers: bool = False) -> Scoring:
    from engine.reports.scoring import SCHEMES

    if scheme not in SCHEMES:
        raise Problem(422, "validation", f"Không có cách chấm điểm {scheme}.",
                      errors=[{"field": "scheme", "message": ", ".join(SCHEMES)}])
    return Scoring.model_validate(SCHEMES[scheme].score(
        session, _period(date_from, date_to), where=visible_to(session, user),
        include_dossiers=dossiers).as_dict())


