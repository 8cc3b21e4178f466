"""Recording a stored file on a dossier, and reading a dossier's files.

The one way a row of ``attachment`` is written: the file name is cleaned (NFC, no folders, no
control characters — a name is shown to people and put in a download header, never used as a
path), the kind is one of :class:`AttachmentKind`, and the hash, size and type come from the
store's own reading of the bytes (:class:`StoredBlob`), never from the uploader.
"""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from engine.files.models import Attachment, AttachmentKind
from engine.files.store import StoredBlob
from engine.text import nfc

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"<>:|?*\\/]")


def safe_file_name(raw: str | None, blob: StoredBlob) -> str:
    """What to call a file: the last part of the uploader's name (``../../etc/passwd`` becomes
    ``passwd``), NFC, without characters that break a header or a file system, at most 255
    characters; the type's extension is added when the name does not end with it, and an
    empty name becomes ``tep.<ext>``."""
    name = nfc(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    name = _UNSAFE.sub("_", name).strip(" .")
    extension = blob.media_type.extension
    aliases = {"jpg": (".jpg", ".jpeg"), "pdf": (".pdf",), "png": (".png",)}[extension]
    if not name:
        name = f"tep.{extension}"
    elif not name.lower().endswith(aliases):
        name = f"{name}.{extension}"
    if len(name) > 255:
        name = name[:255 - len(extension) - 1] + "." + extension
    return name


def record(session: Session, *, dossier_id: int, blob: StoredBlob, kind: AttachmentKind,
           file_name: str | None, uploaded_by: str, component_id: str | None = None,
           event_seq: int | None = None) -> Attachment:
    """Add the row of a file already in the store, in the caller's transaction (it commits
    with the action that brought the file, or not at all)."""
    row = Attachment(dossier_id=dossier_id, kind=AttachmentKind(kind).value,
                     component_id=component_id, file_name=safe_file_name(file_name, blob),
                     media_type=blob.media_type.value, size=blob.size, sha256=blob.sha256,
                     uploaded_by=uploaded_by, event_seq=event_seq)
    session.add(row)
    return row


def files_of(session: Session, dossier_id: int) -> list[Attachment]:
    """A dossier's files in the order they came."""
    return list(session.exec(select(Attachment).where(Attachment.dossier_id == dossier_id)
                             .order_by(col(Attachment.uploaded_at), col(Attachment.id))))


def total_size(session: Session, dossier_id: int) -> int:
    """Bytes already attached to a dossier (for the per-dossier limit)."""
    from sqlalchemy import func

    value = session.exec(select(func.coalesce(func.sum(Attachment.size), 0))
                         .where(Attachment.dossier_id == dossier_id)).one()
    return int(value or 0)
