"""The deadline clock of one dossier: replay its time-relevant events into a state.

Pure and deterministic: the same events, limit, calendar and policy always give the same
answer, so stored dossiers, imported history, the CLI (``motcua replay``) and reports all share
this one implementation. Rules: domain §3 T7–T12 and the national indicator of §6.2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from engine.calendar import WorkingCalendar
from engine.deadline import ClockPolicy, Due, TimeLimit, compute_due, extend_due
from engine.timezone import to_local

K = TypeVar("K")


class ClockError(ValueError):
    """The events cannot happen in this order or lack what the law requires (e.g. a reason)."""


class EventKind(StrEnum):
    """Events that move the clock (a subset of the lifecycle's actions)."""

    RECEIVED = "received"  # tiếp nhận: starts the clock (T2)
    SUPPLEMENT_REQUESTED = "supplement_requested"  # yêu cầu bổ sung, hoàn thiện hồ sơ (T7)
    SUPPLEMENT_RECEIVED = "supplement_received"
    PAUSED = "paused"  # tạm dừng tính thời gian, with a legal reason (T8)
    RESUMED = "resumed"
    APOLOGY = "apology"  # xin lỗi và hẹn lại ngày trả kết quả (T9), with new_due
    RESULT_READY = "result_ready"  # status 9, Đã xử lý xong
    REFUSED = "refused"  # từ chối giải quyết after appraisal (T10)
    STOPPED = "stopped"  # dừng giải quyết (T11)
    WITHDRAWN = "withdrawn"  # rút hồ sơ (T11)
    RETURNED = "returned"  # status 10, Đã trả kết quả

    @property
    def label_vi(self) -> str:
        """Lower case: it completes a sentence ("Kết thúc xử lý: … (có kết quả)")."""
        return {
            "received": "tiếp nhận", "supplement_requested": "yêu cầu bổ sung",
            "supplement_received": "nhận hồ sơ bổ sung", "paused": "tạm dừng",
            "resumed": "tiếp tục", "apology": "xin lỗi, hẹn lại", "result_ready": "có kết quả",
            "returned": "đã trả kết quả", "refused": "từ chối giải quyết",
            "stopped": "dừng giải quyết", "withdrawn": "rút hồ sơ",
        }[self.value]


#: Events that end processing; the first one is the end-of-processing instant (T12, §6.2).
ENDING = frozenset({EventKind.RESULT_READY, EventKind.REFUSED, EventKind.STOPPED,
                    EventKind.WITHDRAWN, EventKind.RETURNED})


#: Why a restarted clock starts at the supplement, not at the receipt (T7, ND 61 Art 19(4)).
RESTART_REASON = ("nhận đủ hồ sơ bổ sung, thời hạn giải quyết được tính lại từ đầu "
                  "(Nghị định 61/2018/NĐ-CP, Điều 19 khoản 4)")


class SupplementEffect(StrEnum):
    """What a completed supplement does to the time limit (T7).

    ``restart`` (default, ND 61 Art 19(4)): counted again from zero. ``pause``: the waiting
    time is added to the due date, for sector laws that say so.
    """

    RESTART = "restart"
    PAUSE = "pause"


class Granularity(StrEnum):
    """Compare completion with the due *date* (default, T12) or with the due *instant*."""

    DATE = "date"
    DATETIME = "datetime"


class Classification(StrEnum):
    EARLY = "early"  # trước hạn
    ON_TIME = "on_time"  # đúng hạn
    LATE = "late"  # quá hạn
    PENDING_WITHIN = "pending_within"  # đang giải quyết, trong hạn
    PENDING_LATE = "pending_late"  # đang giải quyết, quá hạn

    @property
    def label_vi(self) -> str:
        return {
            "early": "Trước hạn", "on_time": "Đúng hạn", "late": "Quá hạn",
            "pending_within": "Đang giải quyết – trong hạn",
            "pending_late": "Đang giải quyết – quá hạn",
        }[self.value]


class Flag(StrEnum):
    """Irregularities the clock notices; recorded, never blocking (auditors review them)."""

    SUPPLEMENT_REQUEST_LATE = "supplement_request_late"  # after the 3-working-day window
    SUPPLEMENT_REPEATED = "supplement_repeated"  # guidance must be given once, in full
    APOLOGY_LATE = "apology_late"  # later than one working day before the due date
    APOLOGY_REPEATED = "apology_repeated"  # rescheduling is allowed once only

    @property
    def label_vi(self) -> str:
        return {
            "supplement_request_late": "Yêu cầu bổ sung quá 3 ngày làm việc",
            "supplement_repeated": "Yêu cầu bổ sung nhiều lần",
            "apology_late": "Xin lỗi muộn", "apology_repeated": "Xin lỗi nhiều lần",
        }[self.value]


@dataclass(frozen=True, slots=True)
class ClockEvent:
    at: datetime
    kind: EventKind
    reason: str | None = None
    new_due: date | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], index: int = 0) -> ClockEvent:
        """Parse one event of the ``motcua replay`` format; naive times are local."""
        from engine.timezone import assume_local

        where = f"events[{index}]"
        try:
            kind = EventKind(raw["kind"])
        except KeyError:
            raise ClockError(f"{where}: thiếu trường 'kind'") from None
        except ValueError:
            allowed = ", ".join(k.value for k in EventKind)
            raise ClockError(f"{where}: loại sự kiện không hợp lệ {raw['kind']!r}; "
                             f"cho phép: {allowed}") from None
        try:
            at = assume_local(datetime.fromisoformat(str(raw["at"])))
        except KeyError:
            raise ClockError(f"{where}: thiếu trường 'at'") from None
        except ValueError:
            raise ClockError(f"{where}: thời điểm không hợp lệ {raw['at']!r}") from None
        new_due = None
        if raw.get("new_due") is not None:
            try:
                new_due = date.fromisoformat(str(raw["new_due"])[:10])
            except ValueError:
                raise ClockError(f"{where}: new_due không hợp lệ {raw['new_due']!r}") from None
        return cls(at=at, kind=kind, reason=raw.get("reason"), new_due=new_due)

    @classmethod
    def stored(cls, kind: str, at: str, reason: str | None = None,
               new_due: str | None = None) -> ClockEvent:
        """Decode a clock record as the lifecycle stores it on an event (``payload["clock"]``:
        ``kind``, ``at`` in UTC ISO 8601, ``reason``, ``new_due``). The one decoder, used by
        the lifecycle's replay and by the reports, which read the same records from SQL.
        Unlike :meth:`from_dict` it trusts its input: the lifecycle wrote it."""
        return cls(datetime.fromisoformat(at), _KINDS.get(kind) or EventKind(kind), reason,
                   date.fromisoformat(new_due[:10]) if new_due else None)

    def record(self) -> dict[str, Any]:
        """The stored form :meth:`stored` decodes (what an action writes on its event)."""
        from datetime import UTC

        out: dict[str, Any] = {"kind": self.kind.value, "at": self.at.astimezone(UTC).isoformat()}
        if self.reason is not None:
            out["reason"] = self.reason
        if self.new_due is not None:
            out["new_due"] = self.new_due.isoformat()
        return out


