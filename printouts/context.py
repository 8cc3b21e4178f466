"""Pure builders: engine rows → one plain, fully formatted dict per form (domain §4).

Nothing here touches the database, the file system or WeasyPrint: a :class:`Bundle` holds the
rows (dossier, agencies, procedure version, hand-offs, issued documents) and
:class:`PrintOptions` the per-agency overrides and the public base URL. Every string in the
result is NFC, dates follow ND 30/2020 (:mod:`printouts.legal`), and templates only lay it out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from engine.agencies import Agency
from engine.clock import Classification
from engine.deadline import TimeLimit, TimeUnit
from engine.forms import Form, form_set_for
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.lifecycle.states import Action, ReturnMethod, State
from engine.procedures import ProcedureSpec
from engine.text import nfc
from engine.timezone import to_local
from printouts.forms import FormSpec, form_spec
from printouts.legal import (
    BLANK,
    date_vi,
    instant_short_vi,
    instant_vi,
    place_date,
    short_date,
    short_instant,
    two_digits,
    upper_vi,
)
from printouts.overrides import EMPTY, AgencyOverride, Signer
from printouts.qr import DEFAULT_BASE_URL, qr_png_data_uri, status_url


class MissingDocument(LookupError):
    """The dossier has no issued document of the requested form."""


@dataclass(frozen=True)
class Bundle:
    """The engine rows one dossier's forms are printed from."""

    dossier: Dossier
    agencies: Mapping[str, Agency]
    spec: ProcedureSpec | None = None
    steps: Sequence[DossierStep] = ()
    documents: Sequence[IssuedDocument] = ()
    #: events recorded with an earlier instant than the server's (``engine.lifecycle.backdating``)
    backdated: Sequence[DossierEvent] = ()
    #: username → full name of the staff the rows name (``engine.users.full_names``)
    people: Mapping[str, str] = field(default_factory=dict)

    def person(self, options: PrintOptions, user_id: str | None) -> str:
        """The name a sheet prints for a member of staff: the agency's override file if it
        names them, else their full name, else the username (a user since removed)."""
        if not user_id:
            return ""
        return options.staff_name(user_id) or self.people.get(user_id) or user_id


@dataclass(frozen=True)
class PrintOptions:
    base_url: str = DEFAULT_BASE_URL
    overrides: Mapping[str, AgencyOverride] = field(default_factory=dict)
    form_set: str | None = None  # force a set (register periods, tests); normally by receipt

    def override(self, code: str | None) -> AgencyOverride:
        return self.overrides.get(code or "", EMPTY)

    def staff_name(self, user_id: str | None) -> str:
        for override in self.overrides.values():
            if name := override.staff_name(user_id):
                return name
        return ""


APPLICANT_SIGNER = Signer(title="NGƯỜI NỘP HỒ SƠ", note="(Ký và ghi rõ họ tên)")
CLERK_SIGNER = Signer(title="NGƯỜI TIẾP NHẬN HỒ SƠ", note="(Ký và ghi rõ họ tên)")
GUIDE_SIGNER = Signer(title="NGƯỜI HƯỚNG DẪN", note="(Ký và ghi rõ họ tên)")
E_SIGNATURE_NOTE = "(Chữ ký số của {who} nếu là biểu mẫu điện tử)"


# ----- small helpers ------------------------------------------------------------------------

def _label(enum: type[StrEnum], value: str | None, default: str = "") -> str:
    """``value``'s Vietnamese label from its enum; a stored value the enum does not know (an
    older row) prints as it is rather than failing the whole form."""
    if not value:
        return default
    try:
        return enum(value).label_vi
    except ValueError:
        return value


def _outcome_vi(action: str | None) -> str:
    """The control sheet's name for the action that closed a step (:attr:`Action.outcome_vi`)."""
    try:
        return Action(action).outcome_vi
    except ValueError:
        return action or ""


def _agency(bundle_agencies: Mapping[str, Agency], code: str | None) -> Agency | None:
    return bundle_agencies.get(code or "")


def agency_name(agencies: Mapping[str, Agency], code: str | None, *, short: bool = False) -> str:
    """An agency's full (or short) name; a step unit that is not a code is a linked agency's
    name."""
    agency = _agency(agencies, code)
    if agency is None:
        return code or BLANK
    return (agency.short_name or agency.name) if short else agency.name


