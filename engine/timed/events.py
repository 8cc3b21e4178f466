"""Lifecycle events someone must hear about, written to the outbox with the action.

An after-effect (``engine.lifecycle.after_effects``) of receive (Mẫu 01), request_supplement
(Mẫu 02), apologise (Mẫu 04, its PDF referenced for the e-mail), finish (result ready), refuse
and refuse_at_reception (Mẫu 03) and return_result (the result handed over) enqueues the
messages of :func:`engine.timed.messages.drafts_for_event` in the action's own transaction:
they commit with the action or not at all, and an idempotent repeat of the request
(which runs no after-effect) writes none again; the outbox key (dossier, ``event-<seq>``, kind,
channel, recipient) would refuse a second copy anyway.

Switched on **per database engine** by :func:`install`, which the service calls on its engine
(``service/app.py``: ``create_app``; ``service/cli.py``: the engine of the ``dossier``
commands). The after-effect itself is registered process-wide once, but does nothing for a
session whose engine was not installed: so the engine's own lifecycle tests, the benchmarks and
the history import (which acts on other engines) write no messages, whichever tests ran before
them in the same process, and a test that wants the messages installs its engine.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from engine.lifecycle import after_effects
from engine.lifecycle.context import ActionContext
from engine.lifecycle.models import Dossier
from engine.lifecycle.moves import AppointmentMove, on_move
from engine.lifecycle.states import Action
from engine.outbox import enqueue
from engine.timed.findings import EventKind
from engine.timed.messages import drafts_for_event, drafts_for_move
from engine.timed.recipients import ApplicantChannels

#: The actions that announce something, and what they announce.
ANNOUNCED: dict[Action, EventKind] = {
    Action.RECEIVE: EventKind.RECEIVED,
    Action.REQUEST_SUPPLEMENT: EventKind.SUPPLEMENT_REQUESTED,
    Action.APOLOGISE: EventKind.APOLOGY_SENT,
    Action.FINISH: EventKind.RESULT_READY,
    Action.REFUSE: EventKind.REFUSED,
    Action.REFUSE_AT_RECEPTION: EventKind.REFUSED,
    Action.RETURN_RESULT: EventKind.RETURNED,
}

#: The engines whose actions write messages, with the applicant's channels read at install.
_INSTALLED: weakref.WeakKeyDictionary[Engine, ApplicantChannels] = weakref.WeakKeyDictionary()


def install(engine: Engine, *, channels: ApplicantChannels | None = None) -> None:
    """Make lifecycle actions on ``engine`` write their messages (idempotent). ``channels``
    defaults to the environment's (``MOTCUA_NOTIFY_APPLICANT_EMAIL`` / ``_SMS``)."""
    _INSTALLED[engine] = channels or ApplicantChannels.from_env()
    after_effects.register(announce, actions=ANNOUNCED)
    on_move(announce_move)


def uninstall(engine: Engine) -> None:
    """Stop writing messages for ``engine`` (tests)."""
    _INSTALLED.pop(engine, None)


def installed(engine: Engine) -> bool:
    return engine in _INSTALLED


def _channels_of(ctx: ActionContext | Session) -> ApplicantChannels | None:
    session = ctx if isinstance(ctx, Session) else ctx.session
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    return _INSTALLED.get(engine)


def announce(ctx: ActionContext, event: Mapping[str, Any]) -> None:
    """The after-effect: enqueue the event's messages in the action's transaction."""
    channels = _channels_of(ctx)
    kind = ANNOUNCED.get(ctx.action)
    if channels is None or kind is None:
        return
    drafts = drafts_for_event(
        ctx.session, kind, ctx.dossier, seq=event["seq"], reason=ctx.reason,
        facts=ctx.payload, at_reception=ctx.action is Action.REFUSE_AT_RECEPTION,
        actor_id=ctx.actor.id, channels=channels, documents=ctx.documents)
    enqueue(ctx.session, drafts, at=ctx.at)


def announce_move(session: Session, dossier: Dossier, move: AppointmentMove) -> None:
    """The re-projection's listener (``engine.lifecycle.moves.on_move``): a calendar edit
    that moved the applicant's appointment is told to the applicant and the returning
    counter, in the re-projection's transaction; a move of the legal due date alone (the
    appointment is an apology's new date) is recorded but tells nobody."""
    channels = _channels_of(session)
    if channels is None or not move.appointment_moved:
        return
    drafts = drafts_for_move(session, dossier, dossier_version=move.dossier_version,
                             old_appointment=move.old_appointment, reason=move.reason,
                             channels=channels)
    enqueue(session, drafts, at=move.at)