def stored_events(records: Iterable[Mapping[str, Any] | None]) -> list[ClockEvent]:
    """The clock events of stored records, skipping events that moved no clock (``None``)."""
    return [ClockEvent.stored(r["kind"], r["at"], r.get("reason"), r.get("new_due"))
            for r in records if r]


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    end: datetime | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Apology:
    at: datetime
    previous_appointment: date
    new_due: date
    in_time: bool


@dataclass
class ClockState:
    """Everything the clock knows after replaying a dossier's events."""

    limit: TimeLimit
    calendar: WorkingCalendar = field(repr=False, compare=False)
    supplement_effect: SupplementEffect
    received_at: datetime
    original_due: Due
    due: Due  # the legal due date: after restarts and pauses, never moved by an apology
    appointment: date  # what the applicant was told last (may be the apology's new date)
    clock_started_at: datetime  # receipt, or the last complete supplement under restart
    supplement_requests: list[datetime] = field(default_factory=list)
    supplement_waits: list[Interval] = field(default_factory=list)
    pauses: list[Interval] = field(default_factory=list)
    apologies: list[Apology] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    ended_at: datetime | None = None
    end_kind: EventKind | None = None
    returned_at: datetime | None = None
    events: tuple[ClockEvent, ...] = ()
    options: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def awaiting_supplement(self) -> bool:
        return bool(self.supplement_waits) and self.supplement_waits[-1].end is None

    @property
    def paused(self) -> bool:
        return bool(self.pauses) and self.pauses[-1].end is None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


