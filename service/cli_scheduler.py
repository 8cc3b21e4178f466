"""``motcua scheduler``: the scheduler as its own process, and ``motcua scheduler jobs``.

``motcua serve`` runs the same scheduler inside the web process by default; a deployment with
several web processes or machines runs ``motcua serve --no-scheduler`` and one or more
``motcua scheduler`` processes (one leads, the others wait; docs/notifications.md, "The
scheduler"). APScheduler is imported only when a command here runs (the command line's lazy
boundary, see ``serve``).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy.exc import DBAPIError

from engine.db import make_engine
from engine.migrate import current_revision, head_revision
from engine.settings import load_settings
from engine.timezone import to_local

scheduler_app = typer.Typer(
    help="Bộ lập lịch: quét hạn định kỳ, gửi thông báo, chốt số liệu hằng đêm. Không có lệnh "
         "con: chạy bộ lập lịch (Ctrl-C hoặc SIGTERM để dừng).",
    invoke_without_command=True)

#: Seconds between checks while waiting for ``motcua serve`` / ``db upgrade`` to migrate.
SCHEMA_WAIT_INTERVAL = 2.0


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(code)


def _settings():
    from service.scheduler.settings import SchedulerSettings

    try:
        return SchedulerSettings.from_env()
    except ValueError as exc:
        _fail(str(exc))
        raise  # unreachable


def _wait_for_schema(url: str, wait_seconds: float) -> None:
    """The scheduler does not migrate (two processes migrating at once would race): it waits
    for ``motcua serve`` or ``motcua db upgrade`` to bring the schema to this code's head,
    for as long as it waits for the database, then exits 1."""
    engine = make_engine(url)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            with engine.connect() as connection:
                current = current_revision(connection)
            if current == head_revision():
                return
            if time.monotonic() + SCHEMA_WAIT_INTERVAL > deadline:
                _fail(f"cơ sở dữ liệu ở phiên bản {current or 'chưa khởi tạo'}, mã nguồn cần "
                      f"{head_revision()}: chạy 'motcua db upgrade' (hoặc 'motcua serve') "
                      "trước", 1)
            typer.echo(f"Đang chờ lược đồ cơ sở dữ liệu {head_revision()} (hiện "
                       f"{current or 'chưa khởi tạo'})…", err=True)
            time.sleep(SCHEMA_WAIT_INTERVAL)
    finally:
        engine.dispose()


def configure_logging() -> None:
    """One line per event on stderr; APScheduler's and httpx's own chatter ("Running job …"
    every few seconds, every webhook request) only when something is wrong."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per webhook otherwise


@scheduler_app.callback()
def scheduler_run(ctx: typer.Context) -> None:
    """Run the scheduler in the foreground until Ctrl-C or SIGTERM; the lease is given up at
    a clean stop. Several may run: one leads (sweeps, snapshots), all deliver."""
    if ctx.invoked_subcommand is not None:
        return
    from service import resilience
    from service.scheduler.runner import Scheduler, run_until_signalled

    settings = _settings()
    url = load_settings().database_url
    try:
        wait = resilience.db_wait_seconds()
        resilience.wait_for_database(url, wait, say=lambda line: typer.echo(line, err=True))
    except ValueError as exc:
        _fail(str(exc))
    except resilience.DatabaseWaitError as exc:
        _fail(str(exc), 1)
    _wait_for_schema(url, wait)
    configure_logging()
    engine = make_engine(url)
    scheduler = Scheduler(engine, settings=settings)
    typer.echo(f"Bộ lập lịch {scheduler.holder} đang chạy trên "
               f"{resilience.describe_database(url)}; Ctrl-C để dừng.")
    try:
        run_until_signalled(scheduler, say=lambda line: typer.echo(line, err=True))
    finally:
        engine.dispose()
    typer.echo("Bộ lập lịch đã dừng và trả quyền chủ trì.")


@scheduler_app.command("jobs")
def scheduler_jobs(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the scheduler's jobs (id, trigger, who runs it, next run), who leads now and the
    last successful sweep."""
    from service.resilience import readiness_engine
    from service.scheduler import status
    from service.scheduler.leader import LEASE_NAME
    from service.scheduler.runner import RunsOn, Scheduler

    url = load_settings().database_url
    engine = readiness_engine(url)  # short connect timeout: listing must not hang
    now = datetime.now(UTC)
    try:
        rows = Scheduler(engine, settings=_settings()).jobs(now)
        try:
            with engine.connect() as connection:
                lease = status.lease_state(connection, LEASE_NAME, now)
                last = status.last_successful_sweep(connection)
            state: dict[str, Any] = {"leader": lease.holder, "last_sweep": last}
        except DBAPIError:
            state = {"unreachable": True}
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(_as_json(rows, state), ensure_ascii=False, indent=2))
        return
    typer.echo("Công việc của bộ lập lịch (giờ Việt Nam):")
    for row in rows:
        nxt = f"{to_local(row.next_run):%d/%m/%Y %H:%M:%S}" if row.next_run else "—"
        typer.echo(f"  {row.id:<9} {row.trigger:<30} {RunsOn(row.who).label_vi:<18} "
                   f"lần tới {nxt}")
    if state.get("unreachable"):
        typer.echo("Không đọc được cơ sở dữ liệu: không rõ tiến trình chủ trì.")
        return
    typer.echo(f"Tiến trình chủ trì: {state['leader'] or 'không có'}")
    last = state["last_sweep"]
    if last is None:
        typer.echo("Lượt quét thành công gần nhất: chưa có")
    else:
        found = sum(last.findings.values())
        when = f"{to_local(last.finished_at):%d/%m/%Y %H:%M:%S}"
        typer.echo(f"Lượt quét thành công gần nhất: {when} ({last.seconds:.1f} giây, "
                   f"{found} phát hiện, {last.new_messages} thông báo mới)")


def _as_json(rows, state: dict[str, Any]) -> dict[str, Any]:
    last = state.get("last_sweep")
    return {
        "jobs": [{"id": r.id, "trigger": r.trigger, "who": r.who,
                  "next_run": r.next_run.isoformat() if r.next_run else None} for r in rows],
        "leader": state.get("leader"),
        "last_sweep": None if last is None else {
            "finished_at": to_local(last.finished_at).isoformat(),
            "seconds": last.seconds, "findings": last.findings,
            "new_messages": last.new_messages},
        "database_reachable": not state.get("unreachable", False),
    }
