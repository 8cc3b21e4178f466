"""``motcua sync``: the national portal's sync (*đồng bộ Cổng Dịch vụ công quốc gia*;
docs/sync.md).

``status`` shows the outbound backlog: records pending, delivered and dead (rejected by the
portal, with their reason on ``/quan-tri/thong-bao``), the records held back behind a dead one,
and the lag — how long the oldest pending record has waited.

``export`` writes the records of a period (the latest state of each dossier received in it,
in the national vocabulary: ``engine.sync.record``, ``engine.sync.batch``); ``reconcile``
compares a portal-side export in the same format with the local state
(``engine.sync.reconcile``) and exits 1 when they differ.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import or_
from sqlmodel import Session, select

from engine.db import make_engine
from engine.lifecycle.models import Dossier, DossierEvent
from engine.reports.period import Period, PeriodOutOfRange
from engine.settings import load_settings
from engine.sync.outbound import SyncStatus, sync_status
from engine.timezone import to_local

sync_app = typer.Typer(help="Đồng bộ với Cổng Dịch vụ công quốc gia: tình trạng gửi, xuất và "
                            "đối soát dữ liệu.", no_args_is_help=True)


def _age(seconds: float) -> str:
    """A lag the way people read it: "3 giờ 5 phút", "42 giây"."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{n} {unit}" for n, unit in ((days, "ngày"), (hours, "giờ"), (minutes, "phút"))
             if n]
    return " ".join(parts[:2]) if parts else f"{secs} giây"


def status_json(status: SyncStatus) -> dict:
    return {"pending": status.pending, "delivered": status.delivered, "dead": status.dead,
            "blocked": status.blocked,
            "oldest_pending_at": (status.oldest_pending_at.isoformat()
                                  if status.oldest_pending_at else None),
            "lag_seconds": status.lag_seconds,
            "agencies": [{"agency": a.agency, "pending": a.pending, "delivered": a.delivered,
                          "dead": a.dead} for a in status.agencies]}


def status_text(status: SyncStatus) -> str:
    lines = [f"Chờ gửi: {status.pending}   Đã gửi: {status.delivered}   "
             f"Bị từ chối/thất bại: {status.dead}"]
    if status.oldest_pending_at is not None and status.lag_seconds is not None:
        lines.append(f"Độ trễ: {_age(status.lag_seconds)} (bản ghi chờ lâu nhất tạo lúc "
                     f"{to_local(status.oldest_pending_at):%H:%M:%S %d/%m/%Y})")
    else:
        lines.append("Độ trễ: không có bản ghi nào đang chờ")
    if status.blocked:
        lines.append(f"Đang giữ lại {status.blocked} bản ghi sau một bản ghi bị từ chối của "
                     "cùng hồ sơ: xem lý do và gửi lại tại Quản trị → Thông báo gửi lỗi "
                     "(/quan-tri/thong-bao)")
    if status.agencies:
        lines.append("")
        lines.append(f"{'Cơ quan giải quyết':<32} {'Chờ gửi':>8} {'Đã gửi':>8} {'Từ chối':>8}")
        for a in status.agencies:
            lines.append(f"{a.agency or '(không rõ)':<32} {a.pending:>8} {a.delivered:>8} "
                         f"{a.dead:>8}")
    return "\n".join(lines)


@sync_app.command("status")
def status(as_json: Annotated[bool, typer.Option("--json", help="In JSON.")] = False) -> None:
    """Tình trạng đồng bộ lên Cổng DVC quốc gia: số bản ghi chờ gửi, đã gửi, bị từ chối, độ
    trễ, theo cơ quan giải quyết. Mã thoát 1 khi có bản ghi bị từ chối."""
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session:
            found = sync_status(session, now=datetime.now(UTC))
    finally:
        engine.dispose()
    typer.echo(json.dumps(status_json(found), ensure_ascii=False, indent=2) if as_json
               else status_text(found))
    if found.dead:
        raise typer.Exit(1)


# ----- export and reconcile (docs/sync.md, "Export and reconciliation") ----------------------

class SyncFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(code)


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{what} phải có dạng YYYY-MM-DD: {value!r}")
        raise


def _period(first: date, last: date) -> Period:
    if last < first:
        _fail("ngày cuối kỳ (--to) phải sau ngày đầu kỳ (--from)")
    try:
        return Period(first, last)
    except PeriodOutOfRange as exc:
        _fail(str(exc))
        raise


#: Dossiers read per round trip (their events with them): memory stays flat on a large period.
CHUNK = 500


