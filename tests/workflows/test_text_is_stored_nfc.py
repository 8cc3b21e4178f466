"""Vietnamese text typed in decomposed form (NFD) is stored composed (NFC)."""

from __future__ import annotations

import unicodedata

from workflows.loader import load_procedure


def test_nfd_input_file_is_stored_nfc(write_procedure, valid_procedure):
    decomposed = unicodedata.normalize("NFD", valid_procedure)
    assert decomposed != valid_procedure
    procedure = load_procedure(write_procedure(decomposed))
    version = procedure.versions[0]
    texts = [
        procedure.name,
        procedure.field,
        procedure.competent_agency,
        *version.legal_basis,
        version.components[0].name,
        version.result.type,
        *(step.name for step in version.steps),
    ]
    for text in texts:
        assert unicodedata.is_normalized("NFC", text), text
    assert procedure.name == "Thủ tục thử"
    assert procedure.field == "Hộ tịch"


def test_nfd_district_level_is_still_recognised_and_refused(write_procedure, valid_procedure):
    from workflows.loader import check_catalogue

    text = valid_procedure.replace("level: xa", unicodedata.normalize("NFD", "level: huyện"))
    issues = check_catalogue(write_procedure(text).parent)
    assert len(issues) == 1 and "district level" in issues[0].message
