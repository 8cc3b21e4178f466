"""Which competent agency and returning point a clerk may name (``routing_errors``)."""

from engine.agencies import Agency, province_of, routing_errors


def agency(code: str, *, one_stop: bool = False) -> Agency:
    return Agency(code=code, name=f"Cơ quan {code}", short_name=code, level="xa",
                  place_name="Hải Phòng", is_one_stop=one_stop)


CENTRE = agency("000.01.31.H26", one_stop=True)


def test_the_province_is_the_last_group_of_the_code():
    assert province_of("000.00.31.H26") == "H26"


def test_a_competent_agency_must_be_listed_for_the_procedure_and_in_the_province():
    listed = ["000.00.31.H26", "000.00.32.H26"]
    assert routing_errors(receiving=CENTRE, competent=agency("000.00.32.H26"), returning=None,
                          candidates=listed) == {}
    assert "competent_agency" in routing_errors(
        receiving=CENTRE, competent=agency("000.00.12.H26"), returning=None, candidates=listed)
    assert "competent_agency" in routing_errors(
        receiving=CENTRE, competent=agency("000.00.31.H31"), returning=None, candidates=[])


def test_results_return_at_the_receiving_unit_or_another_counter_of_the_province():
    assert routing_errors(receiving=CENTRE, competent=None, returning=CENTRE,
                          candidates=[]) == {}
    assert routing_errors(receiving=CENTRE, competent=None,
                          returning=agency("000.01.32.H26", one_stop=True), candidates=[]) == {}
    assert "returning_agency" in routing_errors(
        receiving=CENTRE, competent=None, returning=agency("000.00.12.H26"), candidates=[])
    assert "returning_agency" in routing_errors(
        receiving=CENTRE, competent=None, returning=agency("000.01.00.H31", one_stop=True),
        candidates=[])
