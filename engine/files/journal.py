"""How a dossier's hash-chained journal covers its files (*nhật ký hồ sơ ghi nhận tệp*).

A file is stored by its SHA-256 (``engine.files.store``); the journal covers it by naming that
hash in the payload of the event of the action that brought it — ``files: [{sha256, size,
media_type, kind, component_id, file_name}]`` — and the ``attachment`` row remembers that
event (``event_seq``). The event's own hash covers its payload (``engine.lifecycle.audit``), so
changing a file's bytes (its name changes), its row's hash or the event's list is detected:
``motcua audit verify`` finds an edited event, :func:`uncovered_files` (run by
``engine.lifecycle.consistency``) a row its event does not name.

Two ways in, both one transaction with the rows:

- with an action that changes the state (the online ``submit``, ``receive_supplement``,
  ``finish`` with the result…): the caller puts :func:`payload_entries` into the action's
  payload under ``files`` and, once the action returned, calls :func:`record_all`;
- at a step, without changing the state (a scan of an original at the counter, a draft
  result): :func:`attach`, the internal action ``attach`` (a self-transition of every
  non-terminal state, allowed to whoever may act on the dossier at that moment).

The bytes are put in the store *before* the transaction (streamed, checked); a transaction
that fails leaves at most an orphan blob, which no row names and nobody can download.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.files.models import Attachment, AttachmentKind
from engine.files.records import record, safe_file_name, total_size
from engine.files.store import FileRefused, StoredBlob
from engine.lifecycle.models import Dossier, DossierEvent

FILES = "files"  # the payload key


class DossierFilesTooLarge(FileRefused):
    """The dossier's files together would pass the per-dossier limit."""

    code = "dossier-files-too-large"

    def __init__(self, max_bytes: int, already: int) -> None:
        self.max_bytes, self.already = max_bytes, already
        mb = max_bytes / (1024 * 1024)
        super().__init__(f"Tổng dung lượng tệp của hồ sơ vượt giới hạn {mb:.0f} MB "
                         f"(đã có {already / (1024 * 1024):.1f} MB).")


class UnknownComponent(FileRefused):
    """A component the dossier's procedure version does not list."""

    code = "component-unknown"

    def __init__(self, component_id: str) -> None:
        super().__init__(f"Thủ tục của hồ sơ không có thành phần số {component_id!r}.")


def component_name(spec: Any, component_id: str | None) -> str | None:
    """The name of the component ``component_id`` — its position in the procedure version's
    list, from 1 (the catalogue gives components no other id, and a dossier keeps its
    version) — or None without one; :class:`UnknownComponent` for a position not listed."""
    if not component_id:
        return None
    components = list(spec.components)
    if not component_id.isdigit() or not 1 <= int(component_id) <= len(components):
        raise UnknownComponent(component_id)
    return components[int(component_id) - 1].name


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file already in the store, on its way onto a dossier: what the journal names and the
    row records. The name is cleaned here (NFC, no folders) so event and row say the same."""

    blob: StoredBlob
    kind: AttachmentKind
    file_name: str
    component_id: str | None = None

    @classmethod
    def of(cls, blob: StoredBlob, *, kind: AttachmentKind | str, file_name: str | None,
           component_id: str | None = None) -> IncomingFile:
        component = (component_id or "").strip()[:64] or None
        return cls(blob, AttachmentKind(kind), safe_file_name(file_name, blob), component)

    def entry(self) -> dict[str, Any]:
        """The file as the event's payload names it."""
        return {"sha256": self.blob.sha256, "size": self.blob.size,
                "media_type": self.blob.media_type.value, "kind": self.kind.value,
                "component_id": self.component_id, "file_name": self.file_name}


def payload_entries(files: Iterable[IncomingFile]) -> list[dict[str, Any]]:
    """The ``files`` entry of an action's payload (``payload={"files": …}``)."""
    return [f.entry() for f in files]


