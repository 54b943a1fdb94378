"""Errors over time: counts by severity per week and the shares acknowledged and resolved within the policy's
clocks, as the public series the reports area draws, and the console's charts of them; both databases."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.core.db import unit_of_work
from seamline.errors.reports import DIMENSIONS, over_time
from seamline.errors.service import Report, acknowledge, report_errors, resolve
from tests.console.conftest import console, log_in
from tests.errors.builders import AGENT, POLICY, log_run
from tests.support.builders import make_user

__all__ = ["console"]

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # a Wednesday: its week starts on Monday 30 November


def _reported(engine: Engine, ids: list[str], field: str, at: datetime) -> list[int]:
    with unit_of_work(engine) as session:
        made = report_errors(session, POLICY, [Report([i], field) for i in ids], actor=AGENT, intake="import", now=at)
    return [m.id for m in made]


def test_errors_per_week_by_severity_and_clocks_against_policy(engine: Engine) -> None:
    ids = log_run(engine, "weekly", 6)
    two_weeks_ago = NOW - timedelta(weeks=2)  # Wednesday 18 November
    early = _reported(engine, ids[:3], "balance", two_weeks_ago)  # high: acknowledge within 60 business minutes
    _reported(engine, ids[3:5], "first_name", NOW - timedelta(hours=1))
    _reported(engine, ids[5:], "recipient", NOW - timedelta(hours=2))  # critical
    with unit_of_work(engine) as session:
        acknowledge(session, early[0], actor=AGENT, now=two_weeks_ago + timedelta(minutes=10))  # in time
        acknowledge(session, early[1], actor=AGENT, now=two_weeks_ago + timedelta(days=2))  # late
        resolve(session, early[0], "reissued", actor=AGENT, now=two_weeks_ago + timedelta(hours=3))
    with unit_of_work(engine, write=False) as session:
        series = over_time(session, weeks=4, now=NOW).series()
    assert series["weeks"] == ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    assert series["by_severity"] == {
        "critical": [0, 0, 0, 1],
        "high": [0, 3, 0, 0],
        "medium": [0, 0, 0, 0],
        "low": [0, 0, 0, 2],
    }
    # The third balance was never acknowledged and its clock ran out: it counts as missed.
    assert series["acknowledged_in_time"] == [None, round(1 / 3, 4), None, 0.0]  # the critical one is overdue
    assert series["resolved_in_time"][1] == round(1 / 3, 4)  # resolved in 3 hours, two still open past due
    assert series["median_acknowledge_hours"][1] == round((10 / 60 + 48) / 2, 2)
    assert series["median_resolve_hours"][1] == 3.0


def test_the_reports_page_charts_the_weeks_for_a_supervisor(console: TestClient, engine: Engine) -> None:
    ids = log_run(engine, "weekly", 2)
    _reported(engine, ids, "balance", datetime.now(UTC) - timedelta(minutes=5))
    make_user(engine, "super", "supervisor")
    log_in(console, "super")
    page = console.get("/console/error-reports")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    found = re.search(r'id="chart-by-severity" class="chart" data-figure="([^"]+)"', page.text)
    assert found is not None
    figure = json.loads(html.unescape(found.group(1)))
    assert figure["layout"]["barmode"] == "stack"
    high = next(t for t in figure["data"] if t["name"] == "high")
    assert (len(high["x"]), high["y"][-1]) == (12, 2)  # twelve weeks; this week's two wrong balances
    assert console.get("/console/charts/plotly.min.js").status_code == 200  # a supervisor's reports draw too


def test_every_table_of_the_reports_page_downloads_as_csv_and_json(console: TestClient, engine: Engine) -> None:
    ids = log_run(engine, "weekly", 2)
    _reported(engine, ids, "balance", datetime.now(UTC) - timedelta(minutes=5))
    make_user(engine, "super", "supervisor")
    log_in(console, "super")
    page = console.get("/console/error-reports").text
    links = {a.split('"')[0].replace("&amp;", "&") for a in page.split('href="/console/error-reports?')[1:]}
    downloads = sorted(link for link in links if "format=" in link)
    assert len(downloads) == 2 * (2 + len(DIMENSIONS))  # the weeks, the clocks and one table per dimension
    for link in downloads:
        answer = console.get(f"/console/error-reports?{link}")
        assert answer.status_code == 200, link
        assert answer.headers["content-disposition"].startswith("attachment; filename=")
    by_harm = console.get("/console/error-reports", params={"table": "harm", "format": "json"})
    assert json.loads(by_harm.text) == [{"harm": "financial", "errors": 2}]
    weekly = console.get("/console/error-reports", params={"table": "weekly", "format": "csv"}).text.splitlines()
    assert weekly[0] == "week,critical,high,medium,low,acknowledged_in_time,resolved_in_time"
    assert weekly[-1].split(",")[2] == "2"  # this week's two wrong balances, high
    assert console.get("/console/error-reports", params={"table": "nope", "format": "csv"}).status_code == 400
