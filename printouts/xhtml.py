"""The renderer's ``weasyprint.HTML``: parsed by the C XML parser, with a smaller UA stylesheet.

Two per-document costs of WeasyPrint that a long-lived renderer can drop for its own templates
(measured on the warm receipt, about 130 ms of CPU after one layout and one painting):

* Parsing. ``HTML(string=…)`` runs tinyhtml5, an HTML5 parser written in Python: 7 ms for the
  receipt. The templates are written in XHTML syntax (void elements closed, tables with their
  ``tbody``, no white space before ``<head>`` or after ``</body>``, where the HTML5 parser
  would move it), so the standard library's expat builds the same element tree in 0.5 ms.
  A page it cannot parse goes through tinyhtml5 as before; tests compare both trees for every
  form.
* Styles. WeasyPrint's UA stylesheet styles ``::marker``, ``::footnote-call``,
  ``::footnote-marker``, ``::note-call``, ``::note-marker`` and ``::note-callback`` on *every*
  element, and the cascade builds a computed style for each of them: six for each element,
  more than half of the style step (8 ms). The forms have no footnotes or notes and their only
  list items are ``li``: the renderer's copy of the UA stylesheet drops the footnote and note
  rules and gives ``li`` the marker rule. Tests render every form both ways.

Both lean on WeasyPrint's insides (``HTML._ua_stylesheets``, ``weasyprint.html.UA``, the
``wrapper_element``/``etree_element`` attributes); if they change, :func:`parse` falls back to
the plain ``weasyprint.HTML``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

#: UA rules for pseudo-elements the forms never generate (footnotes, notes).
UNUSED_PSEUDO_RULES = re.compile(
    r"^::(?:footnote-call|footnote-marker|note-call|note-marker|note-callback) \{[^}]*\}\n",
    re.MULTILINE)
MARKER_RULE = re.compile(r"^::marker \{", re.MULTILINE)


@functools.cache
def ua_stylesheet():
    """WeasyPrint's UA stylesheet without the rules above (parsed once per process), or
    ``None`` when this WeasyPrint does not keep it where we look."""
    try:
        from weasyprint import CSS
        from weasyprint.html import UA, UA_COUNTER_STYLE
    except ImportError:  # pragma: no cover - another WeasyPrint
        return None
    text, dropped = UNUSED_PSEUDO_RULES.subn("", UA)
    text, markers = MARKER_RULE.subn("li::marker {", text)
    if (dropped, markers) != (5, 1):  # pragma: no cover - another WeasyPrint: leave it alone
        return None
    return CSS(string=text, counter_style=UA_COUNTER_STYLE)


@functools.cache
def html_classes() -> tuple[type, type] | None:
    """``(parsed by tinyhtml5, parsed by expat)`` subclasses of ``weasyprint.HTML`` using
    :func:`ua_stylesheet`, or ``None`` (use ``weasyprint.HTML`` itself)."""
    import cssselect2
    from weasyprint import HTML

    ua = ua_stylesheet()
    if ua is None or not hasattr(HTML, "_ua_stylesheets"):  # pragma: no cover
        return None

    class FormHTML(HTML):
        """``weasyprint.HTML`` with the smaller UA stylesheet."""

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            stock = super()._ua_stylesheets(forms)
            return [ua, *stock[1:]]  # the form-controls sheet, if any, as it is

    class ParsedFormHTML(FormHTML):
        """A :class:`FormHTML` of an element tree that is already parsed."""

        def __init__(self, root, base_url: str) -> None:
            super().__init__(string="", base_url=base_url)  # the attributes of this version
            self.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                root, content_language=None)
            self.etree_element = self.wrapper_element.etree_element

    return FormHTML, ParsedFormHTML


def parse(text: str, base_url: str):
    """A ``weasyprint.HTML`` for one rendered template."""
    from xml.etree.ElementTree import ParseError, fromstring

    classes = html_classes()
    if classes is None:  # pragma: no cover - another WeasyPrint
        from weasyprint import HTML

        return HTML(string=text, base_url=base_url)
    form_html, parsed_form_html = classes
    try:
        root = fromstring(text)
    except ParseError:
        return form_html(string=text, base_url=base_url)
    return parsed_form_html(root, base_url)
