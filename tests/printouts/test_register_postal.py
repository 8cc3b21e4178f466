"""The register shows the postal channel (SQLite and PostgreSQL): a dossier received by post
with the day the post office delivered it, its result handed to the post office with a
tracking number and delivered — on the printed Sổ theo dõi hồ sơ (Mẫu 07 and 06), in the
report's register (PDF) and in its Excel file."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from engine.lifecycle import act
from engine.reports.exports import register_rows, write_register_xlsx
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.totals import By
from engine.samples import CENTRE, CLERK, LEADER, received, seed_world, world_agencies
from engine.samples import local as at
from printouts.context import PrintOptions, register_context
from printouts.load import register_dossiers
from printouts.report_pdf import render_report_html, write_report_pdf

from .conftest import needs_poppler, pdf_text

pytestmark = needs_poppler
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def by_post(session):
    """One dossier in and out by post, one at the counter; returns the session."""
    seed_world(session)
    session.commit()
    postal = received(session, at=at("2025-03-04T09:00"), channel="postal",
                      postal_delivered_on="2025-03-03", return_method="post")
    counter = received(session, at=at("2025-03-04T10:00"))
    session.commit()
    for code, action, actor, when, payload in [
        (postal.code, "transfer", CLERK, "2025-03-04T09:30", {}),
        (postal.code, "finish", LEADER, "2025-03-05T09:00", {}),
        (postal.code, "return_result", CLERK, "2025-03-05T15:00",
         {"tracking_number": "EB123456789VN", "recipient_address": "Thôn 3, xã An Lư"}),
        (postal.code, "record_postal_delivery", CLERK, "2025-03-07T08:00",
         {"delivered_on": "2025-03-06"}),
        (counter.code, "transfer", CLERK, "2025-03-04T10:30", {}),
    ]:
        act(session, code=code, action=action, actor=actor, at=at(when), payload=payload)
        session.commit()
    return session


@pytest.mark.parametrize("form_set", ["2025", "2018"])
def test_the_printed_register_shows_the_postal_facts(by_post, renderer, tmp_path, form_set):
    dossiers = register_dossiers(by_post, CENTRE, date(2025, 3, 1), date(2025, 3, 31))
    agencies = {a.code: a for a in world_agencies()}
    context = register_context(CENTRE, dossiers, agencies, date_from=date(2025, 3, 1),
                               date_to=date(2025, 3, 31), options=PrintOptions(form_set=form_set))
    path = tmp_path / "register.pdf"
    renderer.pdf(context, path)
    text = pdf_text(path)
    assert "bưu điện giao 03/03/2025" in text
    assert "EB123456789VN" in text and "đã phát 06/03/2025" in text
    assert text.count("EB123456789VN") == 1  # the counter dossier has none


def test_the_report_register_pdf_and_excel_show_the_postal_facts(by_post, tmp_path):
    rows = list(register_rows(by_post, MARCH))
    fig = figures(by_post, MARCH, By.FIELD)
    html = render_report_html(fig, fig, charts={"period": MARCH.as_dict(), "over_time": [],
                                                "by_agency": []}, register=rows)
    path = tmp_path / "report.pdf"
    write_report_pdf(path, html)
    text = pdf_text(path)
    for expected in ("Hình thức nộp", "Số hiệu bưu gửi", "EB123456789VN", "06/03/2025",
                     "Bưu chính công ích (bưu điện giao 03/03/2025)"):
        assert expected in text
    book = tmp_path / "register.xlsx"
    assert write_register_xlsx(book, MARCH, iter(rows)) == 2
    sheet = list(load_workbook(book)["Sổ theo dõi hồ sơ"].iter_rows(values_only=True))
    header, postal = sheet[2], next(r for r in sheet[3:] if r[14] == "EB123456789VN")
    line = dict(zip(header, postal, strict=True))
    assert line["Hình thức nộp"] == "Bưu chính công ích (bưu điện giao 03/03/2025)"
    assert line["Phương thức nhận kết quả"] == \
        "Qua dịch vụ bưu chính công ích, địa chỉ: Thôn 3, xã An Lư"
    assert line["Bưu điện phát kết quả"] == "06/03/2025"
