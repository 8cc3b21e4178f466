"""What the applicant's messages carry beyond their text: the missing items of Form 02 as
lines, the lookup and document links (``MOTCUA_PUBLIC_BASE_URL``, with the dossier's secret:
the messages go only to the applicant's own e-mail and phone, as the receipt's QR code carries
the secret), how the result was handed over, and the issued form an e-mail carries as a PDF.

``engine/`` prints nothing: an e-mail carries a *reference* to the form (``attach: {form,
document_id}``) and the delivery worker (``service/delivery/attachments.py``) renders it when
it sends; a webhook gets the applicant's link to the same document instead of the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from engine.forms import Form
from engine.lifecycle.models import Dossier, IssuedDocument
from engine.lifecycle.states import ReturnMethod
from engine.timed.findings import EventKind
from engine.timezone import to_local

__all__ = ["ATTACHED_FORM", "attachment", "document_url", "handover_text", "listing",
           "lookup_url"]


def listing(value: Any) -> str:
    """The missing items as Form 02 lists them, one numbered line each with what is asked
    (originals, copies) and the guidance note, so the applicant completes the dossier once
    (ND 61 Art 15(3), Art 19(4): once, in full); anything else as text."""
    if not isinstance(value, list | tuple):
        return str(value or "")
    lines = []
    for index, item in enumerate(value, start=1):
        item = item if isinstance(item, Mapping) else {"name": str(item)}
        asked = [f"{label}: {item[key]}" for key, label in
                 (("originals", "bản chính"), ("copies", "bản sao")) if item.get(key)]
        note = item.get("note") or item.get("reason") or ""
        line = f"{index}. {item.get('name') or ''}"
        line += f" ({'; '.join(asked)})" if asked else ""
        lines.append(line + (f" — {note}" if note else ""))
    return "\n".join(lines)


def lookup_url(base_url: str, code: str, secret: str) -> str:
    """The lookup page opened at the dossier (the receipt's QR link: ``printouts.qr``)."""
    return f"{base_url.rstrip('/')}/tra-cuu?{urlencode({'ma': code, 'k': secret})}"


def document_url(base_url: str, code: str, form: str, secret: str) -> str:
    """The applicant's own copy of an issued form, by code and secret
    (``service/api/public_documents.py``): what a webhook carries instead of the PDF."""
    return (f"{base_url.rstrip('/')}/api/v1/public/dossiers/{quote(code, safe='')}/documents/"
            f"{form}.pdf?{urlencode({'secret': secret})}")


def handover_text(dossier: Dossier) -> str:
    """How and when the result was handed over, as the returned notice says it."""
    at = (f"{to_local(dossier.returned_at):%H:%M} ngày {to_local(dossier.returned_at):%d/%m/%Y}"
          if dossier.returned_at else "chưa ghi")
    if dossier.return_method == ReturnMethod.POST.value:
        number = dossier.postal_tracking_number or "chưa ghi"
        return (f"qua dịch vụ bưu chính công ích (giao bưu điện lúc {at}, số hiệu bưu gửi "
                f"{number})")
    if dossier.return_method == ReturnMethod.ONLINE.value:
        return f"trực tuyến lúc {at}"
    return f"tại Bộ phận Một cửa lúc {at}"


#: The issued form an event's e-mail carries as a PDF (rendered by the delivery worker at send
#: time from the reference in the payload: ``engine/`` prints nothing) and its webhook links.
ATTACHED_FORM: dict[EventKind, Form] = {EventKind.APOLOGY_SENT: Form.APOLOGY}


def attachment(kind: EventKind, dossier: Dossier, documents: Iterable[IssuedDocument],
               base_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The e-mail's and the webhook's payload additions for an event that issued a form the
    applicant should hold: ``attach: {form, document_id}`` (the worker renders that document)
    and ``document_url`` (the applicant's link, code and secret)."""
    form = ATTACHED_FORM.get(kind)
    issued = [d for d in documents if form is not None and d.form == form.value and d.id]
    if not issued:
        return {}, {}
    ref = {"form": form.value, "document_id": issued[-1].id}
    url = document_url(base_url, dossier.code, form.value, dossier.secret)
    return {"attach": ref, "document_url": url}, {"document_url": url}
