"""``GET /api/v1/public/dossiers/{code}/documents/{form}.pdf?secret=…``: the applicant's own
copy of a form issued to them (Mẫu 01–05), by the dossier code and its secret.

Why: the applicant's messages link here (the apology's webhook/SMS carries this link instead
of the PDF the e-mail attaches, ``engine.timed.applicant.document_url``), and an online
applicant has no counter to collect paper from. Only the forms *issued to the applicant* —
never the control sheet or the register, which are the office's. Guarded exactly like the
status lookup (``service/publicview.py``): rate limits per code and address, and a wrong
secret answers like an unknown code. The secret is kept out of the access log
(``redact_secret`` covers ``secret=``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from engine.forms import Form
from service.clientip import client_address
from service.deps import SessionDep
from service.problems import Problem
from service.publicview import guarded_lookup

router = APIRouter(prefix="/api/v1/public", tags=["public"])

#: The forms an applicant holds (issued to them with a number).
ApplicantForm = StrEnum("ApplicantForm", {f.name: f.value for f in Form if f.issued})


@router.get("/dossiers/{code}/documents/{form}.pdf",
            summary="Tải văn bản đã cấp cho người nộp hồ sơ (PDF, công dân)",
            response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def applicant_document(code: str, form: Annotated[ApplicantForm, Path(
                           description="Biểu mẫu đã cấp cho người nộp (Mẫu 01–05)")],
                       request: Request, session: SessionDep,
                       secret: Annotated[str, Query(min_length=1, max_length=64)]) -> Response:
    from printouts.context import MissingDocument
    from printouts.fonts import FontMissing
    from printouts.forms import FormNotInSet
    from service.delivery.attachments import form_pdf, shared_renderer

    dossier = guarded_lookup(session, request.app.state.limits, code, secret,
                             client_address(request))
    name = Form(form)
    try:
        pdf = form_pdf(session, dossier.code, name, document_id=None,
                       renderer=shared_renderer(request.app.state))
    except MissingDocument:
        raise Problem(404, "document-not-issued",
                      f"Hồ sơ chưa có {name.label_vi} được cấp.") from None
    except FormNotInSet as exc:
        raise Problem(404, "form-not-in-set", str(exc)) from None
    except FontMissing as exc:
        raise Problem(500, "font-missing", str(exc)) from None
    filename = f"{name}-{dossier.code}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Cache-Control": "no-store"})
