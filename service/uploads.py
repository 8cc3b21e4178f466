"""A multipart form with several files, read as a stream and refused as early as possible.

Starlette's parser spools each file to a temporary file (memory up to 1 MB, then disk) but
knows no limit per file, nor for the files together, and looks at no byte of them: a 200 MB
upload, or an EXE renamed ``.pdf``, would be written to disk whole before anyone objects.
:class:`LimitedForm` counts each file's bytes as they arrive and stops the request at the
first byte past the limit per file or per request, and sniffs each file's first bytes
(``engine.files.store.sniff``: by content, never by name) to refuse a wrong type at once.

Where the store can stage (the local store), each file goes straight into the store's staging
area as it arrives (``LocalBlobStore.writer``: hashed and checked on the way), in place of
Starlette's spooled temporary file: no second copy written and read back, and no thread hop per
chunk once a spooled file passes 1 MB (issue 16, bench/uploads.py). The caller takes each one
with :func:`staged` and finishes it (synced and named) or lets :meth:`LimitedForm.close` drop
it. With another store (S3) the files are spooled and stored by the caller as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from engine.files.store import (
    CHUNK,
    BlobStore,
    FileRefused,
    FileTooLarge,
    Staged,
    UnsupportedType,
    Writer,
    sniff,
    stage,
)

#: the form's text fields together (the applicant, the choices): far above a real form
MAX_FIELD_BYTES = 64 * 1024


class FormTooLarge(FileRefused):
    """The files of one request together pass the limit per dossier."""

    code = "dossier-files-too-large"

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"Tổng dung lượng các tệp vượt giới hạn "
                         f"{max_bytes / (1024 * 1024):.0f} MB cho mỗi hồ sơ.")


class BadForm(ValueError):
    """A body that is not a well-formed multipart form (Vietnamese message)."""


@dataclass
class LimitedForm:
    """The parsed form: text fields and files by field name (one file per name)."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadFile] = field(default_factory=dict)

    async def close(self) -> None:
        for upload in self.files.values():
            await upload.close()


class StagingFile:
    """An upload part's bytes written into the store's staging area (:class:`Writer`) in
    place of a spooled temporary file. ``_rolled`` False and no ``_max_size``: ``UploadFile``
    then writes to it directly, as to a spooled file that never rolls over, instead of one
    thread hop per chunk (a write lands in the page cache; the sync comes later, on a
    thread, ``Staged.finish``)."""

    _rolled = False

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    def write(self, data: bytes) -> int:
        self.writer.write(data)
        return len(data)

    def tell(self) -> int:
        return self.writer.reader.size

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0  # Starlette rewinds a finished part; the staged file is never read back here

    def read(self, size: int = -1) -> bytes:
        raise OSError("a staged upload is taken with service.uploads.staged, not read")

    def close(self) -> None:
        self.writer.discard()  # nothing once staged() handed it over


class _Parser(MultiPartParser):
    """Starlette's parser with a byte count and a type check per file as data arrives, and
    each file written straight to the store's staging area when the store can stage."""

    def __init__(self, headers: Headers, stream: AsyncIterator[bytes], *, max_file: int,
                 max_total: int, max_files: int, store: BlobStore | None = None) -> None:
        super().__init__(headers, stream, max_files=max_files, max_fields=32,
                         max_part_size=MAX_FIELD_BYTES)
        self.max_file, self.max_total = max_file, max_total
        self.writer: Any = getattr(store, "writer", None)
        self.total = self.part_size = 0
        self.head = b""
        self.sniffed = False

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self.part_size, self.head, self.sniffed = 0, b"", False

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        upload = self._current_part.file
        if upload is not None and self.writer is not None:
            self._files_to_close_on_error.pop().close()  # the spooled file, still empty
            staging = StagingFile(self.writer(max_bytes=self.max_file))
            self._files_to_close_on_error.append(staging)
            self._current_part.file = UploadFile(file=staging, size=0,  # type: ignore[arg-type]
                                                 filename=upload.filename,
                                                 headers=upload.headers)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            try:
                self._count(data, start, end)
            except FileRefused as exc:  # say which file: the page shows it next to that input
                exc.field = self._current_part.field_name
                raise
        super().on_part_data(data, start, end)

    def _count(self, data: bytes, start: int, end: int) -> None:
        """The limits and the type check of the current file's next bytes."""
        size = end - start
        self.part_size += size
        self.total += size
        if self.part_size > self.max_file:
            raise FileTooLarge(self.max_file)
        if self.total > self.max_total:
            raise FormTooLarge(self.max_total)
        if not self.sniffed:
            self.head += data[start:min(end, start + 16)]
            if len(self.head) >= 8 or self.head.startswith(b"%PDF-"):
                self.sniffed = True
                if sniff(self.head) is None:
                    raise UnsupportedType()


async def read_form(headers: Headers, stream: AsyncIterator[bytes], *, max_file: int,
                    max_total: int, max_files: int,
                    store: BlobStore | None = None) -> LimitedForm:
    """Parse ``stream``; :class:`FileRefused` at the first byte past a limit or of a wrong
    type (nothing kept: the spooled or staged files are dropped), :class:`BadForm` for a
    malformed body or a field name given twice. With ``store``, files are staged in it as
    they arrive (take them with :func:`staged`)."""
    parser = _Parser(headers, stream, max_file=max_file, max_total=max_total,
                     max_files=max_files, store=store)
    try:
        items = (await parser.parse()).multi_items()
    except MultiPartException as exc:
        raise BadForm(f"Biểu mẫu gửi lên không hợp lệ ({exc}).") from None
    form = LimitedForm()
    for name, value in items:
        if name in form.fields or name in form.files:
            await form.close()
            if isinstance(value, UploadFile):
                await value.close()
            raise BadForm(f"Trường “{name}” gửi hai lần; mỗi thành phần một tệp.")
        if isinstance(value, UploadFile):
            form.files[name] = value
        else:
            form.fields[name] = value
    return form


def staged(upload: UploadFile, store: BlobStore, *, max_bytes: int) -> Staged:
    """The upload as a blob staged in ``store``: the one written while parsing, or the
    spooled file copied in now (a store that cannot stage stores it at once). Raises
    :class:`FileRefused` (an empty file is only known at its end)."""
    if isinstance(upload.file, StagingFile):
        return upload.file.writer.staged()
    return stage(store, chunks(upload), max_bytes=max_bytes)


def chunks(upload: UploadFile) -> Iterator[bytes]:
    """A spooled file a chunk at a time (never read whole), for ``BlobStore.put``."""
    upload.file.seek(0)
    while chunk := upload.file.read(CHUNK):
        yield chunk
