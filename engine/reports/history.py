"""Import historical dossiers (``motcua import FILE.jsonl``) so reports cover the years before.

One JSON object per line: the ``motcua replay`` format (``limit``, ``unit``,
``supplement_effect``, ``events``; see :mod:`engine.replay`) plus ``procedure`` (catalogue code),
``agency`` (the receiving agency, also competent and returning unless ``competent_agency`` is
given) and an optional ``code``. Optional: ``channel`` (counter | online | postal | kiosk),
``applicant`` (a name or ``{"name": …}``), ``competent_agency``, ``officer`` (user id of the
processing officer).

- Every line is validated; each error names its line (``dòng 7: …``). Nothing is written unless
  the whole file is valid (the caller commits).
- Idempotent on the code: a dossier whose code exists is skipped. A line without a code gets a
  deterministic one (``AGENCY-YYMMDD-H`` + 8 hex digits of the line's content), so importing
  the same file again is a no-op too.
- The clock is replayed with :func:`engine.clock.replay` and the dossier gets the same columns
  the lifecycle writes (state, status code, due dates, appointment, end, supplement and apology
  counts, flags, calendar version …), ``imported = True``.
- Each clock event becomes a lifecycle event (``receive``, ``request_supplement``, ``finish`` …)
  marked ``imported`` and hash-chained (:func:`engine.lifecycle.audit.seal`), so the audit trail
  verifies and the events replay to the stored state through the shared state machine. Where the
  machine needs a step the old system did not record (the transfer after receipt, a resume before
  the result of a paused dossier, the result before a direct return), a *synthetic* event is
  added: it carries ``{"synthetic": true}`` and no clock payload, so the clock is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from engine.agencies import Agency
from engine.calendar.store import load_calendar
from engine.clock import ClockError, EventKind, SupplementEffect, replay
from engine.data_version import note_change
from engine.lifecycle import audit, codes, write_verdict
from engine.lifecycle.machine import IllegalAction, machine_for
from engine.lifecycle.models import Dossier, DossierEvent, utcnow
from engine.lifecycle.states import Action, Channel, State
from engine.procedures import NoVersionInForce, ProcedureSpec, version_in_force
from engine.replay import ReplaySpec
from engine.text import fold
from engine.timezone import to_local

IMPORT_ACTOR = "import"
ACTION_OF = {
    EventKind.RECEIVED: Action.RECEIVE,
    EventKind.SUPPLEMENT_REQUESTED: Action.REQUEST_SUPPLEMENT,
    EventKind.SUPPLEMENT_RECEIVED: Action.RECEIVE_SUPPLEMENT,
    EventKind.PAUSED: Action.PAUSE,
    EventKind.RESUMED: Action.RESUME,
    EventKind.APOLOGY: Action.APOLOGISE,
    EventKind.RESULT_READY: Action.FINISH,
    EventKind.REFUSED: Action.REFUSE,
    EventKind.STOPPED: Action.STOP,
    EventKind.WITHDRAWN: Action.WITHDRAW,
    EventKind.RETURNED: Action.RETURN_RESULT,
}
DEFAULT_REASON = "Nhập từ hệ thống cũ"


class ImportError_(ValueError):
    """One line cannot be imported; the message names the line."""

    def __init__(self, line: int, message: str) -> None:
        self.line, self.message = line, message
        super().__init__(f"dòng {line}: {message}")


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0  # already present (same code)
    errors: list[ImportError_] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Replica:
    state: str = State.NEW.value
    received_at: datetime | None = None


class Importer:
    """Validate and write lines; keeps small per-run caches (agencies, calendars)."""

    def __init__(self, session: Session, *, source: str = "") -> None:
        self.session, self.source = session, source
        self.agencies: dict[str, Agency | None] = {}
        self.calendars: dict[str, Any] = {}
        self.seen: set[str] = set()

    def agency(self, code: str) -> Agency | None:
        if code not in self.agencies:
            self.agencies[code] = self.session.get(Agency, code)
        return self.agencies[code]

    def calendar(self, code: str):
        if code not in self.calendars:
            self.calendars[code] = load_calendar(self.session, agency_code=code)
        return self.calendars[code]

    # ----- one line ----------------------------------------------------------------------
    def line(self, number: int, text: str) -> str | None:
        """Import one line; return the new dossier's code, or None when skipped.

        Raises :class:`ImportError_` naming the line for anything invalid.
        """
        def fail(message: str) -> ImportError_:
            return ImportError_(number, message)

        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise fail(f"JSON không hợp lệ (cột {exc.colno}): {exc.msg}") from None
        if not isinstance(raw, dict):
            raise fail("mỗi dòng phải là một đối tượng JSON")
        try:
            spec = ReplaySpec.from_dict(raw)
        except ClockError as exc:
            raise fail(str(exc)) from None
        for name in ("procedure", "agency"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise fail(f"thiếu trường '{name}'")
        receiving = self.agency(raw["agency"])
        if receiving is None:
            raise fail(f"không có cơ quan mã {raw['agency']!r}")
        competent_code = raw.get("competent_agency") or receiving.code
        if not isinstance(competent_code, str) or self.agency(competent_code) is None:
            raise fail(f"không có cơ quan giải quyết mã {competent_code!r}")
        received_at = spec.events[0].at
        try:
            procedure = version_in_force(self.session, code=raw["procedure"],
                                         on=to_local(received_at).date())
        except NoVersionInForce as exc:
            raise fail(str(exc)) from None
        try:
            channel = Channel(raw.get("channel", Channel.COUNTER.value))
        except ValueError:
            raise fail(f"'channel' không hợp lệ {raw.get('channel')!r}; cho phép: "
                       f"{', '.join(c.value for c in Channel)}") from None
        code = raw.get("code")
        if code is not None and (not isinstance(code, str) or not code.strip()
                                 or len(code) > 64):
            raise fail("'code' phải là chuỗi 1–64 ký tự")
        code = code.strip() if code else _derived_code(receiving.code, received_at, raw)
        if code in self.seen or self.session.execute(
                select(Dossier.id).where(Dossier.code == code)).first() is not None:
            self.seen.add(code)
            return None
        effect = SupplementEffect(raw["supplement_effect"]) if "supplement_effect" in raw \
            else procedure.supplement_effect
        calendar = self.calendar(competent_code)
        try:
            state = replay(spec.events, spec.limit, calendar, policy=receiving.clock_policy(),
                           supplement_effect=effect)
        except ClockError as exc:
            raise fail(str(exc)) from None
        actions = _lifecycle_actions(spec.events, procedure, fail)
        applicant = raw.get("applicant") or DEFAULT_REASON
        if isinstance(applicant, dict):
            applicant = applicant.get("name") or DEFAULT_REASON
        officer = raw.get("officer")

        dossier = Dossier(
            code=code, secret=secrets.token_urlsafe(12), procedure_code=procedure.code,
            procedure_version=procedure.effective_from, procedure_name=procedure.name,
            channel=channel.value, state=actions[-1][2], status_code=0,
            receiving_agency=receiving.code, competent_agency=competent_code,
            returning_agency=receiving.code, boundary_free=False, current_step=None,
            assignee=officer if isinstance(officer, str) else None,
            applicant_name=str(applicant)[:255],
            search_text=fold(f"{code} {applicant}")[:700], components=[],
            submitted_at=received_at if channel is Channel.ONLINE else None,
            received_at=received_at, limit_amount=spec.limit.amount,
            limit_unit=spec.limit.unit.value, supplement_effect=effect.value,
            returned_at=state.returned_at, flags=sorted(set(state.flags)), imported=True,
        )
        dossier.status_code = State(dossier.state).national_code
        write_verdict(dossier, state, calendar)  # the clock projection, as for lived dossiers
        year = to_local(received_at).year
        dossier.register_year = year
        dossier.register_number = codes.register_number(self.session,
                                                        agency_code=receiving.code, year=year)
        if state.returned_at is not None:
            dossier.collected_by = dossier.applicant_name
        self.session.add(dossier)
        self.session.flush()
        prev, recorded = audit.GENESIS, utcnow()
        for seq, (action, before, after, event, note) in enumerate(actions, start=1):
            payload: dict[str, Any] = {"import": {"source": self.source, "line": number}}
            if event is not None:
                clock: dict[str, Any] = {"kind": event.kind.value,
                                         "at": event.at.astimezone(UTC).isoformat()}
                if event.reason:
                    clock["reason"] = event.reason
                if event.new_due:
                    clock["new_due"] = event.new_due.isoformat()
                payload["clock"] = clock
            else:
                payload["synthetic"] = True
                payload["note"] = note
            row = DossierEvent(
                dossier_id=dossier.id, seq=seq, action=action.value, at=_at(actions, seq - 1),
                recorded_at=recorded, actor_id=IMPORT_ACTOR, actor_role=IMPORT_ACTOR,
                actor_agency=receiving.code if action in _COUNTER else competent_code,
                state_before=before, state_after=after,
                reason=(event.reason if event is not None and event.reason else
                        (DEFAULT_REASON if action in _NEEDS_REASON else None)),
                payload=payload, imported=True, prev_hash="", hash="")
            audit.seal(row, code, prev)
            prev = row.hash
            self.session.add(row)
        dossier.chain_head = prev
        self.session.add(dossier)
        self.seen.add(code)
        return code


_COUNTER = {Action.RECEIVE, Action.TRANSFER, Action.RECEIVE_SUPPLEMENT, Action.RETURN_RESULT,
            Action.STOP, Action.WITHDRAW}
_NEEDS_REASON = {Action.REQUEST_SUPPLEMENT, Action.REFUSE, Action.APOLOGISE, Action.PAUSE}


def _at(actions: list[tuple[Any, ...]], index: int) -> datetime:
    """A synthetic event takes the instant of the real event it accompanies."""
    for action in actions[index:]:
        if action[3] is not None:
            return action[3].at
    return next(a[3].at for a in reversed(actions) if a[3] is not None)


def _lifecycle_actions(events: Iterable[Any], spec: ProcedureSpec, fail) -> list[tuple[Any, ...]]:
    """The lifecycle actions of the clock events, fired through the shared machine:
    ``(action, state before, state after, clock event or None, note)``."""
    machine = machine_for(spec.key)
    replica = _Replica()
    out: list[tuple[Any, ...]] = []

    def fire(action: Action, event: Any, note: str = "") -> None:
        before = replica.state
        try:
            machine.fire(action, replica)
        except IllegalAction as exc:
            where = f"events[{index}] ({event.kind.value})" if event is not None else "events"
            raise fail(f"{where}: {exc}") from None
        if action is Action.RECEIVE:
            replica.received_at = event.at
        out.append((action, before, replica.state, event, note))

    events = list(events)
    for index, event in enumerate(events):
        action = ACTION_OF[event.kind]
        if index == 1 and replica.state == State.RECEIVED.value and action not in (
                Action.STOP, Action.WITHDRAW):
            fire(Action.TRANSFER, None, "chuyển cơ quan giải quyết (không ghi trong dữ liệu cũ)")
        if action in (Action.FINISH, Action.REFUSE, Action.RETURN_RESULT) \
                and replica.state == State.PAUSED.value:
            fire(Action.RESUME, None, "kết thúc khi đang tạm dừng")
        if action is Action.RETURN_RESULT and replica.state == State.IN_PROCESSING.value:
            fire(Action.FINISH, None, "có kết quả (dữ liệu cũ chỉ ghi ngày trả)")
        fire(action, event)
    return out


def _derived_code(agency: str, received_at: datetime, raw: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False)
                            .encode("utf-8")).hexdigest()[:8].upper()
    return f"{agency}-{to_local(received_at):%y%m%d}-H{digest}"


def import_lines(session: Session, lines: Iterable[str], *, source: str = "",
                 max_errors: int = 100, progress=None) -> ImportResult:
    """Import every non-blank line; collect errors (up to ``max_errors``) instead of stopping.

    Nothing is committed here: commit only when ``result.ok`` (the CLI does), so a file with
    one bad line imports nothing and can be fixed and imported again.
    """
    importer = Importer(session, source=source)
    result = ImportResult()
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:  # every check runs before the first write of a line
            code = importer.line(number, text)
        except ImportError_ as exc:
            result.errors.append(exc)
            if len(result.errors) >= max_errors:
                break
            continue
        if code is None:
            result.skipped += 1
        else:
            result.imported += 1
            if len(result.codes) < 10_000:
                result.codes.append(code)
        if number % 500 == 0:
            session.flush()
            session.expunge_all()
            importer.agencies.clear()
        if progress:
            progress(number)
    if result.imported:  # dossiers of past periods: their cached reports are stale
        note_change(session, "import")
    return result
