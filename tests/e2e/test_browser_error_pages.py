"""Errors in a browser: an unknown address and a forbidden page are Vietnamese pages with the
navigation, not raw JSON; the API documentation works with no other host reachable."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import expect

from .conftest import sign_in


def test_an_unknown_address_is_a_page_with_the_public_navigation(server, page):
    response = page.goto(f"{server}/khong-co-trang-nay")
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    expect(page.locator("h1")).to_have_text("Không tìm thấy")
    expect(page.locator("#error-detail")).to_contain_text("/khong-co-trang-nay")
    expect(page.locator("header.top nav")).to_contain_text("Tra cứu hồ sơ")
    page.get_by_role("link", name="Về trang tra cứu hồ sơ").click()
    page.wait_for_url(f"{server}/")
    expect(page.locator("h1")).not_to_have_text("Không tìm thấy")


def test_a_clerk_opening_the_dashboard_gets_a_forbidden_page_with_the_clerks_menu(server,
                                                                                    page):
    sign_in(page, server, "clerk", "/quay")
    response = page.goto(f"{server}/kiem-soat")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("Không có quyền thực hiện")
    expect(page.locator("#error-detail")).to_have_text("Trang này không dành cho vai trò của "
                                                       "bạn.")
    expect(page.locator("header.top")).to_contain_text("Cán bộ tiếp nhận")
    expect(page.locator("header.top nav")).to_contain_text("Tiếp nhận")
    expect(page.locator("header.top")).to_have_css("display", "flex")  # styled, not raw JSON
    page.get_by_role("link", name="Về trang làm việc").click()
    page.wait_for_url(f"{server}/quay")


def test_the_api_documentation_draws_without_the_internet(server, page):
    """Every request to another host is refused, as on an office network without Internet."""
    own = urlparse(server).netloc
    foreign: list[str] = []

    def only_this_server(route):
        if urlparse(route.request.url).netloc == own:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(f"{server}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("MotCua")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    page.goto(f"{server}/redoc")
    expect(page.locator("h1").first).to_contain_text("MotCua")
    assert foreign == []
