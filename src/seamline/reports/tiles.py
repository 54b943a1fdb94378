"""What a report is made of: tables (every one exportable as CSV and JSON) and charts (specs the console draws with
its one charting module). Pure values; no tile knows how it is drawn or downloaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BARS = "bars"
LINES = "lines"


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of one table: `key` names it in its report (the export's address), columns give the order."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Mapping[str, Any], ...]

    def records(self) -> list[dict[str, Any]]:
        """The rows as flat records in column order (the export)."""
        return [{c: row.get(c) for c in self.columns} for row in self.rows]


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart to draw: bars or lines over categories, one series per name (rates as percentages)."""

    kind: str
    title: str
    categories: tuple[str, ...]
    series: Mapping[str, Sequence[float | None]]
    percent: bool = False
    horizontal: bool = False


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile of a dashboard: headline figures, a chart, tables, the filters it honours, or why it is empty.

    `available` is False when no provider fills the tile yet (a part not installed): the page says so, and
    nothing else about the tile is shown."""

    key: str
    title: str
    available: bool = True
    note: str = ""
    figures: tuple[tuple[str, str], ...] = ()  # (label, value) headline numbers, already formatted
    chart: Chart | None = None
    tables: tuple[Table, ...] = ()
    supports: frozenset[str] = field(default_factory=frozenset)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def unavailable(key: str, title: str, why: str) -> Tile:
    """The tile of a part that is not there yet."""
    return Tile(key, title, available=False, note=why)


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"
