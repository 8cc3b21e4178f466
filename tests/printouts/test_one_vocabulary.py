"""One vocabulary: one NFC normaliser, one name per form, Vietnamese labels from the enums."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.forms import Form, FormSet
from printouts.cli import print_app
from printouts.forms import NUMBERS, DossierForm, FormNotInSet, form_spec
from printouts.render import TEMPLATES_DIR

ROOT = Path(__file__).resolve().parents[2]
#: The project's code (tests may normalise on their own to build NFD input and compare).
SOURCES = ("engine", "printouts", "service", "workflows", "bench", "scripts", "migrations")
NORMALISER = ROOT / "engine" / "text.py"


def source_files(folders: tuple[str, ...] = SOURCES) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def occurrences(pattern: re.Pattern[str], files: list[Path]) -> list[str]:
    """``file:line`` of every match of ``pattern`` (which may span lines) in ``files``."""
    found = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}"
                  for m in pattern.finditer(text)]
    return found


def test_only_engine_text_normalises_to_nfc():
    """Five normalisers once differed (strip or not, keys or not, tuples kept or not)."""
    pattern = re.compile(r"""(normalize|is_normalized)\(\s*["']NFC["']""")
    files = [p for p in source_files() if p != NORMALISER]
    assert occurrences(pattern, files) == [], "use engine.text.nfc instead of normalising here"


def test_vietnamese_labels_are_not_kept_in_literal_tables_outside_the_enums():
    """A code's label lives on its enum (``label_vi``); a table derived from the enum is fine."""
    pattern = re.compile(r"""^[ \t]*\w*(_VI|LABELS)\s*=\s*\{\s*["']""", re.MULTILINE)
    assert occurrences(pattern, source_files(("printouts", "service", "workflows"))) == []


def test_the_pages_scripts_take_their_labels_from_the_enums():
    """A page's script once kept its own words for badges, flags and channels (and two pages
    said "apology due" differently); now ``service.web.pages.VOCAB`` hands them the enums'."""
    literal_table = re.compile(r"""const \w+ = \{\s*\w+: *'""")
    pages = sorted((ROOT / "service" / "templates").glob("*.html"))
    assert occurrences(literal_table, pages) == []


def test_every_form_has_a_label_a_template_and_a_command():
    commands = {c.name for c in print_app.registered_commands}
    for form in Form:
        assert form.label_vi.strip()
        assert (TEMPLATES_DIR / f"{form.value}.html").is_file(), form
        assert form.value in commands, form


@pytest.mark.parametrize("form_set", list(FormSet))
def test_every_form_of_a_set_has_its_own_number(form_set):
    numbers = []
    for form in Form:
        if form.in_set(form_set):
            spec = form_spec(form, form_set)
            assert re.fullmatch(r"0[1-7]", spec.number) and spec.title, form
            assert spec.key == form.value and spec.circular == form_set.circular
            numbers.append(spec.number)
        else:
            with pytest.raises(FormNotInSet):
                form_spec(form, form_set)
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert set(NUMBERS[form_set]) == {f for f in Form if f.in_set(form_set)}


def test_document_urls_take_the_engine_names_of_a_dossiers_forms():
    assert {f.value for f in DossierForm} == {f.value for f in Form} - {Form.REGISTER.value}
    for old in ("supplement", "stop"):
        with pytest.raises(ValueError):
            DossierForm(old)
