"""The renderer's own parsing and UA stylesheet (printouts.xhtml) change nothing that is printed:
the XML parser builds the HTML5 parser's tree from every template, and every form renders to
the same text and pixels as with a plain ``weasyprint.HTML``."""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest
import tinyhtml5

from printouts import xhtml
from printouts.render import TEMPLATES_DIR

from .conftest import CASES, needs_poppler, pages_text, sample_context


def tree(element, depth: int = 0, out: list | None = None) -> list:
    out = [] if out is None else out
    out.append((depth, element.tag, sorted(element.attrib.items()), element.text, element.tail))
    for child in element:
        tree(child, depth + 1, out)
    return out


def contexts(form_set: str, form: str) -> list[dict]:
    """The sample, and for the receipt its one-layout variant and a reprint with a logo."""
    context = sample_context(form, form_set)
    if form != "receipt":
        return [context]
    reprint = {**context, "copy": {"mark": "BẢN SAO", "note": "In lại: 08 giờ 00, 06/02/2026"},
               "header": {**context["header"], "logo": "file:///tmp/logo.png"}}
    return [context, {**context, "one_layout": True}, reprint]


@pytest.mark.parametrize(("form_set", "form"), CASES)
def test_the_xml_parser_builds_the_html5_tree(renderer, form_set, form):
    for context in contexts(form_set, form):
        html = renderer.html(context)
        assert tree(fromstring(html)) == tree(tinyhtml5.parse(html,
                                                              namespace_html_elements=False))


def test_a_page_that_is_not_xml_still_renders():
    html = "<!DOCTYPE html><p>Một dòng<br>hai dòng"
    document = xhtml.parse(html, str(TEMPLATES_DIR) + "/")
    assert type(document).__name__ == "FormHTML"  # tinyhtml5, the smaller UA stylesheet
    assert len(document.render().pages) == 1


def test_the_smaller_ua_stylesheet_drops_only_unused_pseudo_elements():
    from weasyprint.html import UA

    assert xhtml.ua_stylesheet() is not None  # this WeasyPrint's UA text is the one expected
    assert "::footnote-call" in UA and "li::marker" not in UA


def rasterise(pdf: Path) -> list[bytes]:
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(pdf), str(pdf.with_suffix(""))],
                   check=True)
    return [p.read_bytes() for p in sorted(pdf.parent.glob(f"{pdf.stem}-*.png"))]


@needs_poppler
@pytest.mark.parametrize(("form_set", "form"), CASES)
def test_every_form_prints_as_with_plain_weasyprint(renderer, form_set, form, tmp_path):
    from weasyprint import HTML

    html = renderer.html(sample_context(form, form_set))
    base_url = str(TEMPLATES_DIR) + "/"
    ours, plain = tmp_path / "ours.pdf", tmp_path / "plain.pdf"
    for document, path in ((xhtml.parse(html, base_url), ours),
                           (HTML(string=html, base_url=base_url), plain)):
        document.render(stylesheets=[renderer.css], font_config=renderer.font_config).write_pdf(
            path)
    assert pages_text(ours) == pages_text(plain)
    assert rasterise(ours) == rasterise(plain)
