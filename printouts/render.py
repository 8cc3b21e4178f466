"""HTML + one stylesheet → PDF with WeasyPrint, fast enough for the counter.

:class:`Renderer` is meant to live as long as the process (the counter's web worker, a batch
worker): it keeps the Jinja environment with compiled templates, the parsed stylesheet
(``weasyprint.CSS``, whose ``@font-face`` rules are loaded into the shared
``FontConfiguration`` once), a smaller copy of WeasyPrint's UA stylesheet and an image cache;
it parses its templates' XHTML with the C XML parser (:mod:`printouts.xhtml`), and lays out and
paints a receipt's copies once (:mod:`printouts.copies`). :func:`render_naive` does everything
again for each document, the plain WeasyPrint way; it is the benchmark's baseline and a
reference for the output.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import jinja2

from engine.text import nfc
from printouts.copies import CannotShare, split_copies
from printouts.fonts import FontSet, find_fonts
from printouts.xhtml import html_classes, parse

PACKAGE_DIR = Path(__file__).parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STYLESHEET = PACKAGE_DIR / "static" / "forms.css"
#: WeasyPrint's image cache (by URL) is kept across documents so that an agency's logo is
#: decoded once; every receipt adds its own QR code (a data: URI) to it, so past this many
#: entries the renderer starts a new one (documents already laid out keep the old one).
IMAGE_CACHE_LIMIT = 64
#: One layout at a time per process. WeasyPrint's fonts go through fontconfig and Pango, which
#: are not safe to use from several threads at once: two PDFs rendered together in the web
#: server's thread pool crashed the whole process (``fcmatch.c: FcFontSetMatch: Assertion
#: `p != NULL' failed``, seen with three concurrent clients). Rendering is CPU-bound Python
#: under the GIL anyway, so serialising it costs little; re-entrant for pdf() → document().
RENDER_LOCK = threading.RLock()


def make_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,  # a field missing from a context is a bug, not a blank
        trim_blocks=True, lstrip_blocks=True,
    )


def stylesheet_text(fonts: FontSet) -> str:
    return fonts.font_face_css() + STYLESHEET.read_text(encoding="utf-8")


def render_html(env: jinja2.Environment, context: dict[str, Any]) -> str:
    html = env.get_template(f"{context['form']['key']}.html").render(**context)
    return nfc(html)


class Renderer:
    """Long-lived renderer: ``Renderer().pdf(context)`` → PDF bytes."""

    def __init__(self, fonts: FontSet | None = None, *, one_layout: bool = True) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.fonts = fonts or find_fonts()  # FontMissing before anything else
        self.env = make_environment()
        for name in TEMPLATES_DIR.glob("*.html"):
            self.env.get_template(name.name)  # compile once
        with RENDER_LOCK:  # fontconfig again (the class docstring of RENDER_LOCK)
            self.font_config = FontConfiguration()
            self.css = CSS(string=stylesheet_text(self.fonts), font_config=self.font_config,
                           base_url=str(STYLESHEET.parent) + "/")
            html_classes()  # the smaller UA stylesheet now rather than with the first form
        self._cache: dict[str, Any] = {}
        self.one_layout = one_layout
        self.share_pages = one_layout  # paint the copies' pages once (printouts.copies)

    def html(self, context: dict[str, Any]) -> str:
        return render_html(self.env, context)

    def document(self, context: dict[str, Any]):
        """The laid-out WeasyPrint document (its pages, for tests and merging)."""
        with RENDER_LOCK:
            return self._document(context)

    def _document(self, context: dict[str, Any]):
        if self.one_layout and len(context.get("copies") or ()) > 1:
            try:
                return self._copies_from_one_layout(context)
            except (AttributeError, KeyError, TypeError):  # pragma: no cover - WeasyPrint API
                self.one_layout = False  # changed: lay out every copy from now on
        return self._layout(context)

    def pdf(self, context: dict[str, Any], target: str | Path | None = None) -> bytes | None:
        with RENDER_LOCK:
            return self._pdf(context, target)

    def _pdf(self, context: dict[str, Any], target: str | Path | None) -> bytes | None:
        if self.share_pages and self.one_layout and len(context.get("copies") or ()) > 1:
            try:
                return self._pdf_sharing_pages(context, target)
            except CannotShare:
                pass  # this document: paint every copy
            except (AttributeError, KeyError, TypeError, IndexError):  # pragma: no cover
                self.share_pages = False  # WeasyPrint or pydyf changed: paint every copy now
        return self._document(context).write_pdf(target)

    def _layout(self, context: dict[str, Any]):
        if len(self._cache) > IMAGE_CACHE_LIMIT:
            self._cache = {}
        return parse(self.html(context), str(TEMPLATES_DIR) + "/").render(
            stylesheets=[self.css], font_config=self.font_config, cache=self._cache)

    def _copies_from_one_layout(self, context: dict[str, Any]):
        """The receipt's copies differ only by their "(Liên: …)" label: lay out the first copy
        with every label stacked in one place (the others hidden) and build the other copies'
        pages from that layout by showing their own label. Half the layout work, the same
        pages as laying out every copy (tests compare both)."""
        from weasyprint.document import Page

        document = self._layout({**context, "one_layout": True})
        first = document.pages
        pages = list(first)
        for index in range(1, len(context["copies"])):
            pages += [Page(_show_copy(page._page_box.deepcopy(), str(index)))
                      for page in first]
        return document.copy(pages)

    def _pdf_sharing_pages(self, context: dict[str, Any], target: str | Path | None):
        """One layout and one painting for all the copies: the copies' pages share the body
        streams and add their own label (:mod:`printouts.copies`). Painting every copy was a
        third of a warm receipt."""
        document = self._layout({**context, "one_layout": True})
        shared = split_copies(document, len(context["copies"]))
        return document.copy(shared.pages).write_pdf(target, finisher=shared.finisher)


def _show_copy(box, index: str):
    """Show the label of copy ``index`` (``data-copy``) in a copied page box tree, hide the
    others. Styles are shared between copies, so the changed ones are copied first."""
    element = getattr(box, "element", None)
    if element is not None and element.get("data-copy") is not None \
            and "lien-label" in (element.get("class") or ""):
        box.style = box.style.copy()
        box.style["visibility"] = "visible" if element.get("data-copy") == index else "hidden"
    for child in getattr(box, "children", ()) or ():
        _show_copy(child, index)
    return box


def render_naive(context: dict[str, Any], target: str | Path | None = None) -> bytes | None:
    """One document the obvious way: new template environment, stylesheet, fonts, renderer."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    with RENDER_LOCK:
        fonts = find_fonts()
        html = render_html(make_environment(), context)
        font_config = FontConfiguration()
        css = CSS(string=stylesheet_text(fonts), font_config=font_config)
        return HTML(string=html, base_url=str(TEMPLATES_DIR) + "/").write_pdf(
            target, stylesheets=[css], font_config=font_config)
