"""What the attachment routes answer: a dossier's files (never their bytes, which are a
separate download) and the outcome of an upload."""

from __future__ import annotations

from service.api.schemas.common import Instant, Public


class AttachmentOut(Public):
    """One file of a dossier: what it is for, its cleaned name, the type found in its bytes,
    its size and SHA-256 (the journal event ``event_seq`` names that hash), who uploaded it."""

    id: int
    kind: str
    kind_label: str
    component_id: str | None
    file_name: str
    media_type: str
    size: int
    sha256: str
    uploaded_at: Instant
    uploaded_by: str
    event_seq: int | None
    #: where to download it (inline: the browser shows a PDF or an image)
    url: str


class AttachmentList(Public):
    """A dossier's files in the order they came, their total size and the dossier's limit."""

    items: list[AttachmentOut]
    total_size: int
    max_dossier_bytes: int
    max_file_bytes: int
    #: whether the caller may attach a file now (the page shows the form)
    can_attach: bool
    #: the procedure version's components: ``component_id`` "1" is the first
    components: list[str]
    #: the kinds of file (``kind``) with their Vietnamese names, in the form's order
    kind_labels: dict[str, str]


class AttachmentsAdded(Public):
    """The files an upload added, and the journal event that names their hashes."""

    items: list[AttachmentOut]
    event_seq: int
    version: int
