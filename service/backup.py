"""Backups: ``motcua backup FILE`` / ``motcua restore FILE``.

SQLite: SQLite's online backup API (Python's ``sqlite3.Connection.backup``) copies the database
page by page inside one read transaction, so the copy is consistent even while the service
writes (WAL lets writers go on meanwhile). A restore checks the file first — SQLite integrity,
a migration revision this code knows, every dossier's audit chain — on a staging copy, and only
then copies it into the live database, again through the backup API (under SQLite's own locks,
never by replacing the file under open connections: their WAL would then be applied to the
wrong file).

PostgreSQL: ``pg_dump``/``pg_restore`` do this job better than we could; we print the exact
commands (:func:`postgres_commands`) instead of pretending.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import make_url
from sqlalchemy.engine import URL
from sqlmodel import Session

from engine.db import make_engine
from engine.lifecycle.audit import verify
from engine.migrate import known_revisions

BUSY_TIMEOUT_SECONDS = 30  # wait for a writer to finish rather than fail the backup


class BackupError(Exception):
    """A backup or restore refused or failed; the message is for people (Vietnamese)."""


@dataclass(frozen=True, slots=True)
class Summary:
    """What a backup file holds (printed by the CLI, compared by the tests)."""

    path: Path
    revision: str | None
    dossiers: int
    events: int


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    """The database file of a SQLite URL (an in-memory database has nothing to back up)."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"không sao lưu/khôi phục được cơ sở dữ liệu SQLite {database!r}: "
                          "cần một tệp trên đĩa")
    return Path(database)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)


def backup_sqlite(url: str, destination: Path, *, force: bool = False) -> Summary:
    """Copy the live database to ``destination`` (a self-contained file, no ``-wal``)."""
    live = sqlite_path(url)
    if not live.exists():
        raise BackupError(f"không có cơ sở dữ liệu {live}")
    if destination.exists() and not force:
        raise BackupError(f"tệp {destination} đã có; chọn tên khác hoặc thêm --force")
    staging = destination.with_name(f".{destination.name}.partial")
    _remove(staging)
    try:
        with closing(_connect(live)) as source, closing(sqlite3.connect(staging)) as copy:
            source.backup(copy)  # all pages in one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one file, readable on its own
        _check_integrity(staging)
        os.replace(staging, destination)
    finally:
        _remove(staging)
    return describe(destination)


def restore_sqlite(url: str, source: Path, *, force: bool = False) -> Summary:
    """Check ``source`` and copy it into the live database.

    Refuses while another connection has the live database open (a running service), unless
    ``force``: the service then sees the restored data on its next query, but should be
    restarted (it caches e.g. the token signing key).
    """
    live = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"không có tệp sao lưu {source}")
    staging = live.with_name(f".{live.name}.restore-{os.getpid()}")
    _remove(staging)
    try:
        try:
            with closing(_connect(source)) as backup, closing(sqlite3.connect(staging)) as copy:
                backup.backup(copy)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} không phải tệp sao lưu SQLite hợp lệ ({exc})") from exc
        summary = verify_backup(staging)
        if in_use(live) and not force:
            raise BackupError(f"cơ sở dữ liệu {live} đang được sử dụng (dịch vụ đang chạy?); "
                              "dừng dịch vụ rồi khôi phục, hoặc thêm --force")
        with closing(sqlite3.connect(staging)) as checked, closing(_connect(live)) as target:
            checked.backup(target)
    finally:
        _remove(staging)
    return Summary(live, summary.revision, summary.dossiers, summary.events)


