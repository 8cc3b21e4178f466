"""What the messages say (*nội dung thông báo*): one Vietnamese template per finding and per
lifecycle event, and the outbox drafts made from them.

The templates are plain ``str.format`` text with named fields (:data:`FIELDS`), kept here in
one place so that an administrator reads exactly what is sent: docs/notifications.md
("## Messages") is generated from this module (:func:`messages_markdown`; a test compares).

- Findings (``FindingKind``, from the sweeps) go to staff in the app (the bell), to the people
  :mod:`engine.timed.recipients` names.
- Events (``EventKind``, from lifecycle actions, ``engine.timed.events``) go to the applicant
  (e-mail, and SMS through the webhook when switched on) and, for a new appointment or a
  result ready, to the clerks of the returning counter.

Every draft carries the uniqueness key's parts: dossier, step (hand-off row) for step
findings, kind, rung (the finding's, or ``event-<seq>`` for an event), channel, recipient.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from engine.forms import Form
from engine.lifecycle.models import Dossier, IssuedDocument
from engine.lifecycle.states import ReturnMethod
from engine.outbox import Channel, Draft
from engine.text import nfc
from engine.timed.applicant import attachment, document_url, handover_text, listing, lookup_url
from engine.timed.findings import EventKind, Finding, FindingKind
from engine.timed.recipients import (
    AUDIENCE,
    DEFAULT_PUBLIC_BASE_URL,
    ApplicantChannels,
    Audience,
    Directory,
    applicant_addresses,
    finding_recipients,
    unique,
)
from engine.timezone import to_local
from engine.users import Role


@dataclass(frozen=True, slots=True)
class Template:
    """A message's subject and body (``str.format`` fields), and a short text for SMS."""

    subject: str
    body: str
    sms: str | None = None


#: The fields a template may name, and what they hold (docs/notifications.md).
FIELDS: dict[str, str] = {
    "code": "mã hồ sơ",
    "due": "hạn mà cảnh báo nói đến («ngày 10/03/2026» hoặc «16:30 ngày 10/03/2026»): hạn "
           "trả kết quả, hạn của bước, hạn chuyển hồ sơ",
    "step": "tên bước xử lý (\"đang xử lý\" nếu không rõ)",
    "agency": "tên cơ quan có thẩm quyền giải quyết",
    "receiving": "tên Bộ phận Một cửa đã tiếp nhận hồ sơ",
    "returning": "tên Bộ phận Một cửa trả kết quả",
    "apology_by": "hạn cuối gửi văn bản xin lỗi («ngày 09/03/2026»; không rõ thì «ngày làm "
                  "việc liền trước ngày hẹn trả»)",
    "waited": "số ngày làm việc đã chờ bổ sung",
    "procedure": "tên thủ tục hành chính",
    "applicant": "tên người nộp hồ sơ (chủ hồ sơ)",
    "received_at": "giờ và ngày tiếp nhận",
    "appointment": "ngày hẹn trả kết quả",
    "new_due": "ngày hẹn trả kết quả mới (Mẫu 04)",
    "reason": "lý do ghi trên phiếu",
    "missing": "các nội dung cần bổ sung, hoàn thiện (Mẫu 02)",
    "return_method": "hình thức nhận kết quả",
    "old_appointment": "ngày hẹn trả kết quả trước khi lịch làm việc thay đổi",
    "change": "thay đổi lịch làm việc đã dời ngày hẹn",
    "secret": "mã tra cứu của hồ sơ (in trên Giấy tiếp nhận, Mẫu 01), nhóm 4 ký tự",
    "lookup_url": "đường dẫn trang tra cứu hồ sơ kèm mã hồ sơ và mã tra cứu",
    "document_url": "đường dẫn tải văn bản (PDF) của hồ sơ cho người nộp, kèm mã tra cứu",
    "handover": "cách và lúc đã trả kết quả (tại quầy; qua bưu chính với số hiệu bưu gửi; …)",
}

#: Appended to every message to the applicant by e-mail.
APPLICANT_FOOTER = ("\n\nĐây là thư tự động của hệ thống giải quyết thủ tục hành chính; "
                    "vui lòng không trả lời thư này.")

