"""Dossiers received at the counter, online and by post in one period, through the lifecycle:
every report that splits by channel counts the postal one as postal (Biểu II.06a's "trực tiếp,
dịch vụ bưu chính", the grouping by channel, the drill-down, the packed report code), and the
register shows the channel, the return method, the tracking number and the delivery day."""

from datetime import date

import pytest
from sqlalchemy import text

from engine.lifecycle import receive
from engine.reports.drilldown import drill
from engine.reports.exports import REGISTER_HEADER, ii06a_rows, register_rows
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.totals import By

from .conftest import APPLICANT, CLERK, COMPONENTS, DEPT, OFFICER
from .flow import PROC, at, do, in_processing

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


@pytest.fixture
def mixed(world):
    """Two at the counter (one by kiosk), one online, one by post returned by post."""
    s = world
    codes = {"counter": in_processing(s, "2025-03-03T09:00").code,
             "kiosk": in_processing(s, "2025-03-03T10:00", channel="kiosk").code}
    online = receive(s, actor=CLERK, procedure_code=PROC, applicant=APPLICANT,
                     components=COMPONENTS, competent_agency=DEPT, online=True,
                     at=at("2025-03-01T22:00")).dossier
    s.commit()
    do(s, online.code, "receive", CLERK, "2025-03-03T11:00")
    codes["online"] = online.code
    postal = in_processing(s, "2025-03-04T09:00", channel="postal",
                           postal_delivered_on="2025-03-03", return_method="post")
    do(s, postal.code, "finish", OFFICER, "2025-03-05T09:00")
    do(s, postal.code, "return_result", CLERK, "2025-03-05T15:00",
       payload={"tracking_number": "EB123456789VN"})
    do(s, postal.code, "record_postal_delivery", CLERK, "2025-03-07T08:00",
       payload={"delivered_on": "2025-03-06"})
    codes["postal"] = postal.code
    return s, codes


def test_the_reports_count_the_postal_dossier_in_its_own_channel(mixed):
    s, codes = mixed
    totals = figures(s, MARCH).totals
    assert (totals.received, totals.received_online, totals.received_direct,
            totals.received_postal) == (4, 1, 2, 1)
    assert totals.postal_rate == pytest.approx(1 / 4)
    by_channel = {g.key: g.totals.received for g in figures(s, MARCH, By.CHANNEL).groups}
    assert by_channel == {"counter": 1, "kiosk": 1, "online": 1, "postal": 1}
    labels = {g.key: g.label for g in figures(s, MARCH, By.CHANNEL).groups}
    assert labels["postal"] == "Bưu chính công ích"
    assert drill(s, MARCH, "received_postal") == [codes["postal"]]
    assert drill(s, MARCH, "received_direct") == sorted([codes["counter"], codes["kiosk"]])
    total = ii06a_rows(figures(s, MARCH))[-1]
    assert total[2:6] == [4, 1, 3, 0]  # total, online, direct + postal, carried over
    if s.get_bind().dialect.name == "postgresql":  # the generated column (migration 0007)
        code = s.execute(text("SELECT report_code FROM dossier WHERE code = :c"),
                         {"c": codes["postal"]}).scalar_one()
        assert code & 24 == 16  # entry channel: postal


def test_the_register_shows_channel_return_method_tracking_number_and_delivery(mixed):
    s, codes = mixed
    rows = {r[1]: dict(zip(REGISTER_HEADER, r, strict=True)) for r in register_rows(s, MARCH)}
    postal = rows[codes["postal"]]
    assert postal["Hình thức nộp"] == "Bưu chính công ích (bưu điện giao 03/03/2025)"
    assert postal["Phương thức nhận kết quả"] == \
        "Qua dịch vụ bưu chính công ích, địa chỉ: Số 5 Lạch Tray, Hải Phòng"
    assert postal["Số hiệu bưu gửi"] == "EB123456789VN"
    assert postal["Bưu điện phát kết quả"] == "06/03/2025"
    assert postal["Trả kết quả cho cá nhân, tổ chức"] == "15:00 05/03/2025"
    counter = rows[codes["counter"]]
    assert (counter["Hình thức nộp"], counter["Phương thức nhận kết quả"],
            counter["Số hiệu bưu gửi"], counter["Bưu điện phát kết quả"]) == \
        ("Trực tiếp", "Trực tiếp", "", "")
    assert rows[codes["online"]]["Hình thức nộp"] == "Trực tuyến"
