"""The FastAPI application factory (``motcua serve`` runs ``create_app``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlmodel import Session
from starlette.middleware.sessions import SessionMiddleware

from engine.calendar import CalendarRangeError, national_calendar
from engine.db import make_engine
from engine.deadline import TimeLimit, TimeUnit, compute_due
from engine.settings import load_settings
from engine.timezone import assume_local
from service import problems
from service.api import (
    admin,
    auth,
    calendar,
    documents,
    dossiers,
    procedures,
    public,
    readjournal,
    reports,
)
from service.api.schemas.deadline import Deadline
from service.auth import signing_key
from service.exposure import check_metrics_access, docs_urls
from service.metrics import Metrics, MetricsMiddleware
from service.problems import problem_response
from service.ratelimit import Limits, utcnow
from service.resilience import DatabaseRetry, readiness, readiness_engine, unavailable_answer
from service.sessions import SessionSettings
from service.web import pages


def create_app(database_url: str | None = None) -> FastAPI:
    """Build the app on ``database_url`` (default: ``MOTCUA_DATABASE_URL``), already migrated."""
    app = FastAPI(title="MotCua", version="0.1.0",
                  description="Hệ thống giải quyết thủ tục hành chính theo cơ chế một cửa, "
                              "một cửa liên thông.", **docs_urls())
    app.state.engine = make_engine(database_url or load_settings().database_url)
    with Session(app.state.engine) as session:
        app.state.signing_key = signing_key(session)
    app.state.clock = utcnow  # tests replace it to move time
    app.state.limits = Limits.create(app.state.engine, clock=lambda: app.state.clock())
    app.state.session_settings = SessionSettings.from_env()
    app.state.metrics = Metrics()

    problems.install(app, fallback=unavailable_answer)
    # Innermost middleware: retries a request whose connection broke before COMMIT, else 503.
    app.add_middleware(DatabaseRetry, engine=app.state.engine)
    # The cookie holds only a session record's id (service/sessions.py) and the CSRF token.
    app.add_middleware(SessionMiddleware, secret_key=app.state.signing_key,
                       session_cookie="motcua_session", same_site="lax",
                       max_age=int(app.state.session_settings.max_age.total_seconds()),
                       https_only=app.state.session_settings.secure_cookie)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(problems.RejectNul)

    @app.middleware("http")
    async def request_ids(request: Request, call_next):
        """Every request carries an id (``X-Request-ID``), written into the events it causes."""
        incoming = request.headers.get("X-Request-ID", "")
        request.state.request_id = incoming[:64] if incoming else uuid.uuid4().hex
        response = await call_next(request)
        response.headers["X-Request-ID"] = request.state.request_id
        return response

    for router in (auth.router, procedures.router, dossiers.router, public.router,
                   calendar.router, admin.router, reports.router, documents.router,
                   readjournal.router):
        app.include_router(router)
    pages.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness: the process answers. Never touches the database (a database outage must
        not get the process restarted; /readyz reports it)."""
        return {"status": "ok"}

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
        try:
            due = compute_due(assume_local(received), TimeLimit(limit, unit), national_calendar())
        except (ValueError, CalendarRangeError) as exc:
            return problem_response(422, "invalid-deadline", "Không tính được ngày hẹn trả",
                                    str(exc))
        return Deadline(due=due.due_date.isoformat(), due_at=due.due_at.isoformat(),
                        explanation=due.explanation())

    return app

