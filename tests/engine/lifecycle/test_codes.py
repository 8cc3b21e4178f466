"""Dossier codes (domain §7.1, decree118 §4): ``AGENCY-YYMMDD-XXXX`` gap-free per agency and
local day, at most 9 999 a day; the centralised ``AGENCY-YYMMDD-AAXXXX`` from 25/01/2026 for
agencies configured for it, uncapped."""

import re

import pytest
from sqlmodel import select

from engine.agencies import Agency
from engine.lifecycle import receive, refuse_at_reception
from engine.lifecycle.codes import CodeCapacityExceeded
from engine.lifecycle.errors import InvalidInput, LifecycleError
from engine.lifecycle.models import Counter

from .conftest import APPLICANT, CENTRE, CLERK, COMMUNE, COMMUNE_CLERK, COMPONENTS, DEPT, at
from .flow import PROC, receive_ok


def counter(s, scope):
    row = s.get(Counter, scope)
    return row.value if row else None


def test_codes_follow_the_2018_format_without_gaps(world):
    s = world
    first = receive_ok(s, "2025-03-03T08:00").code
    refusal = refuse_at_reception(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                                  reason="Không thuộc thẩm quyền",
                                  at=at("2025-03-03T08:10")).dossier.code
    s.commit()
    with pytest.raises(InvalidInput):  # an incomplete dossier takes no number
        receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT, components=[],
                competent_agency=DEPT, at=at("2025-03-03T08:20"))
    s.rollback()
    third = receive_ok(s, "2025-03-03T08:30").code
    assert [first, refusal, third] == [f"{CENTRE}-250303-{n:04d}" for n in (1, 2, 3)]
    assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H\d{2}-\d{6}-\d{4}", third)
    assert counter(s, f"code:2018:{CENTRE}:250303") == 3


def test_sequences_are_separate_per_agency_and_per_local_day(world):
    s = world
    codes = [
        receive_ok(s, "2025-03-03T09:00").code,
        receive_ok(s, "2025-03-03T09:01", actor=COMMUNE_CLERK, competent=None).code,
        receive_ok(s, "2025-03-03T23:30").code,  # still 03/03 in Vietnam (16:30 UTC)
        receive_ok(s, "2025-03-04T00:30").code,  # 04/03 in Vietnam, 03/03 in UTC
        receive_ok(s, "2025-03-04T09:00", actor=COMMUNE_CLERK, competent=None).code,
    ]
    assert codes == [f"{CENTRE}-250303-0001", f"{COMMUNE}-250303-0001",
                     f"{CENTRE}-250303-0002", f"{CENTRE}-250304-0001",
                     f"{COMMUNE}-250304-0001"]


def centralise(s, code=CENTRE):
    agency = s.get(Agency, code)
    agency.code_scheme = "centralised"
    s.add(agency)
    s.commit()


def test_centralised_format_applies_from_25_january_2026_only(world):
    s = world
    centralise(s)
    before = [receive_ok(s, "2026-01-23T09:00").code, receive_ok(s, "2026-01-23T09:05").code]
    from_day = [receive_ok(s, "2026-01-25T09:00").code,  # Sunday 25/01 is the first day
                receive_ok(s, "2026-01-26T09:00").code,
                receive_ok(s, "2026-01-26T09:05").code]
    assert before == [f"{CENTRE}-260123-0001", f"{CENTRE}-260123-0002"]
    assert from_day == [f"{CENTRE}-260125-000001", f"{CENTRE}-260126-000001",
                        f"{CENTRE}-260126-000002"]
    # agencies left on the default keep the 2018 format
    assert receive_ok(s, "2026-01-26T09:00", actor=COMMUNE_CLERK,
                      competent=None).code == f"{COMMUNE}-260126-0001"


def test_the_2018_format_refuses_a_10000th_code_of_the_day(world):
    s = world
    scope = f"code:2018:{CENTRE}:250303"
    s.add(Counter(scope=scope, value=9998))
    s.commit()
    assert receive_ok(s, "2025-03-03T09:00").code == f"{CENTRE}-250303-9999"
    with pytest.raises(CodeCapacityExceeded) as caught:
        receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                components=COMPONENTS, competent_agency=DEPT, at=at("2025-03-03T09:05"))
    s.rollback()
    # a lifecycle error with a status, so the API answers with a problem document
    assert isinstance(caught.value, LifecycleError) and caught.value.status == 409
    assert caught.value.details == {"agency": CENTRE, "day": "2025-03-03"}
    assert counter(s, scope) == 9999
    with pytest.raises(CodeCapacityExceeded):
        refuse_at_reception(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                            reason="x", at=at("2025-03-03T09:06"))
    s.rollback()
    # the next day starts again at 0001
    assert receive_ok(s, "2025-03-04T09:00").code == f"{CENTRE}-250304-0001"


def test_the_centralised_sequence_has_no_cap(world):
    s = world
    centralise(s)
    s.add(Counter(scope=f"code:centralised:{CENTRE}:260126", value=9999))
    s.commit()
    assert receive_ok(s, "2026-01-26T09:00").code == f"{CENTRE}-260126-0010000"


def test_counters_hold_one_row_per_scope(world):
    s = world
    receive_ok(s, "2025-03-03T09:00")
    receive_ok(s, "2025-03-03T10:00")
    scopes = sorted(row.scope for row in s.exec(select(Counter)).all())
    assert scopes == [f"code:2018:{CENTRE}:250303", f"doc:receipt:{CENTRE}:2025",
                      f"register:{CENTRE}:2025"]