def _sent_to_portal(action: str, before: str, after: str) -> bool:
    """Whether the portal is sent this event (``engine.sync.outbound.is_sent``): the record a
    portal holds for a dossier is its latest such event's."""
    from engine.sync.outbound import is_sent

    try:
        return is_sent(action, before, after)
    except ValueError:  # an action this version does not know: never sent
        return False


def _latest_events(session: Session, ids: list[int]) -> dict[int, DossierEvent]:
    """Per dossier, its latest event sent to the portal (its latest event if none is)."""
    rows = session.execute(select(DossierEvent.dossier_id, DossierEvent.seq,
                                  DossierEvent.action, DossierEvent.state_before,
                                  DossierEvent.state_after)
                           .where(DossierEvent.dossier_id.in_(ids)))
    chosen: dict[int, tuple[bool, int]] = {}
    for dossier_id, seq, action, before, after in rows:
        rank = (_sent_to_portal(action, before, after), seq)
        if dossier_id not in chosen or rank > chosen[dossier_id]:
            chosen[dossier_id] = rank
    wanted = [(d, seq) for d, (_, seq) in chosen.items()]
    events: dict[int, DossierEvent] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start:start + CHUNK]
        condition = or_(*((DossierEvent.dossier_id == d) & (DossierEvent.seq == s)
                          for d, s in part))
        events.update((e.dossier_id, e) for e in session.exec(select(DossierEvent)
                                                              .where(condition)))
    return events


def _records_of(session: Session, dossiers: list[Dossier]) -> Iterator[dict[str, Any]]:
    from engine.sync.record import facts_of, national_record

    events = _latest_events(session, [d.id for d in dossiers if d.id is not None])
    for dossier in dossiers:
        event = events.get(dossier.id)  # type: ignore[arg-type]
        if event is not None:
            yield national_record(facts_of(dossier, event))


def period_records(session: Session, period: Period, *, agency: str | None = None,
                   codes: Iterable[str] = ()) -> Iterator[dict[str, Any]]:
    """The national record of the latest state of every dossier received in ``period`` (of
    ``agency``: receiving or competent, as ``motcua report --agency``), and of the dossiers
    ``codes`` whatever their receipt — in code order, read :data:`CHUNK` dossiers at a time."""
    received = ((Dossier.received_at >= period.starts_at)
                & (Dossier.received_at < period.ends_before))
    if agency:
        received = received & or_(Dossier.receiving_agency == agency,
                                  Dossier.competent_agency == agency)
    codes = sorted(set(codes))
    chosen = received
    for start in range(0, len(codes), CHUNK):
        chosen = chosen | Dossier.code.in_(codes[start:start + CHUNK])
    after = ""
    while True:
        query = (select(Dossier).where(chosen, Dossier.code > after)
                 .order_by(Dossier.code).limit(CHUNK))
        dossiers = list(session.exec(query))
        if not dossiers:
            return
        yield from _records_of(session, dossiers)
        after = dossiers[-1].code
        session.expunge_all()  # keep memory flat


def _local_records(period: Period, agency: str | None,
                   codes: Iterable[str] = ()) -> list[dict[str, Any]]:
    engine = make_engine(load_settings().database_url)
    try:
        with Session(engine) as session:
            return list(period_records(session, period, agency=agency, codes=codes))
    finally:
        engine.dispose()


@sync_app.command("export")
def export(
    date_from: Annotated[str, typer.Option("--from", help="Ngày đầu kỳ (YYYY-MM-DD), theo "
                                           "ngày tiếp nhận.", show_default=False)],
    date_to: Annotated[str, typer.Option("--to", help="Ngày cuối kỳ (YYYY-MM-DD).",
                                         show_default=False)],
    fmt: Annotated[SyncFormat, typer.Option("--format", help="Định dạng.")] = SyncFormat.jsonl,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Tệp kết quả (mặc "
                                                "định: in ra màn hình).")] = None,
    agency: Annotated[str | None, typer.Option(help="Chỉ hồ sơ của cơ quan này (tiếp nhận "
                                               "hoặc giải quyết).")] = None,
) -> None:
    """Xuất bản ghi đồng bộ của các hồ sơ tiếp nhận trong kỳ (JSON Lines hoặc CSV).

    Mỗi hồ sơ một bản ghi: trạng thái mới nhất, theo định dạng của Cổng Dịch vụ công quốc
    gia."""
    from engine.sync.batch import to_csv, to_jsonl

    period = _period(_day(date_from, "--from"), _day(date_to, "--to"))
    records = _local_records(period, agency)
    text = to_jsonl(records) if fmt is SyncFormat.jsonl else to_csv(records)
    if output is None:
        typer.echo(text, nl=bool(text) and not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"Đã ghi {len(records)} hồ sơ vào {output}", err=True)


