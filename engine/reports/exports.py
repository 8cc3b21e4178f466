"""Tables for people: Biểu số II.06a, the register, CSV and Excel files, chart data.

Biểu số II.06a/VPCP/KSTT (TT 01/2020/TT-VPCP; columns domain §4.10 [S]) and the register
*Sổ theo dõi hồ sơ* (Mẫu 06 of 2018 / Mẫu 07 of 2025; columns domain §4.9, reconstructed [I]).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.agencies import Agency
from engine.lifecycle.states import Channel, ReturnMethod, State
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.processing import ProcedureTime, average_processing_time
from engine.reports.snapshots import Scope, over_time
from engine.reports.sql import D
from engine.reports.targets import TARGET_COLUMNS, TARGET_LABELS, Targets, targets, write_sheets
from engine.reports.totals import DEFINITIONS, By, Figures, Options, Totals
from engine.timezone import to_local

# ----- Biểu số II.06a ----------------------------------------------------------------------

II06A_TITLE = "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
II06A_FORM = "Biểu số II.06a/VPCP/KSTT"
II06A_HEADER = [
    "TT", "Lĩnh vực, công việc giải quyết theo cấp",
    "Tiếp nhận: Tổng số", "Trong đó: Trực tuyến", "Trực tiếp, dịch vụ bưu chính",
    "Từ kỳ trước",
    "Đã giải quyết: Tổng số", "Trước hạn", "Đúng hạn", "Quá hạn",
    "Đang giải quyết: Tổng số", "Trong hạn", "Quá hạn",
]


def ii06a_row(number: str, label: str, t: Totals) -> list[Any]:
    return [number, label, t.received + t.carried_over, t.received_online,
            t.received_direct + t.received_postal, t.carried_over,
            t.ended, t.early, t.on_time, t.late, t.pending, t.pending_within, t.pending_late]


def ii06a_rows(fig: Figures) -> list[list[Any]]:
    """Rows of the form: one per group, then the total ("Tổng cộng")."""
    rows = [ii06a_row(str(i), g.label or g.key or "(không xác định)", g.totals)
            for i, g in enumerate(fig.groups, start=1)]
    rows.append(ii06a_row("", "Tổng cộng", fig.totals))
    return rows


def period_label(period: Period) -> str:
    return f"Từ ngày {period.start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y}"


# ----- flat tables (CSV, table, Excel) -------------------------------------------------------

FLAT_COLUMNS = list(Totals().flat())
#: Column titles for people (the dashboard's CSV download); the keys stay the machine header of
#: ``motcua report --format csv``. Meanings: :data:`DEFINITIONS`.
FLAT_LABELS = {
    "key": "Mã nhóm", "label": "Nhóm",
    "received": "Tiếp nhận mới", "received_online": "Tiếp nhận trực tuyến",
    "received_direct": "Tiếp nhận trực tiếp", "received_postal": "Tiếp nhận qua bưu chính",
    "carried_over": "Kỳ trước chuyển sang", "total_in": "Tổng số phải giải quyết",
    "ended": "Đã giải quyết", "ended_early": "Trước hạn", "ended_on_time": "Đúng hạn",
    "ended_late": "Quá hạn", "pending": "Đang giải quyết",
    "pending_within": "Đang giải quyết trong hạn", "pending_late": "Đang giải quyết quá hạn",
    "withdrawn": "Rút hồ sơ", "refused": "Từ chối giải quyết", "stopped": "Dừng giải quyết",
    "on_time_rate_766": "Tỷ lệ đúng hạn (QĐ 766)",
    "closed_on_time_rate": "Tỷ lệ đúng hạn (đã giải quyết)",
    "online_rate": "Tỷ lệ trực tuyến", "postal_rate": "Tỷ lệ bưu chính",
    "apology_in_time": "Quá hạn có xin lỗi đúng hạn", "apology_late": "Xin lỗi muộn",
    "apology_missing": "Quá hạn chưa xin lỗi",
    "apology_reached": "Thư xin lỗi đã đến người nộp",
}


def flat_rows(fig: Figures) -> list[dict[str, Any]]:
    rows = [{"key": g.key, "label": g.label, **g.totals.flat()} for g in fig.groups]
    rows.append({"key": "TOTAL", "label": "Tổng cộng", **fig.totals.flat()})
    return rows


def to_csv(fig: Figures, *, vietnamese_header: bool = False,
           targets: Targets | None = None) -> str:
    """The flat table as CSV: the figure keys as header (scripts), or their Vietnamese titles
    (people opening the file in a spreadsheet); with ``targets``, the channel targets and
    satisfaction columns after them (``engine.reports.targets``)."""
    buffer = io.StringIO()
    extra = TARGET_COLUMNS if targets is not None else []
    writer = csv.DictWriter(buffer, fieldnames=["key", "label", *FLAT_COLUMNS, *extra],
                            lineterminator="\n")
    if vietnamese_header:
        writer.writerow({**FLAT_LABELS, **{c: TARGET_LABELS[c] for c in extra}})
    else:
        writer.writeheader()
    added = targets.flat() if targets is not None else {}
    for row in flat_rows(fig):
        row.update(added.get(row["key"], dict.fromkeys(extra, 0)))
        writer.writerow({k: ("" if v is None else round(v, 4) if isinstance(v, float) else v)
                         for k, v in row.items()})
    return buffer.getvalue()


# ----- the register ------------------------------------------------------------------------

REGISTER_HEADER = [
    "TT", "Mã hồ sơ", "Tên thủ tục hành chính", "Số lượng hồ sơ (bộ)",
    "Tên cá nhân, tổ chức", "Địa chỉ, số điện thoại", "Cơ quan chủ trì giải quyết",
    "Nhận hồ sơ", "Hình thức nộp", "Hẹn trả kết quả", "Chuyển hồ sơ đến cơ quan giải quyết",
    "Nhận kết quả từ cơ quan giải quyết", "Trả kết quả cho cá nhân, tổ chức",
    "Phương thức nhận kết quả", "Số hiệu bưu gửi", "Bưu điện phát kết quả", "Ký nhận",
    "Ghi chú",
]


def _when(value: datetime | None) -> str:
    return to_local(value).strftime("%H:%M %d/%m/%Y") if value else ""


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _channel(value: str, delivered: date | None) -> str:
    """How it came in; by post, with the day the post office delivered it (the postal
    receipt is the evidence, domain §4.8)."""
    label = Channel(value).label_vi if value in Channel._value2member_map_ else value
    return f"{label} (bưu điện giao {_day(delivered)})" if delivered else label


def _method(value: str, address: str | None) -> str:
    label = ReturnMethod(value).label_vi if value in ReturnMethod._value2member_map_ else value
    return f"{label}, địa chỉ: {address}" if value == ReturnMethod.POST and address else label


def register_rows(session: Session, period: Period, *,
                  where: ColumnElement[bool] | None = None) -> Iterator[list[Any]]:
    """Dossiers received in the period, in order of receipt (streamed), with the channel and
    the return method; a result sent by post shows its tracking number and delivery day."""
    agency = Agency.__table__
    query = (select(D.c.code, D.c.procedure_name, D.c.sets_count, D.c.applicant_name,
                    D.c.applicant_address, D.c.applicant_phone, agency.c.name.label("agency"),
                    D.c.received_at, D.c.appointment_date, D.c.transferred_at, D.c.ended_at,
                    D.c.end_kind, D.c.returned_at, D.c.collected_by, D.c.state,
                    D.c.apology_count, D.c.imported, D.c.channel, D.c.postal_delivered_on,
                    D.c.return_method, D.c.recipient_address, D.c.postal_tracking_number,
                    D.c.result_delivered_on)
             .select_from(D.outerjoin(agency, agency.c.code == D.c.competent_agency))
             .where(and_(D.c.received_at >= period.starts_at,
                         D.c.received_at < period.ends_before))
             .order_by(D.c.received_at, D.c.code))
    if where is not None:
        query = query.where(where)
    for number, row in enumerate(session.execute(query.execution_options(yield_per=5000)),
                                 start=1):
        notes = [State(row.state).label_vi]
        if row.apology_count:
            notes.append("đã xin lỗi, hẹn lại")
        if row.imported:
            notes.append("nhập từ hệ thống cũ")
        result_at = row.ended_at if row.end_kind in ("result_ready", "returned", "refused") \
            else None
        yield [number, row.code, row.procedure_name, row.sets_count, row.applicant_name,
               ", ".join(x for x in (row.applicant_address, row.applicant_phone) if x),
               row.agency or "", _when(row.received_at),
               _channel(row.channel, row.postal_delivered_on), _day(row.appointment_date),
               _when(row.transferred_at), _when(result_at), _when(row.returned_at),
               _method(row.return_method, row.recipient_address),
               row.postal_tracking_number or "", _day(row.result_delivered_on),
               row.collected_by or "", "; ".join(notes)]


# ----- charts ------------------------------------------------------------------------------

def chart_data(session: Session, period: Period, *,
               where: ColumnElement[bool] | None = None,
               by_agency: Figures | None = None, scope: Scope | None = None) -> dict[str, Any]:
    """On-time rates over time (per month of the period) and per agency, for the dashboard
    and the PDF. Each month is a period of its own (its own carried over and pending), read
    from the daily snapshots of ``scope`` (the same dossiers as ``where``) when every day of
    it has them, else computed now (:func:`engine.reports.snapshots.over_time`)."""
    months = over_time(session, period, scope=scope, where=where)
    by_agency = by_agency or figures(session, period, By.AGENCY, where=where)
    agencies = [{"key": g.key, "label": g.label, "on_time_rate_766": g.totals.on_time_rate_766,
                 "closed_on_time_rate": g.totals.closed_on_time_rate,
                 "received": g.totals.received} for g in by_agency.groups]
    return {"period": period.as_dict(), "over_time": months, "by_agency": agencies}


# ----- Excel -------------------------------------------------------------------------------

@dataclass
class ExcelInput:
    fig: Figures
    ii06a: Figures
    times: list[ProcedureTime]
    reporting_unit: str = ""
    receiving_unit: str = ""
    targets: Targets | None = None  # channel targets and satisfaction (issue 16)


def report_input(session: Session, period: Period, by: By, *,
                 where: ColumnElement[bool] | None = None,
                 options: Options | None = None) -> ExcelInput:
    """What the Excel and PDF reports hold, as ``motcua report --format xlsx|pdf`` builds it:
    the figures grouped by ``by``, Biểu II.06a (by field when not grouped) and the average
    processing times — the dashboard's downloads reuse it so both give the same file."""
    fig = figures(session, period, by, where=where, options=options)
    ii06a = fig if by is not By.NONE else figures(session, period, By.FIELD, where=where,
                                                  options=options)
    return ExcelInput(fig, ii06a, average_processing_time(session, period, where=where),
                      targets=targets(session, period, by, where=where, options=options))


