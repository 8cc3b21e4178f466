"""Attachments: a content-addressed blob store and the rows that say what each file is for."""

from engine.files.models import Attachment, AttachmentKind
from engine.files.store import (
    BlobStore,
    EmptyFile,
    FileRefused,
    FileTooLarge,
    LocalBlobStore,
    MediaType,
    StoredBlob,
    UnsupportedType,
    sniff,
)

__all__ = ["Attachment", "AttachmentKind", "BlobStore", "EmptyFile", "FileRefused",
           "FileTooLarge", "LocalBlobStore", "MediaType", "StoredBlob", "UnsupportedType",
           "sniff"]
