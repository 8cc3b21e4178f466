"""Reports for the dashboard: figures, drill-down, charts, processing time, responsibility,
anomalies and scoring. Auditors (their granted agencies) and leaders (their agency) only,
scoped in SQL exactly like the dossier list (``engine.lifecycle.visibility.visible_to``).

``GET /api/v1/reports`` returns the dashboard document, a contract:
``{"period": {"from", "to"}, "totals": {…}, "groups": [{"key", "totals"}]}``; every answer's
shape is declared in ``service/api/schemas/reports.py``.

Every report is computed in the thread pool under the process's report slots
(``service.report_gate``, ``MOTCUA_REPORT_CONCURRENCY``): beyond a short wait the answer is
503 with ``Retry-After``, and the rest of the service keeps its threads. The figures of a
closed period come from the database's cache (``engine.reports.cache``) without a slot.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from time import perf_counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from engine.lifecycle.visibility import visible_to
from engine.reports import cache
from engine.reports.figures import FIGURES, By, Options, figures
from engine.reports.period import SUPPORTED_FIRST, SUPPORTED_LAST, Period, PeriodOutOfRange
from engine.timezone import to_local
from engine.users import Role, User
from service.api.schemas.reports import (
    Anomalies,
    ChannelTargetsReport,
    Charts,
    Dashboard,
    Drill,
    DrillRow,
    ProcessingTime,
    Responsibility,
    SatisfactionReport,
    Scoring,
    SyncRateReport,
)
from service.deps import SessionDep, require_roles
from service.problems import Problem
from service.report_gate import ReportSlot, gate_of, in_thread

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


def _local_iso(at: datetime | None) -> str | None:
    """An instant as the API writes instants: ISO 8601 in Asia/Ho_Chi_Minh."""
    return to_local(at).isoformat() if at is not None else None


From = Annotated[date, Query(alias="from", description="Ngày đầu kỳ (YYYY-MM-DD)")]
To = Annotated[date, Query(alias="to", description="Ngày cuối kỳ (YYYY-MM-DD)")]


@router.get("", summary="Số liệu giải quyết TTHC của kỳ (bảng điều khiển)",
            responses={503: {"description": "Đang tính đủ số báo cáo cùng lúc: thử lại sau "
                                            "Retry-After giây"}})
async def dashboard(request: Request, session: SessionDep, user: Reader, date_from: From,
                    date_to: To, by: By = By.NONE,
                    withdrawn_separate: bool = False) -> Dashboard:
    """The figures of a closed period come from the cache while the data version holds
    (``engine.reports.cache``), taking no report slot; any other is computed in the thread
    pool under the process's report slots (``service.report_gate``: 503 when all are busy
    beyond a short wait)."""
    period = _period(date_from, date_to)
    options = Options(withdrawn_counts_as_ended=not withdrawn_separate)
    # The lifecycle judges "backdated" by the real clock: a period counts as closed only
    # when it is by both clocks (tests move the app's clock).
    now = min(request.app.state.clock(), datetime.now(UTC))

    gate = gate_of(request)

    def find() -> tuple[Any, cache.CacheKey | None, cache.Found | None]:
        where = visible_to(session, user)
        if not cache.cacheable(period, now, by, gate.open_max_age):
            return where, None, None
        key = cache.key_for("figures", period, cache.scope_text(
            where, session.get_bind().dialect), cache.params(by=by, options=options),
            now=now, open_max_age=gate.open_max_age)
        return where, key, cache.lookup(session, key)

    where, key, found = await in_thread(find)
    if found is not None and found.hit:
        return Dashboard.model_validate({**found.body,
                                         "computed_at": _local_iso(found.computed_at)})

    def compute() -> dict[str, Any]:
        began, started = datetime.now(UTC), perf_counter()
        body = figures(session, period, by, where=where, options=options).dashboard()
        if key is not None and found is not None:
            session.rollback()  # end the reading transaction before the cache's own
            cache.store(session, key, found, body, perf_counter() - started, began)
        return {**body, "computed_at": _local_iso(began)}

    return Dashboard.model_validate(await gate.run(compute))


@router.get("/drill", summary="Danh sách hồ sơ của một chỉ tiêu")
def drill_down(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From, date_to: To,
               figure: Annotated[str, Query(description=", ".join(FIGURES))],
               by: By = By.NONE, key: Annotated[str | None, Query(max_length=255)] = None,
               withdrawn_separate: bool = False,
               rows: Annotated[int, Query(ge=0, le=2000, description="Số hồ sơ mô tả đầy "
                                          "đủ (người nộp, thủ tục, ngày…), theo mã")] = 200
               ) -> Drill:
    from engine.reports.drilldown import describe
    from engine.reports.targets import behind_any

    period = _period(date_from, date_to)
    where, options = visible_to(session, user), Options(
        withdrawn_counts_as_ended=not withdrawn_separate)
    try:  # the clock's figures, the channel targets and satisfaction (not by step)
        found = behind_any(session, period, figure, by=by, key=key, where=where,
                           options=options)
    except ValueError as exc:
        field = "by" if "bước" in str(exc) else "figure"
        raise Problem(422, "validation", f"Chỉ tiêu không hợp lệ: {exc}.",
                      errors=[{"field": field, "message": "không hợp lệ"}]) from None
    return Drill(period=period.as_dict(), figure=figure, by=by.value, key=key,
                 count=len(found), codes=sorted(found), rows_limit=rows,
                 rows=[_drill_row(r.as_dict()) for r in describe(session, found, limit=rows)])


def _drill_row(fields: dict) -> DrillRow:
    """Instants in Vietnam time and days as ISO strings, like the dossier answers."""
    def text(value: object) -> object:
        if isinstance(value, datetime):
            return to_local(value).isoformat()
        return value.isoformat() if isinstance(value, date) else value

    return DrillRow.model_validate({k: text(v) for k, v in fields.items()})


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    pdf = "pdf"
    csv = "csv"


_MEDIA = {ExportFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          ExportFormat.pdf: "application/pdf", ExportFormat.csv: "text/csv; charset=utf-8"}


@router.get("/export.{fmt}", summary="Tải báo cáo của kỳ (Excel, PDF, CSV) như motcua report",
            response_class=Response,
            responses={200: {"content": {m.split(";")[0]: {} for m in _MEDIA.values()},
                             "description": "Tệp báo cáo"}})
def export(fmt: ExportFormat, session: SessionDep, user: Reader, _slot: ReportSlot,
           date_from: From, date_to: To, by: By = By.NONE,
           withdrawn_separate: bool = False) -> Response:
    """The figures of the period and filters the dashboard shows, as the files of ``motcua
    report --format xlsx|pdf|csv`` (same builders): Excel with Biểu II.06a, the PDF with its
    charts, a CSV with Vietnamese column titles (UTF-8 with BOM, for spreadsheets)."""
    from engine.reports.exports import report_input, to_csv

    period = _period(date_from, date_to)
    where = visible_to(session, user)
    options = Options(withdrawn_counts_as_ended=not withdrawn_separate)
    if fmt is ExportFormat.csv:
        from engine.reports.targets import targets

        fig = figures(session, period, by, where=where, options=options)
        body = ("\ufeff" + to_csv(fig, vietnamese_header=True, targets=targets(
            session, period, by, where=where, options=options))).encode("utf-8")
    else:
        data = report_input(session, period, by, where=where, options=options)
        body = (_xlsx(data) if fmt is ExportFormat.xlsx
                else _pdf(session, user, period, data, where))
    name = f"bao-cao-{period.start.isoformat()}-{period.end.isoformat()}.{fmt.value}"
    return Response(body, media_type=_MEDIA[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _xlsx(data) -> bytes:
    import io

    from engine.reports.exports import write_xlsx

    buffer = io.BytesIO()
    write_xlsx(buffer, data)
    return buffer.getvalue()


def _pdf(session, user: User, period: Period, data, where) -> bytes:
    """The report PDF of ``motcua report --format pdf``, its charts read like the dashboard's."""
    import tempfile
    from pathlib import Path

    from engine.reports.exports import chart_data
    from engine.reports.snapshots import viewer_scope
    from printouts.report_pdf import render_report_html, write_report_pdf

    charts_data = chart_data(session, period, where=where, scope=viewer_scope(session, user))
    try:
        html = render_report_html(data.fig, data.ii06a, charts=charts_data, times=data.times)
    except RuntimeError as exc:  # the font is missing: say which package
        raise Problem(500, "font-missing", str(exc)) from None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        write_report_pdf(path, html)
        return path.read_bytes()


