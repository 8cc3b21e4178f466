"""The receipt's copies as one set of painted pages: each copy differs only by its parts (the
"(Liên: …)" label; the lookup secret and the QR code, printed on the applicant's copy only).

Laying the receipt out once (:meth:`printouts.render.Renderer.document`) halves the layout
work, but WeasyPrint still paints every page of every copy, and painting (text is one Python
loop per glyph, after Pango shapes the line again) was 55 of the warm receipt's 190 ms of CPU,
plus 8 ms to copy and relabel the second copy's boxes. Here the pages of the one layout are
painted once, *without* the "(Liên: …)" labels, and each label alone on an otherwise empty
page; the PDF is then rewired (``write_pdf(finisher=…)``, pydyf objects) so that every copy's
page shows the shared body stream followed by its own label stream (``/Contents`` arrays,
PDF 32000-1 §7.8.2). Same drawing operations as laying out every copy: the parts are
absolutely positioned in boxes of their own that nothing else overlaps, so painting them after
the body (rather than among the other positioned boxes) gives the same pixels; the file is
also smaller, the copies' bodies being stored once. A part carries no link: a hidden link still
gets its annotation in WeasyPrint, which would print one copy's address on the others.

Anything unexpected (labels missing, parts on more than one page, decorated ancestors that the
label page would paint twice, a page tree other than the one painted) raises
:class:`CannotShare` before anything is written: the caller then paints every copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The class and attribute of the per-copy parts in templates/receipt.html (one_layout mode).
LABEL_CLASS = "lien-label"
LABEL_ATTRIBUTE = "data-copy"


class CannotShare(Exception):
    """This document's copies cannot share painted pages (paint every copy instead)."""


@dataclass(frozen=True)
class SharedCopies:
    """The pages to paint (bodies, then one label page per copy) and how to rewire them."""

    pages: list[Any]  # weasyprint.document.Page
    bodies: int
    label_page: int  # index of the body page that carries the labels

    @property
    def copies(self) -> int:
        return len(self.pages) - self.bodies

    def finisher(self, document, pdf) -> None:
        """``write_pdf`` finisher: copies of the body pages with each copy's label."""
        rewire(pdf, self.bodies, self.copies, self.label_page)


def split_copies(document, copies: int) -> SharedCopies:
    """Body pages of ``document`` (one copy laid out, every copy's parts stacked in their
    places) with every part hidden, and one page per copy holding only that copy's parts."""
    from weasyprint.document import Page

    for index, page in enumerate(document.pages):
        parts = label_paths(page._page_box)
        if not parts:
            continue
        if set(parts) != {str(i) for i in range(copies)}:
            raise CannotShare(f"labels {sorted(parts)} for {copies} copies on one page")
        if any(label_paths(other._page_box) for other in document.pages[index + 1:]):
            raise CannotShare("the copies' parts are on more than one page")
        labels = [Page(label_page(parts[str(i)])) for i in range(copies)]
        for paths in parts.values():
            for path in paths:
                set_visibility(path[-1], "hidden")
        return SharedCopies(list(document.pages) + labels, len(document.pages), index)
    raise CannotShare("no copy label in the document")


def label_paths(page_box) -> dict[str, list[list[Any]]]:
    """``data-copy`` → for each of that copy's parts (the label, and on the receipt the lookup
    secret and the QR code), the boxes from the page box down to the part's box."""
    found: dict[str, list[list[Any]]] = {}

    def walk(box, path: list[Any]) -> None:
        element = getattr(box, "element", None)
        if element is not None and element.get(LABEL_ATTRIBUTE) is not None \
                and LABEL_CLASS in (element.get("class") or "").split():
            found.setdefault(element.get(LABEL_ATTRIBUTE), []).append([*path, box])
            return
        for child in getattr(box, "children", ()) or ():
            walk(child, [*path, box])

    walk(page_box, [])
    return found