FINDING_TEMPLATES: dict[FindingKind, Template] = {
    FindingKind.DUE_SOON: Template(
        "Hồ sơ {code} sắp đến hạn trả kết quả ({due})",
        "Hồ sơ {code} phải trả kết quả vào {due}, đang ở bước {step}. "
        "Vui lòng hoàn thành xử lý trước hạn."),
    FindingKind.DUE_TODAY: Template(
        "Hồ sơ {code} đến hạn trả kết quả hôm nay",
        "Hôm nay ({due}) là ngày hẹn trả kết quả hồ sơ {code}, đang ở bước {step}. "
        "Vui lòng hoàn thành xử lý trong ngày."),
    FindingKind.OVERDUE: Template(
        "Hồ sơ {code} đã quá hạn trả kết quả",
        "Hồ sơ {code} đã quá ngày hẹn trả kết quả ({due}) mà chưa giải quyết xong "
        "(đang ở bước {step}). Vui lòng xử lý ngay."),
    FindingKind.STEP_DUE_SOON: Template(
        "Hồ sơ {code}: bước {step} sắp đến hạn",
        "Bước {step} của hồ sơ {code} phải hoàn thành trước {due}."),
    FindingKind.STEP_OVERDUE: Template(
        "Hồ sơ {code}: bước {step} đã quá hạn",
        "Bước {step} của hồ sơ {code} đã quá thời hạn của bước ({due}) mà chưa hoàn thành."),
    FindingKind.APOLOGY_DUE: Template(
        "Hồ sơ {code}: cần gửi văn bản xin lỗi nếu không kịp trả kết quả",
        "Hồ sơ {code} ({agency}) có nguy cơ trễ hẹn trả kết quả ({due}). Nếu không kịp "
        "trả kết quả, cơ quan phải gửi Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) "
        "chậm nhất vào {apology_by}."),
    FindingKind.APOLOGY_MISSED: Template(
        "Hồ sơ {code}: đã quá hạn gửi văn bản xin lỗi",
        "Đã qua hạn gửi Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) của hồ sơ {code} "
        "({agency}; hẹn trả kết quả {due}) mà chưa có văn bản xin lỗi. Vui lòng chỉ đạo xử lý "
        "và gửi văn bản xin lỗi người nộp hồ sơ."),
    FindingKind.SUPPLEMENT_AWAITED: Template(
        "Hồ sơ {code} chờ bổ sung quá lâu",
        "Hồ sơ {code} đã chờ người nộp bổ sung, hoàn thiện {waited}. Vui lòng liên hệ người "
        "nộp hồ sơ."),
    FindingKind.TRANSFER_LATE: Template(
        "Hồ sơ {code} chưa được chuyển đến cơ quan giải quyết",
        "Hồ sơ {code} chưa được chuyển đến {agency} trong thời hạn ({due}): chuyển ngay trong "
        "ngày tiếp nhận, hoặc đầu giờ ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ."),
    FindingKind.NOT_ACCEPTED: Template(
        "Hồ sơ {code} chưa được cơ quan giải quyết nhận",
        "Hồ sơ {code} được {receiving} tiếp nhận không phụ thuộc địa giới hành chính nhưng "
        "{agency} chưa xác nhận nhận hồ sơ. Thời hạn giải quyết chỉ bắt đầu tính khi cơ quan "
        "xác nhận nhận hồ sơ."),
}

#: Who reads an event's message: the applicant, or the staff who act next.
APPLICANT, STAFF = "applicant", "staff"
#: A refusal at the counter (Mẫu 03 before receipt) reads differently from one after appraisal.
AT_RECEPTION = "applicant_at_reception"

