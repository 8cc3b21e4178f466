"""A seeded world for the report tests and the fixed dataset, imported with ``motcua import``'s
engine function (so every report test also exercises the import)."""

from __future__ import annotations

import pytest

from engine.agencies import Agency
from engine.procedures import ProcedureSpec, save_version
from engine.reports.history import import_lines
from tests.seed import PROCEDURE

from .dataset import CENTRE, COMMUNE, DEPT, jsonl

CERTIFY = {
    "code": "2.000815", "name": "Chứng thực bản sao từ bản chính", "field": "Chứng thực",
    "level": "xa", "effective_from": "2019-01-01",
    "time_limit": {"amount": 0, "unit": "same_day"}, "supplement_effect": "restart",
    "components": [{"name": "Bản chính", "originals": 1, "copies": 0}],
    "steps": PROCEDURE["steps"], "result": {"type": "Bản sao chứng thực", "is_document": True},
}


def seed(session) -> None:
    session.add(Agency(code=CENTRE, name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
                       short_name="TTPVHCC Hải Phòng", level="tinh", place_name="Hải Phòng",
                       is_one_stop=True))
    session.add(Agency(code=DEPT, name="Sở Thử nghiệm", short_name="Sở TN", level="tinh",
                       place_name="Hải Phòng", one_stop_code=CENTRE))
    session.add(Agency(code=COMMUNE, name="Trung tâm Phục vụ hành chính công phường Lê Chân",
                       short_name="TTPVHCC Lê Chân", level="xa", place_name="Hải Phòng",
                       is_one_stop=True, one_stop_code=COMMUNE))
    save_version(session, spec=ProcedureSpec.from_dict(PROCEDURE))
    save_version(session, spec=ProcedureSpec.from_dict(
        dict(PROCEDURE, effective_from="2025-07-01",
             time_limit={"amount": 3, "unit": "working_days"})))
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
