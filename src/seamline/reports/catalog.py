"""Every report of the reports area, in one catalog: its key, title, page, the permission that shows it, and, for a
dashboard, its tiles. The reports index, saved reports, schedules and exports all read this one list.

Adding a report or a tile is one line here:
- a page of its own (funnels, paths): `ReportEntry("funnels", "Funnels", "/console/reports/funnels", VIEW_REPORTS, …)`
- a tile's provider (a part that fills a slot): replace `None` in its `TileSlot` by `(Reading, Filters) -> Tile`,
  e.g. `trend_tile(score_trend, ...)` for the surveys' CSAT/NPS/CES, `rows_tile(...)` for a table of figures.
A slot without a provider shows "not available" (the part is not installed), never an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from seamline.reports import overview
from seamline.reports.filters import PERIOD, Filters
from seamline.reports.reading import Reading, TileProvider
from seamline.reports.tiles import LINES, Chart, Table, Tile
from seamline.users.permissions import ASSESS_COMMUNICATIONS, VIEW_REPORTS


@dataclass(frozen=True, slots=True)
class TileSlot:
    """A place on a dashboard; `permission` narrows who sees it below the report's own permission."""

    key: str
    title: str
    provider: TileProvider | None
    missing: str = "the part that computes it is not installed"
    permission: str | None = None


@dataclass(frozen=True, slots=True)
class ReportEntry:
    key: str
    title: str
    path: str
    permission: str
    description: str
    tiles: tuple[TileSlot, ...] = ()  # a dashboard's tiles; a report with tiles can be scheduled by email

    @property
    def is_dashboard(self) -> bool:
        return bool(self.tiles)


def _value(row: Any, names: Iterable[str]) -> Any:
    for name in names:
        if isinstance(row, Mapping) and name in row:
            return row[name]
        if hasattr(row, name):
            return getattr(row, name)
    return None


# A trend from another part: a function of a read session and a period returning rows, each with a bucket, a
# series name and a value (mappings or objects; the names below are tried in order).
TrendRows = Callable[..., Iterable[Any]]


def trend_tile(fetch: TrendRows, key: str, title: str, *, bucket: str = "week") -> TileProvider:
    """A provider drawing lines from `fetch(session, since=, until=, bucket=)` (e.g. the surveys' `score_trend`)."""

    def provide(reading: Reading, filters: Filters) -> Tile:
        since, until = reading.window(filters)
        rows = list(fetch(reading.session, since=since, until=until, bucket=bucket))
        points: dict[tuple[str, str], float | None] = {}
        counts: dict[tuple[str, str], Any] = {}
        for row in rows:
            at = _value(row, ("bucket", "period", "day", "week"))
            at = at.date().isoformat() if isinstance(at, datetime) else str(at)
            name = str(_value(row, ("metric", "kind", "survey", "name")) or title)
            value = _value(row, ("score", "value", "average", "mean"))
            points[(at, name)] = float(value) if value is not None else None
            counts[(at, name)] = _value(row, ("responses", "answers", "count", "n"))
        buckets = sorted({b for b, _ in points})
        names = sorted({n for _, n in points})
        table = Table(
            "trend",
            title,
            ("bucket", "metric", "score", "responses"),
            tuple(
                {"bucket": b, "metric": n, "score": points[(b, n)], "responses": counts[(b, n)]}
                for b in buckets
                for n in names
                if (b, n) in points
            ),
        )
        chart = Chart(LINES, title, tuple(buckets), {n: [points.get((b, n)) for b in buckets] for n in names})
        return Tile(key, title, chart=chart, tables=(table,), supports=frozenset({PERIOD}))

    return provide


def _record(row: Any) -> dict[str, Any]:
    if isinstance(row, Mapping):
        return dict(row)
    if hasattr(row, "__dict__"):
        return dict(vars(row))
    return {f: getattr(row, f) for f in getattr(row, "__slots__", ())}


def rows_tile(fetch: Callable[[Session, datetime, datetime], Iterable[Any]], key: str, title: str) -> TileProvider:
    """A provider showing a table of `fetch(session, since, until)`'s rows (mappings or dataclasses)."""

    def provide(reading: Reading, filters: Filters) -> Tile:
        since, until = reading.window(filters)
        rows = [_record(r) for r in fetch(reading.session, since, until)]
        columns = tuple(rows[0]) if rows else ("value",)
        return Tile(key, title, tables=(Table("rows", title, columns, tuple(rows)),), supports=frozenset({PERIOD}))

    return provide


OVERVIEW_TILES = (
    TileSlot("volumes", "Volumes by channel", overview.volumes),
    TileSlot("journeys", "Journey completion", overview.journeys),
    TileSlot("errors", "Errors by severity against their clocks", overview.errors),
    # Rates of what the company sends are the communications owners' and analysts' (the assessment's permission).
    TileSlot("effectiveness", "Channel effectiveness", overview.effectiveness, permission=ASSESS_COMMUNICATIONS),
    TileSlot("consent", "Consent and paperless coverage", overview.consent),
    # Journey analytics fills this: how often a customer had to identify again within a journey or a day.
    TileSlot("repeated_identification", "Repeated identification", None),
    # Feedback fills this: CSAT, NPS and CES over time (`trend_tile(seamline.feedback.service.score_trend, ...)`).
    TileSlot("feedback", "CSAT, NPS and CES", None),
)

REPORTS: tuple[ReportEntry, ...] = (
    ReportEntry(
        "overview",
        "CX overview",
        "/console/reports/overview",
        VIEW_REPORTS,
        "Volumes by channel, journey completion, errors against their clocks, channel effectiveness, consent and "
        "paperless coverage, repeated identification and survey scores, on one page.",
        OVERVIEW_TILES,
    ),
    ReportEntry(
        "assessment",
        "Communications assessment",
        "/console/communications",
        ASSESS_COMMUNICATIONS,
        "Every communication, the flow map, effectiveness, bottlenecks and redundant collection.",
    ),
    # Journey analytics adds its pages here: funnels (/console/reports/funnels) and paths (/console/reports/paths).
)


def entry(key: str) -> ReportEntry | None:
    return next((r for r in REPORTS if r.key == key), None)
