"""Rate limits counted in the database (table ``rate_limit_hit``).

In-process counters were doubled by a second instance and forgotten at every restart; rows in
the database are shared by every process on the same database and survive restarts. Each
limiter owns the buckets ``"<name>:<key>"``; a sliding window counts a bucket's rows newer
than ``now - window``. Expired rows are deleted as we go: a bucket's own on every hit, and
every bucket of the limiter once in ``SWEEP_EVERY`` hits.

The numbers (documented in docs/security.md, "Sign-in, sessions and rate limits"):

- per username *and* address: ``LOGIN_ATTEMPTS`` attempts per ``LOGIN_ATTEMPTS_WINDOW``
  (every attempt counts; a successful login empties the bucket);
- per username, from any address: after ``LOGIN_FREE_FAILURES`` failures within
  ``LOGIN_FAILURES_WINDOW``, each further attempt waits ``LOGIN_FIRST_DELAY`` after the last
  failure, doubling with each further failure, at most ``LOGIN_MAX_DELAY``. A delay rather
  than a lock: a stranger cannot lock a clerk out of the counter for the day;
- citizen lookup, counted in *wrong secrets* (a right one records nothing), twice: per dossier
  code from any address (past ``LOOKUP_CODE_FREE_FAILURES`` within ``LOOKUP_CODE_WINDOW``,
  every lookup of that code waits ``LOOKUP_CODE_FIRST_DELAY`` after its last wrong secret,
  doubling, at most ``LOOKUP_CODE_MAX_DELAY``), so that guessing one code is slow however many
  addresses guess; and per address over every code (past ``LOOKUP_ADDRESS_FREE_FAILURES``
  within ``LOOKUP_ADDRESS_WINDOW``, ``LOOKUP_ADDRESS_DELAY`` after its last wrong secret), high
  enough that a centre's Wi-Fi or a carrier's shared address never reaches it by typing, so a
  right secret from an address that mistyped other codes still opens its dossier (the API
  and the lookup page alike, through :func:`service.publicview.guarded_lookup`).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, bindparam, delete, func, literal, text
from sqlmodel import Session, col, select

from engine.access import RateLimitHit
from engine.settings import positive_number

LOGIN_ATTEMPTS = 5
LOGIN_ATTEMPTS_WINDOW = timedelta(minutes=5)
LOGIN_FREE_FAILURES = 5
LOGIN_FAILURES_WINDOW = timedelta(minutes=15)
LOGIN_FIRST_DELAY = timedelta(seconds=30)
LOGIN_MAX_DELAY = timedelta(minutes=15)
LOOKUP_CODE_FREE_FAILURES = 5
LOOKUP_CODE_WINDOW = timedelta(hours=1)
LOOKUP_CODE_FIRST_DELAY = timedelta(seconds=30)
LOOKUP_CODE_MAX_DELAY = timedelta(minutes=15)
LOOKUP_ADDRESS_FREE_FAILURES = 100
LOOKUP_ADDRESS_WINDOW = timedelta(minutes=10)
LOOKUP_ADDRESS_DELAY = timedelta(minutes=1)
#: Online submissions (``service/api/submissions.py``, docs/online.md) [I]: per address, a
#: centre's kiosk or a shared connection may send a few a day; per phone number or e-mail
#: address, one applicant rarely files more than a handful a day. Applicant supplements
#: (uploads with the secret) are counted per address with the same limiter.
#: Defaults of ``MOTCUA_SUBMIT_PER_ADDRESS_HOUR`` and ``MOTCUA_SUBMIT_PER_CONTACT_DAY`` (a
#: province whose kiosks share one address raises the first).
SUBMIT_ADDRESS_LIMIT = 20
SUBMIT_ADDRESS_WINDOW = timedelta(hours=1)
SUBMIT_CONTACT_LIMIT = 5
SUBMIT_CONTACT_WINDOW = timedelta(days=1)


def submit_limits(env: Mapping[str, str] = os.environ) -> tuple[int, int]:
    """(per address per hour, per phone/e-mail per day) for online submissions [I]."""
    return (int(positive_number(env, "MOTCUA_SUBMIT_PER_ADDRESS_HOUR", SUBMIT_ADDRESS_LIMIT)),
            int(positive_number(env, "MOTCUA_SUBMIT_PER_CONTACT_DAY", SUBMIT_CONTACT_LIMIT)))
#: One hit in this many also deletes the expired rows of every bucket of its limiter.
SWEEP_EVERY = 200

Clock = Callable[[], datetime]

#: PostgreSQL: the advisory locks of :meth:`DbRateLimiter.hit_all`'s buckets, in the sorted
#: order of the array (``unnest … WITH ORDINALITY`` keeps it), in one round trip.
_PG_LOCKS = text(
    "SELECT pg_advisory_xact_lock(hashtext(t.bucket)) "
    "FROM unnest(CAST(:buckets AS varchar[])) WITH ORDINALITY AS t(bucket, i) ORDER BY t.i")
#: PostgreSQL, once the locks are held: per bucket, its hits in the window (counted up to the
#: limit: a count never reads more rows than the limit) and the limit-th most recent one (when
#: the caller may pass again); the hit recorded on every bucket only if every bucket allows
#: it, and then the buckets' expired rows deleted — one statement, one round trip (data-
#: modifying CTEs run to completion whether or not the final SELECT reads them).
_PG_HIT = text("""
WITH wanted AS (SELECT unnest(CAST(:buckets AS varchar[])) AS bucket),
counted AS (
    SELECT w.bucket,
           (SELECT count(*) FROM (SELECT 1 FROM rate_limit_hit h
                                  WHERE h.bucket = w.bucket AND h.at > :since
                                  LIMIT :limit) AS upto) AS n,
           (SELECT h.at FROM rate_limit_hit h WHERE h.bucket = w.bucket AND h.at > :since
            ORDER BY h.at DESC OFFSET :limit - 1 LIMIT 1) AS nth
    FROM wanted w),
