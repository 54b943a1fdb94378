"""A dashboard computed: the tiles a role may see, each from its provider (or "not available"), reusing a tile
computed for the same filters within `cache_seconds` (the scheduled email and the page share the figures).

Why a short cache: the figures come from the store and the assessment's columnar copy, which itself catches up at
most every few seconds; a dashboard opened by a team at the start of a meeting is computed once, not per person.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.assessment.service import Assessment
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.reports.catalog import ReportEntry, TileSlot
from seamline.reports.config import ReportsConfig
from seamline.reports.filters import Filters
from seamline.reports.reading import Reading
from seamline.reports.tiles import Table, Tile, unavailable
from seamline.users.permissions import may


@dataclass(frozen=True, slots=True)
class Dashboard:
    entry: ReportEntry
    filters: Filters
    tiles: tuple[Tile, ...]
    computed_at: datetime

    def tile(self, key: str) -> Tile | None:
        return next((t for t in self.tiles if t.key == key), None)

    def table(self, tile: str, table: str) -> Table | None:
        found = self.tile(tile)
        return found.table(table) if found is not None else None


def visible_slots(entry: ReportEntry, role: str) -> list[TileSlot]:
    """The tiles of a report the role may see (the report's own permission is the caller's check)."""
    return [s for s in entry.tiles if s.permission is None or may(role, s.permission)]


class TileCache:
    """Tiles by (report, tile, filters) for a few seconds; thread-safe (the console serves from a thread pool)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._tiles: dict[tuple[str, str, Filters], tuple[float, Tile]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, Filters]) -> Tile | None:
        with self._lock:
            found = self._tiles.get(key)
        return found[1] if found is not None and time.monotonic() - found[0] < self._seconds else None

    def put(self, key: tuple[str, str, Filters], tile: Tile) -> None:
        with self._lock:
            if len(self._tiles) > 1000:  # filters are many; keep memory bounded
                self._tiles.clear()
            self._tiles[key] = (time.monotonic(), tile)


def compose(
    reading: Reading, entry: ReportEntry, filters: Filters, role: str, cache: TileCache | None = None
) -> Dashboard:
    """Every tile of `entry` the role may see, computed (or taken from the cache) for these filters."""
    tiles = []
    for slot in visible_slots(entry, role):
        if slot.provider is None:
            tiles.append(unavailable(slot.key, slot.title, slot.missing))
            continue
        key = (entry.key, slot.key, filters)
        tile = cache.get(key) if cache is not None else None
        if tile is None:
            tile = slot.provider(reading, filters)
            if cache is not None:
                cache.put(key, tile)
        tiles.append(tile)
    return Dashboard(entry, filters, tuple(tiles), reading.now)


class Dashboards:
    """Computes dashboards of one store for the console, the API and the scheduled emails (one per process)."""

    def __init__(self, engine: Engine, assessment: Assessment, config: ReportsConfig | None = None) -> None:
        self.engine = engine
        self.assessment = assessment
        self.config = config or ReportsConfig()
        self.cache = TileCache(self.config.cache_seconds)

    @contextmanager
    def reading(self, session: Session | None = None, now: datetime | None = None) -> Iterator[Reading]:
        """A reading on `session`, or on a read-only unit of work of its own."""
        if session is not None:
            yield Reading(session, self.assessment, now or utcnow())
            return
        with unit_of_work(self.engine, write=False) as own:
            yield Reading(own, self.assessment, now or utcnow())

    def compute(
        self,
        entry: ReportEntry,
        filters: Filters,
        role: str,
        *,
        session: Session | None = None,
        now: datetime | None = None,
    ) -> Dashboard:
        """The dashboard as `role` sees it."""
        with self.reading(session, now) as reading:
            return compose(reading, entry, filters, role, self.cache)
