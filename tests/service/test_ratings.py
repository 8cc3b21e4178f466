"""The applicant rates the service once after the result was returned (issue 16): over the
public API with the lookup secret, on the lookup page, and in the reports (satisfaction,
QĐ 766 5.4, channel targets, their drill-down and the CSV export)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from sqlmodel import Session, select

from engine.ratings import Rating
from engine.timezone import now_local

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
COMMENT = "Cán bộ hướng dẫn tận tình"


def received(client) -> dict:
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=login(client, "clerk"))
    assert response.status_code == 201, response.text
    return response.json()


def returned(client) -> dict:
    body = received(client)
    clerk, officer, leader = (login(client, u) for u in ("clerk", "officer", "leader"))
    for headers, action, payload in [(clerk, "transfer", {}),
                                     (leader, "assign", {"assignee": "officer"}),
                                     (officer, "forward", {}), (leader, "finish", {}),
                                     (clerk, "return_result", {})]:
        response = client.post(f"/api/v1/dossiers/{body['code']}/actions/{action}",
                               json={"payload": payload}, headers=headers)
        assert response.status_code == 200, (action, response.text)
    return body


def rate(client, code, secret, **fields):
    return client.post(f"/api/v1/public/dossiers/{code}/rating",
                       json={"secret": secret, "score": 4, **fields})


def stored(db_engine) -> list[Rating]:
    with Session(db_engine) as session:
        return list(session.exec(select(Rating)).all())


def test_a_returned_dossier_is_rated_once_with_its_secret(client, db_engine):
    d = returned(client)
    nfd = unicodedata.normalize("NFD", COMMENT)
    response = rate(client, d["code"], d["secret"], score=5, reasons=["attitude", "guidance"],
                    comment=nfd)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["score"], body["score_label"], body["reasons"]) == (
        5, "Rất hài lòng", ["attitude", "guidance"])
    assert body["comment"] == COMMENT and body["rated_at"].endswith("+07:00")
    [row] = stored(db_engine)
    assert row.comment == COMMENT and unicodedata.is_normalized("NFC", row.comment)

    again = rate(client, d["code"], d["secret"], score=1)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json()["type"].endswith("/rating-exists")
    assert "một lần" in again.json()["detail"]
    assert [r.score for r in stored(db_engine)] == [5]

    lookup = client.get(f"/api/v1/public/dossiers/{d['code']}",
                        params={"secret": d["secret"]}).json()
    assert lookup["rateable"] is False and lookup["rating"]["score"] == 5


def test_no_rating_before_the_result_is_returned(client, db_engine):
    d = received(client)
    response = rate(client, d["code"], d["secret"])
    assert response.status_code == 409
    assert response.json()["type"].endswith("/rating-not-returned")
    assert "sau khi đã nhận kết quả" in response.json()["detail"]
    lookup = client.get(f"/api/v1/public/dossiers/{d['code']}",
                        params={"secret": d["secret"]}).json()
    assert lookup["rateable"] is False and lookup["rating"] is None
    assert stored(db_engine) == []


def test_a_wrong_secret_is_an_unknown_dossier_and_stores_nothing(client, db_engine):
    d = returned(client)
    response = rate(client, d["code"], "sai-ma-tra-cuu")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/dossier-not-found")
    assert stored(db_engine) == []
    # spaces typed between the groups of the printed secret are fine
    spaced = " ".join(d["secret"][i:i + 4] for i in range(0, len(d["secret"]), 4))
    assert rate(client, d["code"], spaced).status_code == 201


def test_bad_scores_reasons_and_comments_are_422_in_vietnamese(client, db_engine):
    d = returned(client)
    for fields, field in [({"score": 6}, "score"), ({"reasons": ["vui"]}, "reasons"),
                          ({"comment": "x" * 1001}, "comment"),
                          ({"comment": "a\u202eb"}, "comment")]:
        response = rate(client, d["code"], d["secret"], **fields)
        assert response.status_code == 422, fields
        problem = response.json()
        assert any(field in json.dumps(e) for e in problem.get("errors", [])), problem
    assert stored(db_engine) == []
    reasons = client.get("/api/v1/public/rating-reasons").json()
    assert {"time", "attitude", "guidance", "procedure", "cost"} <= {
        r["code"] for r in reasons["reasons"]}
    assert reasons["comment_max"] == 1000


def test_the_lookup_page_shows_the_form_after_return_then_the_rating(client):
    d = returned(client)
    page = client.get("/tra-cuu", params={"ma": d["code"], "k": d["secret"]}).text
    assert 'id="danh-gia"' in page and 'id="rating-form"' in page
    assert rate(client, d["code"], d["secret"], score=2, reasons=["time"],
                comment="Chờ lâu").status_code == 201
    page = client.get("/tra-cuu", params={"ma": d["code"], "k": d["secret"]}).text
    assert 'id="rating-form"' not in page
    assert "2/5 — Không hài lòng" in page and "Chờ lâu" in page
    pending = received(client)
    page = client.get("/tra-cuu", params={"ma": pending["code"], "k": pending["secret"]}).text
    assert 'id="danh-gia"' not in page


def test_the_reports_show_satisfaction_5_4_and_the_channel_targets(client):
    rated, other = returned(client), returned(client)
    assert rate(client, rated["code"], rated["secret"], score=2,
                reasons=["time", "cost"]).status_code == 201
    assert rate(client, other["code"], other["secret"], score=5,
                reasons=["time"]).status_code == 201
    today = now_local().date().isoformat()
    period = {"from": today, "to": today}
    auditor = login(client, "leader")
    sat = client.get("/api/v1/reports/satisfaction", params={**period, "by": "procedure"},
                     headers=auditor)
    assert sat.status_code == 200, sat.text
    totals = sat.json()["totals"]
    assert (totals["count"], totals["average"], totals["disliked"]) == (2, 3.5, 1)
    assert totals["top_reasons"][0] == {"code": "time", "label": totals["top_reasons"][0]
                                        ["label"], "count": 2}
    assert totals["population_766"] == 2 and totals["disliked_766"] == 1
    assert totals["indicator_5_4"] == 0.5
    assert [g["key"] for g in sat.json()["groups"]] == [EXAMPLE["procedure"]]

    drill = client.get("/api/v1/reports/drill", params={**period, "figure": "disliked_766"},
                       headers=auditor).json()
    assert drill["codes"] == [rated["code"]] and drill["rows"][0]["code"] == rated["code"]

    channels = client.get("/api/v1/reports/channel-targets", params=period,
                          headers=auditor).json()["totals"]
    assert (channels["received"], channels["received_online"], channels["returned"]) == (
        2, 0, 2)
    assert channels["online_result_rate"] == 0.0 and channels["processed_online_rate"] is None
    drill = client.get("/api/v1/reports/drill", params={**period, "figure": "returned"},
                       headers=auditor).json()
    assert drill["count"] == 2
    step = client.get("/api/v1/reports/channel-targets", params={**period, "by": "step"},
                      headers=auditor)
    assert step.status_code == 422

    csv = client.get("/api/v1/reports/export.csv", params=period, headers=auditor)
    assert csv.status_code == 200
    header, *rows = csv.content.decode("utf-8-sig").splitlines()
    assert "Tỷ lệ hài lòng QĐ 766 (5.4)" in header and "Tỷ lệ trả kết quả trực tuyến" in header
    total = dict(zip(header.split(","), rows[-1].split(","), strict=True))
    assert rows[-1].startswith("TOTAL,") and total["Tỷ lệ hài lòng QĐ 766 (5.4)"] == "0.5"


def test_the_excel_export_has_the_channel_targets_and_satisfaction_sheets(client):
    import io

    from openpyxl import load_workbook

    d = returned(client)
    assert rate(client, d["code"], d["secret"], score=1, reasons=["cost"]).status_code == 201
    today = now_local().date().isoformat()
    response = client.get("/api/v1/reports/export.xlsx", params={"from": today, "to": today},
                          headers=login(client, "leader"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert {"Chỉ tiêu kênh", "Hài lòng"} <= set(book.sheetnames)
    rows = list(book["Hài lòng"].values)
    assert rows[-1][0] == "TOTAL" and rows[-1][2] == 1  # one rating
    assert "Chi phí" in rows[-1][-1]


def test_the_returned_message_links_to_the_rating_form():
    from engine.timed.findings import EventKind
    from engine.timed.messages import APPLICANT, EVENT_TEMPLATES, render, sample_fields

    _, body, _ = render(EVENT_TEMPLATES[(EventKind.RETURNED, APPLICANT)], sample_fields())
    assert "<lookup_url>#danh-gia" in body and "đánh giá" in body
