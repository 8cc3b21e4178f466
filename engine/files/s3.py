"""The blob store on an S3-compatible service (MinIO, or any S3 API) for several servers.

The same :class:`~engine.files.store.BlobStore` as the local folder, so nothing above it
changes: bytes by SHA-256, ``put`` streamed and idempotent. The hash is only known once the
last byte has arrived, and S3 names an object when the upload starts, so ``put`` first spools
the upload to a temporary file on the local disk while hashing, counting and sniffing it (the
one :class:`~engine.files.store.HashingReader` of every store; a refused upload never reaches
the bucket), then sends that file under its hash with boto3's managed transfer (multipart
above 8 MB). Memory holds one chunk at a time either way.

boto3 is an optional extra (``pip install motcua[s3]``); it is imported only when this store is
configured (``MOTCUA_FILES_S3_*``, :func:`engine.files.settings.blob_store`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import Any, BinaryIO

from engine.files.store import HashingReader, StoredBlob, check_name


class S3BlobStore:
    """Blobs as objects ``<prefix><sha256>`` of one bucket."""

    def __init__(self, *, bucket: str, client: Any | None = None, endpoint: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 region: str | None = None, prefix: str = "blobs/",
                 spool_dir: str | None = None) -> None:
        self.bucket, self.prefix, self.spool_dir = bucket, prefix, spool_dir
        self.client = client if client is not None else _client(endpoint, access_key,
                                                                secret_key, region)

    def key(self, sha256: str) -> str:
        return self.prefix + check_name(sha256)

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> StoredBlob:
        reader = HashingReader(chunks, max_bytes)
        with tempfile.TemporaryFile(dir=self.spool_dir, prefix="motcua-up-") as spool:
            for chunk in reader:
                spool.write(chunk)
            blob = reader.result()  # empty or of no accepted type: nothing is uploaded
            if not self.exists(blob.sha256):  # the same bytes are stored once
                spool.seek(0)
                self.client.upload_fileobj(spool, self.bucket, self.key(blob.sha256),
                                           ExtraArgs={"ContentType": blob.media_type.value})
        return blob

    def open(self, sha256: str) -> BinaryIO:
        """The object's body, read as it is streamed from the service (``read(n)``,
        ``close()``); :class:`FileNotFoundError` when there is no such blob."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(sha256) from exc
            raise
        return answer["Body"]

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except Exception as exc:
            if _missing(exc):
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))


def _missing(exc: Exception) -> bool:
    """A botocore ``ClientError`` saying 404 / NoSuchKey (without importing botocore here)."""
    error = getattr(exc, "response", {}).get("Error", {})
    return str(error.get("Code")) in {"404", "NoSuchKey", "NotFound"}


def _client(endpoint: str | None, access_key: str | None, secret_key: str | None,
            region: str | None) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("MOTCUA_FILES_S3_* được cấu hình nhưng thiếu boto3: "
                           "cài đặt `pip install motcua[s3]`") from exc
    return boto3.client(
        "s3", endpoint_url=endpoint or None, aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None, region_name=region or "us-east-1",
        # MinIO wants path-style addresses (http://minio:9000/bucket/key)
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"))
