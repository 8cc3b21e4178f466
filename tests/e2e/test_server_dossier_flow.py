"""End to end over HTTP against the real server: receipt to return, on both databases."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from .conftest import token

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def test_a_dossier_travels_from_the_counter_to_the_citizen(server):
    clerk, officer, leader = (token(server, u) for u in ("clerk", "officer", "leader"))
    with httpx.Client(base_url=server, timeout=30) as http:
        assert "/api/v1/dossiers" in http.get("/openapi.json").json()["paths"]
        received = http.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk)
        assert received.status_code == 201, received.text
        code, secret = received.json()["code"], received.json()["secret"]
        steps = [(clerk, "transfer", {}), (officer, "forward", {}), (leader, "finish", {}),
                 (clerk, "return_result", {"payload": {"collected_by": "Nguyễn Thị Mai"}})]
        for headers, action, body in steps:
            response = http.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                                 headers=headers)
            assert response.status_code == 200, (action, response.text)
        public = http.get(f"/api/v1/public/dossiers/{code}", params={"secret": secret}).json()
        assert public["status_code"] == 10 and public["status"] == "Đã trả kết quả"
        detail = http.get(f"/api/v1/dossiers/{code}", headers=clerk).json()
        assert [e["action"] for e in detail["events"]] == [
            "receive", "transfer", "forward", "finish", "return_result"]


def test_every_pdf_of_a_dossier_is_served(server):
    import io

    clerk, officer, leader = (token(server, u) for u in ("clerk", "officer", "leader"))
    with httpx.Client(base_url=server, timeout=60) as http:
        code = http.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
        http.post(f"/api/v1/dossiers/{code}/actions/transfer", json={}, headers=clerk)
        http.post(f"/api/v1/dossiers/{code}/actions/apologise", headers=leader,
                  json={"reason": "Chờ xác minh", "payload": {"new_due": "2099-01-01"}})
        http.post(f"/api/v1/dossiers/{code}/actions/request_supplement", headers=officer,
                  json={"reason": "Thiếu giấy tờ", "payload": {"missing": [{"name": "Tờ khai"}]}})
        for form in ("receipt", "apology", "supplement_request", "control"):
            response = http.get(f"/api/v1/dossiers/{code}/documents/{form}.pdf", headers=clerk)
            assert response.status_code == 200, (form, response.text)
            assert response.headers["content-type"] == "application/pdf"
            assert response.content.startswith(b"%PDF")
            assert len(io.BytesIO(response.content).getvalue()) > 1000
        missing = http.get(f"/api/v1/dossiers/{code}/documents/refusal.pdf", headers=clerk)
        assert missing.status_code == 404
        copy = http.get(f"/api/v1/dossiers/{code}/documents/receipt.pdf",
                        params={"copy": "true"}, headers=clerk)
        assert copy.status_code == 200
        documents = http.get(f"/api/v1/dossiers/{code}", headers=clerk).json()["documents"]
        assert any(d["copy_of"] for d in documents)
