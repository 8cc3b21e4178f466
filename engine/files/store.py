"""Where the bytes of attachments live: a content-addressed blob store (*kho tệp*).

A dossier's files — the components an applicant uploads online, the scans a clerk makes at the
counter, the result document — are kept by the SHA-256 of their bytes: the name *is* the
content, so a file cannot change under its record, two uploads of the same scan are stored
once, and the dossier's hash-chained journal can cover a file by naming its hash.

The store only keeps bytes. What a file is for (which dossier, which component, who uploaded
it) is a database row (``engine.files.models``), written in the same transaction as the action
that brings the file; a blob no row names is an orphan that :meth:`BlobStore.delete` may remove.

Uploads are streamed: :meth:`BlobStore.put` takes an iterable of chunks, hashes and writes them
as they come, stops at ``max_bytes`` and checks the type from the first bytes (never the
name), so a 50 MB upload never sits whole in memory and a refused one leaves nothing behind.

The local store is the default (one server, a folder). Several servers share an S3-compatible
store (MinIO) behind the same :class:`BlobStore` interface (``engine.files.s3``).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK = 64 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class MediaType(StrEnum):
    """The file types a dossier accepts (PDF for documents, JPEG/PNG for photos and scans)."""

    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}[self.value]


#: Magic numbers: what the first bytes of each accepted type are.
_MAGIC: tuple[tuple[bytes, MediaType], ...] = (
    (b"%PDF-", MediaType.PDF),
    (b"\xff\xd8\xff", MediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
)


def sniff(head: bytes) -> MediaType | None:
    """The type of a file from its first bytes, or None when it is none we accept. The name a
    browser sends is the uploader's word; an EXE renamed ``.pdf`` starts with ``MZ``."""
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    return None


class FileRefused(ValueError):
    """An upload that cannot be kept; the message is Vietnamese, ``code`` is for API clients."""

    code = "file-refused"


class EmptyFile(FileRefused):
    code = "file-empty"

    def __init__(self) -> None:
        super().__init__("Tệp rỗng (0 byte): vui lòng chọn lại tệp.")


class FileTooLarge(FileRefused):
    code = "file-too-large"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"Tệp lớn hơn giới hạn {_megabytes(max_bytes)} cho mỗi tệp.")


class UnsupportedType(FileRefused):
    code = "file-type"

    def __init__(self) -> None:
        super().__init__("Tệp không phải PDF, JPEG hoặc PNG (kiểm tra theo nội dung tệp, "
                         "không theo tên).")


def _megabytes(n: int) -> str:
    value = n / (1024 * 1024)
    return f"{value:.0f} MB" if value >= 1 else f"{n // 1024} KB"


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """What the store learnt while writing: the name (hash), the size and the sniffed type."""

    sha256: str
    size: int
    media_type: MediaType


class BlobStore(Protocol):
    """Bytes by SHA-256. ``put`` is idempotent: storing the same bytes twice keeps one copy."""

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> StoredBlob: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...


def check_name(sha256: str) -> str:
    """A blob name is 64 lowercase hex digits and nothing else: it becomes a path or a key."""
    if not _SHA256.match(sha256):
        raise ValueError("not a SHA-256 hex digest")
    return sha256


class HashingReader:
    """Consume chunks once, hashing, counting and sniffing; raise on the first refusal. Shared
    by every store so that the rules (empty, too large, wrong type) are one piece of code."""

    def __init__(self, chunks: Iterable[bytes], max_bytes: int) -> None:
        self._chunks, self.max_bytes = chunks, max_bytes
        self._hash, self.size, self.media_type = hashlib.sha256(), 0, None
        self._head = b""

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            if chunk:
                self.feed(chunk)
                yield chunk

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes (when they are pushed rather than pulled: :class:`Writer`)."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise FileTooLarge(self.max_bytes)
        if self.media_type is None:
            self._head += chunk[:16]
            if len(self._head) >= 8 or self._head.startswith(b"%PDF-"):
                self.media_type = sniff(self._head)
                if self.media_type is None:
                    raise UnsupportedType()
        self._hash.update(chunk)

    def result(self) -> StoredBlob:
        if self.size == 0:
            raise EmptyFile()
        media_type = self.media_type or sniff(self._head)
        if media_type is None:
            raise UnsupportedType()
        return StoredBlob(self._hash.hexdigest(), self.size, media_type)


