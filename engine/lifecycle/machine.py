"""The dossier state machine, built with ``transitions`` (domain §2.2).

One :class:`~transitions.Machine` per procedure version, shared by every dossier of that
version and never bound to a row (``model=None``): a SQLModel row cannot be bound, per-row
machines cost ~30 KiB each and ``add_model`` is quadratic (stack-notes §5). Actions are fired
with ``machine.events[action].trigger(row)``, which reads and writes ``row.state``.

The machine decides only *which state follows which action*. Who may act, on which step, and
what else changes (clock, hand-offs, documents, events) is the job of
:mod:`engine.lifecycle.unit_of_work`, inside one database transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from transitions import EventData, Machine, MachineError

from engine.lifecycle.states import Action, State

S, A = State, Action
ACTIVE = [S.RECEIVED, S.IN_PROCESSING, S.PAUSED, S.AWAITING_SUPPLEMENT, S.AWAITING_PAYMENT]


@dataclass(frozen=True, slots=True)
class Rule:
    action: Action
    sources: tuple[State, ...]
    dest: State | None  # None: internal transition, the state does not change
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()


def _is_pre_receipt(event: EventData) -> bool:
    """A supplement asked for before formal receipt (online dossier, domain §2.2 #6)."""
    return event.model.received_at is None


#: The transition table. Order matters where one action has two rules (first match wins).
RULES: tuple[Rule, ...] = (
    Rule(A.SUBMIT, (S.NEW,), S.SUBMITTED),
    Rule(A.RECEIVE, (S.NEW, S.SUBMITTED), S.RECEIVED),
    Rule(A.REFUSE_AT_RECEPTION, (S.NEW, S.SUBMITTED), S.REFUSED_AT_RECEPTION),
    Rule(A.TRANSFER, (S.RECEIVED,), S.IN_PROCESSING),
    Rule(A.ACCEPT_TRANSFER, (S.IN_PROCESSING,), None),
    Rule(A.ASSIGN, (S.IN_PROCESSING,), None),
    Rule(A.FORWARD, (S.IN_PROCESSING,), None),
    Rule(A.SEND_BACK, (S.IN_PROCESSING,), None),
    Rule(A.CONSULT, (S.IN_PROCESSING,), None),
    Rule(A.REQUEST_SUPPLEMENT, (S.SUBMITTED, S.IN_PROCESSING), S.AWAITING_SUPPLEMENT),
    Rule(A.RECEIVE_SUPPLEMENT, (S.AWAITING_SUPPLEMENT,), S.SUBMITTED,
         conditions=("is_pre_receipt",)),
    Rule(A.RECEIVE_SUPPLEMENT, (S.AWAITING_SUPPLEMENT,), S.IN_PROCESSING,
         unless=("is_pre_receipt",)),
    Rule(A.REQUEST_PAYMENT, (S.IN_PROCESSING,), S.AWAITING_PAYMENT),
    Rule(A.CONFIRM_PAYMENT, (S.AWAITING_PAYMENT,), S.IN_PROCESSING),
    Rule(A.PAUSE, (S.IN_PROCESSING,), S.PAUSED),
    Rule(A.RESUME, (S.PAUSED,), S.IN_PROCESSING),
    Rule(A.APOLOGISE, (S.IN_PROCESSING, S.PAUSED, S.AWAITING_PAYMENT), None),
    Rule(A.REFUSE, (S.IN_PROCESSING,), S.STOPPED),
    Rule(A.STOP, tuple(ACTIVE), S.STOPPED),
    Rule(A.WITHDRAW, (S.SUBMITTED, *ACTIVE), S.WITHDRAWN),
    Rule(A.FINISH, (S.IN_PROCESSING,), S.RESULT_READY),
    Rule(A.RETURN_RESULT, (S.RESULT_READY,), S.RETURNED),
    Rule(A.CORRECT_RESULT, (S.RETURNED,), S.RESULT_READY),
    Rule(A.RECORD_POSTAL_DELIVERY, (S.RETURNED,), None),  # engine.lifecycle.postal
    # internal: files attached at a step (engine.files.journal); every non-terminal state
    Rule(A.ATTACH, (S.SUBMITTED, *ACTIVE, S.RESULT_READY), None),
)

CONDITIONS = {"is_pre_receipt": _is_pre_receipt}


class IllegalAction(Exception):
    """The action cannot happen in the dossier's current state.

    Carries the state and the actions that *are* allowed in it (``allowed``, the machine's
    view), and — when the policy knows who asked — ``permitted``: the ones *this* person may
    take now (``engine.lifecycle.policy``). The message is for people: Vietnamese labels
    only, never the codes (a clerk once read "(in_processing); được phép: accept_transfer…").
    """

    def __init__(self, action: str, state: str, allowed: Iterable[str],
                 *, permitted: Iterable[str] | None = None) -> None:
        self.action, self.state, self.allowed = action, state, sorted(allowed)
        self.permitted = sorted(permitted) if permitted is not None else None
        super().__init__(illegal_message(action, state, self.allowed, self.permitted))


def _label(enum: type[State] | type[Action], value: str) -> str:
    """The Vietnamese label of a code (the code itself if unknown: it is what was typed)."""
    return enum(value).label_vi if value in enum._value2member_map_ else value


def illegal_message(action: str, state: str, allowed: list[str],
                    permitted: list[str] | None) -> str:
    """The sentence for people — "Không thể “Trả kết quả” khi hồ sơ đang ở trạng thái “Đang
    xử lý”." — then what the person may do instead (``permitted``) or, with nobody in view
    (a replay, the consistency check), what the state allows."""
    head = (f"Không thể “{_label(Action, action)}” khi hồ sơ đang ở trạng thái "
            f"“{_label(State, state)}”.")
    names = ", ".join(f"“{_label(Action, a)}”"
                      for a in (allowed if permitted is None else permitted))
    if permitted is not None:
        tail = f"Bạn có thể: {names}." if names else \
            "Lúc này bạn không có thao tác nào trên hồ sơ này."
    else:
        tail = f"Thao tác có thể ở trạng thái này: {names}." if names else \
            "Ở trạng thái này hồ sơ không còn thao tác nào."
    return f"{head} {tail}"


class DossierMachine:
    """The shared machine of one procedure version (or of the default action set)."""

    def __init__(self, actions: Iterable[Action] | None = None, *, name: str = "default") -> None:
        enabled = set(actions) if actions is not None else set(Action)
        self.name = name
        self.rules = tuple(r for r in RULES if r.action in enabled)
        # Asked on every action (``policy``): worked out once per state, not per call.
        self._allowed = {state.value: tuple(sorted({r.action.value for r in self.rules
                                                    if state in r.sources}))
                         for state in State}
        self._machine = Machine(
            model=None,
            states=[s.value for s in State],
            transitions=[self._transition(r) for r in self.rules],
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
            name=name,
        )

    @staticmethod
    def _transition(rule: Rule) -> dict[str, Any]:
        return {
            "trigger": rule.action.value,
            "source": [s.value for s in rule.sources],
            "dest": rule.dest.value if rule.dest else None,
            "conditions": [CONDITIONS[c] for c in rule.conditions],
            "unless": [CONDITIONS[c] for c in rule.unless],
        }

    def allowed_actions(self, state: str) -> list[str]:
        """Actions with a rule from ``state`` (guards aside): what the UI may offer."""
        return list(self._allowed[State(state).value])

    def fire(self, action: Action | str, row: Any) -> tuple[str, str]:
        """Fire ``action`` on ``row``; return (state before, state after).

        Raises :class:`IllegalAction` (never a silent no-op) when no rule applies.
        """
        before = row.state
        event = self._machine.events.get(str(action))
        if event is None:
            raise IllegalAction(str(action), before, self.allowed_actions(before))
        try:
            fired = event.trigger(row)
        except MachineError:
            raise IllegalAction(str(action), before, self.allowed_actions(before)) from None
        if not fired:
            raise IllegalAction(str(action), before, self.allowed_actions(before))
        return before, row.state


@lru_cache(maxsize=512)
def machine_for(name: str, actions: frozenset[Action] | None = None) -> DossierMachine:
    """The cached machine of a procedure version (``name`` = ``code@effective_from``)."""
    return DossierMachine(actions, name=name)
