"""The minimal HTTP service: health, the deadline endpoint and the calculator page."""

def test_health_answers_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_deadline_endpoint_skips_new_year_2026_days_off(client):
    body = client.get("/api/v1/deadline",
                      params={"received": "2025-12-31T16:00", "unit": "same_day"}).json()
    assert body["due"] == "2026-01-05"
    assert [d["date"] for d in body["explanation"]["skipped"]][:2] == ["2026-01-01", "2026-01-02"]


def test_deadline_outside_the_calendar_is_a_problem_document(client):
    response = client.get("/api/v1/deadline", params={"received": "2090-01-01T09:00", "limit": 3})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Không tính được ngày hẹn trả"


def test_calculator_page_is_vietnamese(client):
    page = client.get("/tinh-han").text
    assert "Tính ngày hẹn trả kết quả" in page and 'lang="vi"' in page
