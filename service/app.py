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
    reports,
)
from service.auth import RateLimiter, signing_key
from service.metrics import Metrics, MetricsMiddleware
from service.problems import problem_response
from service.web import pages


def create_app(database_url: str | None = None) -> FastAPI:
    """Build the app on ``database_url`` (default: ``MOTCUA_DATABASE_URL``), already migrated."""
    app = FastAPI(title="MotCua", version="0.1.0",
                  description="Hệ thống giải quyết thủ tục hành chính theo cơ chế một cửa, "
                              "một cửa liên thông.")
    app.state.engine = make_engine(database_url or load_settings().database_url)
    with Session(app.state.engine) as session:
        app.state.signing_key = signing_key(session)
    app.state.login_limiter = RateLimiter(limit=5, window_seconds=300)
    app.state.public_limiter = RateLimiter(limit=30, window_seconds=60)
    app.state.metrics = Metrics()

    problems.install(app)
    app.add_middleware(SessionMiddleware, secret_key=app.state.signing_key,
                       session_cookie="motcua_session", same_site="lax", https_only=False)
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
                   calendar.router, admin.router, reports.router, documents.router):
        app.include_router(router)
    pages.install(app)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(app.state.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/api/v1/deadline", tags=["calendar"], summary="Tính ngày hẹn trả")
    def deadline(
        received: Annotated[datetime, Query(description="Thời điểm tiếp nhận (ISO 8601)")],
        limit: Annotated[float, Query(ge=0, le=3650)] = 0,
        unit: TimeUnit = TimeUnit.WORKING_DAYS,
    ) -> JSONResponse:
        """Due date of a time limit on the national calendar, with its explanation."""
        try:
            due = compute_due(assume_local(received), TimeLimit(limit, unit), national_calendar())
        except (ValueError, CalendarRangeError) as exc:
            return problem_response(422, "invalid-deadline", "Không tính được ngày hẹn trả",
                                    str(exc))
        return JSONResponse({"due": due.due_date.isoformat(), "due_at": due.due_at.isoformat(),
                             "explanation": due.explanation()})

    return app

