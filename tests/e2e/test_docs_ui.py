"""/docs in a real browser: Swagger UI (served by Seamline, no CDN) reads the OpenAPI 3.1 document and lists the
operations, with the security schemes and each route's documented error statuses."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Shoot


def test_docs_render_the_operations(page: Page, base_url: str, shoot: Shoot) -> None:
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((base_url, "data:")) else None)
    page.goto(f"{base_url}/docs")
    expect(page.locator(".opblock-summary-path", has_text="/v1/profiles/lookup").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/v1/track").first).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    assert page.locator(".errors-wrapper").count() == 0, page.locator(".errors-wrapper").inner_text()
    page.locator(".opblock-summary-path", has_text="/v1/profiles/lookup").first.click()
    responses = page.locator(".opblock.is-open .responses-table .response-col_status")
    expect(responses.filter(has_text="404")).to_have_count(1)
    expect(responses.filter(has_text="403")).to_have_count(1)
    shoot("docs")
    assert outside == [], f"/docs fetched from outside: {outside}"
