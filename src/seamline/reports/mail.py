"""The scheduled report's email, rendered from the templates beside this module (text and HTML, autoescaped):
each tile's headline figures and tables, and a link to the report with its filters. Aggregates only."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from seamline.reports.dashboards import Dashboard

MAX_ROWS = 25  # rows of a table shown in the email; the rest are in the console and its exports

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"], default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _cell(value: Any, column: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and column.endswith(("_rate", "_share")):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


_env.filters["cell"] = _cell


def message_of(name: str, dashboard: Dashboard, console_url: str) -> tuple[str, str, str]:
    """(subject, text, html) of a saved dashboard's email."""
    query = urlencode(dashboard.filters.as_query())
    link = f"{console_url.rstrip('/')}{dashboard.entry.path}" + (f"?{query}" if query else "")
    values = {
        "name": name, "dashboard": dashboard, "filters": dashboard.filters.describe(), "link": link,
        "max_rows": MAX_ROWS, "day": dashboard.computed_at.date().isoformat(),
    }  # fmt: skip
    subject = f"{name}: {dashboard.entry.title}, {values['day']}"
    return (
        subject,
        _env.get_template("scheduled_report.txt").render(values),
        _env.get_template("scheduled_report.html").render(values),
    )
