"""The declared extension point: after-effects run once per action, after its rows are
written and inside its transaction, so what they write commits or rolls back with it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from engine.lifecycle import after_effects, receive
from engine.lifecycle.models import Counter, Dossier, DossierEvent
from engine.lifecycle.states import Action

from .conftest import APPLICANT, CLERK, COMPONENTS, DEPT, at
from .flow import PROC, do, receive_ok


@pytest.fixture
def registered() -> Iterator[list]:
    """Effects registered by a test are removed after it (the registry is process-wide)."""
    added: list = []
    yield added
    for effect in added:
        after_effects.unregister(effect)


def _note_in_database(ctx, event) -> None:
    """Write a row of our own in the action's transaction, named after the event."""
    ctx.session.add(Counter(scope=f"after:{ctx.action.value}:{event['id']}", value=event["seq"]))


def test_an_after_effect_sees_the_written_event_and_commits_with_the_action(world, registered):
    seen = []

    def note(ctx, event):
        seen.append((ctx.action, event["id"], ctx.dossier.id, ctx.dossier.state))
        _note_in_database(ctx, event)

    registered.append(after_effects.register(note, actions=[Action.RECEIVE]))
    dossier = receive_ok(world, "2026-03-02 09:00")
    event = world.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)).one()
    assert seen == [(Action.RECEIVE, event.id, dossier.id, "received")]
    assert world.get(Counter, f"after:receive:{event.id}").value == 1


def test_an_after_effect_runs_only_for_its_actions(world, registered):
    seen = []
    registered.append(after_effects.register(lambda ctx, event: seen.append(ctx.action.value),
                                             actions=[Action.TRANSFER]))
    dossier = receive_ok(world, "2026-03-02 09:00")
    assert seen == []
    do(world, dossier.code, "transfer", CLERK, "2026-03-02 10:00")
    assert seen == ["transfer"]


def test_a_failing_after_effect_rolls_the_whole_action_back(world, registered):
    def broken(ctx, event):
        _note_in_database(ctx, event)
        raise RuntimeError("the outbox is full")

    registered.append(after_effects.register(broken, actions=[Action.RECEIVE]))
    with pytest.raises(RuntimeError):
        receive(world, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=COMPONENTS, competent_agency=DEPT, at=at("2026-03-02 09:00"))
    world.rollback()
    assert world.exec(select(func.count()).select_from(Dossier)).one() == 0
    assert world.exec(select(func.count()).select_from(DossierEvent)).one() == 0
    assert world.exec(select(Counter).where(Counter.scope.startswith("after:"))).all() == []


def test_a_replayed_request_runs_no_after_effect_again(world, registered):
    seen = []
    registered.append(after_effects.register(lambda ctx, event: seen.append(event["id"])))
    kwargs = dict(actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                  components=COMPONENTS, competent_agency=DEPT, at=at("2026-03-02 09:00"),
                  idempotency_key="6f1c0e8e-5d7a-4a57-9d39-2b0f3c1d9a11")
    first = receive(world, **kwargs)
    world.commit()
    again = receive(world, **kwargs)
    assert again.replayed and again.dossier.id == first.dossier.id
    assert len(seen) == 1


def test_the_decorator_registers_for_every_action_when_none_is_named(registered):
    @after_effects.after()
    def everywhere(ctx, event):
        return None

    registered.append(everywhere)
    assert all(everywhere in after_effects.of(action) for action in Action)
