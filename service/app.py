"""The FastAPI application factory (``motcua serve`` runs ``create_app``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from engine.calendar import CalendarRangeError, national_calendar
from engine.db import make_engine
from engine.deadline import TimeLimit, TimeUnit, compute_due
from engine.readjournal import journal_waits_for_disk
from engine.settings import load_settings
from engine.sync import outbound
from engine.timed import events as timed_events
from engine.timezone import assume_local
from service import apidocs, problems, streaming
from service.api import (
    admin,
    attachments,
    auth,
    calendar,
    counter,
    directory,
    documents,
    dossiers,
    notifications,
    procedures,
    public,
    public_documents,
    readjournal,
    reports,
    submissions,
    sync,
)
from service.api import ratings as rating_api
from service.api.schemas.deadline import Deadline
from service.auth import signing_key
from service.exposure import check_metrics_access
from service.metrics import Metrics, MetricsMiddleware
from service.problems import problem_response
from service.ratelimit import Limits, utcnow
from service.report_gate import ReportGate
from service.request_ids import RequestIds
from service.resilience import DatabaseRetry, readiness, readiness_engine, unavailable_answer
from service.sessions import SessionSettings
from service.web import pages

#: ``motcua serve`` sets it: "run" — the scheduler runs in this process (the default of
#: ``serve``); "observe" — it runs elsewhere (``--no-scheduler``), this process only reads its
#: state for /healthz; unset or anything else — no scheduler (tests, a bare ``uvicorn``).
SERVE_SCHEDULER = "MOTCUA_SERVE_SCHEDULER"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the scheduler with the app and stop it (waiting for a running job, giving the
    lease up) when the app stops."""
    scheduler = app.state.scheduler
    if scheduler is not None:
        scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            await run_in_threadpool(scheduler.stop)
            scheduler.engine.dispose()


def _scheduler(url: str, mode: str | None):
    """The in-process scheduler for ``mode`` (see :data:`SERVE_SCHEDULER`), or None. Imported
    here: APScheduler is loaded only by a process that runs it."""
    mode = os.environ.get(SERVE_SCHEDULER, "") if mode is None else mode
    if mode not in ("run", "observe"):
        return None
    from service.scheduler.runner import Scheduler

    run = mode == "run"
    return Scheduler(make_engine(url), lead=run, deliver=run)


def create_app(database_url: str | None = None, *, scheduler: str | None = None) -> FastAPI:
    """Build the app on ``database_url`` (default: ``MOTCUA_DATABASE_URL``), already migrated.
    ``scheduler``: "run", "observe" or "off" (default: ``MOTCUA_SERVE_SCHEDULER``)."""
    app = FastAPI(title="MotCua", version="0.1.0",
                  description="Hệ thống giải quyết thủ tục hành chính theo cơ chế một cửa, "
                              "một cửa liên thông.", lifespan=lifespan,
                  **apidocs.constructor_urls())
    url = database_url or load_settings().database_url
    app.state.engine = make_engine(url)
    app.state.scheduler = _scheduler(url, scheduler)
    with Session(app.state.engine) as session:
        app.state.signing_key = signing_key(session)
    app.state.clock = utcnow  # tests replace it to move time
    app.state.limits = Limits.create(app.state.engine, clock=lambda: app.state.clock())
    app.state.session_settings = SessionSettings.from_env()
    app.state.read_journal_sync = journal_waits_for_disk()  # docs/security.md
    app.state.report_gate = ReportGate.from_env()  # reports that do not queue (issue 18)
    # The timed-work figures are read at scrape time through the probes' engine (no pool,
    # short timeout): a slow database must not hold a scrape up.
    app.state.metrics = Metrics(database=lambda: app.state.readiness_engine)
    timed_events.install(app.state.engine)  # lifecycle events write their messages
    outbound.install_from_env(app.state.engine)  # MOTCUA_PORTAL_URL: records for the portal

    problems.install(app, fallback=unavailable_answer)
    # Innermost middleware: retries a request whose connection broke before COMMIT, else 503.
    app.add_middleware(DatabaseRetry, engine=app.state.engine)
    # The cookie holds only a session record's id (service/sessions.py) and the CSRF token.
    app.add_middleware(SessionMiddleware, secret_key=app.state.signing_key,
                       session_cookie="motcua_session", same_site="lax",
                       max_age=int(app.state.session_settings.max_age.total_seconds()),
                       https_only=app.state.session_settings.secure_cookie)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    # RejectNul's body cap and NUL check, except on the upload routes, which stream their body
    # to the file store under their own cap (service/streaming.py).
    app.add_middleware(streaming.StreamedUploads)
    # Outermost: the request's id (X-Request-ID), there for every layer and every answer.
    app.add_middleware(RequestIds)

    for router in (auth.router, procedures.router, dossiers.router, public.router,
                   calendar.router, admin.router, reports.router, documents.router,
                   readjournal.router, notifications.router, directory.router, counter.router,
                   attachments.router):
        app.include_router(router)
    app.include_router(rating_api.router)  # the applicant's rating after return (issue 16)
    app.include_router(submissions.router)  # online submission, applicant's supplement
    app.include_router(public_documents.router)  # the applicant's forms by secret (issue 16)
    for path, cap in submissions.STREAMED:  # their bodies are streamed uploads too
        streaming.stream_route("POST", path, cap)
    sync.install(app)  # dossiers from the national portal: route, own body cap (issue 17)
    pages.install(app)
    apidocs.install(app)  # /docs and /redoc with their own assets, before /static
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, Any]:
        """Liveness: the process answers. Never touches the database (a database outage must
        not get the process restarted; /readyz reports it). With a scheduler in the process
        (``motcua serve``), also its state as of its last heartbeat: whether this process
        leads, whether any does, and the last successful sweep by any process."""
        body: dict[str, Any] = {"status": "ok"}
        if app.state.scheduler is not None:
            body["scheduler"] = app.state.scheduler.status()
        return body

    app.state.readiness_engine = readiness_engine(
        app.state.engine.url.render_as_string(hide_password=False))

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        """Readiness: 200 when every check passes (database reachable, migrations current),
        else 503 naming the failed check."""
        ready, body = readiness(app.state.readiness_engine)
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        check_metrics_access(request)  # MOTCUA_METRICS_TOKEN / MOTCUA_METRICS_ALLOW
        return Response(app.state.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/api/v1/deadline", tags=["calendar"], summary="Tính ngày hẹn trả",
             response_model=Deadline)
    def deadline(
        received: Annotated[datetime, Query(description="Thời điểm tiếp nhận (ISO 8601)")],
        limit: Annotated[float, Query(ge=0, le=3650)] = 0,
        unit: TimeUnit = TimeUnit.WORKING_DAYS,
    ) -> Deadline | JSONResponse:
        """Due date of a time limit on the national calendar, with its explanation."""
        if not 2015 <= received.year <= 2040:  # the calendar's range (LMT offsets before it)
            return problem_response(422, "invalid-deadline", "Không tính được ngày hẹn trả",
                                    "Thời điểm tiếp nhận phải trong khoảng 2015–2040.")
        try:
            due = compute_due(assume_local(received), TimeLimit(limit, unit), national_calendar())
        except (ValueError, CalendarRangeError) as exc:
            return problem_response(422, "invalid-deadline", "Không tính được ngày hẹn trả",
                                    str(exc))
        return Deadline(due=due.due_date.isoformat(), due_at=due.due_at.isoformat(),
                        explanation=due.explanation())

    return app