def head_signer(agency: Agency | None) -> Signer:
    """Default head-of-agency block when no override names one [I]: a People's Committee
    signs "TM. ỦY BAN NHÂN DÂN / CHỦ TỊCH"; a department or centre "GIÁM ĐỐC"."""
    name = (agency.name if agency else "").strip()
    if name.startswith("Ủy ban nhân dân"):
        return Signer(title="ỦY BAN NHÂN DÂN", prefix="TM.", position="CHỦ TỊCH")
    if name.startswith(("Sở ", "Trung tâm")):
        return Signer(title="GIÁM ĐỐC")
    return Signer(title="THỦ TRƯỞNG CƠ QUAN")


def _signer_dict(signer: Signer) -> dict[str, str]:
    return {"heading": signer.heading, "position": signer.position, "name": signer.name,
            "note": signer.note, "e_note": ""}


_ABBREVIATIONS = ((re.compile(r"^(Ủy|Uỷ) ban nhân dân\b", re.IGNORECASE), "UBND"),
                  (re.compile(r"^Hội đồng nhân dân\b", re.IGNORECASE), "HĐND"))


def abbreviate_parent(name: str) -> str:
    """ND 30/2020 lets the parent agency's name shorten common phrases ("Ủy ban nhân dân" →
    "UBND"); on A5 the full name would not fit beside the Quốc hiệu."""
    for pattern, short in _ABBREVIATIONS:
        name = pattern.sub(short, name)
    return name


def drop_parent_locality(unit: str, parent: str) -> str:
    """"Sở Xây dựng thành phố Hải Phòng" under "UBND thành phố Hải Phòng" prints as "Sở Xây
    dựng": the parent line already names the place (the usual ND 30 header)."""
    locality = re.sub(r"^((Ủy|Uỷ) ban nhân dân|Hội đồng nhân dân)\s+", "", parent,
                      flags=re.IGNORECASE).strip()
    if locality and locality != parent and unit.lower().endswith(" " + locality.lower()):
        return unit[: -len(locality)].rstrip(" ,-")
    return unit


def header(agencies: Mapping[str, Agency], code: str | None, options: PrintOptions, *,
           number: str | None, day: date | datetime | None,
           abbreviate: bool = True) -> dict[str, Any]:
    """The ND 30 two-column header: cơ quan chủ quản / issuing unit | Quốc hiệu, Tiêu ngữ."""
    agency = _agency(agencies, code)
    override = options.override(code)
    parent = _agency(agencies, agency.parent_code) if agency else None
    parent_name = override.parent_name or (
        (abbreviate_parent(parent.name) if abbreviate else parent.name) if parent else "")
    unit_name = override.unit_name or (agency.name if agency else (code or BLANK))
    if abbreviate and parent and not override.unit_name:
        unit_name = drop_parent_locality(unit_name, parent.name)
    place = override.place_name or (agency.place_name if agency else None)
    return {
        "parent": upper_vi(parent_name),
        "unit": upper_vi(unit_name),
        "number": f"Số: {number}" if number else None,
        "place_date": place_date(place, day),
        "logo": override.logo.as_uri() if override.logo else None,
    }


def _form(spec: FormSpec) -> dict[str, Any]:
    return {"key": spec.key, "set": spec.form_set, "number": spec.number, "label": spec.label,
            "title": spec.title, "title_lines": spec.title_lines, "circular": spec.circular,
            "page": "register" if spec.landscape else "form"}


def _copy(document: IssuedDocument | None) -> dict[str, str] | None:
    if document is None or document.copy_of is None:
        return None
    return {"mark": "BẢN SAO", "note": f"In lại: {short_instant(document.issued_at)}"}


def _applicant(dossier: Dossier) -> dict[str, str]:
    return {"name": dossier.applicant_name or BLANK,
            "id_number": dossier.applicant_id_number or BLANK,
            "address": dossier.applicant_address or BLANK,
            "phone": dossier.applicant_phone or BLANK,
            "email": dossier.applicant_email or BLANK}


def _count(value: Any) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return ""
    return two_digits(number) if number else ""


def _components(dossier: Dossier, spec: ProcedureSpec | None) -> list[dict[str, str]]:
    """What was handed in, with original/copy counts (the spec gives counts left out)."""
    expected = {c.name: c for c in (spec.components if spec else ())}
    rows = []
    for index, item in enumerate(dossier.components or [], start=1):
        item = item if isinstance(item, Mapping) else {"name": str(item)}
        known = expected.get(item.get("name", ""))
        rows.append({
            "index": str(index),
            "name": item.get("name") or BLANK,
            "originals": _count(item.get("originals", known.originals if known else 0)),
            "copies": _count(item.get("copies", known.copies if known else 0)),
        })
    return rows


