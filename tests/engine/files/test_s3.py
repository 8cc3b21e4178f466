"""The S3-compatible store (MinIO in production), against moto's in-process S3: the same
contract as the local folder — named by content, stored once, refusals leave nothing."""

from __future__ import annotations

import hashlib

import pytest

from engine.files import EmptyFile, FileTooLarge, MediaType, UnsupportedType
from engine.files.settings import LocalBlobStore, blob_store, file_settings
from engine.files.store import StoredBlob

boto3 = pytest.importorskip("boto3")
moto = pytest.importorskip("moto")

PDF = b"%PDF-1.7\n" + b"x" * 5000
BIG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * (10 * 4096)  # ~10 MB: a multipart upload


def chunks(data: bytes, size: int = 64 * 1024):
    return (data[i:i + size] for i in range(0, len(data), size))


@pytest.fixture
def s3(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="motcua")
        from engine.files.s3 import S3BlobStore

        yield S3BlobStore(bucket="motcua", client=client, spool_dir=str(tmp_path))


def keys(store) -> list[str]:
    listed = store.client.list_objects_v2(Bucket=store.bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_a_file_is_stored_under_its_sha256_once(s3):
    first = s3.put(chunks(PDF), max_bytes=10_000)
    again = s3.put(chunks(PDF, 7), max_bytes=10_000)
    digest = hashlib.sha256(PDF).hexdigest()
    assert first == again == StoredBlob(digest, len(PDF), MediaType.PDF)
    assert keys(s3) == [f"blobs/{digest}"]
    assert s3.exists(digest)
    with s3.open(digest) as body:
        assert body.read() == PDF


def test_a_large_file_goes_up_in_parts_and_comes_back_whole(s3):
    blob = s3.put(chunks(BIG), max_bytes=20_000_000)
    body = s3.open(blob.sha256)
    assert hashlib.sha256(body.read()).hexdigest() == blob.sha256 == hashlib.sha256(BIG).hexdigest()
    assert blob.media_type is MediaType.JPEG


@pytest.mark.parametrize(("data", "limit", "error"), [
    (b"", 100, EmptyFile), (b"MZ\x90\x00" + b"\0" * 100, 1000, UnsupportedType),
    (PDF, 1000, FileTooLarge)])
def test_a_refused_upload_never_reaches_the_bucket(s3, tmp_path, data, limit, error):
    with pytest.raises(error):
        s3.put(chunks(data, 100), max_bytes=limit)
    assert keys(s3) == []
    assert list(tmp_path.iterdir()) == []  # the spool is gone too


def test_a_missing_blob_is_file_not_found_and_delete_removes_one(s3):
    digest = s3.put(chunks(PDF), max_bytes=10_000).sha256
    s3.delete(digest)
    assert not s3.exists(digest)
    with pytest.raises(FileNotFoundError):
        s3.open(digest)


def test_settings_choose_s3_only_when_fully_configured(tmp_path):
    assert isinstance(blob_store(file_settings({"MOTCUA_FILES_DIR": str(tmp_path)})),
                      LocalBlobStore)
    with pytest.raises(ValueError, match="MOTCUA_FILES_S3_SECRET_KEY"):
        file_settings({"MOTCUA_FILES_S3_ENDPOINT": "http://minio:9000",
                       "MOTCUA_FILES_S3_BUCKET": "b", "MOTCUA_FILES_S3_ACCESS_KEY": "k"})
    settings = file_settings({"MOTCUA_FILES_DIR": str(tmp_path),
                              "MOTCUA_FILES_S3_ENDPOINT": "http://minio:9000",
                              "MOTCUA_FILES_S3_BUCKET": "b", "MOTCUA_FILES_S3_ACCESS_KEY": "k",
                              "MOTCUA_FILES_S3_SECRET_KEY": "s"})
    store = blob_store(settings)  # no network until it is used
    assert type(store).__name__ == "S3BlobStore" and store.bucket == "b"
    assert store.client.meta.endpoint_url == "http://minio:9000"
