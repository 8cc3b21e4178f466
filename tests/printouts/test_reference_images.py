"""Each form, rendered to PNG, matches its reviewed reference image within a tolerance.

References live in tests/printouts/reference/ (pdftoppm -r 50, one PNG per page). A missing
reference fails the test unless UPDATE_REFERENCES=1, which writes it: look at every new image
before committing it. Set UPDATE_REFERENCES=all to rewrite existing ones after a reviewed
layout change.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from .conftest import CASES, needs_poppler

pytestmark = needs_poppler

REFERENCE_DIR = Path(__file__).parent / "reference"
DPI = 50
#: A pixel differs when its grey level moves by more than this (anti-aliasing noise is less).
PIXEL_THRESHOLD = 64
#: At most this share of a page's pixels may differ (about one short word at 50 dpi).
MAX_DIFFERING = 0.002


def rasterise(pdf: Path, out_dir: Path) -> list[Path]:
    stem = out_dir / pdf.stem
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(pdf), str(stem)],
                   check=True)
    return sorted(out_dir.glob(f"{pdf.stem}-*.png"))


def differing_share(a: Image.Image, b: Image.Image) -> float:
    if a.size != b.size:
        return 1.0
    diff = ImageChops.difference(a.convert("L"), b.convert("L"))
    histogram = diff.histogram()
    changed = sum(histogram[PIXEL_THRESHOLD + 1:])
    return changed / (a.size[0] * a.size[1])


def compare_with_reference(pdf: Path, name: str, tmp_path: Path) -> None:
    mode = os.environ.get("UPDATE_REFERENCES", "")
    pages = rasterise(pdf, tmp_path)
    expected = sorted(REFERENCE_DIR.glob(f"{name}-p*.png"))
    if mode == "all" or (mode == "1" and not expected):
        for old in expected:
            old.unlink()
        REFERENCE_DIR.mkdir(exist_ok=True)
        for number, page in enumerate(pages, start=1):
            Image.open(page).save(REFERENCE_DIR / f"{name}-p{number}.png", optimize=True)
        pytest.skip(f"wrote {len(pages)} reference image(s) for {name}: review them")
    assert expected, (f"no reference image for {name}: run with UPDATE_REFERENCES=1, then "
                      "look at the new PNGs before committing them")
    assert len(pages) == len(expected), f"{name}: {len(pages)} pages, reference has " \
                                        f"{len(expected)}"
    for page, reference in zip(pages, expected, strict=True):
        share = differing_share(Image.open(page), Image.open(reference))
        assert share <= MAX_DIFFERING, f"{reference.name}: {share:.2%} of the pixels differ"


@pytest.mark.parametrize(("form_set", "form"), CASES)
def test_form_matches_reference_image(sample_pdf, form_set, form, tmp_path):
    compare_with_reference(sample_pdf(form, form_set), f"{form}-{form_set}", tmp_path)


def test_reference_helper_detects_a_changed_page(tmp_path):
    white = Image.new("L", (300, 400), 255)
    changed = white.copy()
    changed.paste(0, (10, 10, 60, 30))  # a dark box: 1,000 pixels = 0.8 %
    assert differing_share(white, white) == 0
    assert differing_share(white, changed) > MAX_DIFFERING
    assert differing_share(white, Image.new("L", (300, 401), 255)) == 1.0
