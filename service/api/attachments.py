"""A dossier's files (*tài liệu đính kèm*): staff attach them at a step, list and download
them; the applicant downloads them with the lookup secret (issue 16).

Uploads are streamed. The global body cap and NUL check (``problems.RejectNul``) and the
retry middleware (``resilience.DatabaseRetry``) both buffer a whole body, which would hold a
50 MB scan in memory and refuse any PDF (PDFs contain NUL bytes). :class:`StreamedUploads`,
the outermost middleware, hands the upload routes' real body channel to the route through
the scope and passes the buffering middlewares an empty body instead; it applies the route's
own cap (the per-file limit plus the form's overhead): a declared ``Content-Length`` above it
is refused before a byte is read, a chunked body as soon as it passes it. The route parses
the form (Starlette spools each file to disk past 1 MB), hashes and stores it chunk by chunk
(``engine.files.store``), then records it in one transaction with its journal event
(``engine.files.journal``).

Scope: a dossier outside the caller's scope is 404 like an unknown code
(``engine.lifecycle.visibility``); the applicant's download goes through the rate-limited
lookup of code and secret (``service.publicview.guarded_lookup``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect

from engine import lifecycle
from engine.files import journal
from engine.files.models import Attachment, AttachmentKind
from engine.files.records import files_of, total_size
from engine.files.settings import FileSettings
from engine.files.store import CHUNK, BlobStore, FileRefused
from engine.lifecycle import idempotency
from engine.lifecycle.models import Dossier
from engine.lifecycle.policy import may_attach
from engine.lifecycle.visibility import visible_dossier
from engine.text import fold, nfc
from engine.timezone import to_local
from engine.users import Role, User
from service.api.schemas.attachments import AttachmentList, AttachmentOut, AttachmentsAdded
from service.clientip import client_address
from service.deps import CurrentUser, SessionDep, actor_of, request_id
from service.problems import Problem
from service.publicview import guarded_lookup
from service.reads import journal_read
from service.streaming import RECEIVE, files_config, refused
from service.uploads import chunks

router = APIRouter(tags=["attachments"])
STAFF = "/api/v1/dossiers/{code}/attachments"
PUBLIC = "/api/v1/public/dossiers/{code}/attachments"
_PARSED = "motcua.upload_files"  # files already stored, if the retry middleware runs again
#: the kinds staff choose from, the likeliest first (the counter scans originals)
KIND_ORDER = (AttachmentKind.SCAN, AttachmentKind.COMPONENT, AttachmentKind.RESULT,
              AttachmentKind.SUPPLEMENT, AttachmentKind.OTHER)


async def _stored_files(request: Request, spec: Any) -> list[journal.IncomingFile]:
    """Parse the form from the real body channel and store its file, streamed; the files
    stored by a first run of this request when the retry middleware runs it again."""
    if _PARSED in request.scope:
        return request.scope[_PARSED]
    settings, store = files_config(request.app)
    body = Request(request.scope, receive=request.scope.get(RECEIVE, request.receive))
    try:
        form = await body.form(max_files=1, max_fields=8, max_part_size=64 * 1024)
    except ClientDisconnect:
        raise Problem(400, "client-disconnect", "Kết nối bị ngắt khi đang tải tệp lên.") \
            from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "file-missing", "Chưa chọn tệp để đính kèm (trường “file”).")
        kind = _kind(form.get("kind"))
        component = nfc(str(form.get("component_id") or ""), strip=True) or None
        journal.component_name(spec, component)  # UnknownComponent before storing anything
        blob = await run_in_threadpool(store.put, chunks(upload),
                                       max_bytes=settings.max_file_bytes)
        files = [journal.IncomingFile.of(blob, kind=kind, file_name=upload.filename,
                                         component_id=component)]
    except FileRefused as exc:
        raise refused(exc) from None
    finally:
        await form.close()
    request.scope[_PARSED] = files
    return files


def _kind(raw: Any) -> AttachmentKind:
    try:
        return AttachmentKind(str(raw or AttachmentKind.SCAN.value).strip())
    except ValueError:
        raise Problem(422, "validation", "Loại tài liệu không hợp lệ.",
                      allowed=[k.value for k in AttachmentKind]) from None


# ----- answers -----------------------------------------------------------------------------

def attachment_out(row: Attachment, url: str) -> AttachmentOut:
    return AttachmentOut(
        id=row.id, kind=row.kind, kind_label=AttachmentKind(row.kind).label_vi,
        component_id=row.component_id, file_name=row.file_name, media_type=row.media_type,
        size=row.size, sha256=row.sha256, uploaded_at=to_local(row.uploaded_at).isoformat(),
        uploaded_by=row.uploaded_by, event_seq=row.event_seq, url=url)


def _staff_url(code: str, row: Attachment) -> str:
    return f"{STAFF.format(code=quote(code, safe=''))}/{row.id}"


def content_disposition(file_name: str, *, inline: bool = True) -> str:
    """``inline`` (the browser previews a PDF or an image) with an ASCII fallback name and
    the real one in RFC 5987's ``filename*`` (UTF-8, percent-encoded)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]+", "_", fold(file_name).replace(" ", "_")) or "tep"
    return (f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
            f"filename*=UTF-8''{quote(file_name, safe='')}")


