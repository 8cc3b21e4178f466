"""``motcua report`` and ``motcua import``: reports for auditors and the history import.

A Typer sub-app whose two commands are meant to sit at the top level of ``motcua``
(``app.add_typer(reports_app)`` merges them; see docs/reports.md). The JSON of
``report --format json`` (the dashboard document) is a contract: keep its shape.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from contextlib import contextmanager
from datetime import date, timedelta
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import or_
from sqlmodel import Session

from engine.db import make_engine
from engine.reports import DEFINITIONS, By, Options, Period, exports, figures
from engine.reports.anomalies import AnomalySettings, anomalies
from engine.reports.history import import_lines
from engine.reports.processing import average_processing_time
from engine.reports.responsibility import responsibility
from engine.reports.scoring import get_scheme
from engine.reports.snapshots import Scope, history, take_daily
from engine.reports.sql import D
from engine.reports.targets import behind_any, targets
from engine.settings import load_settings
from engine.timezone import to_local
from printouts.report_pdf import REGISTER_PDF_LIMIT, render_report_html, write_report_pdf

reports_app = typer.Typer(help="Báo cáo, chỉ số và nhập dữ liệu lịch sử.")
#: ``motcua report`` is a group so that it can hold ``motcua report snapshot``; called without a
#: subcommand it is the report itself (its callback), as before.
report_app = typer.Typer(help="Báo cáo kết quả giải quyết TTHC; 'snapshot': số liệu chốt "
                              "theo ngày.")
reports_app.add_typer(report_app, name="report")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    pdf = "pdf"


class Kind(StrEnum):
    figures = "figures"  # the figures (and Biểu II.06a in xlsx/pdf)
    register = "register"  # Sổ theo dõi hồ sơ
    processing = "processing"  # average processing time per procedure
    responsibility = "responsibility"
    anomalies = "anomalies"
    scoring = "scoring"
    charts = "charts"
    drill = "drill"  # the dossier codes behind one figure


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(code)


def _engine():
    return make_engine(load_settings().database_url)


@contextmanager
def _progress(enabled: bool, total: int):
    """A rich progress bar on stderr (only on a terminal, or when asked for)."""
    if not enabled:
        yield lambda label, *_: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Báo cáo", total=total)

        def step(label: str, *_: Any) -> None:
            bar.update(task, description=label, advance=1)

        yield step


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{what} phải có dạng YYYY-MM-DD: {value!r}")
        raise


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Đã ghi {output}", err=True)


def _pct(value: float | None) -> str:
    return "N/A" if value is None else f"{value * 100:.1f}%"


@report_app.callback(invoke_without_command=True)
def report(
    ctx: typer.Context,
    date_from: Annotated[str | None, typer.Option("--from", help="Ngày đầu kỳ (YYYY-MM-DD).",
                                                  show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Ngày cuối kỳ (YYYY-MM-DD).",
                                                show_default=False)] = None,
    by: Annotated[By, typer.Option(help="Nhóm theo.")] = By.NONE,
    fmt: Annotated[Format, typer.Option("--format", help="Định dạng.")] = Format.table,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Tệp kết quả.")] = None,
    kind: Annotated[Kind, typer.Option(help="Loại báo cáo.")] = Kind.figures,
    figure: Annotated[str | None, typer.Option(help="Chỉ tiêu cần xem danh sách hồ sơ "
                                                     "(--kind drill).")] = None,
    key: Annotated[str | None, typer.Option(help="Nhóm cần xem (--kind drill).")] = None,
    agency: Annotated[str | None, typer.Option(help="Chỉ hồ sơ của cơ quan này (tiếp nhận "
                                                     "hoặc giải quyết).")] = None,
    scheme: Annotated[str, typer.Option(help="Cách chấm điểm.")] = "tt01_2018",
    withdrawn_separate: Annotated[bool, typer.Option(
        help="Không tính hồ sơ rút vào đã giải quyết.")] = False,
    receipt_delay_hours: Annotated[float, typer.Option(
        help="Ngưỡng nhập tiếp nhận muộn (giờ).")] = 24.0,
    reporting_unit: Annotated[str, typer.Option(help="Đơn vị báo cáo (Biểu II.06a).")] = "",
    receiving_unit: Annotated[str, typer.Option(help="Đơn vị nhận báo cáo.")] = "",
    progress: Annotated[bool | None, typer.Option(help="Thanh tiến trình (mặc định: khi "
                                                        "chạy trên terminal).")] = None,
) -> None:
    """Báo cáo kết quả giải quyết TTHC của một kỳ (Biểu II.06a, sổ theo dõi, chỉ số …)."""
    if ctx.invoked_subcommand is not None:
        return
    if date_from is None or date_to is None:
        _fail("cần --from và --to (YYYY-MM-DD); số liệu chốt theo ngày: motcua report "
              "snapshot --help")
    try:
        period = Period(_day(date_from, "--from"), _day(date_to, "--to"))
    except ValueError as exc:
        _fail(str(exc))
    if fmt in (Format.xlsx, Format.pdf) and output is None:
        _fail(f"--format {fmt.value} cần -o TỆP")
    where, scope = None, Scope()  # the chart over time reads the snapshots of this scope
    if agency:
        where = or_(D.c.receiving_agency == agency, D.c.competent_agency == agency)
        scope = Scope.agency(agency)
    options = Options(withdrawn_counts_as_ended=not withdrawn_separate)
    show = sys.stderr.isatty() if progress is None else progress
    with Session(_engine()) as session, _progress(show, 6) as step:
        try:
            _report(session, period, by, fmt, output, kind, figure, key, (where, scope),
                    options, scheme, receipt_delay_hours, reporting_unit, receiving_unit, step)
        except ValueError as exc:
            _fail(str(exc))


def _report(session, period, by, fmt, output, kind, figure, key, scoped, options, scheme,
            receipt_delay_hours, reporting_unit, receiving_unit, step) -> None:
    where, scope = scoped
    if kind is Kind.figures:
        fig = figures(session, period, by, where=where, options=options, progress=step)
        if fmt is Format.json:
            _write(json.dumps(fig.dashboard(), ensure_ascii=False, indent=2), output)
        elif fmt is Format.csv:
            _write(exports.to_csv(fig, targets=targets(session, period, by, where=where,
                                                       options=options)), output)
        elif fmt is Format.table:
            _table(fig)
        else:
            step("Biểu II.06a")
            ii06a = fig if by is not By.NONE else figures(session, period, By.FIELD,
                                                          where=where, options=options)
            step("Thời gian giải quyết trung bình")
            times = average_processing_time(session, period, where=where)
            if fmt is Format.xlsx:
                step("Ghi Excel")
                exports.write_xlsx(output, exports.ExcelInput(
                    fig, ii06a, times, reporting_unit, receiving_unit,
                    targets(session, period, by, where=where, options=options)))
            else:
                _pdf(session, period, fig, ii06a, times, scoped, output, reporting_unit,
                     receiving_unit, step, register=False)
            typer.echo(f"Đã ghi {output}", err=True)
        return
    if kind is Kind.register:
        rows = exports.register_rows(session, period, where=where)
        if fmt is Format.xlsx:
            count = exports.write_register_xlsx(output, period, rows)
            typer.echo(f"Đã ghi {output} ({count} hồ sơ)", err=True)
        elif fmt is Format.pdf:
            fig = figures(session, period, By.FIELD, where=where, options=options)
            _pdf(session, period, fig, fig, [], scoped, output, reporting_unit, receiving_unit,
                 step, register=True)
            typer.echo(f"Đã ghi {output}", err=True)
        elif fmt is Format.json:
            _write(json.dumps([dict(zip(exports.REGISTER_HEADER, r, strict=True))
                               for r in rows], ensure_ascii=False, indent=2), output)
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(exports.REGISTER_HEADER)
            writer.writerows(rows)
            _write(buffer.getvalue(), output)
        return
    if kind is Kind.drill:
        if not figure:
            _fail("--kind drill cần --figure (ví dụ ended_late); có: "
                  + ", ".join(DEFINITIONS))
        try:  # the clock's figures, the channel targets and satisfaction alike
            codes = sorted(behind_any(session, period, figure, by=by, key=key, where=where,
                                      options=options))
        except ValueError as exc:
            _fail(str(exc))
        if fmt is Format.json:
            _write(json.dumps({"period": period.as_dict(), "figure": figure, "by": by.value,
                               "key": key, "count": len(codes), "codes": codes},
                              ensure_ascii=False, indent=2), output)
        else:
            _write("\n".join(codes) + ("\n" if codes else ""), output)
        return
    if kind is Kind.processing:
        data: Any = [t.as_dict() for t in average_processing_time(session, period, where=where)]
    elif kind is Kind.responsibility:
        data = responsibility(session, period, where=where).as_dict()
    elif kind is Kind.anomalies:
        data = anomalies(session, period, where=where, settings=AnomalySettings(
            receipt_entry_delay=timedelta(hours=receipt_delay_hours))).as_dict()
    elif kind is Kind.scoring:
        data = get_scheme(scheme).score(session, period, where=where,
                                        include_dossiers=True).as_dict()
    else:
        data = exports.chart_data(session, period, where=where, scope=scope)
    if fmt is not Format.json:
        _fail(f"--kind {kind.value} chỉ xuất được --format json")
    _write(json.dumps(data, ensure_ascii=False, indent=2), output)


def _pdf(session, period, fig, ii06a, times, scoped, output, reporting_unit, receiving_unit,
         step, *, register: bool) -> None:
    where, scope = scoped
    step("Biểu đồ")
    charts = exports.chart_data(session, period, where=where, scope=scope)
    rows, truncated = None, False
    if register:
        rows = list(islice(exports.register_rows(session, period, where=where),
                           REGISTER_PDF_LIMIT + 1))
        truncated = len(rows) > REGISTER_PDF_LIMIT
        rows = rows[:REGISTER_PDF_LIMIT]
    step("Ghi PDF")
    html = render_report_html(fig, ii06a, charts=charts, times=times, register=rows,
                              register_truncated=truncated, reporting_unit=reporting_unit,
                              receiving_unit=receiving_unit)
    write_report_pdf(output, html)


def _table(fig) -> None:
    table = Table(title=f"Kết quả giải quyết TTHC {fig.period.start:%d/%m/%Y}–"
                        f"{fig.period.end:%d/%m/%Y}")
    for name in ("Nhóm", "Tiếp nhận", "Từ kỳ trước", "Trước hạn", "Đúng hạn", "Quá hạn",
                 "Đang – trong hạn", "Đang – quá hạn", "Rút", "Từ chối", "Tỷ lệ 766",
                 "Tỷ lệ chặt", "Xin lỗi đúng/muộn/thiếu/đã đến"):
        table.add_column(name, justify="right" if name != "Nhóm" else "left")
    groups = [(g.label or g.key, g.totals) for g in fig.groups] + [("Tổng cộng", fig.totals)]
    for label, t in groups:
        table.add_row(label, str(t.received), str(t.carried_over), str(t.early),
                      str(t.on_time), str(t.late), str(t.pending_within), str(t.pending_late),
                      str(t.withdrawn), str(t.refused), _pct(t.on_time_rate_766),
                      _pct(t.closed_on_time_rate),
                      f"{t.apology_in_time}/{t.apology_late}/{t.apology_missing}/"
                      f"{t.apology_reached}")
    console = Console(width=200)
    console.print(table)
    console.print("Tỷ lệ 766: (trước hạn + đúng hạn + đang trong hạn) / (đã giải quyết + đang "
                  "giải quyết), bổ sung quá 1 lần tính quá hạn (QĐ 766 tiêu chí 2.1). Tỷ lệ chặt:"
                  " (trước hạn + đúng hạn) / đã giải quyết. Định nghĩa: docs/reports.md")


@report_app.command("snapshot")
def snapshot(
    day: Annotated[str, typer.Option("--day", help="Ngày cần chốt (YYYY-MM-DD), đã qua.")],
    until: Annotated[str | None, typer.Option("--to", help="Chốt nhiều ngày: đến ngày này "
                                                           "(YYYY-MM-DD).")] = None,
    agency: Annotated[str | None, typer.Option(help="Chỉ cơ quan giải quyết này.")] = None,
    reason: Annotated[str | None, typer.Option(help="Lý do chạy lại ngày đã chốt (ghi vào "
                                                    "nhật ký); không có: chỉ chốt ngày, cơ "
                                                    "quan chưa chốt.")] = None,
    computed_by: Annotated[str | None, typer.Option(help="Người chốt (mặc định: tài khoản "
                                                         "hệ điều hành).")] = None,
    show: Annotated[bool, typer.Option(help="Chỉ xem các lần chốt (cả bản cũ), không chốt."
                                       )] = False,
) -> None:
    """Số liệu chốt theo ngày của từng cơ quan: chốt ngày chưa chốt, chạy lại có lý do, xem."""
    first = _day(day, "--day")
    last = _day(until, "--to") if until else first
    if last < first:
        _fail("--to phải sau --day")
    who = computed_by or _os_user()
    with Session(_engine()) as session:
        for current in (first + timedelta(days=k) for k in range((last - first).days + 1)):
            if show:
                _show_snapshots(session, current, agency)
                continue
            try:
                rows = take_daily(session, day=current, computed_by=who, reason=reason,
                                  agencies=[agency] if agency else None)
            except ValueError as exc:
                session.rollback()
                _fail(str(exc))
            session.commit()
            codes = ", ".join(r.agency_code for r in rows)
            verb = "Đã chạy lại" if reason else "Đã chốt"
            typer.echo(f"{verb} số liệu ngày {current:%d/%m/%Y}: {len(rows)} cơ quan"
                       + (f" ({codes})" if codes else " (đã chốt từ trước)")
                       + ("; bản trước vẫn lưu, không dùng nữa" if reason and rows else ""))


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "cli"


def _show_snapshots(session, day: date, agency: str | None) -> None:
    """Every computation of a day, the earlier ones too: one line each."""
    rows = history(session, day=day, agency=agency)
    if not rows:
        typer.echo(f"{day:%d/%m/%Y}: chưa chốt số liệu")
    for r in rows:
        t = r.totals()
        typer.echo("\t".join([
            f"{day:%d/%m/%Y}", r.agency_code, "đang dùng" if r.current else "không dùng",
            f"{to_local(r.computed_at):%d/%m/%Y %H:%M}", r.computed_by,
            f"tiếp nhận {t.received}", f"đã giải quyết {t.ended}", f"đang {t.pending}",
            f"tỷ lệ 766 {_pct(t.on_time_rate_766)}", r.reason or ""]))


@reports_app.command("import")
def import_history(
    file: Annotated[Path, typer.Argument(help="Tệp JSONL: mỗi dòng một hồ sơ ('-' = stdin).")],
    dry_run: Annotated[bool, typer.Option(help="Chỉ kiểm tra, không ghi.")] = False,
    progress: Annotated[bool | None, typer.Option(help="Thanh tiến trình.")] = None,
) -> None:
    """Nhập hồ sơ lịch sử (định dạng 'motcua replay' + procedure, agency, code)."""
    try:
        stream = sys.stdin if str(file) == "-" else file.open(encoding="utf-8")
    except OSError as exc:
        _fail(f"không đọc được tệp {file}: {exc.strerror}")
    show = sys.stderr.isatty() if progress is None else progress
    with stream, Session(_engine()) as session, _progress(show, 0) as step:
        result = import_lines(session, stream, source=file.name,
                              progress=(lambda n: step(f"Dòng {n}")) if show else None)
        if not result.ok:
            session.rollback()
            for error in result.errors:
                typer.echo(f"Lỗi: {file}: {error}", err=True)
            typer.echo(f"{len(result.errors)} lỗi; không nhập hồ sơ nào.", err=True)
            raise typer.Exit(1)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    verb = "Hợp lệ" if dry_run else "Đã nhập"
    typer.echo(f"{verb} {result.imported} hồ sơ; bỏ qua {result.skipped} hồ sơ đã có.")
