"""The sync rate (issue 17): a dossier received in the period is synchronised when the
portal message of its receipt event is delivered; QĐ 766 1.4 and 3.3 from it, per group,
drillable, in the CSV/Excel columns, and "not configured" rather than 0 %."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from engine.lifecycle.models import Dossier, DossierEvent
from engine.outbox import OutboxMessage
from engine.reports.exports import to_csv
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.sync_rate import SYNC_FIGURES, behind_sync, portal_configured, sync_rate
from engine.reports.targets import TARGET_LABELS, behind_any, targets
from engine.reports.totals import By
from engine.samples import PROCEDURE_CODE

from .worlds_channels import CERTIFY_CODE, build

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))


def portal_message(s, code, action, state):
    """The portal message of ``code``'s ``action`` event, keyed like ``record_key``."""
    dossier = s.exec(select(Dossier).where(Dossier.code == code)).one()
    seq = s.exec(select(DossierEvent.seq).where(DossierEvent.dossier_id == dossier.id,
                                                DossierEvent.action == action)).first()
    s.add(OutboxMessage(key=f"portal:{code}:{seq}", kind="sync", channel="portal",
                        recipient="portal", dossier_code=code, subject=f"{code} {action}",
                        body="{}", state=state))


@pytest.fixture
def codes(world):
    """a (counter) and b (online) delivered; c (online) pending; d (counter) dead; e absent —
    but e's later event delivered and c's online submission delivered: neither is a receipt."""
    codes = build(world)
    portal_message(world, codes["a"], "receive", "delivered")
    portal_message(world, codes["b"], "receive", "delivered")
    portal_message(world, codes["c"], "receive", "pending")
    portal_message(world, codes["c"], "submit", "delivered")
    portal_message(world, codes["d"], "receive", "dead")
    portal_message(world, codes["e"], "finish", "delivered")
    world.commit()
    return codes


def test_a_dossier_is_synchronised_only_when_its_receipt_message_is_delivered(world, codes):
    t = sync_rate(world, MARCH).totals
    assert (t.received, t.received_online, t.synchronised, t.online_synchronised) == (5, 2, 2, 1)
    assert t.not_synchronised == 3 and t.configured


def test_indicators_1_4_and_3_3_count_an_online_dossier_only_if_synchronised(world, codes):
    t = sync_rate(world, MARCH).totals
    assert t.sync_rate == t.as_dict()["indicator_1_4"] == pytest.approx(2 / 5)
    assert t.indicator_3_3 == pytest.approx(1 / 5)  # b only: c is online but not synced
    assert t.indicator_3_3_product == pytest.approx(2 / 5 * 2 / 5)
    online_rate = figures(world, MARCH).totals.online_rate
    assert t.indicator_3_3 < online_rate == pytest.approx(2 / 5)  # the unsynced one is out


def test_the_sync_rate_per_procedure_adds_up_to_the_totals(world, codes):
    report = sync_rate(world, MARCH, By.PROCEDURE)
    groups = {g.key: g.sync for g in report.groups}
    assert (groups[PROCEDURE_CODE].received, groups[PROCEDURE_CODE].synchronised) == (4, 2)
    assert (groups[CERTIFY_CODE].received, groups[CERTIFY_CODE].sync_rate) == (1, 0.0)
    assert sum(g.synchronised for g in groups.values()) == report.totals.synchronised
    assert report.groups[0].label  # the procedure's name
    with pytest.raises(ValueError):
        sync_rate(world, MARCH, By.STEP)


def test_each_sync_figure_drills_down_to_exactly_its_dossiers(world, codes):
    expected = {"synchronised": {"a", "b"}, "not_synchronised": {"c", "d", "e"},
                "online_synchronised": {"b"}, "online_not_synchronised": {"c"}}
    assert set(expected) == set(SYNC_FIGURES)
    for figure, names in expected.items():
        assert sorted(behind_sync(world, MARCH, figure)) == sorted(codes[n] for n in names)
        assert behind_any(world, MARCH, figure).keys() == behind_sync(
            world, MARCH, figure).keys()
    assert list(behind_any(world, MARCH, "not_synchronised", by=By.PROCEDURE,
                           key=CERTIFY_CODE)) == [codes["e"]]
    with pytest.raises(ValueError, match="bước"):
        behind_any(world, MARCH, "not_synchronised", by=By.STEP)


