"""Online submission (*nộp hồ sơ trực tuyến*, domain §2.2 #1, §7.3) and the applicant's
supplement before receipt, without login (docs/online.md).

A citizen finds a procedure (accent-insensitive), reads its components, fees, time limit and
where it is processed, and sends one multipart form: the ``submission`` field (JSON,
:class:`SubmissionIn`) and one file per component (``file-<n>``, PDF/JPEG/PNG by content).
Order of the checks, cheapest first, so that abuse costs the sender more than the server:

1. rate limit per address (before a byte of the body is read);
2. the proof of work (``service/pow.py``, headers ``X-PoW-Challenge`` / ``X-PoW-Nonce``),
   spent at once: a replay is refused;
3. the body, streamed (``service/uploads.py``): the first byte past the limit per file or per
   dossier (``MOTCUA_FILE_MAX_MB``, ``MOTCUA_DOSSIER_FILES_MAX_MB``), or a first few bytes of
   a type not accepted, stop the request;
4. the fields: CCCD as at the counter, phone or e-mail, rate limit per phone and e-mail, the
   agency from the procedure's list, the way to get the result;
5. the files are stored (content-addressed, ``engine.files``), then the dossier
   (``submitted``, status 1), its event naming every file's hash and the attachment rows are
   written in **one** transaction. A refusal at any point leaves no dossier and no row; a
   blob stored before a later refusal is an orphan nobody can read (docs/online.md).

The applicant acts as :func:`engine.lifecycle.policy.applicant_actor` of the receiving unit.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from concurrent import futures
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from engine import lifecycle
from engine.agencies import Agency, AgencyProcedure
from engine.catalogue_search import rank
from engine.files import journal
from engine.files.models import AttachmentKind
from engine.files.settings import FileSettings
from engine.files.store import BlobStore, FileRefused, StoredBlob
from engine.lifecycle.models import Dossier
from engine.lifecycle.policy import applicant_actor
from engine.lifecycle.states import Action, ReturnMethod, State
from engine.outbox import enqueue
from engine.procedures import (
    ProcedureSpec,
    ProcedureVersionRow,
    result_online,
    version_in_force,
)
from engine.text import nfc
from engine.timed import events as timed_events
from engine.timed.messages import drafts_for_submission
from engine.timed.recipients import ApplicantChannels, Directory
from engine.timezone import now_local, to_local
from printouts.qr import public_base_url
from service import pow as hashcash
from service.api.schemas.submissions import (
    Challenge,
    PublicAgency,
    PublicComponent,
    PublicFee,
    PublicProcedure,
    PublicProcedureDetail,
    SubmissionIn,
    Submitted,
    SubmittedFile,
    SupplementDone,
)
from service.clientip import client_address
from service.deps import SessionDep, request_id
from service.problems import Problem
from service.publicview import guarded_lookup, supplement_guidance
from service.streaming import FORM_OVERHEAD, RECEIVE, files_config, refused
from service.uploads import BadForm, LimitedForm, read_form, staged
from service.validation import check_citizen_id, readable_errors

router = APIRouter(prefix="/api/v1/public", tags=["public"])

#: The upload routes, for the streamed-uploads middleware (``service/app.py`` registers them
#: with ``service/api/attachments.py``'s list): path and body cap from the file settings.
STREAMED = (
    (r"^/api/v1/public/submissions/?$", lambda s: s.max_dossier_bytes + FORM_OVERHEAD),
    (r"^/api/v1/public/dossiers/[^/]+/supplements/?$",
     lambda s: s.max_dossier_bytes + FORM_OVERHEAD),
)
_FILE_FIELD = re.compile(r"^file-([1-9][0-9]{0,2})$")
MAX_FILES = 30
TOO_MANY = "Bạn gửi quá nhiều lần; vui lòng thử lại sau {minutes} phút."


# ----- reading the catalogue without login ------------------------------------------------

def _latest(session: Session) -> list[ProcedureVersionRow]:
    rows = session.exec(select(ProcedureVersionRow)
                        .where(col(ProcedureVersionRow.effective_from) <= now_local().date())
                        .order_by(col(ProcedureVersionRow.code),
                                  col(ProcedureVersionRow.effective_from))).all()
    return list({row.code: row for row in rows}.values())


@router.get("/procedures", summary="Tìm thủ tục để nộp trực tuyến (không phân biệt dấu)")
def procedures(session: SessionDep,
               q: Annotated[str, Query(max_length=200)] = "") -> list[PublicProcedure]:
    """The catalogue's ranked search (``engine.catalogue_search``), at most 20 hits."""
    found = []
    for hit in rank(nfc(q), _latest(session))[:20]:
        spec = ProcedureSpec.from_dict(hit.entry.spec)
        found.append(PublicProcedure(code=spec.code, name=spec.name, field=spec.field,
                                     level=spec.level,
                                     time_limit_label=spec.limit.explained_label_vi))
    return found