class FileBytes(StreamingResponse):
    """A file's bytes (documented as such in /openapi.json, never as JSON)."""

    media_type = "application/octet-stream"


def download(store: BlobStore, row: Attachment, *, inline: bool = True) -> StreamingResponse:
    """The file's bytes, streamed from the store, typed by what its bytes are (never the
    uploader's word), with ``nosniff`` so the browser does not guess another type."""
    try:
        handle = store.open(row.sha256)
    except FileNotFoundError:
        raise Problem(404, "attachment-missing",
                      "Không tìm thấy nội dung tệp trong kho lưu trữ.") from None

    def body() -> Iterator[bytes]:
        try:
            while chunk := handle.read(CHUNK):
                yield chunk
        finally:
            handle.close()

    return FileBytes(body(), media_type=row.media_type, headers={
        "Content-Length": str(row.size), "Content-Disposition":
            content_disposition(row.file_name, inline=inline),
        "X-Content-Type-Options": "nosniff", "ETag": f"\"{row.sha256}\"",
        "Cache-Control": "private, no-cache",
        # shown in the dossier page's frame, never framed by another site (no ``sandbox``:
        # the browser's PDF viewer refuses to run in a sandboxed document)
        "Content-Security-Policy": "frame-ancestors 'self'"})


def _row_of(session: Session, dossier: Dossier, attachment_id: int) -> Attachment:
    row = session.exec(select(Attachment).where(Attachment.id == attachment_id,
                                                Attachment.dossier_id == dossier.id)).first()
    if row is None:
        raise Problem(404, "attachment-not-found", "Không tìm thấy tệp đính kèm này.")
    return row


# ----- staff routes ------------------------------------------------------------------------

@router.post(STAFF, status_code=201, summary="Đính kèm tài liệu vào hồ sơ (cán bộ)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "multipart/form-data": {"schema": {
                     "type": "object", "required": ["file"], "properties": {
                         "file": {"type": "string", "format": "binary"},
                         "kind": {"type": "string", "enum": [k.value for k in AttachmentKind]},
                         "component_id": {"type": "string", "pattern": "^[0-9]{1,3}$"}}}}}}})
async def upload(code: str, request: Request, session: SessionDep,
                 user: CurrentUser) -> AttachmentsAdded:
    """One file (PDF, JPEG or PNG, checked by its bytes) attached at the dossier's current
    step by whoever may act on it now; the journal event ``attach`` names its SHA-256.
    413 over the per-file or per-dossier limit, 415 another type, 422 empty."""
    _dossier, spec = await run_in_threadpool(_attachable, session, user, code)
    files = await _stored_files(request, spec)
    settings, _store = files_config(request.app)
    return await run_in_threadpool(_attach, session, user, code, files, settings,
                                   request_id(request))


