"""Two files defining the same procedure code make the catalogue unusable."""

from __future__ import annotations

import pytest

from workflows.loader import Catalogue, CatalogueError, check_catalogue, load_catalogue


def test_duplicate_code_is_reported_on_the_second_file(write_procedure, valid_procedure):
    first = write_procedure(valid_procedure, "a.yaml")
    second = write_procedure(valid_procedure.replace("Thủ tục thử", "Bản trùng"), "b.yaml")
    issues = check_catalogue(first.parent)
    assert len(issues) == 1
    assert issues[0].path == second and issues[0].line == 1
    assert f"duplicate procedure code 1.000001 (already defined in {first}:1)" in issues[0].message
    with pytest.raises(CatalogueError):
        load_catalogue(first.parent)


def test_distinct_codes_load_as_a_mapping_by_code(write_procedure, valid_procedure):
    write_procedure(valid_procedure, "a.yaml")
    path = write_procedure(valid_procedure.replace('"1.000001"', '"2.000002"'), "b.yaml")
    catalogue = load_catalogue(path.parent)
    assert sorted(catalogue) == ["1.000001", "2.000002"]
    assert catalogue.source_of("2.000002") == path


def test_a_catalogue_built_in_code_refuses_duplicates(write_procedure, valid_procedure):
    procedure = load_catalogue(write_procedure(valid_procedure).parent)["1.000001"]
    with pytest.raises(ValueError, match="duplicate"):
        Catalogue([procedure, procedure])