def _missing_items(items: Sequence[Any]) -> list[dict[str, str]]:
    rows = []
    for index, item in enumerate(items or [], start=1):
        item = item if isinstance(item, Mapping) else {"name": str(item)}
        rows.append({"index": str(index), "name": item.get("name") or BLANK,
                     "originals": _count(item.get("originals")),
                     "copies": _count(item.get("copies")),
                     "note": item.get("note") or item.get("reason") or ""})
    return rows


def time_limit_vi(dossier: Dossier) -> str:
    return TimeLimit(dossier.limit_amount, TimeUnit(dossier.limit_unit)).label_vi


def return_place_vi(dossier: Dossier, agencies: Mapping[str, Agency]) -> str:
    """The receipt's "Nơi trả kết quả": the method's label with where exactly."""
    method = dossier.return_method or ReturnMethod.COUNTER
    if method == ReturnMethod.COUNTER:
        return f"{ReturnMethod.COUNTER.label_vi} tại " \
               f"{agency_name(agencies, dossier.returning_agency)}"
    if method == ReturnMethod.POST:
        address = dossier.recipient_address or dossier.applicant_address
        return f"{ReturnMethod.POST.label_vi}, địa chỉ: {address or BLANK}"
    if method == ReturnMethod.ONLINE:
        return f"{ReturnMethod.ONLINE.label_vi}, trên Cổng Dịch vụ công quốc gia"
    return method


def pick_document(bundle: Bundle, form: Form | str,
                  document: IssuedDocument | None) -> IssuedDocument:
    """``document``, or else the dossier's latest original of ``form`` (a copy when no
    original is left)."""
    if document is not None:
        return document
    form = Form(form)
    candidates = [d for d in bundle.documents if d.form == form]
    originals = [d for d in candidates if d.copy_of is None]
    chosen = (originals or candidates)[-1:] if candidates else []
    if not chosen:
        raise MissingDocument(f"hồ sơ {bundle.dossier.code} chưa có văn bản '{form}' "
                              f"({form.label_vi}) được cấp")
    return chosen[0]


def _receipt_day(dossier: Dossier) -> date:
    instant = dossier.received_at or dossier.submitted_at or dossier.created_at
    return to_local(instant).date()


def _spec_for(form: Form, bundle: Bundle, document: IssuedDocument | None,
              options: PrintOptions) -> FormSpec:
    form_set = options.form_set or (document.form_set if document else None) \
        or form_set_for(_receipt_day(bundle.dossier))
    return form_spec(form, form_set)


def _unit_label(form_set: str) -> str:
    return ("Bộ phận tiếp nhận và trả kết quả" if form_set == "2018"
            else "Trung tâm Phục vụ hành chính công/Bộ phận Tiếp nhận và Trả kết quả")


def _staff_signer(base: Signer, options: PrintOptions, agency_code: str,
                  form: str, user_id: str | None, *, electronic: bool,
                  full_name: str = "") -> dict[str, str]:
    """A staff signing block: the override's signer, else the override's name for the user,
    else ``full_name`` (the user's own, from the database), else a line for handwriting."""
    override = options.override(agency_code)
    signer = base.merged(override.signers.get(form))
    if not signer.name:
        signer = Signer(signer.title, signer.prefix, signer.position,
                        override.staff_name(user_id) or options.staff_name(user_id)
                        or full_name, signer.note)
    result = _signer_dict(signer)
    result["e_note"] = E_SIGNATURE_NOTE.format(who=base.title.lower()) if electronic else ""
    return result


def _head_signer(options: PrintOptions, agencies: Mapping[str, Agency], agency_code: str,
                 form: str) -> dict[str, str]:
    signer = head_signer(_agency(agencies, agency_code))
    return _signer_dict(signer.merged(options.override(agency_code).signers.get(form)))


def original_of(bundle: Bundle, document: IssuedDocument) -> IssuedDocument:
    """The issued original of a reprint (a copy prints the original's date, not its own)."""
    if document.copy_of is None:
        return document
    return next((d for d in bundle.documents if d.id == document.copy_of), document)