#: The procedure's competent agencies, each with the one-stop unit that serves it (those with
#: none are not listed), in one statement rather than every agency of the tree.
_UNIT = aliased(Agency)
_ROUTES = (select(Agency.code, Agency.name, _UNIT.code, _UNIT.name)
           .select_from(AgencyProcedure)
           .join(Agency, col(Agency.code) == col(AgencyProcedure.agency_code))
           .join(_UNIT, col(_UNIT.code) == col(Agency.one_stop_code))
           .where(col(AgencyProcedure.procedure_code) == bindparam("procedure"),
                  col(AgencyProcedure.relation) == "competent")
           .order_by(col(Agency.code)))


def _agencies(session: Session, procedure: str) -> list[PublicAgency]:
    """Where the procedure is processed (the tree's competent agencies that a one-stop unit
    serves) and the unit that receives a dossier for each: the citizen picks one."""
    return [PublicAgency(code=code, name=name, receiving_code=unit, receiving_name=unit_name)
            for code, name, unit, unit_name in session.execute(
                _ROUTES, {"procedure": procedure})]


def _spec(session: Session, code: str) -> ProcedureSpec:
    try:
        return version_in_force(session, code=code, on=now_local().date())
    except LookupError as exc:
        raise Problem(404, "procedure-not-found", str(exc)) from None


@router.get("/procedures/{code}", summary="Thông tin thủ tục để nộp trực tuyến")
def procedure(code: str, request: Request, session: SessionDep) -> PublicProcedureDetail:
    spec = _spec(session, code)
    settings, _ = files_config(request.app)
    return PublicProcedureDetail(
        code=spec.code, name=spec.name, field=spec.field, level=spec.level,
        time_limit_label=spec.limit.explained_label_vi,
        time_limit={"amount": spec.limit.amount, "unit": spec.limit.unit.value},
        components=[PublicComponent(id=str(i), name=c.name, required=c.required,
                                    originals=c.originals, copies=c.copies)
                    for i, c in enumerate(spec.components, start=1)],
        fees=[PublicFee(name=str(f.get("name", "")), amount_vnd=f.get("amount_vnd"),
                        note=f.get("note")) for f in spec.fees],
        result_type=spec.result_type, result_online=result_online(spec),
        agencies=_agencies(session, spec.code),
        max_file_mb=settings.max_file_bytes / 2**20,
        max_dossier_mb=settings.max_dossier_bytes / 2**20)


@router.get("/submissions/challenge", summary="Thử thách chống gửi tự động (proof of work)")
def challenge(request: Request) -> Challenge:
    return Challenge(**hashcash.issue(request.app.state.signing_key, request.app.state.clock(),
                                      hashcash.PowSettings.from_env()))


# ----- the upload machinery ---------------------------------------------------------------