@router.get("/charts", summary="Dữ liệu biểu đồ: tỷ lệ đúng hạn theo tháng và theo cơ quan")
def charts(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From,
           date_to: To) -> Charts:
    from engine.reports.exports import chart_data
    from engine.reports.snapshots import viewer_scope

    return Charts.model_validate(chart_data(session, _period(date_from, date_to),
                                            where=visible_to(session, user),
                                            scope=viewer_scope(session, user)))


@router.get("/processing-time", summary="Thời gian giải quyết trung bình theo thủ tục")
def processing_time(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From,
                    date_to: To) -> list[ProcessingTime]:
    from engine.reports.processing import average_processing_time

    return [ProcessingTime.model_validate(t.as_dict()) for t in average_processing_time(
        session, _period(date_from, date_to), where=visible_to(session, user))]


@router.get("/responsibility", summary="Bước, đơn vị làm quá hạn đầu tiên")
def responsible(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From,
                date_to: To) -> Responsibility:
    from engine.reports.responsibility import responsibility

    return Responsibility.model_validate(responsibility(
        session, _period(date_from, date_to), where=visible_to(session, user)).as_dict())


@router.get("/anomalies", summary="Bất thường cần kiểm tra")
def irregular(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From, date_to: To,
              receipt_delay_hours: Annotated[float, Query(gt=0, le=24 * 365)] = 24
              ) -> Anomalies:
    from engine.reports.anomalies import AnomalySettings, anomalies

    return Anomalies.model_validate(anomalies(
        session, _period(date_from, date_to), where=visible_to(session, user),
        settings=AnomalySettings(receipt_entry_delay=timedelta(hours=receipt_delay_hours))
    ).as_dict())


