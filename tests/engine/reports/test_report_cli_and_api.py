"""``motcua report`` / ``motcua import`` outputs, and the /api/v1/reports router."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
import typer
from typer.testing import CliRunner

from service.cli_reports import reports_app

from .dataset import jsonl

ARGS = ["report", "--from", "2026-03-01", "--to", "2026-03-31"]


def cli(database_url: str, *args: str):
    app = typer.Typer()
    app.add_typer(reports_app)

    @app.command()
    def _noop() -> None:  # a second command keeps "report"/"import" as sub-commands
        pass

    return CliRunner().invoke(app, list(args), env={"MOTCUA_DATABASE_URL": database_url})


def test_import_cli_names_bad_lines_then_imports_and_reimport_is_a_no_op(world, database_url,
                                                                          tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl() + "{oops\n", encoding="utf-8")
    result = cli(database_url, "import", str(bad))
    assert result.exit_code == 1
    assert f"dòng {len(jsonl().splitlines()) + 1}: JSON không hợp lệ" in result.output
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl(), encoding="utf-8")
    first = cli(database_url, "import", str(good))
    assert first.exit_code == 0, first.output
    lines = len(jsonl().splitlines())
    assert f"Đã nhập {lines} hồ sơ; bỏ qua 0" in first.output
    again = cli(database_url, "import", str(good))
    assert f"Đã nhập 0 hồ sơ; bỏ qua {lines}" in again.output


def test_json_output_has_exactly_the_dashboard_shape(dataset, database_url):
    result = cli(database_url, *ARGS, "--by", "agency", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert list(doc) == ["period", "totals", "groups"]
    assert doc["totals"] == {
        "received": 18, "carried_over": 1, "ended": {"early": 5, "on_time": 5, "late": 5},
        "pending": {"within": 2, "late": 2}, "withdrawn": 1, "refused": 1,
        "on_time_rate_766": pytest.approx(10 / 19), "closed_on_time_rate": pytest.approx(10 / 15),
        "apology": {"in_time": 1, "late": 1, "missing": 5, "reached": 0}}
    assert [g["key"] for g in doc["groups"]] == sorted(g["key"] for g in doc["groups"])


def test_csv_table_and_drill(dataset, database_url):
    result = cli(database_url, *ARGS, "--by", "channel", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["key"] for r in rows] == ["counter", "online", "postal", "TOTAL"]
    assert rows[-1]["received"] == "18" and rows[-1]["ended_late"] == "5"
    table = cli(database_url, *ARGS, "--format", "table")
    assert table.exit_code == 0 and "Tổng cộng" in table.output
    assert {"procedures_online_rate", "indicator_5_4"} <= set(rows[-1])  # as the dashboard's
    drill = cli(database_url, *ARGS, "--kind", "drill", "--figure", "pending_late")
    assert drill.output.split() == ["m-awaiting-supplement", "m-pending-late"]
    online = cli(database_url, *ARGS, "--kind", "drill", "--figure", "online_procedures")
    assert online.exit_code == 0, online.output
    by_step = cli(database_url, *ARGS, "--kind", "drill", "--figure", "rated", "--by", "step")
    assert by_step.exit_code != 0 and "bước xử lý" in by_step.output
    anomalies = json.loads(cli(database_url, *ARGS, "--kind", "anomalies", "--format",
                               "json").output)
    assert {a["kind"] for a in anomalies["anomalies"]} >= {"supplement_repeated",
                                                           "events_do_not_replay"}


def test_xlsx_is_readable(dataset, database_url, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "report.xlsx"
    result = cli(database_url, *ARGS, "--by", "field", "--format", "xlsx", "-o", str(out))
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    # the same workbook as the dashboard's download: the channel targets and satisfaction too
    assert wb.sheetnames == ["Tổng hợp", "Biểu II.06a", "Thời gian TB", "Chỉ tiêu kênh",
                             "Hài lòng", "Đồng bộ", "Định nghĩa"]
    rows = list(wb["Biểu II.06a"].iter_rows(values_only=True))
    assert rows[0][0] == "Biểu số II.06a/VPCP/KSTT"
    total = rows[-1]
    assert total[1] == "Tổng cộng" and total[2:] == (19, 3, 15, 1, 15, 5, 5, 5, 4, 2, 2)
    register = tmp_path / "register.xlsx"
    result = cli(database_url, *ARGS, "--kind", "register", "--format", "xlsx", "-o",
                 str(register))
    assert "18 hồ sơ" in result.output
    sheet = load_workbook(register)["Sổ theo dõi hồ sơ"]
    assert sheet.max_row == 3 + 18


def test_pdf_has_the_text_and_the_charts(dataset, database_url, tmp_path):
    out = tmp_path / "report.pdf"
    result = cli(database_url, *ARGS, "--format", "pdf", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "TÌNH HÌNH, KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH" in text
    assert "Từ ngày 01/03/2026 đến ngày 31/03/2026" in text
    assert "Tỷ lệ giải quyết đúng hạn theo tháng" in text  # the chart is an SVG image
    register = tmp_path / "register.pdf"
    result = cli(database_url, *ARGS, "--kind", "register", "--format", "pdf", "-o",
                 str(register))
    assert result.exit_code == 0, result.output
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(register), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "m-postal" in text and "SỔ THEO DÕI HỒ SƠ" in text


def test_api_reports_for_auditors_and_leaders_only_and_scoped(dataset, database_url):
    from fastapi.testclient import TestClient

    from engine.users import AuditorGrant, User
    from service.api import reports
    from service.app import create_app
    from service.auth import hash_password

    hashed = hash_password("pw-thu-nghiem")
    for name, role, agency in (("aud", "auditor", "000.00.00.H26"),
                               ("lead", "leader", "000.01.00.H31"),
                               ("clk", "clerk", "000.00.00.H31")):
        dataset.add(User(username=name, full_name=name, role=role, agency_code=agency,
                         password_hash=hashed))
    dataset.add(AuditorGrant(username="aud", agency_code="000.00.10.H31"))
    dataset.commit()
    app = create_app(database_url)
    app.include_router(reports.router)
    with TestClient(app) as client:
        def get(user: str, path: str):
            token = client.post("/api/v1/auth/token",
                                data={"username": user, "password": "pw-thu-nghiem"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            return client.get(path, headers=headers)

        q = "?from=2026-03-01&to=2026-03-31"
        assert get("clk", f"/api/v1/reports{q}").status_code == 403
        auditor = get("aud", f"/api/v1/reports{q}&by=agency").json()
        assert list(auditor) == ["period", "totals", "groups", "computed_at"]
        # granted the department: its dossiers (and those received by it: none)
        assert [g["key"] for g in auditor["groups"]] == ["000.00.10.H31"]
        leader = get("lead", f"/api/v1/reports{q}").json()
        assert leader["totals"]["ended"]["late"] == 2
        codes = get("lead", f"/api/v1/reports/drill{q}&figure=ended_late").json()["codes"]
        assert codes == ["m-late-no-apology", "m-stopped"]
        charts = get("aud", f"/api/v1/reports/charts{q}").json()
        assert charts["over_time"][0]["period"] == {"from": "2026-03-01", "to": "2026-03-31"}
        assert get("aud", f"/api/v1/reports/scoring{q}").json()["scheme"] == "tt01_2018"
        assert get("aud", f"/api/v1/reports/anomalies{q}").status_code == 200
        assert get("aud", f"/api/v1/reports/responsibility{q}").status_code == 200
        assert get("aud", f"/api/v1/reports/processing-time{q}").status_code == 200
        bad = get("aud", "/api/v1/reports?from=2026-03-31&to=2026-03-01")
        assert bad.status_code == 422
    app.state.engine.dispose()