def test_without_portal_sync_configured_the_rates_are_not_a_zero(world):
    build(world)
    assert not portal_configured(world, env={})
    assert portal_configured(world, env={"MOTCUA_PORTAL_URL": "https://dvc.example/api"})
    t = sync_rate(world, MARCH, configured=False).totals
    assert (t.received, t.synchronised, t.sync_rate, t.indicator_3_3) == (5, 0, None, None)
    flat = targets(world, MARCH, By.NONE).flat()["TOTAL"]  # no portal message, no URL
    assert flat["sync_rate"] is None and flat["synchronised"] is None


def test_the_csv_has_the_sync_columns_with_their_vietnamese_titles(world, codes):
    text = to_csv(figures(world, MARCH, By.AGENCY), vietnamese_header=True,
                  targets=targets(world, MARCH, By.AGENCY))
    header = text.splitlines()[0]
    for name in ("synchronised", "sync_rate", "indicator_3_3"):
        assert TARGET_LABELS[name] in header
    assert portal_configured(world, env={})  # messages exist: sync was on
    total = targets(world, MARCH, By.AGENCY).flat()["TOTAL"]
    assert (total["synchronised"], total["sync_rate"]) == (2, pytest.approx(0.4))
    assert total["indicator_3_3"] == pytest.approx(0.2)


def test_the_api_answers_the_sync_rate_per_agency_scoped_and_drillable(world, codes,
                                                                       database_url):
    from fastapi.testclient import TestClient

    from engine.samples import DEPT
    from engine.users import AuditorGrant, User
    from service.app import create_app
    from service.auth import hash_password

    hashed = hash_password("pw-thu-nghiem")
    for name, role, agency in (("aud", "auditor", "000.00.00.H26"),
                               ("other", "auditor", "000.00.00.H26"),
                               ("clk", "clerk", "000.00.00.H31")):
        world.add(User(username=name, full_name=name, role=role, agency_code=agency,
                       password_hash=hashed))
    world.add(AuditorGrant(username="aud", agency_code=DEPT))
    world.commit()
    app = create_app(database_url)
    q = "?from=2025-03-01&to=2025-03-31"
    with TestClient(app) as client:
        def get(user: str, path: str):
            token = client.post("/api/v1/auth/token",
                                data={"username": user, "password": "pw-thu-nghiem"})
            return client.get(path, headers={
                "Authorization": f"Bearer {token.json()['access_token']}"})

        assert get("clk", f"/api/v1/reports/sync{q}").status_code == 403
        doc = get("aud", f"/api/v1/reports/sync{q}").json()
        assert (doc["by"], doc["configured"], [g["key"] for g in doc["groups"]]) == (
            "agency", True, [DEPT])
        t = doc["totals"]
        assert (t["received"], t["synchronised"], t["not_synchronised"]) == (5, 2, 3)
        assert t["indicator_1_4"] == pytest.approx(0.4)
        assert t["indicator_3_3"] == pytest.approx(0.2)
        assert get("other", f"/api/v1/reports/sync{q}").json()["totals"]["received"] == 0
        drill = get("aud", f"/api/v1/reports/drill{q}&figure=not_synchronised").json()
        assert drill["codes"] == sorted(codes[n] for n in "cde")
        assert drill["rows"][0]["procedure"]
        assert get("aud", f"/api/v1/reports/sync{q}&by=step").status_code == 422
        csv_file = get("aud", f"/api/v1/reports/export.csv{q}&by=agency")
        assert TARGET_LABELS["sync_rate"] in csv_file.text.splitlines()[0]
    app.state.engine.dispose()


def test_the_excel_sync_sheet_has_the_rates_or_says_sync_is_not_configured(world, codes):
    from openpyxl import Workbook

    from engine.reports.targets import write_sheets

    book = Workbook()
    write_sheets(book, targets(world, MARCH, By.AGENCY))
    rows = list(book["Đồng bộ"].iter_rows(values_only=True))
    assert rows[0][:3] == ("Mã nhóm", "Nhóm", "Tiếp nhận")
    assert rows[-1][:6] == ("TOTAL", "Tổng cộng", 5, 2, 1, 0.4)
    data = targets(world, MARCH, By.AGENCY)
    data.sync = sync_rate(world, MARCH, By.AGENCY, configured=False)
    book = Workbook()
    write_sheets(book, data)
    assert "Chưa cấu hình" in book["Đồng bộ"]["A1"].value
