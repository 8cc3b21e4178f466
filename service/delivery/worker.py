"""Delivering the outbox: claim due messages, send them outside any transaction, record.

One call of :func:`deliver_due` is one batch:

1. **Claim** (one transaction, committed at once): up to ``limit`` due messages of the channels
   that can send are leased to this worker (``engine.outbox.claim``: ``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL, so workers in several processes take disjoint batches). Channels
   that are not configured are *waiting*: not claimed, their rows carry the reason.
2. **Send**, with no transaction open: in-app messages need nothing (delivered = visible in the
   bell); e-mails go through one SMTP connection; webhooks to each URL go in order. These
   *routes* run side by side, a thread each, so a slow receiver holds up only its own messages;
   every network call has a timeout, and a route that runs past the batch's budget gives its
   unsent messages back untried (their attempt is not counted).
3. **Record** each route's outcomes as it finishes (one transaction per route): delivered;
   failed → retried after the outbox's backoff, dead after ``MAX_ATTEMPTS`` or at once when
   retrying cannot help. A worker whose lease ran out and was taken over records nothing for
   that message (``lost``): the other worker owns it now.

A crash between sending and recording sends that message again after the lease expires; the
key travelling as ``Message-ID`` / ``Idempotency-Key`` lets the receiver recognise it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from engine import outbox
from engine.outbox import Channel, DeliveryState
from service.delivery.attachments import Printer, attachments_for
from service.delivery.mail import SmtpCourier
from service.delivery.message import DeliveryError, Outgoing
from service.delivery.portal import PortalCourier
from service.delivery.settings import DeliverySettings
from service.delivery.webhook import WebhookCourier, new_client

log = logging.getLogger("motcua.delivery")

SessionSource = Engine | Callable[[], Session]
Route = tuple[str, str]  # (channel, where): ("email", ""), ("webhook", url), ("in_app", ""),
#                          ("portal", url): the national portal's records (portal.py)
#: Seconds between two stampings of a waiting channel's reason on its pending rows.
NOTE_EVERY = 60.0


class Courier(Protocol):
    def send(self, message: Outgoing) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    message_id: int
    key: str
    result: Literal["delivered", "failed", "released"]
    error: str = ""
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one batch did (for logs, ``/metrics`` and the scheduler's job history)."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0  # failed, pending again after the backoff
    dead: int = 0  # failed for the last time (or for good): in the dead-letter list
    released: int = 0  # claimed but not tried before the budget ran out
    lost: int = 0  # the lease expired and another worker took the message over
    waiting: Mapping[str, str] = field(default_factory=dict)  # channel → why it cannot send
    errors: tuple[tuple[str, str], ...] = ()  # (message key, reason) of this batch's failures

    @property
    def failed(self) -> int:
        return self.retrying + self.dead


class Couriers:
    """The senders, kept across batches: the webhook HTTP client keeps its connections open
    (a new client per batch would pay a TLS context and a handshake every time)."""

    def __init__(self, settings: DeliverySettings):
        self.settings = settings
        self._client = None
        self._lock = threading.Lock()
        self._noted: dict[tuple[str, str], float] = {}
        self.printer = Printer()  # renders the forms e-mails carry (loads on first use)

    def time_to_note(self, where: str, channel: Channel) -> bool:
        """Whether to stamp the waiting reason on a waiting channel's rows now: once a minute
        per database is enough for the administrators' list, and spares every batch a write."""
        with self._lock:
            last = self._noted.get((where, channel.value))
            if last is not None and time.monotonic() - last < NOTE_EVERY:
                return False
            self._noted[(where, channel.value)] = time.monotonic()
            return True

    @property
    def client(self):
        with self._lock:
            if self._client is None:
                self._client = new_client()
            return self._client

    def route(self, message: Outgoing) -> Route:
        if message.channel == Channel.WEBHOOK:
            url = self.settings.webhook.url_for(message.recipient)
            if url is None:
                raise DeliveryError(f"không có URL cho đích webhook {message.recipient!r} "
                                    "(MOTCUA_WEBHOOK_TARGETS)", permanent=True)
            return (message.channel, url)
        if message.channel == Channel.PORTAL:
            return (message.channel, self.settings.portal.url)
        return (message.channel, "")

    def open(self, route: Route) -> Courier:
        channel, where = route
        if channel == Channel.EMAIL:
            return SmtpCourier(self.settings.smtp)
        if channel == Channel.WEBHOOK:
            return WebhookCourier(self.settings.webhook, where, self.client)
        if channel == Channel.PORTAL:
            return PortalCourier(self.settings.portal, self.client)
        return _InApp()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class _InApp:
    """Nothing to send: the row itself is the message; delivered means shown in the bell."""

    def send(self, message: Outgoing) -> None:
        return None

    def close(self) -> None:
        return None