# ----- replay -------------------------------------------------------------------------------

def replay(
    events: Iterable[ClockEvent],
    limit: TimeLimit,
    calendar: WorkingCalendar,
    *,
    policy: ClockPolicy | None = None,
    supplement_effect: SupplementEffect = SupplementEffect.RESTART,
    allowed_pause_reasons: Iterable[str] | None = None,
    supplement_window_days: int = 3,
    apology_lead_working_day: bool = True,
) -> ClockState:
    """Replay time-relevant events (sorted by time) into a :class:`ClockState`.

    Raises :class:`ClockError` for sequences that cannot happen (nothing before receipt, a
    supplement received that was never requested, a pause without a reason …). Irregular but
    possible sequences — a late supplement request, a second apology — are kept and flagged.
    """
    policy = policy or ClockPolicy()
    options = {"policy": policy, "supplement_effect": supplement_effect,
               "allowed_pause_reasons": allowed_pause_reasons,
               "supplement_window_days": supplement_window_days,
               "apology_lead_working_day": apology_lead_working_day}
    allowed = set(allowed_pause_reasons) if allowed_pause_reasons is not None else None
    events = list(events)
    if not events or events[0].kind is not EventKind.RECEIVED:
        raise ClockError("sự kiện đầu tiên phải là 'received' (tiếp nhận hồ sơ)")
    for i in range(1, len(events)):
        if events[i].at < events[i - 1].at:
            raise ClockError(f"events[{i}]: các sự kiện phải theo thứ tự thời gian")

    first = events[0]
    due = compute_due(first.at, limit, calendar, policy)
    state = ClockState(limit=limit, calendar=calendar, supplement_effect=supplement_effect,
                       received_at=first.at, original_due=due, due=due,
                       appointment=due.due_date, clock_started_at=first.at,
                       events=tuple(events), options=options)

    for index, event in enumerate(events[1:], start=1):
        _apply(state, event, index, calendar, policy, allowed, supplement_window_days,
               apology_lead_working_day)
    return state


def reproject(states: Mapping[K, ClockState], calendar: WorkingCalendar,
              ) -> dict[K, tuple[date, date]]:
    """Replay open dossiers over an edited calendar; return those whose legal due date moves.

    Used when an administrator adds a day off or a make-up day: the clock is a pure function of
    events and calendar, so the new due date is the same replay over the new calendar. Result:
    ``{key: (old due date, new due date)}`` for changed dossiers only.
    """
    changed = {}
    for key, state in states.items():
        if state.ended:
            continue
        new = replay(state.events, state.limit, calendar, **state.options)
        if new.due.due_date != state.due.due_date:
            changed[key] = (state.due.due_date, new.due.due_date)
    return changed