def _attachable(session: Session, user: User, code: str) -> tuple[Dossier, Any]:
    """The dossier if the user may attach to it now, before a byte is stored."""
    if user.role in (Role.AUDITOR, Role.ADMIN):
        raise Problem(403, "forbidden", "Vai trò này chỉ được xem, không được thao tác hồ sơ.")
    dossier = visible_dossier(session, user, code)
    spec = lifecycle.spec_of(session, dossier)
    if not may_attach(dossier, spec, actor_of(user)):
        raise Problem(403, "forbidden", f"Lúc này bạn không được đính kèm tài liệu vào hồ sơ "
                      f"{dossier.code} (chỉ người đang được thực hiện thao tác trên hồ sơ).")
    session.rollback()  # the action below starts its own transaction and takes the row lock
    return dossier, spec


def _attach(session: Session, user: User, code: str, files: list[journal.IncomingFile],
            settings: FileSettings, request_id: str | None) -> AttachmentsAdded:
    def once() -> tuple[Any, list[Attachment]]:
        done = journal.attach(session, code=code, actor=actor_of(user), files=files,
                              max_dossier_bytes=settings.max_dossier_bytes,
                              request_id=request_id)
        session.commit()
        return done

    try:
        result, rows = idempotency.retrying(session, once)
    except FileRefused as exc:
        session.rollback()
        raise refused(exc) from None
    except Exception:
        session.rollback()
        raise
    return AttachmentsAdded(items=[attachment_out(r, _staff_url(code, r)) for r in rows],
                            event_seq=result.event.seq, version=result.dossier.version)


@router.get(STAFF, summary="Danh sách tài liệu đính kèm của hồ sơ")
def listing(code: str, request: Request, session: SessionDep,
            user: CurrentUser) -> AttachmentList:
    dossier = visible_dossier(session, user, code)
    settings, _store = files_config(request.app)
    spec = lifecycle.spec_of(session, dossier)
    can = user.role not in (Role.AUDITOR, Role.ADMIN) and may_attach(dossier, spec,
                                                                      actor_of(user))
    return AttachmentList(
        items=[attachment_out(r, _staff_url(dossier.code, r))
               for r in files_of(session, dossier.id)],
        total_size=total_size(session, dossier.id), max_file_bytes=settings.max_file_bytes,
        max_dossier_bytes=settings.max_dossier_bytes, can_attach=can,
        components=[c.name for c in spec.components],
        kind_labels={k.value: k.label_vi for k in KIND_ORDER})


@router.get(STAFF + "/{attachment_id}", summary="Tải/xem một tài liệu đính kèm",
            response_class=FileBytes,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {},
                                         "image/png": {}}}})
def staff_download(code: str, attachment_id: int, request: Request, session: SessionDep,
                   user: CurrentUser,
                   inline: Annotated[bool, Query(description="xem trong trình duyệt")] = True,
                   ) -> StreamingResponse:
    dossier = visible_dossier(session, user, code)
    row = _row_of(session, dossier, attachment_id)
    journal_read(request, session, user, dossier.code, "document",
                 document=f"attachment:{row.id}")
    return download(files_config(request.app)[1], row, inline=inline)


# ----- the applicant, with the secret ------------------------------------------------------

@router.get(PUBLIC, summary="Tài liệu đính kèm của hồ sơ (công dân, có mã tra cứu)")
def public_listing(code: str, request: Request, session: SessionDep,
                   secret: Annotated[str, Query(min_length=1, max_length=64)],
                   ) -> list[AttachmentOut]:
    dossier = guarded_lookup(session, request.app.state.limits, code, secret,
                             client_address(request))
    base = PUBLIC.format(code=quote(dossier.code, safe=""))
    return [attachment_out(r, f"{base}/{r.id}") for r in files_of(session, dossier.id)]


@router.get(PUBLIC + "/{attachment_id}", summary="Tải một tài liệu đính kèm (công dân)",
            response_class=FileBytes,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {},
                                         "image/png": {}}}})
def public_download(code: str, attachment_id: int, request: Request, session: SessionDep,
                    secret: Annotated[str, Query(min_length=1, max_length=64)],
                    ) -> StreamingResponse:
    """A wrong secret answers like an unknown code (and counts against the lookup limits)."""
    dossier = guarded_lookup(session, request.app.state.limits, code, secret,
                             client_address(request))
    return download(files_config(request.app)[1], _row_of(session, dossier, attachment_id))