def _common(bundle: Bundle, spec: FormSpec, document: IssuedDocument | None,
            issuer: str, options: PrintOptions) -> dict[str, Any]:
    dossier = bundle.dossier
    day = original_of(bundle, document).issued_at if document else (
        dossier.received_at or dossier.created_at)
    return {
        "form": _form(spec),
        "header": header(bundle.agencies, issuer, options,
                         number=document.number if document else None, day=day),
        "copy": _copy(document),
        "dossier": {"code": dossier.code},
        "applicant": _applicant(dossier),
        "procedure": {"code": dossier.procedure_code, "name": dossier.procedure_name},
        "unit": {"label": _unit_label(spec.form_set),
                 "name": agency_name(bundle.agencies, issuer)},
        "notes": list(options.override(issuer).notes_for(spec.key)),
    }


# ----- the forms ----------------------------------------------------------------------------

def receipt_context(bundle: Bundle, document: IssuedDocument | None = None,
                    options: PrintOptions | None = None) -> dict[str, Any]:
    """Mẫu 01 — Giấy tiếp nhận hồ sơ và hẹn trả kết quả, two copies (domain §4.3)."""
    options = options or PrintOptions()
    document = pick_document(bundle, Form.RECEIPT, document)
    spec = _spec_for(Form.RECEIPT, bundle, document, options)
    dossier = bundle.dossier
    issuer = dossier.receiving_agency
    ctx = _common(bundle, spec, document, issuer, options)
    hotline = options.override(issuer).hotline
    copies = list((document.payload or {}).get("copies") or ["Lưu", "Giao khách hàng"])
    ctx.update({
        "copies": copies,
        "copy_parts": [_copy_part(dossier, options, name) for name in copies],
        "applicant_label": ("Tiếp nhận hồ sơ của" if spec.form_set == "2018"
                            else "Tiếp nhận hồ sơ của Ông (Bà)/Tổ chức"),
        "show_id_number": spec.form_set == "2025" or bool(dossier.applicant_id_number),
        "components": _components(dossier, bundle.spec),
        "sets_count": two_digits(dossier.sets_count or 1),
        "time_limit": time_limit_vi(dossier),
        "received": instant_vi(dossier.received_at),
        "appointment": instant_vi(dossier.due_at),
        "return_place": return_place_vi(dossier, bundle.agencies),
        "register": {"book": str(dossier.register_year) if dossier.register_year else BLANK,
                     "number": two_digits(dossier.register_number)},
        "signers": [
            _signer_dict(Signer(APPLICANT_SIGNER.title, note=APPLICANT_SIGNER.note,
                                name=dossier.applicant_name)),
            _staff_signer(CLERK_SIGNER, options, issuer, Form.RECEIPT, document.issued_by,
                          electronic=spec.form_set == "2025",
                          full_name=bundle.people.get(document.issued_by or "", "")),
        ],
    })
    ctx["notes"] = [
        "Giấy tiếp nhận hồ sơ và hẹn trả kết quả được lập thành 02 liên: một liên giao cho "
        "người nộp hồ sơ; một liên lưu tại Bộ phận tiếp nhận và trả kết quả, kèm theo Phiếu "
        "kiểm soát quá trình giải quyết hồ sơ.",
        "Người nộp hồ sơ có thể đăng ký nhận kết quả tại Bộ phận tiếp nhận và trả kết quả "
        "hoặc tại nhà qua dịch vụ bưu chính công ích.",
        f"Tra cứu tình trạng hồ sơ: quét mã QR trên liên giao người nộp hồ sơ hoặc truy cập "
        f"{options.base_url}/tra-cuu, nhập mã hồ sơ và mã tra cứu"
        f"{f'; đường dây nóng: {hotline}' if hotline else ''}.",
        *ctx["notes"],
    ]
    return nfc(ctx)


def is_unit_copy(name: str) -> bool:
    """The copy the one-stop unit keeps ("Liên: Lưu", filed with the control sheet); every
    other copy goes to the applicant."""
    return nfc(name).strip().casefold().startswith("lưu")


