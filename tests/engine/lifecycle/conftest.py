"""A small seeded world for lifecycle tests: a province centre, a department, a commune, and
one procedure with four steps (reception → appraisal → approval → return). It is the world of
``engine/samples.py``, shared with the report tests and the lifecycle benchmark."""

from __future__ import annotations

from datetime import date

import pytest

from engine.samples import (
    APPLICANT,
    CENTRE,
    CLERK,
    COMMUNE,
    COMMUNE_CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE,
    seed_world,
)
from engine.samples import local as at


@pytest.fixture
def world(session):
    seed_world(session)
    session.commit()
    return session


__all__ = ["APPLICANT", "CENTRE", "CLERK", "COMMUNE", "COMMUNE_CLERK", "COMPONENTS", "DEPT",
           "LEADER", "OFFICER", "PROCEDURE", "at", "date"]