EVENT_TEMPLATES: dict[tuple[EventKind, str], Template] = {
    (EventKind.RECEIVED, APPLICANT): Template(
        "Hồ sơ {code} đã được tiếp nhận",
        "Kính gửi: {applicant},\n{receiving} đã tiếp nhận hồ sơ «{procedure}» của Ông/Bà lúc "
        "{received_at}, mã hồ sơ {code}.\nNgày hẹn trả kết quả: {appointment}.\nMã tra cứu: "
        "{secret}.\nÔng/Bà tra cứu tình trạng hồ sơ tại {lookup_url} hoặc bằng mã hồ sơ và mã "
        "tra cứu in trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu 01).",
        "Ho so {code} da duoc tiep nhan, hen tra ket qua ngay {appointment}. Ma tra cuu: "
        "{secret}"),
    (EventKind.SUPPLEMENT_REQUESTED, APPLICANT): Template(
        "Hồ sơ {code} cần bổ sung, hoàn thiện",
        "Kính gửi: {applicant},\nHồ sơ {code} («{procedure}») cần được bổ sung, hoàn thiện.\n"
        "Lý do: {reason}.\nNội dung cần bổ sung, hoàn thiện (Mẫu 02):\n{missing}\nĐề nghị "
        "Ông/Bà nộp hồ sơ bổ sung tại {receiving}, hoặc với hồ sơ nộp trực tuyến, trên trang "
        "tra cứu hồ sơ: {lookup_url}\nThời gian chờ bổ sung không tính vào thời hạn giải "
        "quyết.",
        "Ho so {code} can bo sung, hoan thien. Vui long xem thu/phieu yeu cau va nop bo sung "
        "tai noi nop ho so."),
    (EventKind.APOLOGY_SENT, APPLICANT): Template(
        "Hồ sơ {code}: xin lỗi và hẹn lại ngày trả kết quả",
        "Kính gửi: {applicant},\n{agency} xin lỗi Ông/Bà vì hồ sơ {code} («{procedure}») "
        "chưa giải quyết được đúng hẹn.\nLý do: {reason}.\nNgày hẹn trả kết quả mới: "
        "{new_due}.\nPhiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) gửi kèm thư này; "
        "Ông/Bà cũng tải được tại: {document_url}",
        "Xin loi Ong/Ba: ho so {code} duoc hen lai ngay tra ket qua {new_due}."),
    (EventKind.APOLOGY_SENT, STAFF): Template(
        "Hồ sơ {code}: hẹn lại ngày trả kết quả {new_due}",
        "{agency} đã gửi Phiếu xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04) cho hồ sơ {code} "
        "(«{procedure}») của {applicant}. Ngày hẹn trả kết quả mới: {new_due}. Lý do: "
        "{reason}."),
    (EventKind.RESULT_READY, APPLICANT): Template(
        "Hồ sơ {code} đã có kết quả",
        "Kính gửi: {applicant},\nHồ sơ {code} («{procedure}») đã được giải quyết xong.\n"
        "Hình thức nhận kết quả: {return_method}; nơi trả kết quả: {returning}.",
        "Ho so {code} da co ket qua. Moi Ong/Ba nhan ket qua theo hinh thuc da dang ky."),
    (EventKind.RESULT_READY, STAFF): Template(
        "Hồ sơ {code} đã có kết quả, chờ trả",
        "Hồ sơ {code} («{procedure}») của {applicant} đã giải quyết xong; {returning} trả "
        "kết quả (hẹn trả {appointment}; hình thức: {return_method})."),
    (EventKind.REFUSED, APPLICANT): Template(
        "Hồ sơ {code} không được giải quyết",
        "Kính gửi: {applicant},\n{agency} từ chối giải quyết hồ sơ {code} («{procedure}»).\n"
        "Lý do: {reason}.",
        "Ho so {code} khong duoc giai quyet. Vui long xem Phieu tu choi (Mau 03) hoac lien "
        "he noi nop ho so."),
    (EventKind.REFUSED, AT_RECEPTION): Template(
        "Hồ sơ {code} không được tiếp nhận",
        "Kính gửi: {applicant},\n{receiving} từ chối tiếp nhận hồ sơ {code} («{procedure}»).\n"
        "Lý do: {reason}.",
        "Ho so {code} khong duoc tiep nhan. Vui long xem Phieu tu choi (Mau 03) hoac lien "
        "he noi nop ho so."),
    # The last notice: helper I5 adds the rating link (engine.ratings.rating_url) as the body's
    # last line, with its field in FIELDS and in event_fields.
    (EventKind.RETURNED, APPLICANT): Template(
        "Hồ sơ {code} đã trả kết quả",
        "Kính gửi: {applicant},\nKết quả giải quyết hồ sơ {code} («{procedure}») đã được trả "
        "{handover}.\nMời Ông/Bà đánh giá mức độ hài lòng (một lần cho mỗi hồ sơ): "
        "{lookup_url}#danh-gia",
        "Ho so {code} da tra ket qua. Cam on Ong/Ba da su dung dich vu."),
}