def _too_many(wait: float) -> Problem:
    return Problem(429, "rate-limited", TOO_MANY.format(minutes=max(int(wait // 60) + 1, 1)),
                   headers={"Retry-After": str(int(wait) + 1)})


def _stream(request: Request) -> AsyncIterator[bytes]:
    receive = request.scope.get(RECEIVE, request.receive)
    return Request(request.scope, receive=receive).stream()


async def _read(request: Request, settings: FileSettings, store: BlobStore) -> LimitedForm:
    try:
        return await read_form(Headers(scope=request.scope), _stream(request),
                               max_file=settings.max_file_bytes,
                               max_total=settings.max_dossier_bytes, max_files=MAX_FILES,
                               store=store)
    except FileRefused as exc:  # refused while streaming: the parser names the file's field
        raise refused(exc, getattr(exc, "field", None)) from None
    except (BadForm, KeyError) as exc:
        raise Problem(400, "bad-form", str(exc) if isinstance(exc, BadForm) else
                      "Biểu mẫu gửi lên không hợp lệ (thiếu boundary).") from None


def _component_files(form: LimitedForm, spec: ProcedureSpec) -> dict[str, Any]:
    """``file-<n>`` → the upload, ``n`` a component of the procedure; any other file field
    is refused (it would otherwise be dropped without a word)."""
    found = {}
    for name, upload in form.files.items():
        match = _FILE_FIELD.match(name)
        if not match or int(match[1]) > len(spec.components):
            raise Problem(422, "component-unknown", f"Trường tệp “{name}” không ứng với thành "
                          "phần nào của thủ tục.", errors=[{"field": name, "message": "thừa"}])
        found[match[1]] = upload
    return found


async def _store(files: dict[str, Any], settings: FileSettings, store: BlobStore,
                 kind: AttachmentKind) -> list[journal.IncomingFile]:
    """Put each file in the store (synced and named), before the transaction."""
    incoming = []
    for component_id, upload in sorted(files.items(), key=lambda item: int(item[0])):
        try:
            blob = await run_in_threadpool(_put, upload, store, settings.max_file_bytes)
        except FileRefused as exc:
            raise refused(exc, f"file-{component_id}") from None
        incoming.append(journal.IncomingFile.of(blob, kind=kind, file_name=upload.filename,
                                                component_id=component_id))
    return incoming


def _put(upload: Any, store: BlobStore, max_bytes: int) -> StoredBlob:
    return staged(upload, store, max_bytes=max_bytes).finish()


def _file_out(f: journal.IncomingFile) -> SubmittedFile:
    return SubmittedFile(component_id=f.component_id, file_name=f.file_name, size=f.blob.size,
                         media_type=f.blob.media_type.value, sha256=f.blob.sha256)


def _handed_in(spec: ProcedureSpec, ids: set[str]) -> list[dict[str, Any]]:
    """The components a file was sent for, as the counter records them: an electronic copy
    stands for the originals and copies the procedure asks (they are checked at receipt)."""
    return [{"name": c.name, "originals": c.originals, "copies": c.copies}
            for i, c in enumerate(spec.components, start=1) if str(i) in ids]


# ----- the submission ----------------------------------------------------------------------

def _checked(form: LimitedForm) -> SubmissionIn:
    raw = form.fields.get("submission")
    if raw is None:
        raise Problem(422, "validation", "Thiếu thông tin hồ sơ (trường “submission”).",
                      errors=[{"field": "submission", "message": "bắt buộc"}])
    try:
        return SubmissionIn.model_validate(json.loads(raw))
    except json.JSONDecodeError:
        raise Problem(422, "validation", "Trường “submission” phải là JSON.") from None
    except ValidationError as exc:
        errors = readable_errors(exc.errors())
        raise Problem(422, "validation", errors[0]["message"] if errors else str(exc),
                      errors=errors) from None


def _route(session: Session, body: SubmissionIn, spec: ProcedureSpec) -> PublicAgency:
    """The agency the citizen chose from the procedure's list (the only one if one)."""
    agencies = _agencies(session, spec.code)
    if not agencies:
        raise Problem(422, "not-online", "Thủ tục này chưa nhận hồ sơ trực tuyến ở đơn vị nào; "
                      "vui lòng nộp tại Bộ phận Một cửa.")
    chosen = body.competent_agency or (agencies[0].code if len(agencies) == 1 else None)
    match = next((a for a in agencies if a.code == chosen), None)
    if match is None:
        raise Problem(422, "validation", "Hãy chọn nơi giải quyết trong danh sách của thủ tục.",
                      errors=[{"field": "competent_agency",
                               "message": "chọn một trong: " + ", ".join(a.code
                                                                        for a in agencies)}])
    return match


def _return_checks(body: SubmissionIn, spec: ProcedureSpec) -> None:
    if body.return_method is ReturnMethod.ONLINE and not result_online(spec):
        raise Problem(422, "validation", "Thủ tục này không trả kết quả điện tử; hãy chọn nhận "
                      "tại Bộ phận Một cửa hoặc qua bưu chính.",
                      errors=[{"field": "return_method", "message": "không áp dụng"}])
    if body.return_method is ReturnMethod.POST and not (body.recipient_address
                                                        or body.applicant.address):
        raise Problem(422, "validation", "Nhận kết quả qua bưu chính: hãy nhập địa chỉ nhận.",
                      errors=[{"field": "recipient_address", "message": "bắt buộc"}])


def _contacts(body: SubmissionIn) -> list[str]:
    found = [f"phone:{body.applicant.phone}"] if body.applicant.phone else []
    if body.applicant.email:
        found.append(f"email:{body.applicant.email.lower()}")
    return found


def _id_number(body: SubmissionIn) -> str:
    try:
        return check_citizen_id(body.applicant.id_number, birth_date=body.applicant.birth_date,
                                sex=body.applicant.sex).number
    except ValueError as exc:
        raise Problem(422, "validation", str(exc),
                      errors=[{"field": "applicant.id_number", "message": str(exc)}]) from None


def lookup_url(code: str, secret: str) -> str:
    return f"/tra-cuu?ma={code}&k={secret}"


def _create(session: Session, settings: FileSettings, body: SubmissionIn, id_number: str,
            spec: ProcedureSpec, where: PublicAgency, files: list[journal.IncomingFile],
            rid: str | None) -> tuple[Dossier, list[str]]:
    """The dossier, its event naming the files, the rows and the applicant's message, in the
    caller's transaction (it commits)."""
    journal.check_dossier_limit(session, None, files, settings.max_dossier_bytes)
    result = lifecycle.receive(
        session, actor=applicant_actor(where.receiving_code), procedure_code=spec.code,
        applicant=lifecycle.Applicant(name=body.applicant.name, id_number=id_number,
                                      address=body.applicant.address,
                                      phone=body.applicant.phone,
                                      email=body.applicant.email),
        components=_handed_in(spec, {f.component_id for f in files}),
        competent_agency=where.code, return_method=body.return_method.value,
        recipient_address=body.recipient_address, online=True, request_id=rid,
        files=journal.payload_entries(files))
    dossier = result.dossier
    journal.record_all(session, dossier_id=dossier.id, event_seq=result.event.seq,
                       files=files, uploaded_by=applicant_actor("").id)
    return dossier, _announce(session, dossier, result.event.seq, where)


class _KnownNames(Directory):
    """The directory of a submission's message, knowing the two agencies' names read with the
    route (a statement fewer in the dossier's transaction); any other is read as usual."""

    def __init__(self, session: Session, where: PublicAgency) -> None:
        super().__init__(session)
        self.known = {where.code: where.name, where.receiving_code: where.receiving_name}

    def learn_names(self, *codes: str | None) -> None:
        super().learn_names(*(code for code in codes if code not in self.known))

    def agency_name(self, code: str | None) -> str:
        return self.known.get(code or "") or super().agency_name(code)


def _announce(session: Session, dossier: Dossier, seq: int, where: PublicAgency) -> list[str]:
    """The code and secret to the applicant through the outbox, with the submission."""
    channels = timed_events._channels_of(session)
    if channels is None:
        channels = ApplicantChannels.from_env()
    link = public_base_url().rstrip("/") + lookup_url(dossier.code, dossier.secret)
    drafts = drafts_for_submission(session, dossier, seq=seq, lookup=link, channels=channels,
                                   directory=_KnownNames(session, where))
    enqueue(session, drafts)
    return sorted({d.channel.value for d in drafts})


@router.post("/submissions", status_code=201, summary="Nộp hồ sơ trực tuyến",
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {
                 "schema": {"type": "object", "properties": {
                     "submission": {"type": "string", "description": "SubmissionIn (JSON)"}},
                     "additionalProperties": {"type": "string", "format": "binary"}}}}}})
