"""The ``motcua replay`` file format: a dossier's clock events as JSON, and the verdict.

Input::

    {"limit": 10, "unit": "working_days", "supplement_effect": "restart",
     "events": [{"at": "2025-01-24T16:10", "kind": "received"}, ...],
     "period_end": "2025-03-31T23:59"}

Output keys are a contract for scripts and auditors (keep them stable): ``original_due``,
``due``, ``appointment``, ``classification``, ``indicator_classification`` and more.
The history import of the reports issue reads the same format plus ``procedure``/``agency``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.calendar import WorkingCalendar
from engine.clock import (
    ClockError,
    ClockEvent,
    ClockState,
    Granularity,
    SupplementEffect,
    classify,
    indicator_classify,
    replay,
)
from engine.deadline import ClockPolicy, TimeLimit, TimeUnit
from engine.timezone import assume_local, now_local, to_local


@dataclass(frozen=True, slots=True)
class ReplaySpec:
    limit: TimeLimit
    supplement_effect: SupplementEffect
    events: tuple[ClockEvent, ...]
    period_end: datetime | None = None
    granularity: Granularity = Granularity.DATE

    @classmethod
    def from_dict(cls, raw: Any) -> ReplaySpec:
        """Validate a parsed JSON object; every problem is a :class:`ClockError` naming the
        field, in Vietnamese, so a clerk or a script author can fix the file."""
        if not isinstance(raw, Mapping):
            raise ClockError("tệp phải là một đối tượng JSON")
        try:
            unit = TimeUnit(raw.get("unit", ""))
        except ValueError:
            allowed = ", ".join(u.value for u in TimeUnit)
            raise ClockError(
                f"'unit' không hợp lệ {raw.get('unit')!r}; cho phép: {allowed}") from None
        amount = raw.get("limit", 0 if unit is TimeUnit.SAME_DAY else None)
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise ClockError("'limit' phải là một số (thời hạn giải quyết)")
        try:
            limit = TimeLimit(amount, unit)
        except ValueError as exc:
            raise ClockError(f"'limit': {exc}") from None
        try:
            effect = SupplementEffect(raw.get("supplement_effect", "restart"))
        except ValueError:
            raise ClockError("'supplement_effect' phải là 'restart' hoặc 'pause'") from None
        try:
            granularity = Granularity(raw.get("granularity", "date"))
        except ValueError:
            raise ClockError("'granularity' phải là 'date' hoặc 'datetime'") from None
        events = raw.get("events")
        if not isinstance(events, list) or not events:
            raise ClockError("'events' phải là danh sách sự kiện, bắt đầu bằng 'received'")
        parsed = []
        for i, event in enumerate(events):
            if not isinstance(event, Mapping):
                raise ClockError(f"events[{i}]: mỗi sự kiện phải là một đối tượng JSON")
            parsed.append(ClockEvent.from_dict(event, i))
        period_end = None
        if raw.get("period_end"):
            try:
                period_end = assume_local(datetime.fromisoformat(str(raw["period_end"])))
            except ValueError:
                raise ClockError(f"'period_end' không hợp lệ {raw['period_end']!r}") from None
        return cls(limit, effect, tuple(parsed), period_end, granularity)


def run(spec: ReplaySpec, calendar: WorkingCalendar, policy: ClockPolicy | None = None,
        *, now: datetime | None = None) -> dict[str, Any]:
    """Replay and classify; the result is the JSON document the CLI prints."""
    state = replay(spec.events, spec.limit, calendar, policy=policy,
                   supplement_effect=spec.supplement_effect)
    period_end = spec.period_end or now or now_local()
    return state_to_dict(state, period_end, spec.granularity)


def state_to_dict(state: ClockState, period_end: datetime,
                  granularity: Granularity = Granularity.DATE) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return to_local(value).isoformat() if value else None

    return {
        "limit": {"amount": state.limit.amount, "unit": state.limit.unit.value},
        "supplement_effect": state.supplement_effect.value,
        "received_at": iso(state.received_at),
        "original_due": state.original_due.due_date.isoformat(),
        "due": state.due.due_date.isoformat(),
        "due_at": iso(state.due.due_at),
        "appointment": state.appointment.isoformat(),
        "period_end": iso(period_end),
        "classification": classify(state, period_end, granularity).value,
        "indicator_classification": indicator_classify(state, period_end).value,
        "ended_at": iso(state.ended_at),
        "end_kind": state.end_kind.value if state.end_kind else None,
        "returned_at": iso(state.returned_at),
        "supplement_requests": len(state.supplement_requests),
        "awaiting_supplement": state.awaiting_supplement,
        "paused": state.paused,
        "pauses": [{"start": iso(p.start), "end": iso(p.end), "reason": p.reason}
                   for p in state.pauses],
        "apologies": [{"at": iso(a.at), "previous_appointment": a.previous_appointment.isoformat(),
                       "new_due": a.new_due.isoformat(), "in_time": a.in_time}
                      for a in state.apologies],
        "flags": list(state.flags),
        "calendar_version": state.calendar.version,
        "explanation": state.due.explanation(),
    }