def _read_portal_file(file: Path, fmt: SyncFormat | None) -> list[dict[str, Any]]:
    from engine.sync.reconcile import ReconcileInputError, parse

    if str(file) == "-":
        import sys

        text = sys.stdin.read()
    else:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"không đọc được {file}: {exc}")
            raise
    chosen = fmt.value if fmt else ("csv" if file.suffix.lower() == ".csv" else "jsonl")
    try:
        return parse(text, chosen)
    except ReconcileInputError as exc:
        _fail(f"{file}: {exc}")
        raise


def _show(result: Any, period: Period, derived: bool) -> None:
    """The differences as a table for people (rich)."""
    console = Console()
    console.print(f"Đối soát hồ sơ tiếp nhận từ {period.start:%d/%m/%Y} đến "
                  f"{period.end:%d/%m/%Y}: {result.compared} hồ sơ có ở cả hai bên.")
    if derived:
        console.print("Kỳ lấy theo ngày tiếp nhận sớm nhất và muộn nhất trong tệp: hồ sơ "
                      "thiếu trên Cổng tiếp nhận ngoài các ngày đó không được thấy. Dùng "
                      "--from/--to để đối soát đúng kỳ đã xuất từ Cổng.")
    if result.equal:
        console.print("Khớp: không có hồ sơ thiếu hay khác nhau.")
        return
    table = Table(title="Chênh lệch với Cổng Dịch vụ công quốc gia")
    for title in ("Mã hồ sơ", "Chênh lệch", "Tại hệ thống", "Trên Cổng"):
        table.add_column(title, overflow="fold")
    for code in result.only_local:
        table.add_row(code, "Chưa có trên Cổng", "có", "—")
    for code in result.only_portal:
        table.add_row(code, "Không có tại hệ thống", "—", "có")
    for d in result.differences:
        table.add_row(d.code, d.as_dict()["label"], d.local or "—", d.portal or "—")
    console.print(table)
    console.print(f"Thiếu trên Cổng: {len(result.only_local)}; thiếu tại hệ thống: "
                  f"{len(result.only_portal)}; khác trạng thái/ngày: {len(result.differences)}.")


@sync_app.command("reconcile")
def reconcile_file(
    file: Annotated[Path, typer.Argument(help="Tệp xuất từ Cổng (JSON Lines hoặc CSV; '-': "
                                         "đọc từ đầu vào chuẩn).", show_default=False)],
    fmt: Annotated[SyncFormat | None, typer.Option("--format", help="Định dạng (mặc định: "
                                                   "theo đuôi tệp, .csv hoặc jsonl).",
                                                   show_default=False)] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="Ngày đầu kỳ (mặc định: "
                                                  "ngày tiếp nhận sớm nhất trong tệp).",
                                                  show_default=False)] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Ngày cuối kỳ (mặc định: ngày "
                                                "tiếp nhận muộn nhất trong tệp).",
                                                show_default=False)] = None,
    agency: Annotated[str | None, typer.Option(help="Chỉ hồ sơ của cơ quan này (tiếp nhận "
                                               "hoặc giải quyết).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In kết quả dạng JSON.")] = False,
) -> None:
    """Đối soát tệp xuất từ Cổng với dữ liệu tại hệ thống (mã thoát 1 khi có chênh lệch).

    Liệt kê hồ sơ chỉ có ở một bên, hồ sơ khác trạng thái hoặc ngày tiếp nhận/hẹn trả/kết
    thúc xử lý/trả kết quả. Mã thoát 0 khi khớp, 1 khi có chênh lệch, 2 khi tệp hoặc tham số
    không hợp lệ."""
    from engine.sync.reconcile import receipt_span, reconcile

    portal = _read_portal_file(file, fmt)
    span = receipt_span(portal)
    if (date_from is None or date_to is None) and span is None:
        _fail("tệp không có ngày tiếp nhận (NgayTiepNhan): cho biết kỳ bằng --from và --to")
    first = _day(date_from, "--from") if date_from else span[0]  # type: ignore[index]
    last = _day(date_to, "--to") if date_to else span[1]  # type: ignore[index]
    period = _period(first, last)
    codes = [str(r.get("MaHoSo", "")).strip() for r in portal]
    result = reconcile(_local_records(period, agency, codes), portal)
    if as_json:
        typer.echo(json.dumps({"period": period.as_dict(), **result.as_dict()},
                              ensure_ascii=False, indent=2))
    else:
        _show(result, period, derived=date_from is None or date_to is None)
    raise typer.Exit(0 if result.equal else 1)