async def submit(request: Request,
                 x_pow_challenge: Annotated[str | None, Header(max_length=200)] = None,
                 x_pow_nonce: Annotated[str | None, Header(max_length=40)] = None,
                 ) -> Submitted:
    app = request.app
    await run_in_threadpool(_admit, app, client_address(request), x_pow_challenge, x_pow_nonce)
    settings, store = files_config(app)
    form = await _read(request, settings, store)
    try:
        body = _checked(form)
        id_number = _id_number(body)
        dossier, notified, where, files = await run_in_threadpool(
            _accept, app, body, id_number, form, settings, store, request_id(request))
    finally:
        await form.close()
    return Submitted(code=dossier.code, secret=dossier.secret, status_code=dossier.status_code,
                     status=State(dossier.state).label_vi, procedure=dossier.procedure_name,
                     submitted_at=to_local(dossier.submitted_at or datetime.now(UTC)).isoformat(),
                     receiving_agency=where.receiving_name,
                     files=[_file_out(f) for f in files],
                     lookup_url=lookup_url(dossier.code, dossier.secret), notified=notified)


def _admit(app: Any, address: str, challenge: str | None, nonce: str | None) -> None:
    """Before a byte of the body: the address's rate limit, then the proof of work, spent —
    one transaction (the hit counts even when the proof is refused; a refused hit records
    nothing and spends nothing)."""
    with Session(app.state.engine) as session:
        wait = app.state.limits.submit_address_wait_in(session, address)
        if wait:
            session.rollback()
            raise _too_many(wait)
        now = app.state.clock()
        try:
            ident, expires = hashcash.check(app.state.signing_key, challenge, nonce, now,
                                            hashcash.PowSettings.from_env())
            hashcash.spend_in(session, ident, expires, now)
        except hashcash.PowRefused as exc:
            session.commit()
            raise Problem(400, exc.code, str(exc),
                          title="Cần xác nhận chống gửi tự động") from None
        session.commit()


