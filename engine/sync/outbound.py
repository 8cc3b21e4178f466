"""The national portal's outbound sync (*đồng bộ lên Cổng Dịch vụ công quốc gia*), issue 17.

Every lifecycle action that changes a dossier's state — and the apology (Mẫu 04), which changes
the appointment the portal shows — writes **one** outbox message (``engine.outbox``) in the
action's own transaction: channel ``portal``, kind ``sync``, key
``record_key(code, seq)`` = ``portal:<code>:<event seq>``, payload the national record
(``engine.sync.record.national_record``). It commits with the action or not at all; an
idempotent repeat of the request runs no after-effect, and the key would refuse a copy anyway.
The delivery worker (``service/delivery/portal.py``) sends them signed, in order per dossier
(``engine.outbox.claim``), and the key is the portal's idempotency key (docs/sync.md,
"Outbound").

Switched on **per database engine** by :func:`install` — the service does it for its engine
when ``MOTCUA_PORTAL_URL`` is set (:func:`install_from_env`); without it nothing is written, so
an office not connected to the portal keeps no growing backlog. Like
``engine.timed.events``, the after-effect is registered process-wide once and does nothing on
an engine that was not installed (the engine's own tests, the benchmarks, history imports).
"""

from __future__ import annotations

import os
import weakref
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import Session

from engine.lifecycle import after_effects
from engine.lifecycle.context import ActionContext
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import Action
from engine.outbox import Channel, DeliveryState, Draft, OutboxMessage, enqueue
from engine.sync.record import facts_of, national_record, record_key

#: The outbox kind of a portal record, and its one recipient (the portal).
KIND = "sync"
RECIPIENT = "portal"
#: The setting that switches the sync on (docs/sync.md, "Outbound").
URL_SETTING = "MOTCUA_PORTAL_URL"
#: Actions sent although the state stays: the apology moves the appointment (NgayHenTraMoi).
ALSO_SENT = frozenset({Action.APOLOGISE})

_INSTALLED: weakref.WeakSet[Engine] = weakref.WeakSet()


def install(engine: Engine) -> None:
    """Make lifecycle actions on ``engine`` write their portal records (idempotent)."""
    _INSTALLED.add(engine)
    after_effects.register(push)


def install_from_env(engine: Engine, env: Mapping[str, str] = os.environ) -> bool:
    """:func:`install` when ``MOTCUA_PORTAL_URL`` is set (an empty value counts as unset);
    returns whether the sync is on."""
    if not env.get(URL_SETTING, "").strip():
        return False
    install(engine)
    return True


def uninstall(engine: Engine) -> None:
    """Stop writing records for ``engine`` (tests)."""
    _INSTALLED.discard(engine)


def installed(engine: Engine) -> bool:
    return engine in _INSTALLED


def _engine_of(ctx: ActionContext) -> Engine:
    bind = ctx.session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def is_sent(action: Action | str, state_before: str, state_after: str) -> bool:
    """Whether an action's event becomes a portal record: its state changed (the internal
    state: a pause is sent too, its dates change), or it is the apology."""
    return state_before != state_after or Action(action) in ALSO_SENT


def draft_for(dossier: Dossier, event: Mapping[str, Any] | Any, *,
              actor_name: str | None = None) -> Draft:
    """The outbox message of one event: the record, keyed by (dossier, event seq). ``event``
    is the event's columns (the lifecycle's dict) or a stored ``DossierEvent``."""
    row = SimpleNamespace(**event) if isinstance(event, Mapping) else event
    record = national_record(facts_of(dossier, row, actor_name=actor_name))
    action = Action(row.action)
    return Draft(kind=KIND, channel=Channel.PORTAL, recipient=RECIPIENT,
                 subject=f"Đồng bộ hồ sơ {dossier.code}: {action.label_vi}"[:255],
                 body="", dossier_code=dossier.code, rung=f"event-{row.seq}",
                 payload=record, own_key=record_key(dossier.code, row.seq))