def set_visibility(box, visibility: str) -> None:
    """Show or hide a label box and its line and text boxes. Styles are shared between boxes
    (and with the other copies), so each changed one is copied first."""
    if box.style["visibility"] != visibility:
        box.style = box.style.copy()
        box.style["visibility"] = visibility
    for child in getattr(box, "children", ()) or ():
        set_visibility(child, visibility)


def label_page(paths: list[list[Any]]):
    """A page box holding only the parts at the end of ``paths``, visible, where the layout
    put them: the ancestors are shallow copies with only the children that lead to a part. The
    body page already painted their backgrounds (the page's is transparent, but it is a layer
    all the same), so the copies have none; a border, outline or effect would be painted
    twice: refused."""
    parts = {id(path[-1]): path[-1] for path in paths}
    ancestors = {id(box) for path in paths for box in path[:-1]}

    def keep(box):
        if id(box) in parts:
            part = box.deepcopy()
            set_visibility(part, "visible")
            return part
        refuse_decorated(box)
        copy = box.copy()
        copy.children = [keep(child) for child in box.children
                         if id(child) in parts or id(child) in ancestors]
        copy.background = None
        if hasattr(copy, "canvas_background"):
            copy.canvas_background = None
        return copy

    return keep(paths[0][0])


def refuse_decorated(box) -> None:
    style = box.style
    if any(getattr(box, f"border_{side}_width", 0) for side in ("top", "right", "bottom", "left")):
        raise CannotShare(f"{box!r} has a border")
    if style["outline_style"] != "none" or style["opacity"] < 1 or style["transform"]:
        raise CannotShare(f"{box!r} has an outline, transparency or a transform")
    if box.element is None and style["marks"]:  # the page box: crop marks
        raise CannotShare("the page has crop marks")


def rewire(pdf, bodies: int, copies: int, label_page: int) -> None:
    """Turn the painted pages ``[body…, label of copy 0, label of copy 1, …]`` into
    ``copies`` × the body pages, the page ``label_page`` of copy ``c`` drawing the shared body
    stream (between ``q``/``Q``: each WeasyPrint stream starts by flipping the y axis) and then
    the stream of label ``c``. Link annotations are copied for each copy's pages."""
    import pydyf

    kids = list(pdf.pages["Kids"])
    numbers = kids[::3]
    if len(numbers) != bodies + copies or kids[1::3] != [0] * len(numbers) \
            or pdf.pages["Count"] != len(numbers):
        raise CannotShare(f"unexpected page tree: {kids}")
    pages = [pdf.objects[number] for number in numbers]
    body_pages, label_pages = pages[:bodies], pages[bodies:]
    save, restore = pydyf.Stream([b"q"]), pydyf.Stream([b"Q"])
    pdf.add_object(save)
    pdf.add_object(restore)
    body_contents = body_pages[label_page]["Contents"]
    new_kids = []
    for copy in range(copies):
        for index, body in enumerate(body_pages):
            page = body if copy == 0 else copy_page(pdf, body)
            if index == label_page:
                page["Contents"] = pydyf.Array([
                    save.reference, body_contents, restore.reference,
                    label_pages[copy]["Contents"]])
            new_kids += [page.number, 0, "R"]
    for page in label_pages:
        page.clear()  # painted only for its stream: no longer a page of the document
    pdf.pages["Kids"] = pydyf.Array(new_kids)
    pdf.pages["Count"] = bodies * copies


def copy_page(pdf, page):
    """Another page object with the same content streams and resources, and its own copies
    of the link annotations (an annotation belongs to one page)."""
    import pydyf

    new = pydyf.Dictionary(page)
    if "Annots" in page:
        annotations = pydyf.Array()
        for reference in page["Annots"]:
            annotation = pydyf.Dictionary(pdf.objects[int(reference.split()[0])])
            pdf.add_object(annotation)
            annotations.append(annotation.reference)
        new["Annots"] = annotations
    pdf.add_object(new)
    return new