_shared: dict[DeliverySettings, Couriers] = {}
_shared_lock = threading.Lock()


def couriers_for(settings: DeliverySettings) -> Couriers:
    """One :class:`Couriers` per distinct settings, for the life of the process."""
    with _shared_lock:
        if settings not in _shared:
            _shared[settings] = Couriers(settings)
        return _shared[settings]


@contextmanager
def _batch_sessions(source: SessionSource) -> Iterator[Callable[[], Session]]:
    """New sessions for one batch's transactions. From an engine they share one connection,
    checked out once: a checkout pings PostgreSQL (pre-ping), and a batch has several short
    transactions (claim, then a record per route)."""
    if not isinstance(source, Engine):
        yield source
        return
    with source.connect() as connection:
        yield lambda: Session(bind=connection, expire_on_commit=False)


@contextmanager
def _transaction(open_session: Callable[[], Session]) -> Iterator[Session]:
    with open_session() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _send_route(couriers: Couriers, route: Route, messages: list[Outgoing],
                deadline: float) -> list[Outcome]:
    """Send one route's messages in order; never raises (a failure is an outcome)."""
    outcomes = []
    courier = couriers.open(route)
    try:
        for message in messages:
            if time.monotonic() >= deadline:
                outcomes.append(Outcome(message.id, message.key, "released"))
                continue
            try:
                courier.send(message)
            except DeliveryError as exc:
                outcomes.append(Outcome(message.id, message.key, "failed", exc.reason,
                                        exc.permanent))
            except Exception as exc:  # a bug or an unforeseen library error: still an attempt
                log.exception("delivery of %s failed unexpectedly", message.key)
                outcomes.append(Outcome(message.id, message.key, "failed",
                                        f"lỗi không lường trước: {type(exc).__name__}: {exc}"))
            else:
                outcomes.append(Outcome(message.id, message.key, "delivered"))
    finally:
        courier.close()
    return outcomes


class _Tally:
    def __init__(self, claimed: int, waiting: Mapping[Channel, str]):
        self.claimed, self.waiting = claimed, {c.value: r for c, r in waiting.items()}
        self.counts: dict[str, int] = defaultdict(int)
        self.errors: list[tuple[str, str]] = []

    def record(self, session: Session, outcomes: Sequence[Outcome], *, worker: str,
               now: datetime | None) -> None:
        at = now or outbox.utcnow()
        handed = [o.message_id for o in outcomes if o.result == "delivered"]
        recorded = outbox.delivered_all(session, handed, worker=worker, now=at)
        self.counts["delivered"] += len(recorded)
        self.counts["lost"] += len(handed) - len(recorded)
        for o in outcomes:
            if o.result == "delivered":
                continue
            if o.result == "released":
                self.counts["released" if outbox.release(session, o.message_id, worker=worker)
                            else "lost"] += 1
            else:
                state = outbox.failed(session, o.message_id, worker=worker, error=o.error,
                                      now=at, permanent=o.permanent)
                self.counts[{None: "lost", DeliveryState.DEAD: "dead"}.get(state, "retrying")
                            ] += 1
                self.errors.append((o.key, o.error))
                log.warning("delivery of %s failed (%s): %s", o.key,
                            "dead" if state == DeliveryState.DEAD else state, o.error)

    def report(self) -> DeliveryReport:
        return DeliveryReport(claimed=self.claimed, waiting=self.waiting,
                              errors=tuple(self.errors), **self.counts)


