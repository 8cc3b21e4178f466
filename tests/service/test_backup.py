"""``motcua backup`` / ``motcua restore``: a consistent copy while the service runs, a restore
that checks the audit chain first and refuses a database in use, and the printed
pg_dump/pg_restore commands for PostgreSQL (run here when the tools are installed)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from engine.db import make_engine
from service.backup import postgres_commands
from service.cli import app as cli

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
runner = CliRunner()
only_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
only_postgres = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def motcua(url: str, *args: str):
    return runner.invoke(cli, list(args), env={"MOTCUA_DATABASE_URL": url})


def receive(client, headers) -> str:
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["code"]


def some_dossiers(client) -> dict[str, str]:
    """Three dossiers received at the counter, one of them already transferred."""
    clerk = login(client, "clerk")
    codes = [receive(client, clerk) for _ in range(3)]
    response = client.post(f"/api/v1/dossiers/{codes[0]}/actions/transfer", json={},
                           headers=clerk)
    assert response.status_code == 200, response.text
    return clerk


def change_live(client, clerk) -> None:
    code = receive(client, clerk)
    assert client.post(f"/api/v1/dossiers/{code}/actions/transfer", json={},
                       headers=clerk).status_code == 200


def snapshot(url: str) -> tuple[list[tuple], list[tuple]]:
    """Every dossier (state, version, chain head) and every event's hash, in order."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            dossiers = connection.execute(text(
                "SELECT code, state, version, chain_head FROM dossier ORDER BY code")).all()
            events = connection.execute(text(
                "SELECT d.code, e.seq, e.action, e.hash FROM dossier_event e "
                "JOIN dossier d ON d.id = e.dossier_id ORDER BY d.code, e.seq")).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in dossiers], [tuple(r) for r in events]


def stop_service(client, db_engine) -> None:
    """Close every connection this process holds, as stopping the service would."""
    client.app.state.engine.dispose()
    db_engine.dispose()


@only_sqlite
def test_backup_while_serving_then_restore_gives_back_exactly_the_backup(
        client, database_url, db_engine, tmp_path):
    clerk = some_dossiers(client)
    backup = tmp_path / "sao-luu.db"
    result = motcua(database_url, "backup", str(backup))
    assert result.exit_code == 0, result.output
    assert "3 hồ sơ" in result.output
    saved = snapshot(f"sqlite:///{backup}")
    assert len(saved[0]) == 3 and len(saved[1]) == 4
    assert not Path(f"{backup}-wal").exists()  # one self-contained file

    change_live(client, clerk)
    assert snapshot(database_url) != saved

    refused = motcua(database_url, "restore", str(backup))
    assert refused.exit_code == 1
    assert "đang được sử dụng" in refused.output and "--force" in refused.output
    assert len(snapshot(database_url)[0]) == 4  # untouched

    stop_service(client, db_engine)
    result = motcua(database_url, "restore", str(backup))
    assert result.exit_code == 0, result.output
    assert snapshot(database_url) == saved
    verified = motcua(database_url, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "Đã kiểm tra 3 hồ sơ: 0 chuỗi bị hỏng" in verified.output


@only_sqlite
def test_forced_restore_under_a_running_service_is_seen_by_its_next_request(
        client, database_url, tmp_path):
    clerk = some_dossiers(client)
    backup = tmp_path / "sao-luu.db"
    assert motcua(database_url, "backup", str(backup)).exit_code == 0
    change_live(client, clerk)
    assert len(client.get("/api/v1/dossiers", headers=clerk).json()["items"]) == 4

    result = motcua(database_url, "restore", "--force", str(backup))
    assert result.exit_code == 0, result.output
    assert len(client.get("/api/v1/dossiers", headers=clerk).json()["items"]) == 3
    assert snapshot(database_url) == snapshot(f"sqlite:///{backup}")


@only_sqlite
def test_a_backup_with_a_tampered_event_is_refused_and_the_live_database_kept(
        client, database_url, db_engine, tmp_path):
    some_dossiers(client)
    backup = tmp_path / "sao-luu.db"
    assert motcua(database_url, "backup", str(backup)).exit_code == 0
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE dossier_event SET reason = 'sửa lén' WHERE seq = 1 "
                           "AND id = (SELECT min(id) FROM dossier_event)")
    connection.close()
    stop_service(client, db_engine)
    before = snapshot(database_url)
    result = motcua(database_url, "restore", str(backup))
    assert result.exit_code == 1
    assert "chuỗi nhật ký kiểm toán bị hỏng" in result.output
    assert snapshot(database_url) == before


@only_sqlite
def test_backup_refuses_to_overwrite_a_file_and_restore_refuses_a_non_database(
        client, database_url, tmp_path):
    existing = tmp_path / "cu.db"
    existing.write_text("bản cũ", encoding="utf-8")
    result = motcua(database_url, "backup", str(existing))
    assert result.exit_code == 1 and "--force" in result.output
    assert existing.read_text(encoding="utf-8") == "bản cũ"
    result = motcua(database_url, "restore", str(existing))
    assert result.exit_code == 1 and "không phải" in result.output


def test_postgresql_urls_get_the_pg_dump_commands_and_exit_2_without_the_password(tmp_path):
    url = "postgresql://motcua:mat-khau-bi-mat@db.example:5433/motcua"
    for command in ("backup", "restore"):
        result = motcua(url, command, str(tmp_path / "motcua.dump"))
        assert result.exit_code == 2
        assert "pg_dump --format=custom" in result.output
        assert "pg_restore --clean" in result.output
        assert "postgresql://motcua@db.example:5433/motcua" in result.output
        assert "mat-khau-bi-mat" not in result.output
        assert "motcua audit verify" in result.output


@only_postgres
def test_the_printed_pg_dump_and_pg_restore_commands_restore_the_backup(
        client, database_url, db_engine, tmp_path):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore not installed: the commands are only printed")
    clerk = some_dossiers(client)
    dump_file = tmp_path / "motcua.dump"
    dump, restore = postgres_commands(database_url, dump_file)
    subprocess.run(dump, check=True, capture_output=True, timeout=120)
    saved = snapshot(database_url)
    change_live(client, clerk)
    assert snapshot(database_url) != saved

    stop_service(client, db_engine)
    done = subprocess.run(restore, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert snapshot(database_url) == saved
    verified = motcua(database_url, "audit", "verify")
    assert verified.exit_code == 0 and "0 chuỗi bị hỏng" in verified.output