def _remove(path: Path) -> None:
    """A staging database and the files SQLite may have left beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def verify_backup(path: Path) -> Summary:
    """A file fit to restore: SQLite integrity, a known migration revision, intact chains."""
    _check_integrity(path)
    summary = describe(path)
    if summary.revision not in known_revisions():
        raise BackupError(f"{path}: phiên bản lược đồ {summary.revision or 'không có'} không "
                          "thuộc mã nguồn này (không phải bản sao lưu MotCua, hoặc từ bản mới "
                          "hơn)")
    engine = make_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            _checked, broken = verify(session)
    finally:
        engine.dispose()
    if broken:
        raise BackupError(f"{path}: chuỗi nhật ký kiểm toán bị hỏng ({len(broken)} hồ sơ, "
                          f"đầu tiên: {broken[0]}); không khôi phục")
    return summary


def _check_integrity(path: Path) -> None:
    with closing(sqlite3.connect(path)) as connection:
        try:
            result = connection.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} không phải cơ sở dữ liệu SQLite hợp lệ ({exc})") from exc
    if result != "ok":
        raise BackupError(f"{path}: tệp hỏng ({result})")


def describe(path: Path) -> Summary:
    """Revision and row counts of a database file (read-only)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        def scalar(sql: str) -> object:
            try:
                return connection.execute(sql).fetchone()[0]
            except sqlite3.OperationalError:  # table missing: not a MotCua database
                return None

        return Summary(path, scalar("SELECT version_num FROM alembic_version"),
                       int(scalar("SELECT count(*) FROM dossier") or 0),
                       int(scalar("SELECT count(*) FROM dossier_event") or 0))


def in_use(path: Path) -> bool:
    """Whether another connection (any process, this one included) has the database open.

    SQLite deletes the ``-wal`` file when the *last* connection to a WAL database closes. So:
    open, read, close; if the ``-wal`` file is still there, someone else holds the database.
    (MotCua always runs SQLite in WAL mode, see engine/db.py.)
    """
    if not path.exists():
        return False
    with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)) as connection:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return path.with_name(path.name + "-wal").exists()


# ----- PostgreSQL -------------------------------------------------------------------------------

def libpq_url(url: str) -> URL:
    """The URL for libpq tools: no driver suffix, no password (use PGPASSWORD or ~/.pgpass)."""
    parsed = make_url(url)
    # Not ``parsed.set(password=None)``: ``set`` treats None as "leave unchanged".
    return URL.create("postgresql", username=parsed.username, host=parsed.host,
                      port=parsed.port, database=parsed.database, query=parsed.query)


def _schema(url: URL) -> str | None:
    """The schema named by ``?options=-csearch_path=NAME`` (how the tests isolate a database)."""
    options = url.query.get("options", "")
    for part in (options if isinstance(options, tuple) else (options,)):
        if "search_path=" in part:
            return part.split("search_path=", 1)[1].split(",")[0].split()[0]
    return None


def postgres_commands(url: str, file: Path) -> tuple[list[str], list[str]]:
    """``pg_dump`` and ``pg_restore`` argument lists for ``url`` (custom format, no owners,
    restore in one transaction: all or nothing)."""
    target = libpq_url(url)
    conninfo = target.render_as_string(hide_password=False)
    schema = _schema(target)
    only = ["--schema", schema] if schema else []
    dump = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", *only,
            f"--file={file}", f"--dbname={conninfo}"]
    restore = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
               "--single-transaction", "--exit-on-error", f"--dbname={conninfo}", str(file)]
    return dump, restore


def postgres_instructions(url: str, file: Path) -> str:
    """What to run instead of ``motcua backup/restore`` on PostgreSQL."""
    dump, restore = postgres_commands(url, file)
    return "\n".join([
        "Cơ sở dữ liệu PostgreSQL: dùng công cụ của PostgreSQL (PostgreSQL: use its own tools).",
        "Mật khẩu: đặt PGPASSWORD hoặc ~/.pgpass (password: PGPASSWORD or ~/.pgpass).",
        "Sao lưu (backup), được khi dịch vụ đang chạy:",
        "  " + shlex.join(dump),
        "Khôi phục (restore), sau khi dừng dịch vụ:",
        "  " + shlex.join(restore),
        "Rồi kiểm tra chuỗi nhật ký (then verify the audit chain):",
        "  motcua audit verify",
    ])