def grouped_secret(secret: str) -> str:
    """The lookup secret in groups of four, easier to copy from paper (the lookup ignores the
    spaces: ``service.publicview.typed_secret``)."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _copy_part(dossier: Dossier, options: PrintOptions, name: str) -> dict[str, str]:
    """What differs between the receipt's copies besides the label: the applicant's copy
    carries the lookup secret and the QR code that opens the dossier; the unit's copy neither
    (staff see the dossier anyway, and a filed sheet should not hand out a key to it)."""
    if is_unit_copy(name):
        return {"secret": "", "secret_line": "Mã tra cứu: chỉ in trên liên giao người nộp hồ sơ",
                "qr": "", "qr_caption": "Liên lưu: không in mã QR tra cứu"}
    url = status_url(options.base_url, dossier.code, dossier.secret)
    return {"secret": dossier.secret,
            "secret_line": f"Mã tra cứu: {grouped_secret(dossier.secret)}",
            "qr": qr_png_data_uri(url), "url": url, "qr_caption": "Quét mã để tra cứu"}


def supplement_context(bundle: Bundle, document: IssuedDocument | None = None,
                       options: PrintOptions | None = None) -> dict[str, Any]:
    """Mẫu 02 — Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ (domain §4.4), sent through the
    one-stop unit even when the processing officer wrote it."""
    options = options or PrintOptions()
    document = pick_document(bundle, Form.SUPPLEMENT_REQUEST, document)
    spec = _spec_for(Form.SUPPLEMENT_REQUEST, bundle, document, options)
    dossier = bundle.dossier
    issuer = dossier.receiving_agency
    ctx = _common(bundle, spec, document, issuer, options)
    payload = document.payload or {}
    override = options.override(issuer)
    signer = _staff_signer(GUIDE_SIGNER, options, issuer, Form.SUPPLEMENT_REQUEST,
                           document.issued_by, electronic=spec.form_set == "2025")
    contact = signer["name"] or options.staff_name(document.issued_by) or ctx["unit"]["name"]
    ctx.update({
        "applicant_label": "Tiếp nhận hồ sơ của" if spec.form_set == "2018" else "Hồ sơ của",
        "items": _missing_items(payload.get("missing") or []),
        "reason": payload.get("reason") or BLANK,
        "contact": {"name": contact, "phone": override.hotline or BLANK},
        "signers": [signer],
    })
    return nfc(ctx)


def refusal_context(bundle: Bundle, document: IssuedDocument | None = None,
                    options: PrintOptions | None = None) -> dict[str, Any]:
    """Mẫu 03 — Phiếu từ chối tiếp nhận giải quyết hồ sơ (domain §4.5). At the counter the
    clerk signs; after appraisal the competent agency's head does [I]."""
    options = options or PrintOptions()
    document = pick_document(bundle, Form.REFUSAL, document)
    spec = _spec_for(Form.REFUSAL, bundle, document, options)
    dossier = bundle.dossier
    payload = document.payload or {}
    at_reception = bool(payload.get("at_reception", True))
    issuer = dossier.receiving_agency if at_reception else dossier.competent_agency
    ctx = _common(bundle, spec, document, issuer, options)
    if at_reception:
        signers = [
            _signer_dict(Signer(APPLICANT_SIGNER.title, note=APPLICANT_SIGNER.note,
                                name=dossier.applicant_name)),
            _staff_signer(CLERK_SIGNER, options, issuer, Form.REFUSAL, document.issued_by,
                          electronic=spec.form_set == "2025"),
        ]
        who = "Bộ phận tiếp nhận và trả kết quả"
    else:
        signers = [_head_signer(options, bundle.agencies, issuer, Form.REFUSAL)]
        who = agency_name(bundle.agencies, issuer)
    ctx.update({
        "applicant_label": ("Tiếp nhận hồ sơ của" if spec.form_set == "2018"
                            else "Tiếp nhận hồ sơ của Ông (Bà)/Tổ chức"),
        "show_id_number": spec.form_set == "2025" or bool(dossier.applicant_id_number),
        "at_reception": at_reception,
        "statement": f"Qua xem xét, {who} thông báo không tiếp nhận, giải quyết hồ sơ này "
                     "với lý do cụ thể như sau:",
        "reason": payload.get("reason") or BLANK,
        "signers": signers,
    })
    return nfc(ctx)


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def apology_context(bundle: Bundle, document: IssuedDocument | None = None,
                    options: PrintOptions | None = None) -> dict[str, Any]:
    """Mẫu 04 — apology and new date (2018) / apology and extension request (2025), issued by
    the competent agency (domain §4.6; decree118 §2.6)."""
    options = options or PrintOptions()
    document = pick_document(bundle, Form.APOLOGY, document)
    spec = _spec_for(Form.APOLOGY, bundle, document, options)
    dossier = bundle.dossier
    issuer = dossier.competent_agency
    ctx = _common(bundle, spec, document, issuer, options)
    payload = document.payload or {}
    old_day = _parse_day(payload.get("previous_appointment")) or dossier.original_due_date
    if dossier.due_at is not None and old_day == to_local(dossier.due_at).date():
        old = instant_vi(dossier.due_at)
    else:
        old = date_vi(old_day)
    new_day = _parse_day(payload.get("new_due")) or dossier.appointment_date
    competent = agency_name(bundle.agencies, issuer)
    receiving = agency_name(bundle.agencies, dossier.receiving_agency)
    ctx.update({
        "received_date": date_vi(dossier.received_at),
        "receiving_agency": receiving,
        "competent_agency": competent,
        "old_appointment": old,
        "new_appointment": date_vi(new_day),
        "reason": payload.get("reason") or BLANK,
        "recipients": ["Như trên", receiving, "Lưu: VT, hồ sơ"],
        "signers": [_head_signer(options, bundle.agencies, issuer, Form.APOLOGY)],
    })
    return nfc(ctx)