def _accept(app: Any, body: SubmissionIn, id_number: str, form: LimitedForm,
            settings: FileSettings, store: BlobStore, rid: str | None,
            ) -> tuple[Dossier, list[str], PublicAgency, list[journal.IncomingFile]]:
    """Once the form is read, on one connection: the rate limit per phone and e-mail with
    the procedure and the agency read (committed: the hits count whatever follows), the
    checks, the files staged (written, hashed, checked), then the dossier's transaction —
    its statements run while the files are synced, and it commits once they are durable."""
    with app.state.engine.connect() as connection, \
            Session(bind=connection, expire_on_commit=False) as session:
        wait = app.state.limits.submit_contact_wait_in(session, _contacts(body))
        if wait:
            session.rollback()
            raise _too_many(wait)
        try:
            spec = _spec(session, body.procedure)
            where = _route(session, body, spec)
        finally:
            session.commit()
        _return_checks(body, spec)
        uploads = _component_files(form, spec)
        missing = [c.name for i, c in enumerate(spec.components, start=1)
                   if c.required and str(i) not in uploads]
        if missing:
            raise Problem(422, "components-missing", "Chưa đính kèm tệp cho thành phần bắt "
                          "buộc: " + "; ".join(missing), missing=missing)
        durable, files = _staged(uploads, settings, store)
        try:
            dossier, notified = _create(session, settings, body, id_number, spec, where,
                                        files, rid)
        except BaseException:
            futures.wait(durable)  # a refusal leaves orphan blobs, as a put before it would
            raise
        for done in durable:  # the bytes are durable before a row names them
            done.result()
        session.commit()
        return dossier, notified, where, files


#: Syncs the staged files of a submission, each on its own thread, while its transaction runs.
_SYNC = futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="motcua-sync")