def write_xlsx(path: Path | str, data: ExcelInput) -> None:
    """The figures, Biểu II.06a, average processing times and the definitions, one sheet each."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    bold = Font(bold=True)
    ws = wb.active
    ws.title = "Tổng hợp"
    ws.append([f"Báo cáo kết quả giải quyết TTHC — {period_label(data.fig.period)}"])
    ws.append([f"Nhóm theo: {data.fig.by.value}"])
    ws.append(["key", "label", *FLAT_COLUMNS])
    for cell in ws[3]:
        cell.font = bold
    for row in flat_rows(data.fig):
        ws.append([row["key"], row["label"], *(row[c] for c in FLAT_COLUMNS)])

    ws = wb.create_sheet("Biểu II.06a")
    ws.append([II06A_FORM])
    ws.append([II06A_TITLE])
    ws.append([f"Kỳ báo cáo: ({period_label(data.ii06a.period)})"])
    ws.append([f"Đơn vị báo cáo: {data.reporting_unit}",
               f"Đơn vị nhận báo cáo: {data.receiving_unit}"])
    ws.append(["Đơn vị tính: Số hồ sơ TTHC"])
    ws.append(II06A_HEADER)
    for cell in ws[6]:
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in ii06a_rows(data.ii06a):
        ws.append(row)

    ws = wb.create_sheet("Thời gian TB")
    ws.append(["Mã thủ tục", "Tên thủ tục", "Đơn vị tính", "Số hồ sơ", "Thời gian trung bình"])
    for t in data.times:
        ws.append([t.procedure, t.name, t.unit_label, t.count,
                   None if t.average is None else round(t.average, 2)])

    write_sheets(wb, data.targets)

    ws = wb.create_sheet("Định nghĩa")
    ws.append(["Chỉ tiêu", "Định nghĩa"])
    for key, text in DEFINITIONS.items():
        ws.append([key, text])
    wb.save(path)


def write_register_xlsx(path: Path | str, period: Period, rows: Iterator[list[Any]]) -> int:
    """The register as an Excel sheet, written row by row (write-only: flat memory)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Sổ theo dõi hồ sơ")
    ws.append(["SỔ THEO DÕI HỒ SƠ"])
    ws.append([period_label(period)])
    ws.append(REGISTER_HEADER)
    count = 0
    for row in rows:
        ws.append(row)
        count += 1
    wb.save(path)
    return count