verdict AS (SELECT bool_and(n < :limit) AS pass FROM counted),
added AS (INSERT INTO rate_limit_hit (bucket, at)
          SELECT w.bucket, :now FROM wanted w, verdict WHERE verdict.pass RETURNING id),
expired AS (DELETE FROM rate_limit_hit h USING verdict
            WHERE verdict.pass AND h.bucket IN (SELECT bucket FROM wanted)
              AND h.at <= :since RETURNING h.id)
SELECT bucket, n, nth FROM counted""")


_TABLE = RateLimitHit.__table__
#: SQLite: a bucket's hits in the window, counted up to ``:cap`` rows at most.
_COUNT_UPTO = select(func.count()).select_from(
    select(literal(1)).where(_TABLE.c.bucket == bindparam("bucket"),
                             _TABLE.c.at > bindparam("since"))
    .limit(bindparam("cap")).subquery())


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Buckets:
    """What both kinds of limiter share: bucket names, the clock, the serialising lock and
    the deletion of expired rows."""

    def __init__(self, engine: Engine, name: str, window: timedelta,
                 clock: Clock = utcnow) -> None:
        self.engine, self.name, self.window, self.clock = engine, name, window, clock
        self._hits = itertools.count(1)
        self._sweep_lock = threading.Lock()

    def bucket(self, key: str) -> str:
        return f"{self.name}:{key}"[:200]

    def _expire(self, session: Session, bucket: str, now: datetime) -> None:
        """Delete this bucket's expired rows, and now and then every bucket's of this limiter
        (addresses seen once would otherwise stay for ever)."""
        cutoff = now - self.window
        session.execute(delete(RateLimitHit).where(col(RateLimitHit.bucket) == bucket,
                                                   col(RateLimitHit.at) <= cutoff))
        self._sweep_now_and_then(session, cutoff)

    def _sweep_now_and_then(self, session: Session, cutoff: datetime) -> None:
        """Once in :data:`SWEEP_EVERY` hits of this process, delete the expired rows of every
        bucket of this limiter (a count per process: which process sweeps does not matter)."""
        with self._sweep_lock:
            sweep = next(self._hits) % SWEEP_EVERY == 0
        if sweep:
            # ';' follows ':' in ASCII: a range on the (bucket, at) index, not a LIKE.
            session.execute(delete(RateLimitHit).where(
                col(RateLimitHit.bucket) >= f"{self.name}:",
                col(RateLimitHit.bucket) < f"{self.name};",
                col(RateLimitHit.at) <= cutoff))

    def _recent(self, session: Session, bucket: str, now: datetime) -> list[datetime]:
        """The bucket's hits inside the window, newest first."""
        return list(session.exec(select(RateLimitHit.at)
                                 .where(RateLimitHit.bucket == bucket,
                                        col(RateLimitHit.at) > now - self.window)
                                 .order_by(col(RateLimitHit.at).desc())))

    def reset(self, key: str) -> None:
        """Forget every hit of ``key`` (a successful login)."""
        with Session(self.engine) as session:
            session.execute(delete(RateLimitHit)
                            .where(col(RateLimitHit.bucket) == self.bucket(key)))
            session.commit()

    def count(self, key: str) -> int:
        """Hits of ``key`` inside the window (for tests and the administrator)."""
        now = self.clock()
        with Session(self.engine) as session:
            return session.exec(select(func.count()).select_from(RateLimitHit)
                                .where(RateLimitHit.bucket == self.bucket(key),
                                       col(RateLimitHit.at) > now - self.window)).one()


def _seconds(delta: timedelta) -> float:
    return max(delta.total_seconds(), 0.0)


