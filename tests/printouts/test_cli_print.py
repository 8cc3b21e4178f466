"""`motcua print FORM --sample`, its errors, and `motcua print batch` with two workers."""

from __future__ import annotations

import pdfplumber
import pytest
from typer.testing import CliRunner

from service.cli import app

from .conftest import needs_poppler, pdf_text

pytestmark = needs_poppler
runner = CliRunner()


@pytest.mark.parametrize(("form", "set_", "number"), [
    ("receipt", "2025", "01"), ("supplement_request", "2018", "02"), ("refusal", "2025", "03"),
    ("apology", "2018", "04"), ("stop_notice", "2025", "05"), ("control", "2018", "05"),
    ("register", "2025", "07"),
])
def test_sample_of_every_form(tmp_path, form, set_, number):
    out = tmp_path / f"{form}.pdf"
    result = runner.invoke(app, ["print", form, "--sample", "--set", set_, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Mẫu số {number}" in result.output
    assert f"Mẫu số {number}" in pdf_text(out)


def test_errors_are_one_clear_line(tmp_path):
    out = tmp_path / "x.pdf"
    result = runner.invoke(app, ["print", "stop_notice", "--sample", "--set", "2018",
                                 "-o", str(out)])
    assert result.exit_code == 3 and "03/2025" in result.output
    result = runner.invoke(app, ["print", "receipt", "-o", str(out)])
    assert result.exit_code == 2 and "chọn một nguồn" in result.output
    result = runner.invoke(app, ["print", "register", "--agency", "X", "--from", "2026-02",
                                 "--to", "2026-02-28", "-o", str(out)])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
    assert not out.exists()


def test_missing_font_stops_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_FONT_DIR", str(tmp_path))
    monkeypatch.setattr("printouts.fonts.SEARCH_DIRS", ())
    result = runner.invoke(app, ["print", "receipt", "--sample", "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 3 and "fonts-liberation2" in result.output


def test_override_folder_applies_to_the_sample(tmp_path, monkeypatch, renderer_png_logo):
    folder = tmp_path / "overrides" / "000.00.12.H26"
    folder.mkdir(parents=True)
    renderer_png_logo(folder / "logo.png")
    (folder / "override.yaml").write_text(
        'place_name: "Thủy Nguyên"\nlogo: logo.png\n'
        'signers:\n  apology: {prefix: "Q.", title: "GIÁM ĐỐC", name: "Hoàng Văn Tư"}\n',
        encoding="utf-8")
    monkeypatch.setenv("MOTCUA_PRINT_OVERRIDES", str(tmp_path / "overrides"))
    out = tmp_path / "a.pdf"
    result = runner.invoke(app, ["print", "apology", "--sample", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    assert "Thủy Nguyên, ngày 10 tháng 02 năm 2026" in text
    assert "Q. GIÁM ĐỐC" in text and "Hoàng Văn Tư" in text
    with pdfplumber.open(out) as pdf:
        assert len(pdf.pages[0].images) == 1  # the logo


def test_batch_renders_on_two_workers_with_progress(tmp_path):
    result = runner.invoke(app, ["print", "batch", "apology", "--count", "6", "--workers", "2",
                                 "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    files = sorted(tmp_path.glob("apology-*.pdf"))
    assert len(files) == 6
    assert "Đã in 6 văn bản" in result.output and "2 tiến trình" in result.output
    assert "Nguyễn Thị Ngọc Ánh 0001" in pdf_text(files[0])