def stop_context(bundle: Bundle, document: IssuedDocument | None = None,
                 options: PrintOptions | None = None) -> dict[str, Any]:
    """Mẫu 05 (TT 03/2025 only) — Thông báo dừng giải quyết hồ sơ; layout not published, fields
    per decree118 §3.2 [I]."""
    options = options or PrintOptions()
    document = pick_document(bundle, Form.STOP_NOTICE, document)
    spec = _spec_for(Form.STOP_NOTICE, bundle, document, options)
    dossier = bundle.dossier
    issuer = dossier.receiving_agency
    ctx = _common(bundle, spec, document, issuer, options)
    payload = document.payload or {}
    last = bundle.steps[-1] if bundle.steps else None
    stage = (f"{last.step_name} ({agency_name(bundle.agencies, last.unit)})" if last
             else State(dossier.state).label_vi)
    issued = original_of(bundle, document).issued_at
    ctx.update({
        "received_date": date_vi(dossier.received_at),
        "request_date": date_vi(issued),
        "stopped_at": instant_vi(issued),
        "stage": stage,
        "reason": payload.get("reason") or "Theo yêu cầu của người nộp hồ sơ",
        "show_id_number": True,
        "recipients": ["Như trên", agency_name(bundle.agencies, dossier.competent_agency),
                       "Lưu: VT, hồ sơ"],
        "signers": [_head_signer(options, bundle.agencies, issuer, Form.STOP_NOTICE)],
    })
    return nfc(ctx)


#: Step outcomes that hand the dossier back to the applicant (the control sheet's receiver).
_TO_APPLICANT = frozenset({Action.REQUEST_SUPPLEMENT, Action.RETURN_RESULT, Action.REFUSE,
                           Action.STOP, Action.WITHDRAW})


def control_context(bundle: Bundle, options: PrintOptions | None = None) -> dict[str, Any]:
    """Phiếu kiểm soát quá trình giải quyết hồ sơ (Mẫu 05/2018, 06/2025): one row per
    hand-off, each classified against that step's own deadline (domain §4.8)."""
    options = options or PrintOptions()
    dossier = bundle.dossier
    spec = _spec_for(Form.CONTROL, bundle, None, options)
    issuer = dossier.receiving_agency
    ctx = _common(bundle, spec, None, issuer, options)
    receipt = next((d for d in bundle.documents if d.form == Form.RECEIPT and d.copy_of is None),
                   None)
    agencies = bundle.agencies
    steps = list(bundle.steps)
    rows = []
    for i, step in enumerate(steps):
        if step.finished_at is None:
            continue
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        giver = f"{agency_name(agencies, step.unit, short=True)} ({step.step_name})"
        if step.outcome in _TO_APPLICANT or nxt is None:
            receiver = f"Tổ chức, cá nhân: {dossier.applicant_name}"
            receiver_person = dossier.collected_by if step.outcome == "return_result" else ""
        else:
            receiver = f"{agency_name(agencies, nxt.unit, short=True)} ({nxt.step_name})"
            receiver_person = bundle.person(options, nxt.assignee or nxt.handed_by)
        rows.append({
            "index": str(len(rows) + 1),
            "giver": giver, "receiver": receiver,
            "at": instant_short_vi(step.finished_at),
            "giver_person": bundle.person(options, step.finished_by),
            "receiver_person": receiver_person or "",
            "result": _label(Classification, step.classification),
            "note": _outcome_vi(step.outcome)
            + ("; ghi lùi thời điểm" if any(e.at == step.finished_at
                                            for e in bundle.backdated) else ""),
        })
    current = next((s for s in reversed(steps) if s.finished_at is None), None)
    linked = sorted({s.unit for s in steps if s.unit not in agencies})
    ctx.update({
        "receipt_number": receipt.number if receipt and receipt.number else BLANK,
        "competent_agency": agency_name(agencies, dossier.competent_agency),
        "partners": ", ".join(linked) if linked else "Không",
        "received": instant_vi(dossier.received_at),
        "appointment": instant_vi(dossier.due_at),
        "rows": rows,
        "current": (f"{current.step_name} — {agency_name(agencies, current.unit)} "
                    f"(từ {short_instant(current.started_at)})") if current else "",
        "backdated": [f"{_outcome_vi(e.action)} ghi thời điểm "
                      f"{instant_short_vi(e.at)}, nhập vào hệ thống "
                      f"{instant_short_vi(e.recorded_at)} bởi "
                      f"{bundle.person(options, e.actor_id)}: "
                      f"{(e.payload or {}).get('backdated', {}).get('reason', '')}"
                      for e in bundle.backdated],
        "signers": [],
    })
    return nfc(ctx)