class DbRateLimiter(_Buckets):
    """At most ``limit`` hits per key in any ``window``; refused hits are not counted."""

    def __init__(self, engine: Engine, name: str, limit: int, window: timedelta,
                 clock: Clock = utcnow) -> None:
        super().__init__(engine, name, window, clock)
        self.limit = limit

    def hit(self, key: str) -> float:
        """Record a hit; return 0 if allowed, else the seconds to wait (nothing recorded)."""
        return self.hit_all([key])

    def hit_all(self, keys: list[str]) -> float:
        """Record a hit on each key in one transaction (an applicant's phone and e-mail: one
        commit, not one per key): 0 if every key allows it, else the longest wait, and then
        nothing is recorded. Buckets are locked in sorted order, so two callers never wait
        for each other's second lock."""
        with Session(self.engine) as session:
            wait = self.hit_all_in(session, keys)
            if wait:
                session.rollback()
                return wait
            session.commit()
            return 0.0

    def hit_all_in(self, session: Session, keys: list[str]) -> float:
        """:meth:`hit_all` in the caller's transaction (an online submission records its
        hits with the rest of its step: one connection, one commit): the caller commits
        when this returns 0, and rolls back otherwise (SQLite wrote the hit before counting;
        PostgreSQL wrote nothing)."""
        now = self.clock()
        buckets = sorted({self.bucket(key) for key in keys})
        if not buckets:
            return 0.0
        if session.get_bind().dialect.name == "postgresql":
            return self._hit_all_postgresql(session, buckets, now)
        return self._hit_all_sqlite(session, buckets, now)

    def _hit_all_sqlite(self, session: Session, buckets: list[str], now: datetime) -> float:
        """SQLite: the hits written first (the write lock: SQLite has one writer, so two
        callers take turns), then each bucket counted up to just past the limit (a count
        never reads more rows than that), its expired rows deleted if every bucket allows
        the hit — Core statements, a few per call whatever the hits in the window."""
        since = now - self.window
        session.execute(_TABLE.insert(), [{"bucket": bucket, "at": now} for bucket in buckets])
        waits = []
        for bucket in buckets:
            if session.execute(_COUNT_UPTO, {"bucket": bucket, "since": since,
                                             "cap": self.limit + 1}).scalar_one() <= self.limit:
                continue
            recent = self._recent(session, bucket, now)
            # The caller may pass once the limit-th most recent earlier hit leaves the
            # window. (This hit is not necessarily recent[0]: another process's clock may
            # run ahead.)
            earlier = list(recent)
            earlier.remove(min(recent, key=lambda at: abs(at - now)))
            waits.append(max(_seconds(earlier[self.limit - 1] + self.window - now), 1.0))
        if waits:
            return max(waits)
        session.execute(delete(RateLimitHit).where(col(RateLimitHit.bucket).in_(buckets),
                                                   col(RateLimitHit.at) <= since))
        self._sweep_now_and_then(session, since)
        return 0.0

    def _hit_all_postgresql(self, session: Session, buckets: list[str], now: datetime) -> float:
        """:meth:`hit_all_in` in two statements, whatever the number of keys (an online
        submission's three buckets took ~11 ms on PostgreSQL as four statements per key,
        bench/uploads.py): the buckets' advisory locks, then :data:`_PG_HIT` — count, record
        if every bucket allows it, delete the buckets' expired rows. The locks must be a
        statement of their own: a statement's snapshot is taken when it starts, so counting
        in the statement that waited for a lock would miss the hit its holder committed.
        (Nothing is written on a refusal: the statement's verdict refused.)"""
        since = now - self.window
        session.execute(_PG_LOCKS, {"buckets": buckets})
        rows = session.execute(_PG_HIT, {"buckets": buckets, "now": now, "since": since,
                                         "limit": self.limit}).all()
        if any(n >= self.limit for _bucket, n, _nth in rows):
            # The caller may pass once the limit-th most recent hit leaves the window.
            return max(max(_seconds(nth + self.window - now), 1.0)
                       for _bucket, n, nth in rows if n >= self.limit)
        self._sweep_now_and_then(session, since)
        return 0.0


