"""What each action does beyond moving the state, grouped by stage, and the one place where
later features add more.

- :data:`EFFECTS`: one function per action (``reception``, ``processing``, ``supplement``,
  ``ending``). It validates the action's input, sets the dossier's facts, records a clock
  event (``projection.record_clock``), opens and closes hand-off rows (``handoffs``) and issues
  forms (``documents.issue``). It runs before anything is written.
- :data:`after_effects`: the declared extension point. Callables registered here run after
  the action's rows are written (the dossier, its event with its id, the documents), in the
  same transaction: a message queued by one is committed with the action or not at all, and
  an exception rolls the whole action back. Later features (the outbox of notifications, the
  national portal sync) register here instead of editing an ``on_*`` function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.lifecycle import postal
from engine.lifecycle.context import ActionContext
from engine.lifecycle.effects import attaching, ending, processing, reception, supplement
from engine.lifecycle.states import Action

A = Action
Effect = Callable[[ActionContext], None]
#: ``(ctx, event)``: the action's context and its written event's columns (``event["id"]``).
AfterEffect = Callable[[ActionContext, Mapping[str, Any]], None]

EFFECTS: dict[Action, Effect] = {
    A.SUBMIT: reception.on_submit, A.RECEIVE: reception.on_receive,
    A.REFUSE_AT_RECEPTION: reception.on_refuse_at_reception,
    A.TRANSFER: reception.on_transfer, A.ACCEPT_TRANSFER: reception.on_accept_transfer,
    A.ASSIGN: processing.on_assign, A.FORWARD: processing.on_forward,
    A.SEND_BACK: processing.on_send_back, A.CONSULT: processing.on_consult,
    A.PAUSE: processing.on_pause, A.RESUME: processing.on_resume,
    A.APOLOGISE: processing.on_apologise,
    A.REQUEST_SUPPLEMENT: supplement.on_request_supplement,
    A.RECEIVE_SUPPLEMENT: supplement.on_receive_supplement,
    A.REQUEST_PAYMENT: supplement.on_request_payment,
    A.CONFIRM_PAYMENT: supplement.on_confirm_payment,
    A.FINISH: ending.on_finish, A.RETURN_RESULT: ending.on_return_result,
    A.CORRECT_RESULT: ending.on_correct_result, A.REFUSE: ending.on_refuse,
    A.STOP: ending.on_stop, A.WITHDRAW: ending.on_withdraw,
    A.RECORD_POSTAL_DELIVERY: postal.on_record_postal_delivery,
    A.ATTACH: attaching.on_attach,
}


class AfterEffects:
    """The registry of after-effects: per action, in the order they were registered.

    Registered at import time by the feature that needs them (one process, one registry);
    an idempotent repeat of a request replays its first result and runs none of them again.
    Guidance at the counter (``commands.guide``) opens no dossier and runs none.
    """

    def __init__(self) -> None:
        self._by_action: dict[Action, list[AfterEffect]] = {action: [] for action in Action}

    def register(self, effect: AfterEffect, *,
                 actions: Iterable[Action | str] | None = None) -> AfterEffect:
        """Run ``effect`` after each of ``actions`` (every action if None); returns it, so
        this also works as a decorator through :meth:`after`."""
        for action in (Action(a) for a in actions) if actions is not None else Action:
            if effect not in self._by_action[action]:
                self._by_action[action].append(effect)
        return effect

    def after(self, *actions: Action | str) -> Callable[[AfterEffect], AfterEffect]:
        """Decorator: ``@after_effects.after(Action.RECEIVE, Action.FINISH)``; no action
        named means every action."""
        return lambda effect: self.register(effect, actions=actions or None)

    def unregister(self, effect: AfterEffect) -> None:
        """Remove ``effect`` from every action (tests, or a feature switched off)."""
        for effects in self._by_action.values():
            if effect in effects:
                effects.remove(effect)

    def of(self, action: Action) -> tuple[AfterEffect, ...]:
        return tuple(self._by_action[action])

    def run(self, ctx: ActionContext, event: Mapping[str, Any]) -> None:
        for effect in self._by_action[ctx.action]:
            effect(ctx, event)


after_effects = AfterEffects()