def _apply(state: ClockState, event: ClockEvent, index: int, calendar: WorkingCalendar,
           policy: ClockPolicy, allowed: set[str] | None, window: int,
           apology_lead_working_day: bool) -> None:
    where = f"events[{index}] ({event.kind.value})"
    kind = event.kind

    if kind is EventKind.RECEIVED:
        raise ClockError(f"{where}: hồ sơ đã được tiếp nhận")
    if state.returned_at is not None:
        raise ClockError(f"{where}: hồ sơ đã trả kết quả, không còn sự kiện nào sau đó")
    if state.ended and kind is not EventKind.RETURNED:
        raise ClockError(f"{where}: hồ sơ đã kết thúc xử lý ({state.end_kind.value})")

    if kind is EventKind.SUPPLEMENT_REQUESTED:
        if state.awaiting_supplement:
            raise ClockError(f"{where}: đang chờ bổ sung, chưa nhận bổ sung lần trước")
        if state.paused:
            raise ClockError(f"{where}: hồ sơ đang tạm dừng")
        window_end = calendar.add_working_days(to_local(state.clock_started_at).date(), window)
        if to_local(event.at).date() > window_end:
            _flag(state, Flag.SUPPLEMENT_REQUEST_LATE)
        if state.supplement_requests:
            _flag(state, Flag.SUPPLEMENT_REPEATED)
        state.supplement_requests.append(event.at)
        state.supplement_waits.append(Interval(event.at, None))

    elif kind is EventKind.SUPPLEMENT_RECEIVED:
        if not state.awaiting_supplement:
            raise ClockError(f"{where}: không có yêu cầu bổ sung đang chờ")
        wait = state.supplement_waits[-1]
        state.supplement_waits[-1] = Interval(wait.start, event.at)
        if state.supplement_effect is SupplementEffect.RESTART:
            state.due = compute_due(event.at, state.limit, calendar, policy).starting(
                filed_at=state.received_at, reason=RESTART_REASON)
            state.clock_started_at = event.at
        else:
            state.due = extend_due(state.due, calendar, wait.start, event.at)
        state.appointment = state.due.due_date

    elif kind is EventKind.PAUSED:
        if not event.reason or not event.reason.strip():
            raise ClockError(f"{where}: tạm dừng phải ghi rõ lý do theo quy định (T8)")
        if allowed is not None and event.reason not in allowed:
            raise ClockError(f"{where}: lý do tạm dừng {event.reason!r} không được phép với thủ "
                             f"tục này; cho phép: {', '.join(sorted(allowed)) or '(không có)'}")
        if state.paused or state.awaiting_supplement:
            raise ClockError(f"{where}: đồng hồ đã dừng")
        state.pauses.append(Interval(event.at, None, event.reason))

    elif kind is EventKind.RESUMED:
        if not state.paused:
            raise ClockError(f"{where}: hồ sơ không ở trạng thái tạm dừng")
        pause = state.pauses[-1]
        state.pauses[-1] = Interval(pause.start, event.at, pause.reason)
        moved_appointment = state.appointment != state.due.due_date
        state.due = extend_due(state.due, calendar, pause.start, event.at)
        if not moved_appointment:
            state.appointment = state.due.due_date

    elif kind is EventKind.APOLOGY:
        if event.new_due is None:
            raise ClockError(f"{where}: thư xin lỗi phải có ngày hẹn mới (new_due)")
        if not event.reason or not event.reason.strip():
            raise ClockError(f"{where}: thư xin lỗi phải nêu lý do")
        if event.new_due <= state.appointment:
            raise ClockError(f"{where}: ngày hẹn mới {event.new_due:%d/%m/%Y} phải sau ngày hẹn "
                             f"hiện tại {state.appointment:%d/%m/%Y}")
        latest = apology_deadline(state.due.due_date, calendar, apology_lead_working_day)
        in_time = to_local(event.at).date() <= latest
        if not in_time:
            _flag(state, Flag.APOLOGY_LATE)
        if state.apologies:
            _flag(state, Flag.APOLOGY_REPEATED)
        state.apologies.append(Apology(event.at, state.appointment, event.new_due, in_time))
        state.appointment = event.new_due

    elif kind in ENDING:
        if kind is EventKind.RETURNED:
            state.returned_at = event.at
            if state.ended:
                return
        _close_open_intervals(state, event.at, calendar)
        state.ended_at, state.end_kind = event.at, kind


def _close_open_intervals(state: ClockState, at: datetime, calendar: WorkingCalendar) -> None:
    """A dossier that ends while paused has its due extended up to the end; one that ends
    while awaiting a supplement keeps the wait open (its clock stopped at the request)."""
    if state.paused:
        pause = state.pauses[-1]
        state.pauses[-1] = Interval(pause.start, at, pause.reason)
        state.due = extend_due(state.due, calendar, pause.start, at)


