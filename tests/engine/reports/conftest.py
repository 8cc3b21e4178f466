"""A seeded world for the report tests and the fixed dataset, imported with ``motcua import``'s
engine function (so every report test also exercises the import)."""

from __future__ import annotations

import pytest

from engine.procedures import ProcedureSpec, save_version
from engine.reports.history import import_lines
from engine.samples import PROCEDURE, seed_world

from .dataset import jsonl

CERTIFY = {
    "code": "2.000815", "name": "Chứng thực bản sao từ bản chính", "field": "Chứng thực",
    "level": "xa", "effective_from": "2019-01-01",
    "time_limit": {"amount": 0, "unit": "same_day"}, "supplement_effect": "restart",
    "components": [{"name": "Bản chính", "originals": 1, "copies": 0}],
    "steps": PROCEDURE["steps"], "result": {"type": "Bản sao chứng thực", "is_document": True},
}


def seed(session) -> None:
    """The sample world (engine/samples.py: the dataset's agencies, both versions of its
    procedure) and the same-day certification procedure."""
    seed_world(session)
    save_version(session, spec=ProcedureSpec.from_dict(CERTIFY))
    session.commit()


@pytest.fixture
def world(session):
    seed(session)
    return session


@pytest.fixture
def dataset(world):
    """The fixed dataset, imported (and committed)."""
    result = import_lines(world, jsonl().splitlines(), source="dataset.jsonl")
    assert result.ok, [str(e) for e in result.errors]
    world.commit()
    return world
