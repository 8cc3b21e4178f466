"""The counter's searches in the database (issue 15): dossiers by phone, CCCD, name or code
across dates, and the procedures a clerk received recently."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from sqlmodel import select

from engine.lifecycle.models import Dossier
from engine.lifecycle.queries import dossier_search, phone_or_citizen_id, recent_procedures
from engine.procedures import ProcedureSpec, save_version
from engine.samples import received

from .conftest import COMMUNE_CLERK, PROCEDURE, at

OTHER = dict(PROCEDURE, code="1.000002", name="Cấp giấy phép thử nghiệm khác")


def found(session, text: str) -> list[str]:
    return list(session.exec(select(Dossier.code).where(dossier_search(text))
                             .order_by(Dossier.code)).all())


@pytest.mark.parametrize("text, expected", [
    ("0912345678", ("phone", "0912345678")),
    ("0912 345 678", ("phone", "0912345678")),
    ("0912.345.678", ("phone", "0912345678")),
    ("+84 912 345 678", ("phone", "0912345678")),
    ("84912345678", ("phone", "0912345678")),
    ("031203004567", ("id_number", "031203004567")),
    ("0312 0300 4567", ("id_number", "031203004567")),
    ("4567", None),
    ("nguyen van an", None),
])
def test_whole_phone_numbers_and_citizen_ids_are_recognised_in_any_spelling(text, expected):
    assert phone_or_citizen_id(text) == expected


def test_a_dossier_is_found_by_phone_cccd_name_or_code_whatever_its_date(world):
    old = received(world, at=at("2024-11-04T09:00"))
    new = received(world, at=at("2025-03-03T09:00"))
    world.commit()
    both = sorted([old.code, new.code])
    for text in ("+84 912 345 678", "0912.345.678", "0312 0300 4567", "nguyen van an",
                 unicodedata.normalize("NFD", "Nguyễn Văn An"), "NGUYEN VAN", "4567"):
        assert found(world, text) == both, text
    assert found(world, old.code) == [old.code]
    assert found(world, old.code.lower()) == [old.code]
    assert found(world, "0987654321") == [] and found(world, "tran thi") == []
    assert dossier_search("   ") is None


def test_like_wildcards_typed_by_the_clerk_match_only_themselves(world):
    received(world)
    world.commit()
    assert found(world, "_") == [] and found(world, "%") == []


def test_recent_procedures_are_the_clerks_own_receipts_since_a_day_most_recent_first(world):
    save_version(world, spec=ProcedureSpec.from_dict(OTHER))
    world.commit()
    received(world, at=at("2025-03-03T09:00"))
    received(world, at=at("2025-03-04T09:00"), procedure_code="1.000002")
    received(world, at=at("2025-03-05T09:00"), actor=COMMUNE_CLERK)
    world.commit()
    since = at("2025-03-01T00:00")
    assert recent_procedures(world, "clerk1", since) == ["1.000002", "1.000001"]
    assert recent_procedures(world, "clerk1", since + timedelta(days=3)) == ["1.000002"]
    assert recent_procedures(world, "clerk2", since) == ["1.000001"]
    assert recent_procedures(world, "officer1", since) == []