REGISTER_COLUMNS = {
    # (key, header, group, width in mm) — group is the spanning header of the date columns.
    # Widths add up to the 252 mm between the A4-landscape margins.
    "2018": [
        ("index", "TT", "", 7), ("code", "Mã hồ sơ", "", 24),
        ("procedure", "Tên thủ tục hành chính", "", 28),
        ("sets", "Số lượng hồ sơ (bộ)", "", 10), ("applicant", "Tên cá nhân, tổ chức", "", 22),
        ("contact", "Địa chỉ, số điện thoại", "", 24),
        ("competent", "Cơ quan chủ trì giải quyết", "", 20),
        ("received", "Nhận hồ sơ", "Ngày, tháng, năm", 17),
        ("appointment", "Hẹn trả kết quả", "Ngày, tháng, năm", 17),
        ("transferred", "Chuyển hồ sơ đến cơ quan giải quyết", "Ngày, tháng, năm", 17),
        ("result_in", "Nhận kết quả từ cơ quan giải quyết", "Ngày, tháng, năm", 17),
        ("returned", "Trả kết quả cho cá nhân, tổ chức", "Ngày, tháng, năm", 17),
        ("signature", "Ký nhận", "", 15), ("note", "Ghi chú", "", 17),
    ],
    "2025": [
        ("index", "STT", "", 8), ("code", "Mã hồ sơ", "", 26), ("procedure", "Tên TTHC", "", 37),
        ("applicant", "Tên tổ chức, cá nhân", "", 26), ("contact", "Địa chỉ/SĐT", "", 34),
        ("competent", "Cơ quan chủ trì giải quyết", "", 24),
        ("received", "Nhận hồ sơ", "Nhận và trả kết quả", 19),
        ("appointment", "Hẹn trả kết quả", "Nhận và trả kết quả", 19),
        ("returned", "Trả kết quả", "Nhận và trả kết quả", 19),
        ("method", "Phương thức nhận kết quả", "Nhận và trả kết quả", 20),
        ("signature", "Ký nhận", "Nhận và trả kết quả", 20),
    ],
}


def _header_groups(columns: list[tuple[str, str, str, int]]) -> list[dict[str, Any]]:
    """First header row: single columns span two rows; a group spans its sub-columns."""
    groups: list[dict[str, Any]] = []
    for key, label, group, _width in columns:
        if group and groups and groups[-1]["group"] == group:
            groups[-1]["span"] += 1
            continue
        groups.append({"label": group or label, "group": group, "span": 1, "key": key})
    return groups


DATE_COLUMNS = frozenset({"received", "appointment", "transferred", "result_in", "returned"})


def register_row(index: int, dossier: Dossier, agencies: Mapping[str, Agency], *,
                 dates_only: bool = False) -> dict[str, str]:
    """One register line. The 2018 date columns are headed "Ngày, tháng, năm": dates only."""
    when = short_date if dates_only else short_instant
    contact = "; ".join(x for x in (dossier.applicant_address, dossier.applicant_phone) if x)
    head, _, tail = dossier.code.rpartition("-")
    head, _, middle = head.rpartition("-")
    result_in = dossier.ended_at if dossier.end_kind == "result_ready" else None
    method = _label(ReturnMethod, dossier.return_method, ReturnMethod.COUNTER.label_vi)
    postal_in, postal_out = register_postal(dossier)
    return {
        "index": str(index),
        "register_number": two_digits(dossier.register_number),
        "code": dossier.code,
        # printed on two lines after the agency part; a code has no break opportunity
        "code_lines": [f"{head}-", f"{middle}-{tail}"] if head else [dossier.code],
        "procedure": dossier.procedure_name,
        "sets": two_digits(dossier.sets_count or 1),
        "applicant": dossier.applicant_name,
        "contact": contact,
        "competent": agency_name(agencies, dossier.competent_agency),
        "received": "; ".join(x for x in (when(dossier.received_at), postal_in) if x),
        "appointment": when(dossier.due_at),
        "transferred": when(dossier.transferred_at),
        "result_in": when(result_in),
        "returned": when(dossier.returned_at),
        "method": "; ".join(x for x in (method, postal_out) if x),
        "signature": dossier.collected_by or "" if dossier.returned_at else "",
        # the 2018 register has no method column: the postal facts go in its notes
        "note": "; ".join(x for x in (State(dossier.state).label_vi,
                                      postal_out and f"gửi kết quả qua bưu chính, {postal_out}")
                          if x),
    }


