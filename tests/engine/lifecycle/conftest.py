"""A small seeded world for lifecycle tests: a province centre, a department, a commune, and
one procedure with four steps (reception → appraisal → approval → return)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from engine.agencies import Agency
from engine.lifecycle.service import Actor, Applicant
from engine.procedures import ProcedureSpec, save_version
from engine.timezone import VN_TZ
from tests.seed import PROCEDURE  # shared with the report tests

CENTRE = "000.00.00.H31"  # provincial public-administration service centre (one-stop)
DEPT = "000.00.10.H31"  # a department, competent agency served by the centre
COMMUNE = "000.01.00.H31"  # a commune centre (one-stop and competent for commune procedures)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


CLERK = Actor("clerk1", "clerk", CENTRE, "Nguyễn Thị Lan")
OFFICER = Actor("officer1", "officer", DEPT, "Trần Văn Minh")
LEADER = Actor("leader1", "leader", DEPT, "Lê Văn Hùng")
COMMUNE_CLERK = Actor("clerk2", "clerk", COMMUNE, "Phạm Thị Hoa")
APPLICANT = Applicant(name="Nguyễn Văn An", id_number="031203004567",
                      address="Số 5 Lạch Tray, Hải Phòng", phone="0912345678")
COMPONENTS = [{"name": "Đơn đề nghị", "originals": 1, "copies": 0},
              {"name": "Bản sao giấy tờ tùy thân", "originals": 0, "copies": 1}]


@pytest.fixture
def world(session):
    session.add(Agency(code=CENTRE, name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
                       short_name="TTPVHCC Hải Phòng", level="tinh", place_name="Hải Phòng",
                       is_one_stop=True))
    session.add(Agency(code=DEPT, name="Sở Thử nghiệm", short_name="Sở TN", level="tinh",
                       place_name="Hải Phòng", parent_code=None, one_stop_code=CENTRE))
    session.add(Agency(code=COMMUNE, name="Trung tâm Phục vụ hành chính công phường Lê Chân",
                       short_name="TTPVHCC Lê Chân", level="xa", place_name="Hải Phòng",
                       is_one_stop=True, one_stop_code=COMMUNE))
    save_version(session, spec=ProcedureSpec.from_dict(PROCEDURE))
    later = dict(PROCEDURE, effective_from="2025-07-01",
                 time_limit={"amount": 3, "unit": "working_days"})
    save_version(session, spec=ProcedureSpec.from_dict(later))
    session.commit()
    return session


__all__ = ["APPLICANT", "CENTRE", "CLERK", "COMMUNE", "COMMUNE_CLERK", "COMPONENTS", "DEPT",
           "LEADER", "OFFICER", "at", "date"]