class DbFailureDelay(_Buckets):
    """Failures per key; past ``free`` failures in the window, each attempt must wait
    ``first_delay`` after the last failure, doubled per further failure, capped."""

    def __init__(self, engine: Engine, name: str, free: int, window: timedelta,
                 first_delay: timedelta, max_delay: timedelta, clock: Clock = utcnow) -> None:
        super().__init__(engine, name, window, clock)
        self.free, self.first_delay, self.max_delay = free, first_delay, max_delay

    def delay_after(self, failures: int) -> timedelta:
        """The wait imposed after ``failures`` failures in the window (0 while free)."""
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 32)
        return min(self.first_delay * 2 ** doublings, self.max_delay)

    def wait(self, key: str) -> float:
        """Seconds before ``key`` may try again (0: now). Records nothing."""
        now = self.clock()
        with Session(self.engine) as session:
            recent = self._recent(session, self.bucket(key), now)
        if len(recent) < self.free:
            return 0.0  # (even if another process's clock put its last failure ahead of ours)
        return _seconds(recent[0] + self.delay_after(len(recent)) - now)

    def fail(self, key: str) -> None:
        """Record a failure of ``key``."""
        now, bucket = self.clock(), self.bucket(key)
        with Session(self.engine) as session:
            session.add(RateLimitHit(bucket=bucket, at=now))
            self._expire(session, bucket, now)
            session.commit()


@dataclass(frozen=True)
class Limits:
    """The service's limiters, on one database and one clock (``create_app`` builds them)."""

    login_address: DbRateLimiter
    login_user: DbFailureDelay
    lookup_code: DbFailureDelay
    lookup_address: DbFailureDelay
    submit_address: DbRateLimiter | None = None
    submit_contact: DbRateLimiter | None = None

    @classmethod
    def create(cls, engine: Engine, clock: Clock = utcnow) -> Limits:
        per_address, per_contact = submit_limits()
        return cls(
            login_address=DbRateLimiter(engine, "login-address", LOGIN_ATTEMPTS,
                                        LOGIN_ATTEMPTS_WINDOW, clock),
            login_user=DbFailureDelay(engine, "login-user", LOGIN_FREE_FAILURES,
                                      LOGIN_FAILURES_WINDOW, LOGIN_FIRST_DELAY,
                                      LOGIN_MAX_DELAY, clock),
            lookup_code=DbFailureDelay(engine, "lookup-code", LOOKUP_CODE_FREE_FAILURES,
                                       LOOKUP_CODE_WINDOW, LOOKUP_CODE_FIRST_DELAY,
                                       LOOKUP_CODE_MAX_DELAY, clock),
            lookup_address=DbFailureDelay(engine, "lookup-address",
                                          LOOKUP_ADDRESS_FREE_FAILURES, LOOKUP_ADDRESS_WINDOW,
                                          LOOKUP_ADDRESS_DELAY, LOOKUP_ADDRESS_DELAY, clock),
            submit_address=DbRateLimiter(engine, "submit-address", per_address,
                                         SUBMIT_ADDRESS_WINDOW, clock),
            submit_contact=DbRateLimiter(engine, "submit-contact", per_contact,
                                         SUBMIT_CONTACT_WINDOW, clock),
        )

    def login_wait(self, username: str, address: str) -> float:
        """Seconds the caller must wait before this login attempt (0: go ahead; the attempt
        is then counted). ``username`` must already be normalised."""
        wait = self.login_user.wait(username)
        if wait:
            return wait
        return self.login_address.hit(f"{username}|{address}")

    def login_failed(self, username: str) -> None:
        self.login_user.fail(username)

    def login_succeeded(self, username: str, address: str) -> None:
        """Only this address's bucket is emptied: failures from elsewhere still count."""
        self.login_address.reset(f"{username}|{address}")

    def lookup_wait(self, code: str, address: str) -> float:
        """Seconds before a citizen lookup of ``code`` from ``address`` may be answered (0:
        now). Checked *before* the secret, so a guess is never confirmed while waiting."""
        return max(self.lookup_code.wait(code), self.lookup_address.wait(address))

    def lookup_failed(self, code: str, address: str) -> None:
        """A wrong secret (or an unknown code): counted against the code and the address."""
        self.lookup_code.fail(code)
        self.lookup_address.fail(address)

    def submit_address_wait(self, address: str) -> float:
        """Seconds before an online submission (or an applicant's upload) from ``address``
        may go ahead (0: now, and the attempt is counted). Checked before the body is read."""
        return self.submit_address.hit(address) if self.submit_address else 0.0

    def submit_contact_wait(self, contacts: list[str]) -> float:
        """The same per phone number and e-mail address of the applicant (normalised), once
        the form's fields are read; each is counted."""
        return self.submit_contact.hit_all(contacts) if self.submit_contact else 0.0

    def submit_address_wait_in(self, session: Session, address: str) -> float:
        """:meth:`submit_address_wait` in the caller's transaction (commit on 0, else roll
        back: :meth:`DbRateLimiter.hit_all_in`)."""
        return self.submit_address.hit_all_in(session, [address]) if self.submit_address \
            else 0.0

    def submit_contact_wait_in(self, session: Session, contacts: list[str]) -> float:
        """:meth:`submit_contact_wait` in the caller's transaction (commit on 0, else roll
        back)."""
        return self.submit_contact.hit_all_in(session, contacts) if self.submit_contact \
            else 0.0
