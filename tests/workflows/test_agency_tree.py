"""The demo agency tree loads, and its references to agencies and procedures resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.agencies import DEFAULT_AGENCIES_PATH, check_agencies, load_agencies
from workflows.loader import CatalogueError, load_catalogue
from workflows.schema import Level

CATALOGUE = load_catalogue()
TREE = load_agencies(catalogue=CATALOGUE)


def test_shipped_agency_file_has_no_issues():
    assert check_agencies() == []


def test_every_parent_resolves_and_the_tree_has_one_root():
    assert [root.short_name for root in TREE.roots()] == ["UBND TP Hải Phòng"]
    for agency in TREE.values():
        assert agency.parent is None or agency.parent in TREE


def test_province_centre_and_two_commune_centres_are_one_stop_units():
    units = TREE.one_stop_units()
    assert {unit.level for unit in units} == {Level.TINH, Level.XA}
    centre = TREE["000.00.01.H26"]
    assert centre.name == "Trung tâm Phục vụ hành chính công thành phố Hải Phòng"
    assert centre.level is Level.TINH and centre.place_name == "Hải Phòng"
    communes = [unit for unit in units if unit.level is Level.XA]
    assert len(communes) == 2
    for unit in communes:
        assert unit.name.startswith("Trung tâm Phục vụ hành chính công ")
        assert TREE.parent_of(unit.code).level is Level.XA


def test_every_received_procedure_has_a_competent_agency_of_its_level():
    for unit in TREE.one_stop_units():
        for code in unit.receives:
            deciders = TREE.competent_for(code)
            assert deciders, code
            assert all(agency.level is CATALOGUE[code].level for agency in deciders)


def test_every_catalogued_procedure_can_be_filed_somewhere():
    for code in CATALOGUE:
        assert TREE.receivers_of(code), code


def test_boundary_free_receipt_city_centre_receives_a_commune_procedure():
    receivers = {agency.code for agency in TREE.receivers_of("1.001193")}
    assert "000.00.01.H26" in receivers  # city centre, forwards to the commune
    assert {agency.level for agency in TREE.competent_for("1.001193")} == {Level.XA}


def test_ancestors_go_up_to_the_city():
    chain = [agency.code for agency in TREE.ancestors("000.01.31.H26")]
    assert chain == ["000.00.31.H26", "000.00.00.H26"]


def test_codes_follow_the_tt01_2018_layout():
    for code in TREE:
        groups = code.split(".")
        assert [len(group) for group in groups] == [3, 2, 2, 3]


def test_demo_codes_are_marked_as_such_in_the_file():
    assert "DEMO CODES" in DEFAULT_AGENCIES_PATH.read_text(encoding="utf-8")


BROKEN_TREE = """\
agencies:
  - code: "000.00.00.H26"
    name: "Ủy ban nhân dân thành phố"
    short_name: "UBND TP"
    level: tinh
    place_name: "Hải Phòng"
  - code: "000.00.14.H26"
    name: "Sở Tài chính"
    short_name: "STC"
    parent: "000.00.99.H26"
    level: tinh
    place_name: "Hải Phòng"
    competent_for: ["2.001610", "1.001193"]
  - code: "000.01.00.H26"
    name: "Trung tâm"
    short_name: "TT"
    parent: "000.00.00.H26"
    level: tinh
    place_name: "Hải Phòng"
    is_one_stop: true
    receives: ["2.001610", "9.999999", "1.001193"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agencies.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def lines(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_broken_references_are_reported_on_their_lines(tmp_path):
    path = write(tmp_path, BROKEN_TREE)
    issues = {(issue.line, issue.message) for issue in check_agencies(path)}
    assert (lines(BROKEN_TREE, "000.00.99"), "STC: unknown parent agency 000.00.99.H26") in issues
    unknown = (lines(BROKEN_TREE, "9.999999"), "procedure 9.999999 is not in the catalogue")
    assert unknown in issues
    assert any(
        line == lines(BROKEN_TREE, "competent_for") and "a xa-level procedure" in message
        for line, message in issues
    )
    with pytest.raises(CatalogueError):
        load_agencies(path, catalogue=CATALOGUE)


def test_district_agency_is_refused(tmp_path):
    text = BROKEN_TREE.replace("    level: tinh\n", "    level: huyen\n", 1)
    issues = check_agencies(write(tmp_path, text), catalogue_dir=None)
    assert issues[0].line == 5 and "district level" in issues[0].message


def test_only_one_stop_units_receive(tmp_path):
    text = BROKEN_TREE.replace("    is_one_stop: true\n", "")
    issues = check_agencies(write(tmp_path, text), catalogue_dir=None)
    assert len(issues) == 1
    assert issues[0].line == lines(text, "receives:")
    assert "only a one-stop unit" in issues[0].message
