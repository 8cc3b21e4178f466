"""The dashboard's downloads and drill-down list (``/api/v1/reports/export.{xlsx,pdf,csv}``,
``/api/v1/reports/drill``): the files ``motcua report`` writes, for the period and grouping
the dashboard shows and the caller's scope; the list names the applicant, the procedure, the
dates and the verdict, not only the codes."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from engine.reports.history import import_lines
from engine.users import AuditorGrant, User
from service.app import create_app
from service.auth import hash_password
from tests.engine.reports.conftest import seed
from tests.engine.reports.dataset import jsonl

Q = "from=2026-03-01&to=2026-03-31"
PASSWORD = "pw-thu-nghiem"


@pytest.fixture
def reader(session, database_url):
    """GET as a user of the fixed report dataset: ``aud`` is granted the department only,
    ``lead`` leads the commune, ``clk`` is a clerk."""
    seed(session)
    assert import_lines(session, jsonl().splitlines(), source="dataset.jsonl").ok
    hashed = hash_password(PASSWORD)
    for name, role, agency in (("aud", "auditor", "000.00.00.H26"),
                               ("lead", "leader", "000.01.00.H31"),
                               ("clk", "clerk", "000.00.00.H31")):
        session.add(User(username=name, full_name=name, role=role, agency_code=agency,
                         password_hash=hashed))
    session.add(AuditorGrant(username="aud", agency_code="000.00.10.H31"))
    session.commit()
    app = create_app(database_url)
    with TestClient(app) as client:
        def get(user: str, path: str):
            token = client.post("/api/v1/auth/token",
                                data={"username": user, "password": PASSWORD})
            return client.get(path, headers={
                "Authorization": f"Bearer {token.json()['access_token']}"})

        yield get
    app.state.engine.dispose()


def test_the_xlsx_download_opens_with_the_figures_and_biểu_ii06a(reader):
    from openpyxl import load_workbook

    answer = reader("lead", f"/api/v1/reports/export.xlsx?{Q}&by=agency")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="bao-cao-2026-03-01-2026-03-31.xlsx"' in answer.headers[
        "content-disposition"]
    book = load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Tổng hợp", "Biểu II.06a", "Thời gian TB", "Chỉ tiêu kênh",
                               "Hài lòng", "Đồng bộ", "Định nghĩa"]  # issues 16, 17
    summary = list(book["Tổng hợp"].iter_rows(values_only=True))
    assert summary[0][0].endswith("Từ ngày 01/03/2026 đến ngày 31/03/2026")
    # the leader's scope: the commune's dossiers only
    assert [r[0] for r in summary[3:]] == ["000.01.00.H31", "TOTAL"]


def test_the_csv_download_has_vietnamese_column_titles_and_the_callers_scope(reader):
    answer = reader("lead", f"/api/v1/reports/export.csv?{Q}")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    text = answer.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets read the Vietnamese letters as UTF-8
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:5] == ["Mã nhóm", "Nhóm", "Tiếp nhận mới", "Tiếp nhận trực tuyến",
                           "Tiếp nhận trực tiếp"]
    header = rows[0]
    total = dict(zip(header, rows[-1], strict=True))
    assert total["Nhóm"] == "Tổng cộng" and total["Quá hạn"] == "2"


def test_the_pdf_download_is_the_report_pdf(reader):
    answer = reader("aud", f"/api/v1/reports/export.pdf?{Q}&by=field")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_downloads_are_for_auditors_and_leaders_and_check_the_period(reader):
    assert reader("clk", f"/api/v1/reports/export.csv?{Q}").status_code == 403
    bad = reader("aud", "/api/v1/reports/export.xlsx?from=2026-03-31&to=2026-03-01")
    assert bad.status_code == 422
    assert reader("aud", f"/api/v1/reports/export.docx?{Q}").status_code == 422


def test_the_drill_down_list_describes_each_dossier(reader):
    answer = reader("lead", f"/api/v1/reports/drill?{Q}&figure=ended_late").json()
    assert answer["codes"] == ["m-late-no-apology", "m-stopped"] and answer["count"] == 2
    late, stopped = answer["rows"]
    assert late == {
        "code": "m-late-no-apology", "applicant": "Nhập từ hệ thống cũ",
        "procedure": "1.000001", "procedure_name": late["procedure_name"],
        "received_at": "2026-03-03T09:00:00+07:00", "due": "2026-03-05",
        "ended_at": "2026-03-09T10:00:00+07:00", "end_kind": "result_ready",
        "verdict": "late"}
    assert late["procedure_name"]
    assert (stopped["verdict"], stopped["end_kind"]) == ("late", "stopped")
    few = reader("aud", f"/api/v1/reports/drill?{Q}&figure=received&rows=2").json()
    assert few["count"] > 2 and len(few["codes"]) == few["count"]
    assert [r["code"] for r in few["rows"]] == few["codes"][:2] and few["rows_limit"] == 2
