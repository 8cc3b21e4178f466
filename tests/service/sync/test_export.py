"""``motcua sync export`` and ``motcua sync reconcile`` (issue 17): the records of a period in
the national vocabulary, and a portal-side export compared with the local state."""

from __future__ import annotations

import csv
import io
import json

import pytest
import typer
from sqlmodel import Session
from typer.testing import CliRunner

from service.cli_sync import sync_app
from tests.engine.reports.conftest import seed
from tests.engine.reports.worlds_channels import build

MARCH = ["--from", "2025-03-01", "--to", "2025-03-31"]


def cli(database_url: str, *args: str):
    app = typer.Typer()
    app.add_typer(sync_app, name="sync")
    return CliRunner().invoke(app, ["sync", *args], env={"MOTCUA_DATABASE_URL": database_url})


@pytest.fixture
def codes(db_engine):
    """March 2025: a and e returned at the counter / by post, b and c online and returned,
    d still in processing."""
    with Session(db_engine) as session:
        seed(session)
        return build(session)


def export(database_url, tmp_path, fmt="jsonl", *extra):
    path = tmp_path / f"portal.{fmt}"
    result = cli(database_url, "export", *MARCH, "--format", fmt, "-o", str(path), *extra)
    assert result.exit_code == 0, result.output
    return path


def test_export_writes_the_latest_state_of_each_dossier_received_in_the_period(
        codes, database_url, tmp_path):
    from engine.sync.record import validate

    lines = export(database_url, tmp_path).read_text(encoding="utf-8").splitlines()
    records = {r["MaHoSo"]: r for r in map(json.loads, lines)}
    assert set(records) == set(codes.values())
    assert int(records[codes["a"]]["TrangThaiHoSo"]) == 10  # returned
    assert int(records[codes["d"]]["TrangThaiHoSo"]) == 4  # still in processing
    for record in records.values():
        validate(record)
    april = cli(database_url, "export", "--from", "2025-04-01", "--to", "2025-04-30")
    assert april.exit_code == 0 and april.output.strip() == ""
    other = cli(database_url, "export", *MARCH, "--agency", "KHONG.CO")
    assert other.exit_code == 0 and other.output.strip() == ""


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_export_reconciled_with_the_same_database_is_equal(codes, database_url, tmp_path,
                                                               fmt):
    path = export(database_url, tmp_path, fmt)
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert {r["MaHoSo"] for r in rows} == set(codes.values())
    result = cli(database_url, "reconcile", str(path), "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "Khớp" in result.output and "5 hồ sơ có ở cả hai bên" in result.output


def test_reconcile_lists_dossiers_missing_on_either_side_and_a_status_difference(
        codes, database_url, tmp_path):
    records = [json.loads(line) for line in export(database_url, tmp_path)
               .read_text(encoding="utf-8").splitlines()]
    portal = [r for r in records if r["MaHoSo"] != codes["a"]]  # a never reached the portal
    for r in portal:
        if r["MaHoSo"] == codes["d"]:
            r["TrangThaiHoSo"] = 9  # the portal thinks d is finished
    portal.append({**portal[0], "MaHoSo": "H31.99-250301-9999"})  # unknown here
    path = tmp_path / "portal.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in portal) + "\n",
                    encoding="utf-8")
    answer = cli(database_url, "reconcile", str(path), *MARCH, "--json")
    assert answer.exit_code == 1, answer.output
    doc = json.loads(answer.output)
    assert (doc["equal"], doc["only_local"], doc["only_portal"]) == (
        False, [codes["a"]], ["H31.99-250301-9999"])
    assert [(d["code"], d["field"], d["local"], d["portal"]) for d in doc["differences"]] == [
        (codes["d"], "TrangThaiHoSo", "4", "9")]
    table = cli(database_url, "reconcile", str(path), *MARCH)
    assert table.exit_code == 1
    for text in ("Chưa có trên Cổng", "Không có tại hệ thống", "Trạng thái", codes["a"]):
        assert text in table.output
    # without --from/--to the period is the file's receipt days: a, received on the 3rd,
    # before the file's first day, is then out of it — hence the warning
    derived = cli(database_url, "reconcile", str(path), "--json")
    assert json.loads(derived.stdout)["only_local"] == []
    assert "--from/--to" in cli(database_url, "reconcile", str(path)).output


def test_reconcile_refuses_an_unreadable_file_with_exit_code_2(codes, database_url, tmp_path):
    path = tmp_path / "portal.jsonl"
    path.write_text('{"MaHoSo": "A"}\n{oops\n', encoding="utf-8")
    answer = cli(database_url, "reconcile", str(path))
    assert answer.exit_code == 2 and "dòng 2" in answer.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    answer = cli(database_url, "reconcile", str(empty))
    assert answer.exit_code == 2 and "--from" in answer.output