def _staged(files: dict[str, Any], settings: FileSettings, store: BlobStore,
            ) -> tuple[list[futures.Future[StoredBlob]], list[journal.IncomingFile]]:
    """Each file staged in the store (written and hashed while the form was parsed, or
    copied from its spool now), then synced and named on a thread of its own (:data:`_SYNC`)
    while the transaction runs: the syncs to wait for before the commit, and the files. A
    refused file stops the rest (those before it become orphan blobs, as with ``put``)."""
    durable, found = [], []
    for component_id, upload in sorted(files.items(), key=lambda item: int(item[0])):
        try:
            blob = staged(upload, store, max_bytes=settings.max_file_bytes)
        except FileRefused as exc:
            futures.wait(durable)
            raise refused(exc, f"file-{component_id}") from None
        durable.append(_SYNC.submit(blob.finish))
        found.append(journal.IncomingFile.of(blob.blob, kind=AttachmentKind.COMPONENT,
                                             file_name=upload.filename,
                                             component_id=component_id))
    return durable, found


# ----- the applicant's supplement before receipt --------------------------------------------

def _supplement(app: Any, code: str, secret: str, address: str,
                files: list[journal.IncomingFile], rid: str | None) -> Dossier:
    """``receive_supplement`` as the applicant, with the files named in its event: one
    transaction; the dossier goes back to ``submitted`` for the clerk (no clock, T15)."""
    settings, _ = files_config(app)
    with Session(app.state.engine, expire_on_commit=False) as session:
        dossier = guarded_lookup(session, app.state.limits, code, secret, address)
        spec = lifecycle.spec_of(session, dossier)
        journal.check_dossier_limit(session, dossier.id, files, settings.max_dossier_bytes)
        result = lifecycle.act(
            session, code=dossier.code, action=Action.RECEIVE_SUPPLEMENT,
            actor=applicant_actor(dossier.receiving_agency),
            reason="Người nộp hồ sơ bổ sung trực tuyến",
            payload={"components": _handed_in(spec, {f.component_id for f in files}),
                     journal.FILES: journal.payload_entries(files)}, request_id=rid)
        journal.record_all(session, dossier_id=result.dossier.id, event_seq=result.event.seq,
                           files=files, uploaded_by=applicant_actor("").id)
        session.commit()
        return result.dossier


@router.post("/dossiers/{code}/supplements", status_code=201,
             summary="Người nộp bổ sung hồ sơ trực tuyến (trước khi tiếp nhận, cần mã tra cứu)")
async def supplement(code: str, request: Request,
                     x_dossier_secret: Annotated[str, Header(min_length=1, max_length=64)],
                     ) -> SupplementDone:
    """Files ``file-<n>`` for the components the supplement request (Mẫu 02) asked for; the
    secret in ``X-Dossier-Secret`` (a wrong one answers like an unknown code, slowed)."""
    app = request.app
    address = client_address(request)
    wait = await run_in_threadpool(app.state.limits.submit_address_wait, address)
    if wait:
        raise _too_many(wait)
    with Session(app.state.engine) as session:  # the secret before a byte of the files
        dossier = guarded_lookup(session, app.state.limits, code, x_dossier_secret, address)
        spec = lifecycle.spec_of(session, dossier)
        if supplement_guidance(session, dossier) is None:
            raise Problem(409, "not-awaiting-supplement", "Hồ sơ không ở trạng thái chờ bổ sung "
                          "trực tuyến; tài liệu bổ sung sau khi tiếp nhận nộp tại Bộ phận Một "
                          "cửa.")
    settings, store = files_config(app)
    form = await _read(request, settings, store)
    try:
        uploads = _component_files(form, spec)
        if not uploads:
            raise Problem(422, "file-missing", "Chưa chọn tệp bổ sung nào.")
        files = await _store(uploads, settings, store, AttachmentKind.SUPPLEMENT)
    finally:
        await form.close()
    dossier = await run_in_threadpool(_supplement, app, code, x_dossier_secret, address, files,
                                      request_id(request))
    return SupplementDone(code=dossier.code, status_code=dossier.status_code,
                          status=State(dossier.state).label_vi,
                          files=[_file_out(f) for f in files])