@router.get("/scoring", summary="Chấm điểm theo bộ chỉ số (mặc định TT 01/2018)",
            response_model_exclude_unset=True)  # "dossiers" only when asked for
def scoring(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From, date_to: To,
            scheme: str = "tt01_2018", dossiers: bool = False) -> Scoring:
    from engine.reports.scoring import SCHEMES

    if scheme not in SCHEMES:
        raise Problem(422, "validation", f"Không có cách chấm điểm {scheme}.",
                      errors=[{"field": "scheme", "message": ", ".join(SCHEMES)}])
    return Scoring.model_validate(SCHEMES[scheme].score(
        session, _period(date_from, date_to), where=visible_to(session, user),
        include_dossiers=dossiers).as_dict())




def _not_by_step(by: By) -> None:
    if by is By.STEP:
        raise Problem(422, "validation", "Chỉ tiêu kênh và mức độ hài lòng không tính theo "
                      "bước xử lý.", errors=[{"field": "by", "message": "không hợp lệ"}])


@router.get("/channel-targets", summary="Chỉ tiêu kênh: thủ tục, hồ sơ, xử lý và kết quả "
            "trực tuyến")
def channels(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From, date_to: To,
             by: By = By.NONE) -> ChannelTargetsReport:
    """Share of procedures with online dossiers, of dossiers submitted online, of online
    dossiers processed online (toàn trình) and of results returned online
    (``engine.reports.channels``; drill-down: ``/drill?figure=online_procedures`` …)."""
    from engine.reports.channels import channel_targets

    _not_by_step(by)
    return ChannelTargetsReport.model_validate(channel_targets(
        session, _period(date_from, date_to), by, where=visible_to(session, user)).as_dict())


@router.get("/satisfaction", summary="Mức độ hài lòng sau khi trả kết quả và QĐ 766 tiêu chí "
            "5.4")
def satisfied(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From, date_to: To,
              by: By = By.AGENCY, withdrawn_separate: bool = False) -> SatisfactionReport:
    """The ratings given in the period per group (average, count, share ≥ 4, top reasons)
    and QĐ 766 5.4 = 100 % − (late rate + dislike rate) (``engine.reports.satisfaction``)."""
    from engine.reports.satisfaction import satisfaction

    _not_by_step(by)
    return SatisfactionReport.model_validate(satisfaction(
        session, _period(date_from, date_to), by, where=visible_to(session, user),
        options=Options(withdrawn_counts_as_ended=not withdrawn_separate)).as_dict())


@router.get("/sync", summary="Tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia (QĐ 766 "
            "1.4, 3.3)")
def synchronised(session: SessionDep, user: Reader, _slot: ReportSlot, date_from: From, date_to: To,
                 by: By = By.AGENCY) -> SyncRateReport:
    """Dossiers received in the period whose receipt reached the national portal (its
    message delivered), per group; QĐ 766 1.4 = synchronised / received and 3.3 = online and
    synchronised / received (``engine.reports.sync_rate``; drill-down:
    ``/drill?figure=not_synchronised`` …). ``configured`` false: portal sync is not set up,
    the rates are null."""
    from engine.reports.sync_rate import sync_rate

    if by is By.STEP:
        raise Problem(422, "validation", "Tỷ lệ đồng bộ không tính theo bước xử lý.",
                      errors=[{"field": "by", "message": "không hợp lệ"}])
    return SyncRateReport.model_validate(sync_rate(
        session, _period(date_from, date_to), by, where=visible_to(session, user)).as_dict())