def _with_attachments(open_session: Callable[[], Session], couriers: Couriers,
                      message: Outgoing) -> Outgoing:
    """An e-mail with the files its payload references, rendered now (outside the claim's
    transaction, in a read session of its own)."""
    if message.channel != Channel.EMAIL or "attach" not in message.payload:
        return message
    files = attachments_for(open_session, couriers.printer, message.dossier_code,
                            message.payload)
    return replace(message, attachments=files)


def deliver_due(source: SessionSource, *, worker: str, now: datetime | None = None,
                limit: int = 50, settings: DeliverySettings | None = None,
                couriers: Couriers | None = None) -> DeliveryReport:
    """Deliver one batch of due outbox messages (see the module's docstring).

    ``source`` is an engine or a callable returning a new session; ``worker`` names this
    process (host:pid:thread, say) — the claim's owner; ``now`` is the instant of the batch
    (claims, backoff and ``delivered_at`` use it; tests move it forward instead of sleeping).
    ``settings`` default to the environment's; ``couriers`` (the senders, kept across batches
    by :func:`couriers_for`) carry their own settings and take precedence.
    """
    if couriers is None:
        couriers = couriers_for(settings or DeliverySettings.from_env())
    with _batch_sessions(source) as open_session:
        return _deliver_batch(open_session, couriers, worker=worker, now=now, limit=limit,
                              where=str(source.url) if isinstance(source, Engine)
                              else str(id(source)))


def _deliver_batch(open_session: Callable[[], Session], couriers: Couriers, *, worker: str,
                   now: datetime | None, limit: int, where: str) -> DeliveryReport:
    settings = couriers.settings
    waiting = settings.waiting()
    ready = [c for c in Channel if c not in waiting and c not in settings.off()]
    with _transaction(open_session) as session:
        for channel, reason in waiting.items():
            if couriers.time_to_note(where, channel):
                outbox.note_waiting(session, channel, reason)
        batch = [Outgoing.of(row) for row in
                 outbox.claim(session, worker=worker, channels=ready, limit=limit, now=now)]
    tally = _Tally(len(batch), waiting)
    routes: dict[Route, list[Outgoing]] = defaultdict(list)
    unroutable = []
    for message in batch:
        try:
            message = _with_attachments(open_session, couriers, message)
            routes[couriers.route(message)].append(message)
        except DeliveryError as exc:
            unroutable.append(Outcome(message.id, message.key, "failed", exc.reason,
                                      exc.permanent))
    in_app = routes.pop((Channel.IN_APP.value, ""), [])
    if in_app or unroutable:
        with _transaction(open_session) as session:
            tally.record(session, [*unroutable, *(Outcome(m.id, m.key, "delivered")
                                                  for m in in_app)], worker=worker, now=now)
    deadline = time.monotonic() + settings.budget
    if len(routes) == 1:  # one receiver: no thread to hand over to
        ((route, messages),) = routes.items()
        outcomes = _send_route(couriers, route, messages, deadline)
        with _transaction(open_session) as session:
            tally.record(session, outcomes, worker=worker, now=now)
    elif routes:
        with ThreadPoolExecutor(max_workers=len(routes),
                                thread_name_prefix="motcua-delivery") as pool:
            sending = [pool.submit(_send_route, couriers, route, messages, deadline)
                       for route, messages in routes.items()]
            for done in as_completed(sending):
                with _transaction(open_session) as session:
                    tally.record(session, done.result(), worker=worker, now=now)
    return tally.report()
