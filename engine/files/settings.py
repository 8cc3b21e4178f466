"""Where files are kept and how large they may be (``MOTCUA_FILES_*``; README's table)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.files.store import BlobStore, LocalBlobStore
from engine.settings import positive_number

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class S3Settings:
    """An S3-compatible store shared by several servers (MinIO): all four are needed."""

    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


@dataclass(frozen=True, slots=True)
class FileSettings:
    """``root``: the local store's folder (also where S3 uploads are spooled while hashed);
    ``max_file_bytes`` / ``max_dossier_bytes``: the limits per file and per dossier (all its
    files together); ``s3``: the shared store instead of the local folder, when configured."""

    root: Path
    max_file_bytes: int
    max_dossier_bytes: int
    s3: S3Settings | None = None


def file_settings(env: Mapping[str, str] = os.environ) -> FileSettings:
    """``MOTCUA_FILES_DIR`` (default ``./motcua-files``), ``MOTCUA_FILE_MAX_MB`` (20),
    ``MOTCUA_DOSSIER_FILES_MAX_MB`` (100) and ``MOTCUA_FILES_S3_ENDPOINT`` / ``_BUCKET`` /
    ``_ACCESS_KEY`` / ``_SECRET_KEY`` (``_REGION``, optional). Half an S3 configuration is an
    error, not a silent fall-back to the local disk of one server."""
    root = Path(env.get("MOTCUA_FILES_DIR", "").strip() or "motcua-files")
    return FileSettings(
        root=root,
        max_file_bytes=int(positive_number(env, "MOTCUA_FILE_MAX_MB", 20) * MB),
        max_dossier_bytes=int(positive_number(env, "MOTCUA_DOSSIER_FILES_MAX_MB", 100) * MB),
        s3=_s3_settings(env))


def _s3_settings(env: Mapping[str, str]) -> S3Settings | None:
    names = ("ENDPOINT", "BUCKET", "ACCESS_KEY", "SECRET_KEY")
    values = {n: env.get(f"MOTCUA_FILES_S3_{n}", "").strip() for n in names}
    if not any(values.values()):
        return None
    missing = [f"MOTCUA_FILES_S3_{n}" for n, v in values.items() if not v]
    if missing:
        raise ValueError("cấu hình kho tệp S3 chưa đủ, thiếu: " + ", ".join(missing))
    return S3Settings(values["ENDPOINT"], values["BUCKET"], values["ACCESS_KEY"],
                      values["SECRET_KEY"],
                      env.get("MOTCUA_FILES_S3_REGION", "").strip() or "us-east-1")


def blob_store(settings: FileSettings) -> BlobStore:
    """The configured store: S3-compatible when ``MOTCUA_FILES_S3_*`` is set, else the folder."""
    if settings.s3 is None:
        return LocalBlobStore(settings.root)
    from engine.files.s3 import S3BlobStore

    settings.root.mkdir(parents=True, exist_ok=True)
    return S3BlobStore(bucket=settings.s3.bucket, endpoint=settings.s3.endpoint,
                       access_key=settings.s3.access_key, secret_key=settings.s3.secret_key,
                       region=settings.s3.region, spool_dir=str(settings.root))
