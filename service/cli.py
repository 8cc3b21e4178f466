"""The ``motcua`` command line.

The JSON printed by ``deadline`` and ``replay`` is a contract that scripts and auditors rely
on: add keys if needed, never rename or remove them.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer
from sqlalchemy.engine import make_url
from sqlmodel import Session

from engine import replay
from engine.calendar import CalendarRangeError, WorkingCalendar, national_calendar
from engine.calendar.store import load_calendar
from engine.clock import ClockError
from engine.db import make_engine, session_scope
from engine.deadline import ClockPolicy, LateReceiptPolicy, TimeLimit, TimeUnit, compute_due
from engine.lifecycle import Actor, Applicant, act, audit, get_dossier, receive
from engine.lifecycle.backdating import BackdatePolicy, check_backdate
from engine.lifecycle.errors import LifecycleError, NotFound
from engine.lifecycle.machine import IllegalAction
from engine.migrate import upgrade
from engine.settings import load_settings
from engine.timezone import assume_local
from printouts.cli import print_app
from service.backup import (
    BackupError,
    backup_sqlite,
    is_sqlite,
    postgres_instructions,
    restore_sqlite,
)
from service.cli_reports import reports_app
from service.cli_scheduler import scheduler_app
from service.cli_sync import sync_app
from service.serialize import dossier_detail
from workflows.agencies import DEFAULT_AGENCIES_PATH, check_agencies
from workflows.loader import DEFAULT_CATALOGUE_DIR, CatalogueError, check_catalogue, format_issues
from workflows.sync import load_into

app = typer.Typer(help="MotCua — một cửa, một cửa liên thông.", no_args_is_help=True,
                  add_completion=False)
db_app = typer.Typer(help="Database schema (alembic migrations).", no_args_is_help=True)
calendar_app = typer.Typer(help="The working calendar.", no_args_is_help=True)
workflows_app = typer.Typer(help="The procedure catalogue (thủ tục hành chính).",
                            no_args_is_help=True)
dossier_app = typer.Typer(help="Dossiers (hồ sơ): receive, act, show.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident event log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(calendar_app, name="calendar")
app.add_typer(workflows_app, name="workflows")
app.add_typer(dossier_app, name="dossier")
app.add_typer(audit_app, name="audit")
# `motcua print FORM --dossier CODE|--sample -o FILE.pdf` and `motcua print batch …` (the
# commands live in printouts/cli.py, which imports WeasyPrint only when one runs).
app.add_typer(print_app, name="print")
app.add_typer(reports_app)  # merges `motcua report` and `motcua import`
# `motcua scheduler` (the scheduler as its own process) and `motcua scheduler jobs`.
app.add_typer(scheduler_app, name="scheduler")
app.add_typer(sync_app, name="sync")


def _print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def _fail(message: str, code: int = 2) -> None:
    """A clear one-line error on stderr and a non-zero exit; never a traceback for bad input."""
    typer.echo(f"Lỗi: {message}", err=True)
    raise typer.Exit(code)


def _calendar_for(agency: str | None) -> WorkingCalendar:
    """The national calendar, or an agency's calendar from the database (days off, hours)."""
    if agency is None:
        return national_calendar()
    try:
        with Session(_engine()) as session:
            return load_calendar(session, agency_code=agency)
    except Exception as exc:  # an unmigrated or unreachable database
        _fail(f"không đọc được lịch của cơ quan {agency!r} từ cơ sở dữ liệu: {exc}. "
              "Chạy 'motcua db upgrade' trước.")
        raise  # unreachable; _fail exits


@app.command()
def deadline(
    received: Annotated[str, typer.Option(help="Formal receipt instant, ISO 8601; naive = "
                                               "Asia/Ho_Chi_Minh.")],
    limit: Annotated[float, typer.Option(help="Amount of the time limit.")] = 0,
    unit: Annotated[TimeUnit, typer.Option(help="Unit of the time limit.")] = TimeUnit.WORKING_DAYS,
    agency: Annotated[str | None, typer.Option(help="Agency code: use its calendar.")] = None,
    late_receipt_policy: Annotated[LateReceiptPolicy, typer.Option(
        help="What a receipt after the cut-off does.")] = LateReceiptPolicy.SAME_DAY_ONLY,
    cutoff: Annotated[str, typer.Option(help="Late-receipt cut-off (HH:MM).")] = "15:00",
) -> None:
    """Print the due date of a time limit as JSON, with the explanation of skipped days."""
    try:
        received_at = assume_local(datetime.fromisoformat(received))
        policy = ClockPolicy(late_receipt_cutoff=datetime.strptime(cutoff, "%H:%M").time(),
                             late_receipt_policy=late_receipt_policy)
        time_limit = TimeLimit(limit, unit)
    except ValueError as exc:
        _fail(str(exc))
    calendar = _calendar_for(agency)
    try:
        due = compute_due(received_at, time_limit, calendar, policy)
    except CalendarRangeError as exc:
        _fail(str(exc))
    _print_json({
        "received": received_at.isoformat(),
        "limit": {"amount": time_limit.amount, "unit": time_limit.unit.value,
                  "label": time_limit.label_vi},
        "due": due.due_date.isoformat(),
        "due_at": due.due_at.isoformat(),
        "counted_from": due.counted_from.isoformat(),
        "calendar_version": calendar.version,
        "explanation": due.explanation(),
    })


