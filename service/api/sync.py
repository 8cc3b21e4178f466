"""Dossiers submitted on the national portal (*Cổng Dịch vụ công quốc gia*), taken into the
clerk's review queue: ``POST /api/v1/sync/inbound`` (issue 17; docs/sync.md "Inbound").

The portal sends one dossier in its own vocabulary (:class:`PortalDossierIn`: ``MaHoSo``,
``MaTTHC``, ``ChuHoSo``, ``TaiLieuNop[]`` …), signed like MotCua's own webhook
(``service/delivery/webhook.py``): ``X-MotCua-Timestamp`` (Unix seconds) and
``X-MotCua-Signature: sha256=<hex>``, HMAC-SHA256 with ``MOTCUA_PORTAL_SECRET`` over
``"<timestamp>.<raw body>"``, the timestamp within 5 minutes of the server's clock. Checked
cheapest first, each refusal a problem+json in Vietnamese that leaves no dossier and no row:

1. the secret is configured (else 503: the route is closed, not open to anyone);
2. the signature headers and the timestamp, before a byte of the body is read;
3. the body, counted as it arrives (its own cap, ``MOTCUA_SYNC_INBOUND_MAX_MB``: base64 files
   do not fit the global 1 MiB cap), then the signature over it;
4. the fields (pydantic, NFC), then the portal's id: a repeat of the same body answers 200
   with the dossier made the first time and creates nothing, another body under the same id
   is 409 — before any file is fetched;
5. the procedure, the agency, the components, the CCCD;
6. the files — base64 decoded, or fetched from an https address with a time and size limit —
   checked by content and stored (``engine.files``) like the online form's;
7. one transaction: the dossier (``submitted``, status 1, channel online) made by the
   applicant's ``submit`` (``engine.lifecycle.policy.applicant_actor`` of the receiving
   unit), its event naming every file's hash, the attachment rows and the portal's id.

The applicant is not sent MotCua's code and secret: the portal is where it applied and where
it follows its dossier (the statuses go back by the outbound sync).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from engine import lifecycle
from engine.agencies import Agency, competent_agencies
from engine.files import journal
from engine.files.models import Attachment, AttachmentKind
from engine.files.settings import FileSettings
from engine.files.store import CHUNK, BlobStore, FileRefused, FileTooLarge
from engine.lifecycle.models import Dossier
from engine.lifecycle.policy import applicant_actor
from engine.lifecycle.states import ReturnMethod, State
from engine.procedures import ProcedureSpec, result_online, version_in_force
from engine.settings import positive_number
from engine.timezone import now_local, to_local
from service.api.schemas.submissions import SubmittedFile
from service.api.schemas.sync import (
    RETURN_METHODS,
    PortalDocumentIn,
    PortalDossierIn,
    PortalDossierTaken,
)
from service.delivery.webhook import TOLERANCE, signature
from service.deps import request_id
from service.problems import Problem, problem_response
from service.streaming import RECEIVE, files_config, refused, stream_route
from service.validation import check_citizen_id, readable_errors

PATH = "/api/v1/sync/inbound"
router = APIRouter(prefix="/api/v1/sync", tags=["sync"])
_BODY = "motcua.sync_inbound_body"  # the body read by a first run, if the retry runs again


# ----- settings ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class InboundSettings:
    """``MOTCUA_PORTAL_SECRET`` (shared with the outbound push), the body cap
    (``MOTCUA_SYNC_INBOUND_MAX_MB``, 30), the time a file's download may take
    (``MOTCUA_SYNC_FETCH_TIMEOUT``, 20 s) and, for tests and a local portal only, plain http
    addresses (``MOTCUA_SYNC_FETCH_ALLOW_HTTP=1``; https otherwise)."""

    secret: str
    max_body: int
    fetch_timeout: float
    allow_http: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> InboundSettings:
        return cls(secret=env.get("MOTCUA_PORTAL_SECRET", ""),
                   max_body=int(positive_number(env, "MOTCUA_SYNC_INBOUND_MAX_MB", 30) * 2**20),
                   fetch_timeout=positive_number(env, "MOTCUA_SYNC_FETCH_TIMEOUT", 20.0),
                   allow_http=env.get("MOTCUA_SYNC_FETCH_ALLOW_HTTP", "").strip().lower()
                   in {"1", "true", "yes", "on"})


def _too_large(cap: int) -> Problem:
    return Problem(413, "body-too-large", f"Hồ sơ gửi từ Cổng DVCQG lớn hơn giới hạn "
                   f"{cap / 2**20:.3g} MB (MOTCUA_SYNC_INBOUND_MAX_MB).",
                   headers={"Connection": "close"})


class InboundBodyCap:
    """ASGI middleware, outside ``streaming.StreamedUploads``: a declared ``Content-Length``
    above this route's own cap is refused before a byte is read, with this route's message
    (the streamed-uploads middleware, a byte behind as a backstop, would speak of a file's
    limit). A chunked body is counted by the route as it reads it (:func:`_body`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" \
                and scope["path"].rstrip("/") == PATH:
            cap = InboundSettings.from_env().max_body
            declared = dict(scope.get("headers", ())).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > cap:
                exc = _too_large(cap)
                await problem_response(exc.status, exc.type, exc.title, exc.detail,
                                       headers=exc.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the route, its streamed body (its own cap instead of the global 1 MiB one) and
    its request model in /openapi.json (the route reads its body itself)."""
    app.include_router(router)
    # a backstop one byte above the cap: the route's own count answers first
    stream_route("POST", r"^/api/v1/sync/inbound/?$",
                 lambda _s: InboundSettings.from_env().max_body + 1)
    app.add_middleware(InboundBodyCap)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        spec = build()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        if "PortalDossierIn" not in schemas:
            found = PortalDossierIn.model_json_schema(
                ref_template="#/components/schemas/{model}")
            schemas.update(found.pop("$defs", {}))
            schemas["PortalDossierIn"] = found
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


# ----- signature and body -----------------------------------------------------------------

def _unsigned(type_: str, detail: str) -> Problem:
    return Problem(401, type_, detail, title="Yêu cầu đồng bộ không được xác thực")


def _check_timestamp(timestamp: str | None, signed: str | None, now: datetime) -> None:
    """The headers are there and the timestamp is recent (a captured request cannot be
    replayed later; within the window, the portal's id makes a replay harmless)."""
    if not timestamp or not signed:
        raise _unsigned("signature-missing", "Thiếu chữ ký: cần tiêu đề X-MotCua-Timestamp và "
                        "X-MotCua-Signature.")
    if not timestamp.isdigit():
        raise _unsigned("bad-timestamp", "X-MotCua-Timestamp phải là số giây Unix.")
    if abs(now.timestamp() - int(timestamp)) > TOLERANCE:
        raise _unsigned("stale-timestamp", f"Thời điểm ký lệch quá {TOLERANCE // 60} phút so "
                        "với đồng hồ máy chủ; hãy ký lại yêu cầu.")


async def _body(request: Request, cap: int) -> bytes:
    """The raw body from the real channel, refused at the first byte past ``cap`` (kept in the
    scope: a second run of the request by the retry middleware cannot read it again)."""
    if _BODY in request.scope:
        return request.scope[_BODY]
    chunks, size = [], 0
    stream = Request(request.scope, receive=request.scope.get(RECEIVE, request.receive))
    try:
        async for chunk in stream.stream():
            size += len(chunk)
            if size > cap:
                raise _too_large(cap)
            chunks.append(chunk)
    except ClientDisconnect:
        raise Problem(400, "client-disconnect", "Kết nối bị ngắt khi đang gửi hồ sơ.") from None
    except Problem as exc:  # the streamed-uploads backstop, when one chunk passed both caps
        raise _too_large(cap) if exc.status == 413 else exc from None
    request.scope[_BODY] = body = b"".join(chunks)
    return body


def _check_signature(secret: str, timestamp: str, body: bytes, signed: str) -> None:
    if not hmac.compare_digest(signature(secret, timestamp, body), signed):
        raise _unsigned("bad-signature", "Chữ ký không đúng (HMAC-SHA256 bằng "
                        "MOTCUA_PORTAL_SECRET trên “<timestamp>.<nội dung>”).")


def _parsed(body: bytes) -> PortalDossierIn:
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Problem(400, "malformed-json", "Nội dung gửi lên không phải JSON hợp lệ.") \
            from None
    try:
        return PortalDossierIn.model_validate(raw)
    except ValidationError as exc:
        errors = readable_errors(exc.errors(), PATH)
        raise Problem(422, "validation", f"Có {len(errors)} trường dữ liệu chưa hợp lệ.",
                      errors=errors) from None


def digest(dossier: PortalDossierIn) -> str:
    """What the portal sent, normalised (NFC, key order, spacing do not matter): equal for a
    true repeat, different when the same id comes with other content."""
    canonical = json.dumps(dossier.model_dump(mode="json"), ensure_ascii=False,
                           sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ----- a repeat ----------------------------------------------------------------------------

def _answer(session: Session, dossier: Dossier, created: bool) -> PortalDossierTaken:
    rows = session.exec(select(Attachment).where(Attachment.dossier_id == dossier.id)
                        .order_by(col(Attachment.id))).all()
    return PortalDossierTaken(
        created=created, portal_id=dossier.portal_id or "", code=dossier.code,
        state=dossier.state, status_code=dossier.status_code,
        status=State(dossier.state).label_vi, procedure=dossier.procedure_name,
        receiving_agency=dossier.receiving_agency, competent_agency=dossier.competent_agency,
        submitted_at=to_local(dossier.submitted_at or datetime.now(UTC)).isoformat(),
        files=[SubmittedFile(component_id=r.component_id, file_name=r.file_name, size=r.size,
                             media_type=r.media_type, sha256=r.sha256) for r in rows])


def _earlier(engine: Any, portal_id: str, fingerprint: str) -> PortalDossierTaken | None:
    """The dossier this portal id already made (None: new); 409 when its body differed."""
    with Session(engine) as session:
        dossier = session.exec(select(Dossier).where(Dossier.portal_id == portal_id)).first()
        if dossier is None:
            return None
        if dossier.portal_digest != fingerprint:
            raise Problem(409, "portal-id-conflict", f"Hồ sơ {portal_id} của Cổng DVCQG đã được "
                          f"nhận (mã {dossier.code}) với nội dung khác; không tạo hồ sơ mới.",
                          code=dossier.code)
        return _answer(session, dossier, created=False)


# ----- what the dossier refers to ---------------------------------------------------------

def _spec(session: Session, code: str) -> ProcedureSpec:
    """The procedure in force today; a national code with a province suffix (``1.000948.H38``)
    is also looked up without it (the catalogue keeps the national code)."""
    for candidate in dict.fromkeys([code, code.rsplit(".", 1)[0] if code.count(".") > 1
                                    else code]):
        try:
            return version_in_force(session, code=candidate, on=now_local().date())
        except LookupError:
            continue
    raise Problem(422, "procedure-not-found", f"Thủ tục {code} không có trong danh mục thủ tục "
                  "của hệ thống (hoặc chưa có hiệu lực).",
                  errors=[{"field": "MaTTHC", "message": "không có trong danh mục"}])


def _route(session: Session, body: PortalDossierIn, spec: ProcedureSpec) -> tuple[str, str]:
    """(competent agency, the one-stop unit that receives for it): ``DonViXuLy`` from the
    procedure's agencies, or the only one."""
    rows = {a.code: a for a in session.exec(select(Agency))}
    served = [code for code in competent_agencies(session, procedure_code=spec.code)
              if code in rows and rows[code].one_stop_code in rows]
    chosen = body.DonViXuLy or (served[0] if len(served) == 1 else None)
    if chosen not in served:
        raise Problem(422, "agency-unknown", "Đơn vị xử lý không thuộc danh sách nơi giải quyết "
                      "thủ tục này." if served else "Thủ tục này chưa được giao cho đơn vị nào "
                      "tiếp nhận trực tuyến.",
                      errors=[{"field": "DonViXuLy",
                               "message": "chọn một trong: " + ", ".join(served)}])
    return chosen, rows[chosen].one_stop_code or chosen


def _check_components(body: PortalDossierIn, spec: ProcedureSpec) -> None:
    ids = {d.MaThanhPhanHoSo for d in body.TaiLieuNop}
    unknown = sorted(i for i in ids if int(i) > len(spec.components))
    if unknown:
        raise Problem(422, "component-unknown", f"Thành phần hồ sơ số {', '.join(unknown)} "
                      f"không có trong thủ tục (thủ tục có {len(spec.components)} thành phần).")
    missing = [c.name for i, c in enumerate(spec.components, start=1)
               if c.required and str(i) not in ids]
    if missing:
        raise Problem(422, "components-missing", "Chưa có tệp cho thành phần bắt buộc: "
                      + "; ".join(missing), missing=missing)


def _return_method(body: PortalDossierIn, spec: ProcedureSpec) -> str:
    method = RETURN_METHODS[body.HinhThucNhanKetQua]
    if method == ReturnMethod.ONLINE.value and not result_online(spec):
        raise Problem(422, "validation", "Thủ tục này không trả kết quả điện tử.",
                      errors=[{"field": "HinhThucNhanKetQua", "message": "không áp dụng"}])
    if method == ReturnMethod.POST.value and not (body.DiaChiNhanKetQua or body.DiaChi):
        raise Problem(422, "validation", "Nhận kết quả qua bưu chính: cần địa chỉ nhận.",
                      errors=[{"field": "DiaChiNhanKetQua", "message": "bắt buộc"}])
    return method


def _id_number(body: PortalDossierIn) -> str:
    try:
        return check_citizen_id(body.SoDinhDanh, birth_date=body.NgaySinh,
                                sex=body.GioiTinh).number
    except ValueError as exc:
        raise Problem(422, "validation", str(exc),
                      errors=[{"field": "SoDinhDanh", "message": str(exc)}]) from None


# ----- the files -----------------------------------------------------------------------------

class BadBase64(FileRefused):
    code = "bad-base64"


class FetchFailed(FileRefused):
    code = "file-unavailable"


def _decoded(text: str, max_bytes: int) -> Iterator[bytes]:
    """The bytes of a base64 file, in chunks; refused before decoding when too large."""
    packed = "".join(text.split())
    if len(packed) // 4 * 3 - packed[-2:].count("=") > max_bytes:
        raise FileTooLarge(max_bytes)
    try:
        data = base64.b64decode(packed, validate=True)
    except (binascii.Error, ValueError):
        raise BadBase64("Nội dung tệp (NoiDungBase64) không phải base64 hợp lệ.") from None
    return (data[i:i + CHUNK] for i in range(0, len(data), CHUNK))


def _fetched(url: str, settings: InboundSettings, max_bytes: int,
             client: httpx.Client) -> Iterator[bytes]:
    """The bytes at ``url``, streamed: no redirect, refused past ``max_bytes`` (by the
    store's reader) or after ``fetch_timeout`` seconds in all."""
    scheme = url.split(":", 1)[0].lower()
    if scheme != "https" and not (scheme == "http" and settings.allow_http):
        raise FetchFailed("Đường dẫn tải tệp phải dùng https.")
    deadline = time.monotonic() + settings.fetch_timeout
    try:
        with client.stream("GET", url, timeout=settings.fetch_timeout) as answer:
            if answer.status_code != 200:
                raise FetchFailed(f"Không tải được tệp: máy chủ trả lời HTTP "
                                  f"{answer.status_code}.")
            declared = answer.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise FileTooLarge(max_bytes)
            for chunk in answer.iter_bytes(CHUNK):
                if time.monotonic() > deadline:
                    raise FetchFailed(f"Tải tệp quá {settings.fetch_timeout:g} giây.")
                yield chunk
    except httpx.TimeoutException:
        raise FetchFailed(f"Máy chủ giữ tệp không trả lời trong {settings.fetch_timeout:g} "
                          "giây.") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"Không tải được tệp ({type(exc).__name__}).") from None


def _store_all(documents: list[PortalDocumentIn], files: FileSettings, store: BlobStore,
               settings: InboundSettings) -> list[journal.IncomingFile]:
    """Every file into the store, checked by content (PDF/JPEG/PNG), before the transaction;
    a refusal names the file (``TaiLieuNop.<n>``)."""
    incoming = []
    with httpx.Client(follow_redirects=False,
                      headers={"User-Agent": "MotCua-sync/1"}) as client:
        for n, document in enumerate(documents):
            try:
                chunks = (_decoded(document.NoiDungBase64, files.max_file_bytes)
                          if document.NoiDungBase64 is not None
                          else _fetched(document.DuongDanTaiTepTin or "", settings,
                                        files.max_file_bytes, client))
                blob = store.put(chunks, max_bytes=files.max_file_bytes)
            except FileRefused as exc:  # 413 too large, 415 type, 422 empty/base64/fetch
                raise refused(exc, f"TaiLieuNop.{n}") from None
            incoming.append(journal.IncomingFile.of(
                blob, kind=AttachmentKind.COMPONENT, file_name=document.TenTepDinhKem,
                component_id=document.MaThanhPhanHoSo))
    return incoming


def _handed_in(spec: ProcedureSpec, ids: set[str]) -> list[dict[str, Any]]:
    """The components a file came for, as the counter records them (as the online form)."""
    return [{"name": c.name, "originals": c.originals, "copies": c.copies}
            for i, c in enumerate(spec.components, start=1) if str(i) in ids]


# ----- the dossier -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Checked:
    body: PortalDossierIn
    fingerprint: str
    spec: ProcedureSpec
    competent: str
    receiving: str
    return_method: str
    id_number: str


def _check(engine: Any, body: PortalDossierIn, fingerprint: str) -> _Checked:
    with Session(engine) as session:
        spec = _spec(session, body.MaTTHC)
        competent, receiving = _route(session, body, spec)
    _check_components(body, spec)
    return _Checked(body, fingerprint, spec, competent, receiving,
                    _return_method(body, spec), _id_number(body))


def _create(app: Any, checked: _Checked, files: list[journal.IncomingFile],
            rid: str | None) -> PortalDossierTaken:
    """The dossier, its ``submit`` event naming the files, the rows and the portal's id: one
    transaction. Two deliveries racing past :func:`_earlier` meet at the unique id: the
    loser's transaction is rolled back and it answers like a repeat (or a conflict)."""
    body, settings = checked.body, files_config(app)[0]
    try:
        with Session(app.state.engine, expire_on_commit=False) as session:
            journal.check_dossier_limit(session, None, files, settings.max_dossier_bytes)
            result = lifecycle.receive(
                session, actor=applicant_actor(checked.receiving),
                procedure_code=checked.spec.code,
                applicant=lifecycle.Applicant(name=body.ChuHoSo, id_number=checked.id_number,
                                              address=body.DiaChi, phone=body.SoDienThoai,
                                              email=body.Email),
                components=_handed_in(checked.spec, {f.component_id for f in files}),
                competent_agency=checked.competent, return_method=checked.return_method,
                recipient_address=body.DiaChiNhanKetQua, online=True, request_id=rid,
                files=journal.payload_entries(files))
            dossier = result.dossier
            dossier.portal_id, dossier.portal_digest = body.MaHoSo, checked.fingerprint
            session.add(dossier)
            journal.record_all(session, dossier_id=dossier.id, event_seq=result.event.seq,
                               files=files, uploaded_by=applicant_actor("").id)
            answer = _answer(session, dossier, created=True)
            session.commit()
            return answer
    except FileRefused as exc:
        raise refused(exc) from None
    except IntegrityError:
        earlier = _earlier(app.state.engine, body.MaHoSo, checked.fingerprint)
        if earlier is None:
            raise
        return earlier


@router.post(
    "/inbound", status_code=201, response_model=PortalDossierTaken,
    summary="Nhận hồ sơ nộp trên Cổng Dịch vụ công quốc gia (có chữ ký HMAC)",
    responses={200: {"model": PortalDossierTaken,
                     "description": "Hồ sơ này đã được nhận trước đó (không tạo mới)"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/PortalDossierIn"}}}}})
async def inbound(request: Request,
                  x_motcua_timestamp: Annotated[str | None, Header(max_length=20)] = None,
                  x_motcua_signature: Annotated[str | None, Header(max_length=100)] = None,
                  ) -> Any:
    """A dossier submitted on the national portal → ``submitted`` in the receiving unit's
    review queue; idempotent by ``MaHoSo`` (200 with the same dossier)."""
    app = request.app
    settings = InboundSettings.from_env()
    if not settings.secret:
        raise Problem(503, "sync-not-configured", "Chưa cấu hình đồng bộ với Cổng DVCQG "
                      "(MOTCUA_PORTAL_SECRET): không nhận hồ sơ.",
                      title="Chức năng chưa cấu hình")
    _check_timestamp(x_motcua_timestamp, x_motcua_signature, app.state.clock())
    raw = await _body(request, settings.max_body)
    _check_signature(settings.secret, x_motcua_timestamp or "", raw, x_motcua_signature or "")
    body = _parsed(raw)
    fingerprint = digest(body)
    earlier = await run_in_threadpool(_earlier, app.state.engine, body.MaHoSo, fingerprint)
    if earlier is not None:
        return JSONResponse(earlier.model_dump(mode="json"), status_code=200)
    checked = await run_in_threadpool(_check, app.state.engine, body, fingerprint)
    files_settings, store = files_config(app)
    files = await run_in_threadpool(_store_all, body.TaiLieuNop, files_settings, store, settings)
    answer = await run_in_threadpool(_create, app, checked, files, request_id(request))
    if not answer.created:
        return JSONResponse(answer.model_dump(mode="json"), status_code=200)
    return answer
