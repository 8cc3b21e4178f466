"""The receipt's copies are painted once and share their pages' content streams
(printouts.copies); what is printed stays what laying out and painting every copy prints."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pdfplumber
import pytest

from printouts import copies
from printouts.context import build
from printouts.render import Renderer
from printouts.sample import sample_bundle, sample_options

from .conftest import needs_poppler, pages_text

pytestmark = needs_poppler


def rasterise(pdf: Path, dpi: int = 40) -> list[bytes]:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf),
                    str(pdf.with_suffix(""))], check=True)
    return [p.read_bytes() for p in sorted(pdf.parent.glob(f"{pdf.stem}-*.png"))]


def contents(path: Path) -> list[list[int]]:
    """Object numbers of each page's content streams."""
    with pdfplumber.open(path) as pdf:
        out = []
        for page in pdf.pages:
            refs = page.page_obj.attrs["Contents"]
            out.append([r.objid for r in (refs if isinstance(refs, list) else [refs])])
        return out


def link_pages(path: Path) -> list[int]:
    with pdfplumber.open(path) as pdf:
        return [n for n, page in enumerate(pdf.pages, start=1) for _ in page.hyperlinks]


def receipt(form_set: str = "2025") -> dict:
    return build("receipt", sample_bundle(set_2018=form_set == "2018"), None, sample_options())


def test_copies_share_the_body_streams_and_differ_by_their_label(tmp_path):
    path = tmp_path / "receipt.pdf"
    Renderer().pdf(receipt(), path)
    first, second = contents(path)  # one page per copy
    assert len(first) == len(second) == 4  # q, body, Q, the copy's parts
    assert first[:3] == second[:3] and first[3] != second[3]
    assert link_pages(path) == []  # the QR code carries no link (copies.py)


def test_a_reprint_with_its_mark_prints_what_laying_out_every_copy_prints(tmp_path):
    """The "BẢN SAO" box is absolutely positioned too: the label must still come last."""
    context = receipt()
    context["copy"] = {"mark": "BẢN SAO", "note": "In lại: 08 giờ 00, 06/02/2026"}
    fast, full = tmp_path / "fast.pdf", tmp_path / "full.pdf"
    Renderer().pdf(context, fast)
    Renderer(one_layout=False).pdf(context, full)
    assert pages_text(fast) == pages_text(full)
    assert all("BẢN SAO" in page for page in pages_text(fast)[::2])
    assert rasterise(fast) == rasterise(full)


def test_a_document_that_cannot_share_is_painted_copy_by_copy(tmp_path, monkeypatch):
    def refuse(document, count):
        raise copies.CannotShare("test")

    monkeypatch.setattr("printouts.render.split_copies", refuse)
    renderer = Renderer()
    path, full = tmp_path / "fallback.pdf", tmp_path / "full.pdf"
    renderer.pdf(receipt("2018"), path)
    Renderer(one_layout=False).pdf(receipt("2018"), full)
    assert renderer.share_pages  # one document's refusal is not a broken WeasyPrint
    assert pages_text(path) == pages_text(full)
    assert len(set(map(tuple, contents(path)))) == 2  # every page painted on its own


LABELLED = """<!DOCTYPE html><html><head><style>
@page { size: 100mm 60mm; margin: 10mm; }
.lien { position: relative; height: 1.2em; text-align: center; }
.lien-label { position: absolute; top: 0; left: 0; right: 0; text-align: center; }
.lien-hidden { visibility: hidden; }
</style></head><body>
<p>Trước nhãn</p>
<div class="lien"><span class="lien-label" data-copy="0">(Liên: Lưu)</span><span
 class="lien-label lien-hidden" data-copy="1">(Liên: Giao khách hàng)</span><span
 class="lien-label lien-hidden" data-copy="2">(Liên: Thứ ba)</span></div>
<p><a href="https://example.vn/tra-cuu">Tra cứu</a> sau nhãn</p>
</body></html>"""


def test_three_copies_of_a_one_page_document_keep_their_links(tmp_path):
    """The label's page is the only page and carries a link: every copy gets the link, each
    page shows its own label, fonts cover every label's letters."""
    from weasyprint import HTML

    document = HTML(string=LABELLED).render()
    shared = copies.split_copies(document, 3)
    assert (shared.bodies, shared.label_page, shared.copies) == (1, 0, 3)
    path = tmp_path / "three.pdf"
    document.copy(shared.pages).write_pdf(path, finisher=shared.finisher)
    texts = pages_text(path)
    assert len(texts) == 3
    for text, label in zip(texts, ["(Liên: Lưu)", "(Liên: Giao khách hàng)", "(Liên: Thứ ba)"],
                           strict=True):
        assert text == f"Trước nhãn Tra cứu sau nhãn {label}"
    assert link_pages(path) == [1, 2, 3]
    full = tmp_path / "full.pdf"
    hidden = LABELLED.replace(' class="lien-label" ', ' class="lien-label lien-hidden" ')
    pages = []
    for shown in range(3):  # the other way: one document per copy, its label shown
        one = hidden.replace(f'class="lien-label lien-hidden" data-copy="{shown}"',
                             f'class="lien-label" data-copy="{shown}"')
        pages += HTML(string=one).render().pages
    document.copy(pages).write_pdf(full)
    assert pages_text(full) == texts
    assert rasterise(path, 100) == rasterise(full, 100)


def test_labels_missing_or_for_other_copies_are_refused():
    from weasyprint import HTML

    with pytest.raises(copies.CannotShare):
        copies.split_copies(HTML(string="<p>Không có nhãn</p>").render(), 2)
    with pytest.raises(copies.CannotShare):
        copies.split_copies(HTML(string=LABELLED).render(), 2)  # three labels, two copies


def test_a_decorated_ancestor_is_refused():
    from weasyprint import HTML

    bordered = LABELLED.replace(".lien {", ".lien { border: 1pt solid black;")
    with pytest.raises(copies.CannotShare):
        copies.split_copies(HTML(string=bordered).render(), 3)