#: A calendar edit moved the appointment (``engine.lifecycle.moves``): not an action of the
#: dossier, so not an ``EventKind``; its messages are keyed by the move (``move-<version>``).
APPOINTMENT_MOVED = "appointment_moved"
APPOINTMENT_MOVED_LABEL = "Ngày hẹn trả thay đổi"

MOVE_TEMPLATES: dict[str, Template] = {
    APPLICANT: Template(
        "Hồ sơ {code}: ngày hẹn trả kết quả thay đổi",
        "Kính gửi: {applicant},\nDo {change}, ngày hẹn trả kết quả hồ sơ {code} («{procedure}») "
        "thay đổi từ {old_appointment} sang {appointment}.\nÔng/Bà dùng Giấy tiếp nhận hồ sơ "
        "đã nhận để nhận kết quả theo ngày hẹn mới.",
        "Ho so {code}: ngay hen tra ket qua doi tu {old_appointment} sang {appointment} do "
        "dieu chinh lich lam viec."),
    STAFF: Template(
        "Hồ sơ {code}: ngày hẹn trả đổi sang {appointment}",
        "Do {change}, ngày hẹn trả kết quả hồ sơ {code} («{procedure}») của {applicant} đổi "
        "từ {old_appointment} sang {appointment}. Người nộp hồ sơ được báo qua thư điện tử "
        "hoặc tin nhắn nếu đã đăng ký; nếu không, vui lòng liên hệ người nộp hồ sơ."),
}


#: An online submission (status 1, docs/online.md): the applicant gets the code and the
#: secret to follow the dossier and, if asked, upload a supplement. Not an ``EventKind``: it
#: is written by the submission itself (``service/api/submissions.py``), keyed by its event.
SUBMITTED = "submitted"
SUBMITTED_LABEL = "Đã nộp hồ sơ trực tuyến"
SUBMITTED_TEMPLATE = Template(
    "Hồ sơ {code} đã được nộp trực tuyến",
    "Kính gửi: {applicant},\nHồ sơ «{procedure}» của Ông/Bà đã được gửi đến {receiving}, "
    "mã hồ sơ {code}, mã tra cứu {secret}.\nHồ sơ chưa được tiếp nhận: cán bộ sẽ kiểm tra và "
    "báo kết quả; thời hạn giải quyết tính từ khi tiếp nhận.\nTra cứu: {lookup}",
    "Ho so {code} da nop truc tuyen. Ma tra cuu: {secret}. Tra cuu: {lookup}")


def drafts_for_submission(session: Session, dossier: Dossier, *, seq: int, lookup: str,
                          channels: ApplicantChannels | None = None,
                          directory: Directory | None = None) -> list[Draft]:
    """The applicant's message of an online submission (e-mail; SMS when switched on)."""
    addresses = applicant_addresses(dossier, channels or ApplicantChannels())
    if not addresses:
        return []
    fields = {**event_fields(dossier, directory or Directory(session), reason=None, facts={}),
              "secret": dossier.secret, "lookup": lookup}
    common = {"dossier_code": dossier.code, "rung": event_rung(seq), "kind": SUBMITTED}
    return _drafts(dossier, fields, common, {"event_seq": seq}, addresses, SUBMITTED_TEMPLATE,
                   [], None)


def kind_label(kind: str) -> str:
    """The Vietnamese name of a message's kind (a finding or an event); other kinds (e.g. the
    national portal's) as they are."""
    for enum in (FindingKind, EventKind):
        if kind in enum._value2member_map_:
            return enum(kind).label_vi
    if kind == APPOINTMENT_MOVED:
        return APPOINTMENT_MOVED_LABEL
    if kind == SUBMITTED:
        return SUBMITTED_LABEL
    if kind == "sync":  # engine.sync.outbound.KIND (that module imports this one)
        return "Đồng bộ Cổng DVC quốc gia"
    return kind


