"""The local blob store: named by content, refuses empty, oversized and foreign files while
streaming, and leaves nothing behind when it refuses."""

from __future__ import annotations

import hashlib

import pytest

from engine.files import EmptyFile, FileTooLarge, LocalBlobStore, MediaType, UnsupportedType
from engine.files.records import safe_file_name
from engine.files.store import StoredBlob

PDF = b"%PDF-1.7\n" + b"x" * 5000
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


def chunks(data: bytes, size: int = 1000):
    return (data[i:i + size] for i in range(0, len(data), size))


def stored_files(store: LocalBlobStore) -> list:
    return [p for p in store.root.rglob("*") if p.is_file()]


def test_a_file_is_named_by_its_sha256_and_stored_once(tmp_path):
    store = LocalBlobStore(tmp_path)
    first = store.put(chunks(PDF), max_bytes=10_000)
    again = store.put(chunks(PDF, 7), max_bytes=10_000)
    assert first == again == StoredBlob(hashlib.sha256(PDF).hexdigest(), len(PDF), MediaType.PDF)
    assert store.exists(first.sha256) and store.open(first.sha256).read() == PDF
    assert len(stored_files(store)) == 1


@pytest.mark.parametrize(("data", "refusal"), [
    (b"", EmptyFile),
    (b"MZ\x90\x00" + b"\0" * 100, UnsupportedType),  # an EXE renamed .pdf
    (PDF + b"y" * 6000, FileTooLarge),
])
def test_a_refused_upload_leaves_nothing_behind(tmp_path, data, refusal):
    store = LocalBlobStore(tmp_path)
    with pytest.raises(refusal) as caught:
        store.put(chunks(data), max_bytes=10_000)
    assert str(caught.value)  # a Vietnamese sentence for people
    assert stored_files(store) == []


def test_the_size_limit_stops_reading_at_the_limit(tmp_path):
    """A 200 MB upload is refused after max_bytes, not read to its end."""
    read = []

    def endless():
        yield PDF[:10]
        while True:
            read.append(1)
            yield b"z" * 65536

    with pytest.raises(FileTooLarge):
        LocalBlobStore(tmp_path).put(endless(), max_bytes=1_000_000)
    assert len(read) <= 17


@pytest.mark.parametrize(("raw", "expected"), [
    ("../../etc/passwd", "passwd.png"),
    ("C:\\Users\\an\\ảnh CCCD.PNG", "ảnh CCCD.PNG"),
    ("a\u0301nh.png", "ánh.png"),  # NFD → NFC
    ("", "tep.png"),
    ("a\x00b<>.png", "a_b__.png"),
])
def test_a_file_name_is_cleaned_never_a_path(raw, expected):
    blob = StoredBlob("0" * 64, 10, MediaType.PNG)
    assert safe_file_name(raw, blob) == expected


def test_bytes_pushed_as_they_arrive_are_stored_as_put_stores_them(tmp_path):
    """The upload parser writes each part straight into the staging area (issue 16)."""
    store = LocalBlobStore(tmp_path)
    writer = store.writer(max_bytes=10_000)
    for chunk in chunks(PDF, 333):
        writer.write(chunk)
    staged = writer.staged()
    writer.discard()  # handed over: the writer lets go, the staged blob stays
    assert staged.finish() == StoredBlob(hashlib.sha256(PDF).hexdigest(), len(PDF),
                                         MediaType.PDF)
    assert store.open(staged.blob.sha256).read() == PDF
    assert len(stored_files(store)) == 1


@pytest.mark.parametrize(("data", "refusal"), [
    (b"", EmptyFile),
    (b"MZ\x90\x00" + b"\0" * 100, UnsupportedType),
    (PDF + b"y" * 6000, FileTooLarge),
    (PDF, None),  # not refused, but dropped (a later check refused the request)
])
def test_a_refused_or_dropped_push_leaves_nothing_behind(tmp_path, data, refusal):
    store = LocalBlobStore(tmp_path)
    writer = store.writer(max_bytes=10_000)
    if refusal is None:
        writer.write(data)
        writer.discard()
    else:
        with pytest.raises(refusal):
            for chunk in chunks(data):
                writer.write(chunk)
            writer.staged()
    assert stored_files(store) == []