class Staged:
    """A blob written and checked but not yet in the store (:meth:`LocalBlobStore.stage`):
    ``blob`` is what it will be stored as; :meth:`finish` makes it durable under its name
    (once), :meth:`discard` drops it (a refused request)."""

    def __init__(self, blob: StoredBlob, finish: Callable[[], None] | None = None,
                 discard: Callable[[], None] | None = None) -> None:
        self.blob, self._finish, self._discard = blob, finish, discard

    def finish(self) -> StoredBlob:
        if self._finish is not None:
            done, self._finish, self._discard = self._finish, None, None
            done()
        return self.blob

    def discard(self) -> None:
        if self._discard is not None:
            drop, self._finish, self._discard = self._discard, None, None
            drop()


def stage(store: BlobStore, chunks: Iterable[bytes], *, max_bytes: int) -> Staged:
    """``store.stage`` when the store can stage (the local store), else ``store.put`` at once
    (nothing left to finish)."""
    staging = getattr(store, "stage", None)
    if staging is not None:
        return staging(chunks, max_bytes=max_bytes)
    return Staged(store.put(chunks, max_bytes=max_bytes))


class LocalBlobStore:
    """Blobs as files under ``root/ab/cd/<sha256>``, written to a temporary file in the same
    folder tree and renamed into place (atomic: a crash leaves a temporary file, never half a
    blob under its name)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        name = check_name(sha256)
        return self.root / name[:2] / name[2:4] / name

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> StoredBlob:
        return self.stage(chunks, max_bytes=max_bytes).finish()

    def stage(self, chunks: Iterable[bytes], *, max_bytes: int) -> Staged:
        """Write, hash and check the bytes into a temporary file, not yet synced nor named:
        :meth:`Staged.finish` syncs and renames it (``put`` is both at once). The caller may
        finish it while it writes the rows that name the blob, and commits after."""
        reader = HashingReader(chunks, max_bytes)
        handle, temporary = self._temporary()
        out = os.fdopen(handle, "wb")
        try:
            for chunk in reader:
                out.write(chunk)
            out.flush()
            blob = reader.result()
        except BaseException:
            out.close()
            os.unlink(temporary)
            raise
        return Staged(blob, partial(self._finish, out, temporary, blob),
                      partial(self._discard, out, temporary))

    def writer(self, *, max_bytes: int) -> Writer:
        """A staging file the caller pushes bytes into as they arrive (an upload being
        parsed), hashed and checked on the way: no spooled copy to read back afterwards."""
        return Writer(self, max_bytes)

    def _temporary(self) -> tuple[int, str]:
        incoming = self.root / "incoming"
        try:
            return tempfile.mkstemp(dir=incoming, prefix="up-")
        except FileNotFoundError:  # the first upload (a folder made once, not per file)
            incoming.mkdir(parents=True, exist_ok=True)
            return tempfile.mkstemp(dir=incoming, prefix="up-")

    def _finish(self, out: BinaryIO, temporary: str, blob: StoredBlob) -> None:
        try:
            with out:
                os.fsync(out.fileno())
            target = self.path(blob.sha256)
            try:  # same bytes already there: replaced by equal bytes
                os.replace(temporary, target)
            except FileNotFoundError:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    @staticmethod
    def _discard(out: BinaryIO, temporary: str) -> None:
        out.close()
        if os.path.exists(temporary):
            os.unlink(temporary)

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)


class Writer:
    """:meth:`LocalBlobStore.stage` with the bytes pushed rather than pulled: ``write`` as
    they arrive (hashed, counted, sniffed: a refusal raises at once), then :meth:`staged`
    for the :class:`Staged` blob, or :meth:`discard`. Until :meth:`staged`, ``discard``
    (or a refusal) leaves nothing behind."""

    def __init__(self, store: LocalBlobStore, max_bytes: int) -> None:
        self.store, self.reader = store, HashingReader((), max_bytes)
        handle, self.temporary = store._temporary()
        self.out: BinaryIO | None = os.fdopen(handle, "wb")

    def write(self, chunk: bytes) -> None:
        if self.out is None:
            raise ValueError("staging file already handed over or discarded")
        try:
            self.reader.feed(chunk)
        except FileRefused:
            self.discard()
            raise
        self.out.write(chunk)

    def staged(self) -> Staged:
        """The blob written so far, to be finished (synced and named) or discarded; this
        writer lets go of the file (its ``discard`` does nothing after)."""
        if self.out is None:
            raise ValueError("staging file already handed over or discarded")
        out, self.out = self.out, None
        try:
            out.flush()
            blob = self.reader.result()
        except BaseException:
            self.store._discard(out, self.temporary)
            raise
        return Staged(blob, partial(self.store._finish, out, self.temporary, blob),
                      partial(self.store._discard, out, self.temporary))

    def discard(self) -> None:
        if self.out is not None:
            out, self.out = self.out, None
            self.store._discard(out, self.temporary)