def day_text(value: date | datetime | None, missing: str = "chưa xác định") -> str:
    """``15/03/2026``, or ``16:30 ngày 15/03/2026`` for an instant (local time)."""
    if value is None:
        return missing
    if isinstance(value, datetime):
        return f"{to_local(value):%H:%M} ngày {to_local(value):%d/%m/%Y}"
    return f"{value:%d/%m/%Y}"


def due_text(value: date | datetime | None) -> str:
    """A finding's deadline as a sentence takes it: ``ngày 15/03/2026`` or
    ``16:30 ngày 15/03/2026``."""
    if value is None:
        return "hạn chưa xác định"
    return day_text(value) if isinstance(value, datetime) else f"ngày {day_text(value)}"


def render(template: Template, fields: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """Subject, body and SMS text of ``template`` with ``fields``, NFC."""
    return (nfc(template.subject.format_map(fields)), nfc(template.body.format_map(fields)),
            nfc(template.sms.format_map(fields)) if template.sms else None)


def staff_link(code: str | None) -> str | None:
    """Where the bell takes a member of staff: the dossier's page."""
    return f"/ho-so/{code}" if code else None


# ----- findings (the sweeps) ------------------------------------------------------------------

def finding_fields(finding: Finding, directory: Directory) -> dict[str, Any]:
    facts = finding.facts
    step = facts.get("step_name") or "đang xử lý"
    apology_by = _as_day(facts.get("apology_by")) if facts.get("apology_by") else None
    days = facts.get("working_days")
    return {
        "code": finding.dossier_code, "due": due_text(finding.due), "step": step,
        "agency": directory.agency_name(finding.competent_agency),
        "receiving": directory.agency_name(facts.get("receiving_agency")) or "Bộ phận Một cửa",
        "apology_by": (due_text(apology_by) if apology_by
                       else "ngày làm việc liền trước ngày hẹn trả"),
        "waited": f"{days} ngày làm việc" if days else "quá số ngày làm việc cho phép",
    }


def _as_day(value: Any) -> date | datetime | None:
    """A day given as ISO text (facts travel as JSON); None if it is not one: a message never
    stops a sweep or an action."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def drafts_for_finding(session: Session, finding: Finding, *,
                       directory: Directory | None = None) -> list[Draft]:
    """The in-app messages a finding writes, one per recipient (:data:`AUDIENCE`).

    A sweep passes one ``Directory.preload(session)`` for all its findings (two queries);
    without it the staff are read per agency and role as needed. Facts read when present:
    ``unit`` (the hand-off row's agency), ``step_name``, ``receiving_agency`` (else read from
    the dossier for the audiences that need it), ``apology_by`` (a day), ``working_days``.
    """
    directory = directory or Directory(session)
    names = finding_recipients(session, finding, directory)
    if not names:
        return []
    subject, body, _ = render(FINDING_TEMPLATES[finding.kind], finding_fields(finding, directory))
    payload = {"link": staff_link(finding.dossier_code),
               "due": finding.due.isoformat() if finding.due is not None else None}
    return [Draft(kind=finding.kind.value, channel=Channel.IN_APP, recipient=name,
                  subject=subject, body=body, dossier_code=finding.dossier_code,
                  step_seq=finding.step_seq, rung=finding.rung, payload=payload)
            for name in names]


# ----- events (the lifecycle) -----------------------------------------------------------------

def event_fields(dossier: Dossier, directory: Directory, *, reason: str | None,
                 facts: Mapping[str, Any], base_url: str = DEFAULT_PUBLIC_BASE_URL
                 ) -> dict[str, Any]:
    method = dossier.return_method
    directory.learn_names(dossier.competent_agency, dossier.receiving_agency,
                          dossier.returning_agency)
    return {
        "code": dossier.code, "procedure": dossier.procedure_name,
        "applicant": dossier.applicant_name,
        "agency": directory.agency_name(dossier.competent_agency),
        "receiving": directory.agency_name(dossier.receiving_agency),
        "returning": directory.agency_name(dossier.returning_agency),
        "received_at": day_text(dossier.received_at),
        "appointment": day_text(dossier.appointment_date),
        # apologise moved the appointment to the new date (the legal due date stays)
        "new_due": day_text(dossier.appointment_date),
        "reason": reason or "không ghi lý do",
        "missing": listing(facts.get("missing")) or "xem phiếu yêu cầu bổ sung",
        "return_method": (ReturnMethod(method).label_vi
                          if method in ReturnMethod._value2member_map_ else method),
        "secret": " ".join(dossier.secret[i:i + 4] for i in range(0, len(dossier.secret), 4)),
        "lookup_url": lookup_url(base_url, dossier.code, dossier.secret),
        "document_url": document_url(base_url, dossier.code, Form.APOLOGY.value, dossier.secret),
        "handover": handover_text(dossier),
    }


def event_rung(seq: int) -> str:
    """An event's messages are told apart by the event's number in the dossier's journal."""
    return f"event-{seq}"


def drafts_for_event(session: Session, kind: EventKind, dossier: Dossier, *, seq: int,
                     reason: str | None = None, facts: Mapping[str, Any] | None = None,
                     at_reception: bool = False, actor_id: str | None = None,
                     channels: ApplicantChannels | None = None,
                     directory: Directory | None = None,
                     documents: Iterable[IssuedDocument] = ()) -> list[Draft]:
    """The messages a lifecycle event writes: to the applicant on ``channels``, and for a
    new appointment or a result ready to the clerks of the returning counter, who hand the
    result over (ND 61 Art 19(9): the one-stop unit is told of the new date), not to the
    actor. ``documents``: the forms the action issued (the apology's Form 04 goes with its
    e-mail, :func:`attachment`)."""
    directory = directory or Directory(session)
    channels = channels or ApplicantChannels()
    addresses = applicant_addresses(dossier, channels)
    staff_template = EVENT_TEMPLATES.get((kind, STAFF))
    staff = ([n for n in directory.staff(dossier.returning_agency, Role.CLERK) if n != actor_id]
             if staff_template is not None else [])
    if not addresses and not staff:
        return []  # nobody to tell: not even the agencies' names are read
    fields = event_fields(dossier, directory, reason=reason, facts=dict(facts or {}),
                          base_url=channels.base_url)
    common = {"dossier_code": dossier.code, "rung": event_rung(seq), "kind": kind.value}
    citizen = EVENT_TEMPLATES[(kind, AT_RECEPTION if at_reception else APPLICANT)]
    extras = attachment(kind, dossier, documents, channels.base_url)
    return _drafts(dossier, fields, common, {"event_seq": seq}, addresses, citizen,
                   staff, staff_template, extras=extras)


def _drafts(dossier: Dossier, fields: Mapping[str, Any], common: Mapping[str, Any],
            payload: Mapping[str, Any], addresses: list[tuple[Channel, str]],
            citizen: Template, staff: list[str], staff_template: Template | None, *,
            extras: tuple[Mapping[str, Any], Mapping[str, Any]] = ({}, {}),
            ) -> list[Draft]:
    """The applicant's e-mail / SMS and the staff's in-app messages of one event;
    ``extras``: what the e-mail's and the webhook's payloads add (:func:`attachment`)."""
    drafts: list[Draft] = []
    subject, body, sms = render(citizen, fields)
    for channel, address in addresses:
        if channel is Channel.EMAIL:
            drafts.append(Draft(channel=channel, recipient=address, subject=subject,
                                body=body + APPLICANT_FOOTER,
                                payload={**payload, **extras[0]}, **common))
        else:
            drafts.append(Draft(channel=channel, recipient=address, subject=subject,
                                body=sms or subject,
                                payload={**payload, "sms": True, **extras[1]}, **common))
    if staff and staff_template is not None:
        subject, body, _ = render(staff_template, fields)
        drafts += [Draft(channel=Channel.IN_APP, recipient=name, subject=subject, body=body,
                         payload={"link": staff_link(dossier.code), **payload},
                         **common) for name in unique(staff)]
    return drafts


def move_rung(dossier_version: int) -> str:
    """A move's messages are told apart by the dossier version the move wrote: a re-run of
    the re-projection that moves nothing writes no new move, hence no new message."""
    return f"move-{dossier_version}"


def drafts_for_move(session: Session, dossier: Dossier, *, dossier_version: int,
                    old_appointment: date | None, reason: str,
                    channels: ApplicantChannels | None = None,
                    directory: Directory | None = None) -> list[Draft]:
    """The messages of an appointment moved by a calendar edit: to the applicant on
    ``channels`` and to the clerks of the returning counter (who hand the result over), as
    for an apology's new date (ND 61 Art 19(9): the applicant is told of a new date)."""
    directory = directory or Directory(session)
    addresses = applicant_addresses(dossier, channels or ApplicantChannels())
    staff = directory.staff(dossier.returning_agency, Role.CLERK)
    if not addresses and not staff:
        return []
    fields = {**event_fields(dossier, directory, reason=None, facts={},
                             base_url=(channels or ApplicantChannels()).base_url),
              "old_appointment": day_text(old_appointment), "change": reason}
    common = {"dossier_code": dossier.code, "rung": move_rung(dossier_version),
              "kind": APPOINTMENT_MOVED}
    return _drafts(dossier, fields, common, {"move_version": dossier_version}, addresses,
                   MOVE_TEMPLATES[APPLICANT], staff, MOVE_TEMPLATES[STAFF])


# ----- the documentation ----------------------------------------------------------------------

_AUDIENCE_TEXT = {
    Audience.HANDLER: "the handler (the assignee; without one, the step's role at its agency)",
    Audience.LEADERS: "the leaders of the competent agency (head of unit)",
    Audience.COUNTER: "the clerks of the receiving one-stop unit",
}
_EVENT_AUDIENCE = {
    APPLICANT: "the applicant (e-mail; SMS through the webhook when switched on)",
    AT_RECEPTION: "the applicant, refused at the counter (Mẫu 03 before receipt)",
    STAFF: "the clerks of the returning one-stop unit, in the app (not the actor)",
}


def _quote(text: str) -> list[str]:
    return ["> " + line if line else ">" for line in text.split("\n")]


def _entry(title: str, recipients: str, template: Template) -> list[str]:
    lines = [f"#### {title}", "", f"To: {recipients}.", "", f"Subject: `{template.subject}`",
             "", *_quote(template.body), ""]
    if template.sms:
        lines += [f"SMS: `{template.sms}`", ""]
    return lines


def messages_markdown() -> str:
    """The "## Messages" section of docs/notifications.md, from the templates above."""
    lines = ["## Messages", "",
             "Generated from `engine/timed/messages.py` (`python -m engine.timed.messages`); "
             "a test keeps this section and the code equal. Fields in braces:", "",
             "| field | holds |", "| --- | --- |",
             *[f"| `{{{name}}}` | {meaning} |" for name, meaning in FIELDS.items()], "",
             "Every e-mail to the applicant ends with:", "", *_quote(APPLICANT_FOOTER.strip()),
             "", "### Findings of the sweeps (in the app)", ""]
    for kind, template in FINDING_TEMPLATES.items():
        to = "; ".join(_AUDIENCE_TEXT[a] for a in AUDIENCE[kind])
        lines += _entry(f"`{kind.value}` — {kind.label_vi}", to, template)
    lines += ["### Lifecycle events", ""]
    for (kind, audience), template in EVENT_TEMPLATES.items():
        lines += _entry(f"`{kind.value}` ({audience}) — {kind.label_vi}",
                        _EVENT_AUDIENCE[audience], template)
    lines += ["### Calendar edits", ""]
    for audience, template in MOVE_TEMPLATES.items():
        lines += _entry(f"`{APPOINTMENT_MOVED}` ({audience}) — {APPOINTMENT_MOVED_LABEL}",
                        _EVENT_AUDIENCE[audience], template)
    return "\n".join(lines).rstrip() + "\n"


def sample_fields(names: Iterable[str] = FIELDS) -> dict[str, str]:
    """Every field filled with a visible sample, for tests and previews."""
    return {name: f"<{name}>" for name in names}


if __name__ == "__main__":  # pragma: no cover
    print(messages_markdown(), end="")
