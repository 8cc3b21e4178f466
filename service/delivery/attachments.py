"""The issued forms an e-mail carries as PDF (the apology's Mẫu 04), rendered when it is sent.

Why at send time and not when the message is written: ``engine/`` prints nothing (WeasyPrint
lives in ``printouts/``), and the action that issued the form should not wait for a PDF. The
outbox message carries a reference, ``payload["attach"] = {"form": "apology",
"document_id": N}`` (``engine.timed.applicant.attachment``); the worker renders that very
document (the original, as issued, never a later copy) just before sending, with the same
renderer and print options as ``GET /api/v1/dossiers/{code}/documents/{form}.pdf``.

A form that cannot be rendered now (fonts missing, the database unreachable) fails the
attempt, which is retried like any other; a reference to a document that does not exist can
never be fixed by retrying, so that message is dead at once (the administrators' list says why).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from engine.forms import Form
from service.delivery.message import DeliveryError

log = logging.getLogger("motcua.delivery")
PDF = "application/pdf"


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file an e-mail carries."""

    filename: str
    media_type: str
    content: bytes = b""


class Printer:
    """One renderer for the life of the process (fonts and stylesheet load once; WeasyPrint
    is imported only when a message first needs a PDF)."""

    def __init__(self) -> None:
        self._renderer = None
        self._lock = threading.Lock()

    @property
    def renderer(self):
        with self._lock:
            if self._renderer is None:
                from printouts.pool import shared_renderer

                self._renderer = shared_renderer()
            return self._renderer

    def form_pdf(self, session: Session, code: str, form: Form | str,
                 document_id: int | None = None) -> bytes:
        """The PDF of ``form`` of dossier ``code``: the issued document ``document_id``, or
        the latest original of the form when None (the applicant's link)."""
        return form_pdf(session, code, form, document_id=document_id,
                        renderer=self.renderer)


_state_lock = threading.Lock()


def shared_renderer(state: Any):
    """The web app's renderer (``app.state.renderer``, the one the staff's document route
    creates too), created on first use."""
    with _state_lock:
        if getattr(state, "renderer", None) is None:
            from printouts.pool import shared_renderer

            state.renderer = shared_renderer()
        return state.renderer


def form_pdf(session: Session, code: str, form: Form | str, *, document_id: int | None,
             renderer) -> bytes:
    """Render one issued form as the dossier page prints it. Raises ``LookupError``
    (``printouts.context.MissingDocument``) when that document does not exist."""
    from printouts.context import MissingDocument, build, pick_document
    from printouts.load import load_bundle, options_for

    name = Form(form)
    bundle = load_bundle(session, code)
    document = None
    if document_id is not None:
        document = next((d for d in bundle.documents
                         if d.id == document_id and d.form == name.value), None)
        if document is None:
            raise MissingDocument(f"hồ sơ {code} không có văn bản số {document_id} "
                                  f"({name.label_vi})")
    document = pick_document(bundle, name, document)
    context = build(name, bundle, document, options_for(bundle.agencies))
    return renderer.pdf(context)


def reference(payload: Mapping[str, Any]) -> tuple[Form, int | None] | None:
    """The form an outgoing message asks to carry, or None."""
    ref = payload.get("attach")
    if not isinstance(ref, Mapping) or ref.get("form") not in Form._value2member_map_:
        return None
    number = ref.get("document_id")
    return Form(ref["form"]), number if isinstance(number, int) else None


def attachments_for(open_session: Callable[[], Session], printer: Printer, code: str | None,
                    payload: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """The files of one e-mail (none when its payload references none); a
    :class:`DeliveryError` when the form cannot be rendered (permanent if it does not
    exist)."""
    ref = reference(payload)
    if ref is None or not code:
        return ()
    form, number = ref
    try:
        with open_session() as session:
            content = printer.form_pdf(session, code, form, number)
    except LookupError as exc:
        raise DeliveryError(f"không có văn bản để đính kèm: {exc}", permanent=True) from exc
    except Exception as exc:  # fonts, database, renderer: try again later
        log.exception("rendering %s of %s for an e-mail failed", form, code)
        raise DeliveryError(f"không tạo được tệp PDF {form.label_vi}: {type(exc).__name__}: "
                            f"{exc}") from exc
    return (Attachment(f"{form.value}-{code}.pdf", PDF, content),)