def check_dossier_limit(session: Session, dossier_id: int | None,
                        files: Sequence[IncomingFile], max_dossier_bytes: int) -> None:
    """Refuse files that would take the dossier past its limit (all its files together)."""
    already = total_size(session, dossier_id) if dossier_id is not None else 0
    if already + sum(f.blob.size for f in files) > max_dossier_bytes:
        raise DossierFilesTooLarge(max_dossier_bytes, already)


def record_all(session: Session, *, dossier_id: int, event_seq: int,
               files: Iterable[IncomingFile], uploaded_by: str) -> list[Attachment]:
    """The rows of files the event ``event_seq`` named, in the caller's transaction."""
    rows = [record(session, dossier_id=dossier_id, blob=f.blob, kind=f.kind,
                   file_name=f.file_name, uploaded_by=uploaded_by,
                   component_id=f.component_id, event_seq=event_seq) for f in files]
    session.flush()
    return rows


def attach(session: Session, *, code: str, actor: Any, files: Sequence[IncomingFile],
           max_dossier_bytes: int, reason: str | None = None, at: datetime | None = None,
           request_id: str | None = None) -> tuple[Any, list[Attachment]]:
    """Staff attach files to a dossier at its current step (action ``attach``): one event
    naming every file's hash, one row per file. Returns the action's result and the rows."""
    from engine.lifecycle.commands import act
    from engine.lifecycle.states import Action

    if not files:
        raise ValueError("no file to attach")
    dossier_id = session.exec(select(Dossier.id).where(Dossier.code == code)).first()
    check_dossier_limit(session, dossier_id, files, max_dossier_bytes)
    result = act(session, code=code, action=Action.ATTACH, actor=actor, at=at, reason=reason,
                 payload={FILES: payload_entries(files)}, request_id=request_id)
    rows = record_all(session, dossier_id=result.dossier.id, event_seq=result.event.seq,
                      files=files, uploaded_by=actor.id)
    return result, rows


def named_files(payload: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The files an event's payload names (none for most events)."""
    entries = (payload or {}).get(FILES) or []
    return [e for e in entries if isinstance(e, Mapping)]


@dataclass(frozen=True, slots=True)
class UncoveredFile:
    """An attachment row that its event does not name (written around the engine, or its
    hash, size or type edited afterwards)."""

    code: str
    attachment_id: int
    reason: str

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


def uncovered_files(session: Session, *, dossier_code: str | None = None) -> list[UncoveredFile]:
    """Every attachment row (of one dossier, or all) whose hash, size and type are not named in
    the payload of the event it points to. Reads rows and their events' payloads in one join,
    by dossier, so memory holds one row at a time."""
    event = DossierEvent
    query: Any = (
        select(Dossier.code, Attachment.id, Attachment.sha256, Attachment.size,
               Attachment.media_type, Attachment.event_seq, event.payload)
        .join(Dossier, col(Dossier.id) == col(Attachment.dossier_id))
        .outerjoin(event, (col(event.dossier_id) == col(Attachment.dossier_id))
                   & (col(event.seq) == col(Attachment.event_seq)))
        .order_by(col(Attachment.dossier_id), col(Attachment.id)))
    if dossier_code:
        query = query.where(Dossier.code == dossier_code)
    found = []
    for row in session.exec(query.execution_options(yield_per=2000)):
        reason = _why_uncovered(row)
        if reason:
            found.append(UncoveredFile(row.code, row.id, reason))
    return found


def _why_uncovered(row: Any) -> str | None:
    head = f"tệp đính kèm #{row.id} ({row.sha256[:12]}…)"
    if row.event_seq is None or row.payload is None:
        return f"{head} không gắn với sự kiện nào của nhật ký"
    for entry in named_files(row.payload):
        if entry.get("sha256") == row.sha256 and entry.get("size") == row.size \
                and entry.get("media_type") == row.media_type:
            return None
    return f"{head} không được sự kiện #{row.event_seq} ghi nhận (mã băm, cỡ hoặc loại khác)"