def push(ctx: ActionContext, event: Mapping[str, Any]) -> None:
    """The after-effect: enqueue the event's record in the action's transaction (a failure
    here rolls the action back: a state change the portal never hears of would be lost)."""
    if not is_sent(ctx.action, event["state_before"], event["state_after"]):
        return
    if _engine_of(ctx) not in _INSTALLED:
        return
    enqueue(ctx.session, [draft_for(ctx.dossier, event, actor_name=ctx.actor.name)], at=ctx.at)


# ----- the backlog, for `motcua sync status` ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class AgencyBacklog:
    """One competent agency's portal records by delivery state."""

    agency: str
    pending: int = 0  # waiting to be sent (or retried), or being sent now
    delivered: int = 0
    dead: int = 0  # rejected by the portal, or given up after the last attempt


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Where the portal sync stands (``motcua sync status``)."""

    pending: int  # not delivered yet and not dead (includes ``blocked``)
    delivered: int
    dead: int
    blocked: int  # pending behind a dead record of the same dossier (waits for its retry)
    oldest_pending_at: datetime | None  # when the oldest pending record was written
    lag_seconds: float | None  # how long it has waited: the portal is this far behind
    agencies: tuple[AgencyBacklog, ...]


_PORTAL = OutboxMessage.__table__


def _state_counts(session: Session) -> dict[tuple[str, str], int]:
    """Portal records per (competent agency, state); a record whose dossier is gone counts
    under "" (it cannot happen through the lifecycle; the sum stays right)."""
    dossier = Dossier.__table__
    rows = session.connection().execute(
        select(func.coalesce(dossier.c.competent_agency, ""), _PORTAL.c.state, func.count())
        .select_from(_PORTAL.outerjoin(dossier, dossier.c.code == _PORTAL.c.dossier_code))
        .where(_PORTAL.c.channel == Channel.PORTAL.value)
        .group_by(dossier.c.competent_agency, _PORTAL.c.state)).all()
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for agency, state, count in rows:
        counts[(agency, state)] += count
    return counts


def _blocked(session: Session) -> int:
    """Pending records held back by a dead earlier record of their dossier."""
    later, dead = _PORTAL.alias("later"), _PORTAL.alias("dead")
    behind_dead = (select(dead.c.id)
                   .where(dead.c.channel == Channel.PORTAL.value,
                          dead.c.state == DeliveryState.DEAD.value,
                          dead.c.dossier_code == later.c.dossier_code,
                          dead.c.id < later.c.id).exists())
    return session.connection().execute(
        select(func.count()).select_from(later)
        .where(later.c.channel == Channel.PORTAL.value,
               later.c.state.in_([DeliveryState.PENDING.value, DeliveryState.SENDING.value]),
               behind_dead)).scalar_one()


def sync_status(session: Session, *, now: datetime) -> SyncStatus:
    """The portal backlog: counts per state and per competent agency, the records held back
    by a rejected one, and the lag (the age of the oldest record not delivered and not
    dead — a dead one is the administrators' to retry, listed with its reason)."""
    counts = _state_counts(session)
    open_states = (DeliveryState.PENDING.value, DeliveryState.SENDING.value)
    oldest = session.connection().execute(
        select(func.min(_PORTAL.c.created_at))
        .where(_PORTAL.c.channel == Channel.PORTAL.value,
               _PORTAL.c.state.in_(open_states))).scalar()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    agencies = sorted({agency for agency, _ in counts})
    per_agency = tuple(
        AgencyBacklog(agency=agency,
                      pending=sum(counts.get((agency, s), 0) for s in open_states),
                      delivered=counts.get((agency, DeliveryState.DELIVERED.value), 0),
                      dead=counts.get((agency, DeliveryState.DEAD.value), 0))
        for agency in agencies)
    return SyncStatus(
        pending=sum(a.pending for a in per_agency),
        delivered=sum(a.delivered for a in per_agency),
        dead=sum(a.dead for a in per_agency), blocked=_blocked(session),
        oldest_pending_at=oldest,
        lag_seconds=None if oldest is None else max((now - oldest).total_seconds(), 0.0),
        agencies=per_agency)
