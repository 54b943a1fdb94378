"""The browser SDK end to end: a page in headless Chromium loads analytics-next (from npm, served on loopback by a
page server of another origin) pointed at Seamline as the README says; its page, identify and track calls arrive,
and a cross-origin JSON post from the page passes Seamline's CORS preflight."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine, text

from tests.support.builders import make_source

NODE_DIR = Path(__file__).resolve().parents[1] / "sdk" / "node"
BUNDLE = NODE_DIR / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Shop</title>
<script src="/analytics-next/index.js"></script>
<script>
  const seamline = %(seamline)s;
  const { AnalyticsBrowser } = window.AnalyticsNext;
  // The README's configuration, word for word: settings and events from Seamline, nothing from Segment's CDN.
  const analytics = AnalyticsBrowser.load(
    { writeKey: %(key)s, cdnURL: seamline },
    { integrations: { "Segment.io": { apiHost: %(api_host)s, protocol: "http" } } }
  );
  analytics.page("Pricing");
  analytics.identify("u-browser", { email: "browser@example.com" });
  analytics.track("Order Completed", { total: 42.5 }).then(() => { window.sdkDone = true; });
  // A JSON post with a header: the browser asks Seamline first (a CORS preflight), then sends it.
  window.preflighted = fetch(seamline + "/v1/track", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Write-Key": %(key)s },
    body: JSON.stringify({ userId: "u-browser", event: "Preflighted Post" }),
  }).then((r) => r.status, (e) => String(e));
</script></head><body><h1>Shop</h1></body></html>
"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[str]:
    """The shop's own origin on loopback: its page and analytics-next's files from node_modules."""
    if not BUNDLE.exists():
        pytest.fail("run `npm ci --prefix tests/sdk/node` first: @segment/analytics-next is not installed")
    (tmp_path / "analytics-next").symlink_to(BUNDLE, target_is_directory=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _stored(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT payload FROM inbox_events ORDER BY id")).all()
    return [json.loads(r.payload) if isinstance(r.payload, str) else r.payload for r in rows]


def test_analytics_next_in_a_real_browser_sends_to_seamline(
    page: Page, engine: Engine, base_url: str, page_server: str, tmp_path: Path
) -> None:
    _source, key = make_source(engine, "web", "web", origins=[page_server])
    (tmp_path / "index.html").write_text(
        PAGE
        % {
            "seamline": json.dumps(base_url),
            "key": json.dumps(key),
            "api_host": json.dumps(base_url.removeprefix("http://") + "/v1"),
        },
        encoding="utf-8",
    )
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((base_url, page_server, "data:", "about:")) else None,
    )
    page.goto(f"{page_server}/index.html")
    page.wait_for_function("window.sdkDone === true", timeout=20_000)
    assert page.evaluate("window.preflighted") == 200
    stored: list[dict[str, Any]] = []
    for _ in range(50):  # the SDK answers once sent; the rows are committed before Seamline answers, so this is short
        stored = _stored(engine)
        if len(stored) >= 4:
            break
        page.wait_for_timeout(200)
    by_type = {(m["type"], m.get("event") or m.get("name") or m.get("userId")) for m in stored}
    assert ("page", "Pricing") in by_type
    assert ("identify", "u-browser") in by_type
    assert ("track", "Order Completed") in by_type
    assert ("track", "Preflighted Post") in by_type
    track = next(m for m in stored if m.get("event") == "Order Completed")
    assert track["userId"] == "u-browser"
    assert track["properties"] == {"total": 42.5}
    assert track["context"]["library"]["name"] == "analytics.js"
    assert outside == [], f"the page reached outside loopback: {outside}"