def register_postal(dossier: Dossier) -> tuple[str, str]:
    """The postal facts of a register line (``engine.lifecycle.postal``): beside the receipt,
    the day the post office delivered a dossier sent by post; beside the return, the tracking
    number of a result sent by post and the day it was delivered. Empty otherwise."""
    received = f"qua bưu chính, bưu điện giao {short_date(dossier.postal_delivered_on)}" \
        if dossier.postal_delivered_on else ""
    sent = ""
    if dossier.postal_tracking_number and dossier.return_method == ReturnMethod.POST:
        sent = f"số hiệu bưu gửi {dossier.postal_tracking_number}"
        if dossier.result_delivered_on:
            sent += f", đã phát {short_date(dossier.result_delivered_on)}"
    return received, sent


def register_context(agency_code: str, dossiers: Sequence[Dossier],
                     agencies: Mapping[str, Agency], *, date_from: date, date_to: date,
                     options: PrintOptions | None = None) -> dict[str, Any]:
    """Sổ theo dõi hồ sơ (Mẫu 06/2018, 07/2025), A4 landscape: one row per dossier received by
    ``agency_code`` in the period, in register order. The set follows the period's first day
    unless ``options.form_set`` says otherwise."""
    options = options or PrintOptions()
    spec = form_spec(Form.REGISTER, options.form_set or form_set_for(date_from))
    columns = REGISTER_COLUMNS[spec.form_set]
    ordered = sorted(dossiers, key=lambda d: (d.register_year or 0, d.register_number or 0,
                                              d.received_at or d.created_at))
    years = sorted({d.register_year for d in ordered if d.register_year})
    ctx = {
        "form": _form(spec),
        "header": header(agencies, agency_code, options, number=None, day=date_to,
                         abbreviate=False),
        "copy": None,
        "unit": {"label": _unit_label(spec.form_set),
                 "name": agency_name(agencies, agency_code)},
        "period": f"Từ ngày {short_date(date_from)} đến ngày {short_date(date_to)}",
        "book": ", ".join(str(y) for y in years) or str(date_from.year),
        "columns": [{"key": k, "label": label, "width": f"{w}mm",
                     "cls": "num" if k in ("index", "sets") else "code" if k == "code"
                     else "date" if k in DATE_COLUMNS else ""}
                    for k, label, _, w in columns],
        "groups": _header_groups(columns),
        "sub_columns": [{"key": k, "label": label} for k, label, g, _ in columns if g],
        "rows": [register_row(i, d, agencies, dates_only=spec.form_set == "2018")
                 for i, d in enumerate(ordered, start=1)],
        "count": str(len(ordered)),
        "notes": list(options.override(agency_code).notes_for(Form.REGISTER)),
        "signers": [],
    }
    return nfc(ctx)


BUILDERS = {Form.RECEIPT: receipt_context, Form.SUPPLEMENT_REQUEST: supplement_context,
            Form.REFUSAL: refusal_context, Form.APOLOGY: apology_context,
            Form.STOP_NOTICE: stop_context}


def build(form: Form | str, bundle: Bundle, document: IssuedDocument | None = None,
          options: PrintOptions | None = None) -> dict[str, Any]:
    """The context of ``form`` (a :class:`~engine.forms.Form` value) for one dossier."""
    if form == Form.CONTROL:
        return control_context(bundle, options)
    if form == Form.REGISTER:
        raise ValueError("sổ theo dõi hồ sơ in theo cơ quan và khoảng thời gian: "
                         "dùng register_context")
    if form not in BUILDERS:
        raise ValueError(f"mẫu không tồn tại: {form!r}")
    form = Form(form)
    options = options or PrintOptions()
    if form is Form.STOP_NOTICE:  # fail with the set's own message before looking for one
        _spec_for(form, bundle, document, options)
    return BUILDERS[form](bundle, document, options)