def _flag(state: ClockState, flag: Flag) -> None:
    if flag.value not in state.flags:
        state.flags.append(flag.value)


def apology_deadline(due_date: date, calendar: WorkingCalendar, working_day: bool = True) -> date:
    """Last day to send the apology: "chậm nhất 01 ngày trước ngày hết hạn" (T9).

    Read as the working day before the due date (conservative, default) or, when
    ``working_day`` is False, the calendar day before [I].
    """
    if working_day:
        return calendar.previous_working_day(due_date)
    return date.fromordinal(due_date.toordinal() - 1)


def had_apology_day(clock_started: datetime | None, last_apology_day: date) -> bool:
    """Whether the dossier's clock had started by its last apology day. A same-day procedure
    received on a Saturday is due on Monday; its last apology day (Friday) came before the
    dossier existed, so asking for — or reporting a missed — Mẫu 04 would only be noise: its
    due date brings its own warning. Used by the inbox badge and the sweep alike."""
    return clock_started is None or to_local(clock_started).date() <= last_apology_day


# ----- classification ----------------------------------------------------------------------

def _compare(end: datetime, due: Due, granularity: Granularity, ended: bool) -> Classification:
    if granularity is Granularity.DATETIME:
        end_key, due_key = to_local(end), to_local(due.due_at)
    else:
        end_key, due_key = to_local(end).date(), due.due_date
    if ended:
        if end_key < due_key:
            return Classification.EARLY
        return Classification.ON_TIME if end_key == due_key else Classification.LATE
    return Classification.PENDING_WITHIN if end_key <= due_key else Classification.PENDING_LATE


def classify(state: ClockState, period_end: datetime,
             granularity: Granularity = Granularity.DATE) -> Classification:
    """Early / on time / late for an ended dossier, or pending within/late at ``period_end``.

    Compared with the legal due date — never with an apology's new date (T9): the apology
    tells the applicant a new date but does not make a late dossier on time. A dossier still
    waiting for the applicant's supplement is judged at the moment of the request, when its
    clock stopped; one ended after ``period_end`` is still pending at that date.
    """
    if state.ended_at is not None and state.ended_at <= period_end:
        end = state.ended_at
        if state.awaiting_supplement:
            end = state.supplement_waits[-1].start
        return _compare(end, state.due, granularity, ended=True)
    due = state.due
    if state.paused:
        pause = state.pauses[-1]
        if pause.start <= period_end:
            due = extend_due(due, state.calendar, pause.start, period_end)
    if state.awaiting_supplement and state.supplement_waits[-1].start <= period_end:
        return _compare(state.supplement_waits[-1].start, due, granularity, ended=False)
    return _compare(period_end, due, granularity, ended=False)


def indicator_classify(state: ClockState, period_end: datetime, *,
                       use_rescheduled_appointment: bool = False) -> Classification:
    """The national indicator's view (Quyết định 766, criterion 2.1; domain §6.2).

    End of processing = the first of result ready / returned / refused / stopped / withdrawn
    (status 9 wins over 10); a dossier waiting for a supplement ends at the request; still
    running → judged at ``period_end`` (pending not yet due counts as on time). **More than one
    supplement request counts as late.** Compared at day granularity with the legal due date,
    or — if a province's sync sends the rescheduled date — with the appointment [I].
    """
    if len(state.supplement_requests) > 1:
        return Classification.LATE
    target = state.due
    if use_rescheduled_appointment and state.apologies:
        target = Due(state.due.received_at, state.due.limit, state.due.counted_from,
                     state.appointment, state.due.due_at)
    if state.ended_at is not None and state.ended_at <= period_end:
        end = state.supplement_waits[-1].start if state.awaiting_supplement else state.ended_at
        return _compare(end, target, Granularity.DATE, ended=True)
    if state.awaiting_supplement and state.supplement_waits[-1].start <= period_end:
        return _compare(state.supplement_waits[-1].start, target, Granularity.DATE, ended=False)
    return _compare(period_end, target, Granularity.DATE, ended=False)



#: Stored kind text → kind, without the enum's lookup on every decoded record.
_KINDS = {kind.value: kind for kind in EventKind}
