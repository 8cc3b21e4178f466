"""Fixtures for the printout tests: one long-lived renderer, sample PDFs, PDF inspection."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from printouts.context import build, register_context
from printouts.render import Renderer
from printouts.sample import AGENCIES, CENTRE, sample_bundle, sample_options, sample_register

FORMS_BY_SET = {
    "2018": ["receipt", "supplement_request", "refusal", "apology", "control", "register"],
    "2025": ["receipt", "supplement_request", "refusal", "apology", "stop_notice", "control",
             "register"],
}
CASES = [(s, f) for s, forms in FORMS_BY_SET.items() for f in forms]

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                   reason="poppler-utils (pdftotext, pdftoppm) not installed")


@pytest.fixture(scope="session")
def renderer() -> Renderer:
    return Renderer()


@pytest.fixture
def renderer_png_logo() -> Callable[[Path], Path]:
    """Write a small PNG logo (a red circle on white) to a path."""
    def make(path: Path) -> Path:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (120, 120), "white")
        ImageDraw.Draw(image).ellipse((10, 10, 110, 110), fill=(200, 0, 0))
        image.save(path)
        return path

    return make


def sample_context(form: str, form_set: str) -> dict:
    options = sample_options(form_set=form_set)
    if form == "register":
        first = date(2025, 1, 6) if form_set == "2018" else date(2026, 2, 2)
        dossiers, first, last = sample_register(40, first_day=first)
        return register_context(CENTRE, dossiers, AGENCIES, date_from=first, date_to=last,
                                options=options)
    return build(form, sample_bundle(set_2018=form_set == "2018"), None, options)


@pytest.fixture(scope="session")
def sample_pdf(renderer: Renderer, tmp_path_factory) -> Callable[[str, str], Path]:
    """The sample ``form`` of ``form_set`` rendered once per test session."""
    folder = tmp_path_factory.mktemp("sample-pdfs")
    made: dict[tuple[str, str], Path] = {}

    def make(form: str, form_set: str) -> Path:
        key = (form, form_set)
        if key not in made:
            path = folder / f"{form}-{form_set}.pdf"
            renderer.pdf(sample_context(form, form_set), path)
            made[key] = path
        return made[key]

    return make


def pdf_text(path: Path, page: int | None = None) -> str:
    """The text layer in drawing order (``-raw``: a table cell or a header block stays in one
    piece), with runs of white space collapsed (lines wrap differently)."""
    args = ["pdftotext", "-raw", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    out = subprocess.run([*args, str(path), "-"], capture_output=True, check=True).stdout
    return " ".join(out.decode("utf-8").split())


def pages_text(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"],
                         capture_output=True, check=True).stdout.decode("utf-8")
    return [" ".join(p.split()) for p in out.split("\f")[:-1]]


def squash(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def pdffonts(path: Path) -> list[dict[str, str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True,
                         text=True).stdout.splitlines()[2:]
    rows = []
    for line in out:
        parts = line.split()
        # name type... encoding emb sub uni object ID: the flags are the 5th–3rd from the end
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4], "uni": parts[-3]})
    return rows


def is_date_line(text: str) -> bool:
    return re.search(r"ngày \d{2} tháng (0[12]|[3-9]|1[0-2]) năm \d{4}", text) is not None


__all__ = ["CASES", "FORMS_BY_SET", "datetime", "is_date_line", "needs_poppler", "pages_text",
           "pdf_text", "pdffonts", "sample_context", "squash"]
