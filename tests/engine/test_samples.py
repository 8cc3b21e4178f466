"""The sample-dossier factory (``engine/samples.py``) makes dossiers the lifecycle itself would
make: their events replay to their stored state and their hash chains verify, on both
databases. The tests and the lifecycle benchmark build on it, so it is checked on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.lifecycle import audit, events_of, missing_components, spec_of, steps_of
from engine.lifecycle.consistency import find_inconsistencies
from engine.lifecycle.states import State
from engine.procedures import ProcedureSpec, save_version
from engine.samples import (
    CLERK,
    COMPONENTS,
    PROCEDURE,
    RECEIVED_AT,
    STANDARD_PATH,
    local,
    processed_to,
    received,
    seed_world,
)


@pytest.fixture
def world(session):
    seed_world(session)
    session.commit()
    return session


def test_dossiers_at_every_stage_of_the_standard_path_replay_and_verify(world):
    stages = [State.RECEIVED, State.IN_PROCESSING, State.RESULT_READY, State.RETURNED]
    made = [processed_to(world, stage, at=RECEIVED_AT + timedelta(minutes=i))
            for i, stage in enumerate(stages)]
    assert [d.state for d in made] == stages
    assert [len(events_of(world, d)) for d in made] == [1, 2, 4, 5]
    assert find_inconsistencies(world) == []
    assert audit.verify(world) == (4, [])


def test_a_returned_sample_went_through_every_step_of_the_procedure(world):
    d = processed_to(world, State.RETURNED, at=local("2025-03-04T08:30"))
    assert [s.step_id for s in steps_of(world, d)] == ["receive", "appraise", "approve",
                                                       "return"]
    assert [e.action for e in events_of(world, d)] == ["receive"] + [m.action
                                                                     for m in STANDARD_PATH]
    assert d.end_kind == "result_ready" and d.collected_by == d.applicant_name


def test_a_received_sample_hands_in_every_component_of_its_procedure(world):
    certify = {**PROCEDURE, "code": "2.000815", "name": "Chứng thực bản sao từ bản chính",
               "components": [{"name": "Bản chính", "originals": 1},
                              {"name": "Bản dịch", "copies": 2}]}
    save_version(world, spec=ProcedureSpec.from_dict(certify))
    world.commit()
    usual = received(world)
    other = received(world, procedure_code="2.000815", at=local("2025-03-03T10:00"))
    world.commit()
    assert usual.components == COMPONENTS and usual.receiving_agency == CLERK.agency
    assert missing_components(spec_of(world, other), other.components) == []
    assert [c["copies"] for c in other.components] == [0, 2]


def test_a_state_off_the_standard_path_is_refused_before_anything_is_written(world):
    with pytest.raises(ValueError, match="refused_at_reception"):
        processed_to(world, State.REFUSED_AT_RECEPTION)
    assert audit.verify(world) == (0, [])
