"""``GET /api/v1/dossiers/{code}/documents/{form}.pdf``: a dossier's legal forms as PDF.

One long-lived renderer per process (fonts and stylesheet loaded once: the counter's case);
``?copy=true`` records a reprint and prints it marked "BẢN SAO".
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from engine.forms import Form
from engine.lifecycle.visibility import visible_dossier
from printouts.forms import DossierForm, FormNotInSet
from service.deps import CurrentUser, SessionDep, actor_of
from service.problems import Problem
from service.reads import journal_read

router = APIRouter(prefix="/api/v1/dossiers", tags=["documents"])
_lock = threading.Lock()


def renderer(request: Request):
    """The app's renderer, created on first use (WeasyPrint loads only when printing): the
    process's child renderers (``printouts.pool``, ``MOTCUA_PDF_PROCESSES``), so that laying
    out a PDF never holds this worker's interpreter lock."""
    with _lock:
        if getattr(request.app.state, "renderer", None) is None:
            from printouts.pool import shared_renderer

            request.app.state.renderer = shared_renderer()
        return request.app.state.renderer


@router.get("/{code}/documents/{form}.pdf", summary="In biểu mẫu của hồ sơ (PDF)",
            response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def document_pdf(code: str, form: Annotated[DossierForm, Path(
                     description="Tên biểu mẫu, như `IssuedDocument.form` (engine.forms.Form)")],
                 request: Request, session: SessionDep, user: CurrentUser,
                 copy: Annotated[bool, Query(description="In lại: ghi nhận và đóng dấu BẢN SAO")]
                 = False) -> Response:
    from engine.lifecycle import record_reprint
    from printouts.context import MissingDocument, build, pick_document
    from printouts.fonts import FontMissing
    from printouts.load import load_bundle, options_for

    visible_dossier(session, user, code)
    name = Form(form)
    try:
        bundle = load_bundle(session, code)
        document = pick_document(bundle, name, None) if name.issued else None
        if copy and document is not None:
            document = record_reprint(session, document=document, actor=actor_of(user))
            session.commit()
        context = build(name, bundle, document, options_for(bundle.agencies))
        pdf = renderer(request).pdf(context)
    except MissingDocument as exc:
        raise Problem(404, "document-not-issued", str(exc)) from None
    except FormNotInSet as exc:
        raise Problem(404, "form-not-in-set", str(exc)) from None
    except FontMissing as exc:
        raise Problem(500, "font-missing", str(exc)) from None
    journal_read(request, session, user, code, "document", document=name)
    filename = f"{name}-{code}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
