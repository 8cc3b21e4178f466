"""Prometheus metrics (``GET /metrics``): requests by route and status, lifecycle actions, and
the timed work (sweeps, the outbox, the scheduler's leader) read from the database.

Requests and actions are counted in the process that serves them; with several workers
(``motcua serve --workers N``, service/workers.py) each worker writes them to its own file in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape sums every worker's files (``prometheus_client``'s
multiprocess mode), so whichever worker answers reports them all. The timed work happens in
other processes (the scheduler may run apart, several processes deliver), so its figures are
read from the database at each scrape (:class:`TimedWorkCollector`): every web process then
reports the same, true values, whichever of them is scraped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, values
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Connection, Engine, case, func, select, text
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from engine import outbox
from engine.outbox import Channel, DeliveryState, OutboxMessage
from service.scheduler import status as scheduler_status
from service.scheduler.leader import LEASE_NAME

log = logging.getLogger("motcua.metrics")

#: A scrape gives up on a slow database after this long (PostgreSQL ``statement_timeout``).
SCRAPE_TIMEOUT_MS = 2000


class Metrics:
    def __init__(self, database: Callable[[], Engine] | None = None) -> None:
        """``database``: the engine the timed-work figures are read from at each scrape
        (a callable, so the app can swap it); None leaves them out."""
        self.registry = CollectorRegistry()
        self.timed = None if database is None else TimedWorkCollector(database)
        if self.timed is not None:
            self.registry.register(self.timed)
        self.requests = Counter("motcua_http_requests", "HTTP requests",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("motcua_http_request_seconds", "HTTP request duration",
                                 ["route"], registry=self.registry)
        self.actions = Counter("motcua_dossier_actions", "Lifecycle actions performed",
                               ["action"], registry=self.registry)

    def render(self) -> bytes:
        """This process's counters; in multiprocess mode (the value class prometheus_client
        chose at import, from ``PROMETHEUS_MULTIPROC_DIR``) every worker's, from their files."""
        if values.ValueClass is values.MutexValue:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        if self.timed is not None:
            registry.register(self.timed)
        return generate_latest(registry)


class MetricsMiddleware:
    """Counts every request by its route template (not the raw path: codes are unbounded)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), {"code": 500}

        async def capture(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(scope["method"], template, str(status["code"])).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - started)


class TimedWorkCollector:
    """Sweeps, outbox and leader, read from the database when ``/metrics`` is scraped.

    - ``motcua_sweep_last_success_timestamp_seconds``, ``motcua_sweep_last_duration_seconds``,
      ``motcua_sweep_last_findings{kind}``, ``motcua_sweep_last_new_messages``: the latest
      sweep that succeeded (table ``sweep_run``); ``motcua_sweep_runs_total{outcome}``
      (ok, failed, unfinished: running or killed);
    - ``motcua_outbox_messages{state}``: the outbox's depth (``engine.outbox.depth``);
    - ``motcua_outbox_delivery_failures{channel}``: failed attempts of the messages not
      delivered yet (retrying or dead) — rises while a channel fails, falls as they get
      through or are retried by an administrator;
    - ``motcua_scheduler_has_leader``, ``motcua_scheduler_leader_info{holder}``;
    - ``motcua_timed_metrics_up``: 0 when the database could not be read (the rest is then
      missing from that scrape, never stale).
    """

    def __init__(self, database: Callable[[], Engine]) -> None:
        self.database = database

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("motcua_timed_metrics_up",
                               "1 if the timed-work figures could be read from the database")
        try:
            with self.database().connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text(f"SET statement_timeout = {SCRAPE_TIMEOUT_MS}"))
                families = [*self._sweeps(connection), *self._outbox(connection),
                            *self._leader(connection)]
        except Exception:
            log.warning("metrics: the timed-work figures could not be read", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    @staticmethod
    def _sweeps(connection: Connection) -> Iterator[Metric]:
        last = scheduler_status.last_successful_sweep(connection)
        runs = scheduler_status.sweep_runs(connection)
        total = CounterMetricFamily("motcua_sweep_runs", "Sweeps finished, by outcome",
                                    labels=["outcome"])
        for outcome in ("ok", "failed", "unfinished"):
            total.add_metric([outcome], runs.get(outcome, 0))
        yield total
        if last is None:
            return
        yield GaugeMetricFamily("motcua_sweep_last_success_timestamp_seconds",
                                "When the latest successful sweep finished (Unix time)",
                                value=last.finished_at.timestamp())
        yield GaugeMetricFamily("motcua_sweep_last_duration_seconds",
                                "How long the latest successful sweep took",
                                value=last.seconds)
        yield GaugeMetricFamily("motcua_sweep_last_new_messages",
                                "Outbox messages the latest successful sweep wrote",
                                value=last.new_messages)
        findings = GaugeMetricFamily("motcua_sweep_last_findings",
                                     "Findings of the latest successful sweep, by kind",
                                     labels=["kind"])
        for kind, count in sorted(last.findings.items()):
            findings.add_metric([kind], count)
        yield findings

    @staticmethod
    def _outbox(connection: Connection) -> Iterator[Metric]:
        with Session(bind=connection) as session:
            depth = outbox.depth(session)
        messages = GaugeMetricFamily("motcua_outbox_messages", "Outbox messages by state",
                                     labels=["state"])
        for state in DeliveryState:
            messages.add_metric([state.value], depth.get(state.value, 0))
        yield messages
        t = OutboxMessage.__table__.c
        # Attempts are counted when a message is claimed: a message being sent has one attempt
        # under way that has not failed (yet).
        in_flight = DeliveryState.SENDING.value
        failed = func.sum(case((t.state == in_flight, t.attempts - 1), else_=t.attempts))
        counts = dict(connection.execute(
            select(t.channel, failed)
            .where(t.state.in_([DeliveryState.PENDING.value, in_flight,
                                DeliveryState.DEAD.value]))
            .group_by(t.channel)).all())
        failures = GaugeMetricFamily("motcua_outbox_delivery_failures",
                                     "Failed delivery attempts of messages not delivered yet "
                                     "(retrying or dead), by channel", labels=["channel"])
        for channel in Channel:
            failures.add_metric([channel.value], int(counts.get(channel.value) or 0))
        yield failures

    @staticmethod
    def _leader(connection: Connection) -> Iterator[Metric]:
        lease = scheduler_status.lease_state(connection, LEASE_NAME, datetime.now(UTC))
        yield GaugeMetricFamily("motcua_scheduler_has_leader",
                                "1 if a scheduler process holds the lease now",
                                value=1 if lease.holder else 0)
        info = GaugeMetricFamily("motcua_scheduler_leader_info",
                                 "The scheduler process that holds the lease (host:pid:id)",
                                 labels=["holder"])
        if lease.holder:
            info.add_metric([lease.holder], 1)
        yield info