@app.command("replay")
def replay_command(
    file: Annotated[Path, typer.Argument(help="JSON file ('-' for standard input).")],
    agency: Annotated[str | None, typer.Option(help="Agency code: use its calendar.")] = None,
) -> None:
    """Replay a dossier's clock events and print due dates and classifications as JSON."""
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    except OSError as exc:
        _fail(f"không đọc được tệp {file}: {exc.strerror}")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"{file}: JSON không hợp lệ ở dòng {exc.lineno}, cột {exc.colno}: {exc.msg}")
    try:
        spec = replay.ReplaySpec.from_dict(raw)
        result = replay.run(spec, _calendar_for(agency))
    except (ClockError, CalendarRangeError) as exc:
        _fail(f"{file}: {exc}")
    _print_json(result)


@calendar_app.command("show")
def calendar_show(
    year: Annotated[int, typer.Option(help="Year to list.")],
    agency: Annotated[str | None, typer.Option(help="Agency code.")] = None,
) -> None:
    """List the days that depart from Monday–Friday in a year, with reasons and sources."""
    calendar = _calendar_for(agency)
    days = [e for e in calendar.entries() if e.day.year == year]
    _print_json({
        "year": year,
        "calendar_version": calendar.version,
        "office_hours": calendar.office_hours.format(),
        "days": [{"date": e.day.isoformat(), "kind": e.kind.value, "name": e.name,
                  "legal_basis": e.legal_basis, "confirmed": e.confirmed,
                  "estimated": e.estimated} for e in days],
    })


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations to MOTCUA_DATABASE_URL (default: ./motcua.db, SQLite)."""
    url = load_settings().database_url
    upgrade(url, revision)
    typer.echo(f"Cơ sở dữ liệu đã cập nhật: {_redact(url)}")


@db_app.command("partition")
def db_partition(
    from_year: Annotated[int, typer.Option(help="First year partition.")],
    to_year: Annotated[int, typer.Option(help="Last year partition (inclusive).")],
    check: Annotated[bool, typer.Option(help="Only count rows whose dossier is missing.")]
    = False,
) -> None:
    """PostgreSQL: partition dossier and dossier_event by year, after 'motcua db upgrade';
    run again each December for the next year (docs/scaling.md#partitioning)."""
    from engine import partitioning

    engine = make_engine(load_settings().database_url)
    try:
        with engine.begin() as connection:
            if check:
                _print_json(partitioning.orphans(connection))
                return
            report = partitioning.convert(connection, range(from_year, to_year + 1))
    except partitioning.PartitioningError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    _print_json({"converted": report.converted, "partitions_added": report.partitions_added,
                 "rows_moved": report.rows_moved,
                 "foreign_keys_dropped": report.foreign_keys_dropped})


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


# ----- workflows ----------------------------------------------------------------------------

@workflows_app.command("check")
def workflows_check(
    directory: Annotated[Path | None, typer.Argument(help="Catalogue folder.")] = None,
    agencies: Annotated[Path | None, typer.Option(help="Agency tree file.")] = None,
) -> None:
    """Validate every procedure file (and the agency tree); errors name file and line."""
    folder = directory or DEFAULT_CATALOGUE_DIR
    issues = check_catalogue(folder)
    if not issues and (agencies or directory is None):
        issues = check_agencies(agencies or DEFAULT_AGENCIES_PATH, folder)
    if issues:
        typer.echo(format_issues(issues), err=True)
        typer.echo(f"{len(issues)} lỗi.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Danh mục hợp lệ: {folder}")


@workflows_app.command("load")
def workflows_load(
    directory: Annotated[Path | None, typer.Argument(help="Catalogue folder.")] = None,
    agencies: Annotated[Path | None, typer.Option(help="Agency tree file.")] = None,
) -> None:
    """Validate and load the catalogue and agency tree into the database (idempotent)."""
    try:
        summary = _load_catalogue(directory, agencies)
    except CatalogueError as exc:
        typer.echo(format_issues(exc.issues), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Đã nạp {summary.procedures} thủ tục ({summary.versions} phiên bản), "
               f"{summary.agencies} cơ quan.")


def _load_catalogue(directory: Path | None = None, agencies: Path | None = None):
    with session_scope(_engine()) as session:
        return load_into(session, catalogue_dir=directory or DEFAULT_CATALOGUE_DIR,
                         agencies_path=agencies or DEFAULT_AGENCIES_PATH)


def _engine():
    return make_engine(load_settings().database_url)


# ----- dossiers -------------------------------------------------------------------------------

ActorOpts = {
    "user": typer.Option(help="User id of the actor."),
    "role": typer.Option(help="clerk | officer | leader."),
    "agency": typer.Option(help="Agency code of the actor."),
}


def _actor(user: str, role: str, agency: str) -> Actor:
    return Actor(id=user, role=role, agency=agency)


def _lifecycle_call(fn, **kwargs):
    """Run one lifecycle action in its own transaction; print errors the way people read.
    Its messages (receipt, result ready …) and its portal record (with MOTCUA_PORTAL_URL) are
    written with it, as the service writes them."""
    from engine.sync.outbound import install_from_env
    from engine.timed.events import install

    engine = _engine()
    install(engine)
    install_from_env(engine)
    try:
        with session_scope(engine) as session:
            result = fn(session, **kwargs)
            return dossier_detail(session, result.dossier).model_dump(mode="json"), result
    except IllegalAction as exc:
        _fail(str(exc), 3)
    except LifecycleError as exc:
        detail = f" {json.dumps(exc.details, ensure_ascii=False)}" if exc.details else ""
        _fail(f"{exc.message}{detail}", 3)
    raise AssertionError("unreachable")


BACKDATE_AT_HELP = ("Record an earlier instant (paper dossier typed in later; default and "
                    "normally: the server's clock). Needs --backdate-reason.")
BACKDATE_REASON_HELP = "Why the instant is earlier than now (journaled on the event)."


def _backdate(when: datetime | None, reason: str | None) -> str | None:
    """The command line records an earlier instant like the API does (window, never in the
    future, a reason, journaled); only the role check is left out: its user holds the
    database."""
    if when is None:
        return None
    try:
        return check_backdate(role=None, at=when, now=datetime.now(UTC), reason=reason,
                              policy=BackdatePolicy.from_env())
    except LifecycleError as exc:
        _fail(exc.message)
    raise AssertionError("unreachable")


@dossier_app.command("receive")
def dossier_receive(
    file: Annotated[Path, typer.Argument(help="JSON body: procedure, applicant, components …")],
    user: Annotated[str, ActorOpts["user"]] = "clerk",
    role: Annotated[str, ActorOpts["role"]] = "clerk",
    agency: Annotated[str | None, ActorOpts["agency"]] = None,
    at: Annotated[str | None, typer.Option(help=BACKDATE_AT_HELP)] = None,
    backdate_reason: Annotated[str | None, typer.Option(help=BACKDATE_REASON_HELP)] = None,
    online: Annotated[bool, typer.Option(help="Register an online submission.")] = False,
) -> None:
    """Receive a dossier at the counter from a JSON file (see examples/receive.json)."""
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
        applicant = Applicant(**body["applicant"])
        when = assume_local(datetime.fromisoformat(at)) if at else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        _fail(f"{file}: tệp không hợp lệ ({exc})")
    backdate_reason = _backdate(when, backdate_reason)
    detail, _ = _lifecycle_call(
        receive, actor=_actor(user, role, agency or body.get("agency", "")),
        procedure_code=body["procedure"], applicant=applicant,
        components=body.get("components") or [], channel=body.get("channel", "counter"),
        competent_agency=body.get("competent_agency"),
        returning_agency=body.get("returning_agency"),
        return_method=body.get("return_method", "counter"), at=when, online=online,
        backdate_reason=backdate_reason)
    _print_json(detail)


@dossier_app.command("act")
def dossier_act(
    code: Annotated[str, typer.Argument(help="Dossier code.")],
    action: Annotated[str, typer.Argument(help="Action, e.g. transfer, forward, finish.")],
    user: Annotated[str, ActorOpts["user"]] = "clerk",
    role: Annotated[str, ActorOpts["role"]] = "clerk",
    agency: Annotated[str, ActorOpts["agency"]] = "",
    reason: Annotated[str | None, typer.Option(help="Reason (required by some actions).")] = None,
    payload: Annotated[str | None, typer.Option(help="JSON object, e.g. '{\"new_due\": "
                                                       "\"2026-03-20\"}'.")] = None,
    at: Annotated[str | None, typer.Option(help=BACKDATE_AT_HELP)] = None,
    backdate_reason: Annotated[str | None, typer.Option(help=BACKDATE_REASON_HELP)] = None,
) -> None:
    """Take an action on a dossier and print the dossier afterwards."""
    try:
        data = json.loads(payload) if payload else {}
        when = assume_local(datetime.fromisoformat(at)) if at else None
    except ValueError as exc:
        _fail(f"tham số không hợp lệ: {exc}")
    backdate_reason = _backdate(when, backdate_reason)
    detail, _ = _lifecycle_call(act, code=code, action=action, actor=_actor(user, role, agency),
                                reason=reason, payload=data, at=when,
                                backdate_reason=backdate_reason)
    _print_json(detail)


@dossier_app.command("show")
def dossier_show(code: Annotated[str, typer.Argument(help="Dossier code.")]) -> None:
    """Print a dossier with its events, hand-offs, documents and allowed actions."""
    with Session(_engine()) as session:
        try:
            dossier = get_dossier(session, code)
        except NotFound as exc:
            _fail(exc.message, 3)
        _print_json(dossier_detail(session, dossier).model_dump(mode="json"))


@audit_app.command("verify")
def audit_verify(code: Annotated[str | None, typer.Option(help="Only this dossier.")] = None
                 ) -> None:
    """Recompute every dossier's hash chain; report the first broken link of each."""
    with Session(_engine()) as session:
        checked, broken = audit.verify(session, dossier_code=code)
    for link in broken:
        typer.echo(f"HỎNG: {link}", err=True)
    typer.echo(f"Đã kiểm tra {checked} hồ sơ: {len(broken)} chuỗi bị hỏng.")
    if broken:
        raise typer.Exit(1)


def _sqlite_url_or_instructions(file: Path) -> str:
    """The configured SQLite database; for PostgreSQL, print the pg_dump/pg_restore commands
    and exit 2 (its own tools do it better than we would)."""
    url = load_settings().database_url
    if not is_sqlite(url):
        typer.echo(postgres_instructions(url, file))
        raise typer.Exit(2)
    return url


@app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="Backup file to write.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Back up the SQLite database to FILE, consistently, even while the service runs.
    PostgreSQL: prints the pg_dump/pg_restore commands and exits 2."""
    url = _sqlite_url_or_instructions(file)
    try:
        summary = backup_sqlite(url, file, force=force)
    except BackupError as exc:
        _fail(str(exc), 1)
    typer.echo(f"Đã sao lưu vào {summary.path}: {summary.dossiers} hồ sơ, {summary.events} sự "
               f"kiện, lược đồ {summary.revision}.")


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="Backup file made by 'motcua backup'.")],
    force: Annotated[bool, typer.Option(help="Restore even if the database is in use.")] = False,
) -> None:
    """Restore the SQLite database from FILE after checking its audit chain; refuses while
    the database is in use unless --force. PostgreSQL: prints the commands and exits 2."""
    url = _sqlite_url_or_instructions(file)
    try:
        summary = restore_sqlite(url, file, force=force)
    except BackupError as exc:
        _fail(str(exc), 1)
    typer.echo(f"Đã khôi phục {summary.path} từ {file}: {summary.dossiers} hồ sơ, chuỗi nhật ký "
               f"kiểm toán nguyên vẹn, lược đồ {summary.revision}.")
    if force:
        typer.echo("Hãy khởi động lại dịch vụ (restart the service).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    no_scheduler: Annotated[bool, typer.Option(
        "--no-scheduler", help="Do not run the scheduler in this process (a separate "
                               "'motcua scheduler' runs it).")] = False,
    workers: Annotated[int | None, typer.Option(
        help="Web processes (default MOTCUA_WORKERS, else one per core up to 4 on "
             "PostgreSQL, one on SQLite).")] = None,
) -> None:
    """Wait for the database (MOTCUA_DB_WAIT_SECONDS), migrate it and start the HTTP service,
    with the scheduler inside (sweeps, deliveries, nightly snapshots) unless --no-scheduler.
    With several workers (service/workers.py) the scheduler runs once, in the supervising
    process, and the workers only report it."""
    # The command line's one lazy boundary: the HTTP service (uvicorn, Starlette, argon2, JWT)
    # is imported only to serve. Imported at the top it costs every command ~0.5 s: `motcua
    # --help` 1.8 s instead of 1.3 s (hyperfine, 30 runs on 2 busy cores; +480 ms of imports
    # timed in-process). Everything else at the top costs +235 ms (alembic 78 ms of it).
    import uvicorn

    from printouts.qr import unset_base_url_warning
    from service import auth, resilience
    from service import workers as several

    url = load_settings().database_url
    try:
        plan = several.plan_workers(url, workers)
    except ValueError as exc:
        _fail(str(exc))
    if not no_scheduler:
        _check_scheduler_settings()
    if warning := unset_base_url_warning():
        typer.echo(warning, err=True)
    if plan.warning:
        typer.echo(plan.warning, err=True)
    _wait_for_database(resilience, url)
    upgrade(url)
    summary = _load_catalogue()
    typer.echo(f"Danh mục: {summary.procedures} thủ tục, {summary.agencies} cơ quan.")
    _ensure_demo_users(auth)
    _ensure_signing_key(auth)
    # The app starts the scheduler in its lifespan (service/app.py); APScheduler is imported
    # there, only when it runs. "observe": no jobs, only the state for /healthz. Several
    # workers: the scheduler runs in this supervising process instead, and they observe it.
    inside = plan.count == 1 and not no_scheduler
    os.environ["MOTCUA_SERVE_SCHEDULER"] = "run" if inside else "observe"
    typer.echo(f"Tiến trình phục vụ: {plan.count} ({plan.reason}).")
    typer.echo("Bộ lập lịch: " + ("không chạy trong tiến trình này (--no-scheduler); chạy "
                                  "'motcua scheduler' riêng." if no_scheduler else
                                  "chạy trong tiến trình này (--no-scheduler để tắt)."
                                  if inside else f"chạy trong tiến trình quản lý (pid "
                                  f"{os.getpid()}), không trong {plan.count} tiến trình "
                                  "phục vụ."))
    typer.echo(f"MotCua đang chạy tại http://{host}:{port}/")
    # proxy_headers=False: uvicorn would otherwise take X-Forwarded-For from 127.0.0.1 as the
    # client's address; service/clientip.py decides (MOTCUA_TRUSTED_PROXIES). log_config: the
    # access log's lookup-secret filter, in every worker.
    options: dict[str, Any] = {"factory": True, "host": host, "port": port,
                               "proxy_headers": False, "log_config": several.log_config()}
    if plan.count == 1:
        uvicorn.run("service.app:create_app", **options)
        return
    with several.shared_metrics(), ExitStack() as stack:
        if not no_scheduler:
            stack.enter_context(several.parent_scheduler(url))
        uvicorn.run("service.app:create_app", workers=plan.count, **options)


def _check_scheduler_settings() -> None:
    """A bad ``MOTCUA_SWEEP_MINUTES`` … is a clear error now, not a traceback when the app
    starts its scheduler."""
    from service.scheduler.settings import SchedulerSettings

    try:
        SchedulerSettings.from_env()
    except ValueError as exc:
        _fail(str(exc))


def _wait_for_database(resilience: ModuleType, url: str) -> None:
    """Start-up: retry the database every 2 s for MOTCUA_DB_WAIT_SECONDS (default 60), then
    exit 1 with a clear message (the service and its database often start together).
    ``resilience`` is :mod:`service.resilience`, imported by :func:`serve` only."""
    try:
        resilience.wait_for_database(url, resilience.db_wait_seconds(),
                                     say=lambda line: typer.echo(line, err=True))
    except ValueError as exc:
        _fail(str(exc))
    except resilience.DatabaseWaitError as exc:
        _fail(str(exc), 1)


def _ensure_signing_key(auth: ModuleType) -> None:
    """Without MOTCUA_SECRET_KEY the key is generated once and kept in the database: generate
    it here, before the workers start, rather than have N of them race to insert it."""
    engine = _engine()
    try:
        with Session(engine) as session:
            auth.signing_key(session)
    finally:
        engine.dispose()


def _ensure_demo_users(auth: ModuleType) -> None:
    """One demo user per role on the first start; a generated password is shown once.
    ``auth`` is :mod:`service.auth`, imported by :func:`serve` only."""
    with session_scope(_engine()) as session:
        generated = auth.ensure_demo_users(session)
    if generated:
        names = ", ".join(u.username for u in auth.DEMO_USERS)
        typer.echo(f"Đã tạo người dùng mẫu ({names}) với mật khẩu: {generated}")
        typer.echo("Mật khẩu này chỉ hiện một lần; đặt MOTCUA_DEMO_PASSWORD để tự chọn.")



if __name__ == "__main__":  # pragma: no cover
    app()
