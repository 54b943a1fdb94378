"""A dashboard computed: the tiles a role may see, each from its provider (or "not available").

Tiles are cached per filters, stale-while-revalidate: a tile younger than `cache_seconds` is shown as it is; an
older one (up to `stale_seconds`) is shown while one refresh runs behind; only a tile never computed, or too old,
is computed while the page waits. Why: consent coverage ranks every customer's choices in the store (seconds on
SQLite at millions of customers, measured in benchmarks/reports.py), and the assessment's columnar copy itself
catches up at most every few seconds, so figures a few minutes old are what a dashboard shows anyway; the page
then never waits on the slowest query once warm, and a team opening it together computes it once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.assessment.service import Assessment
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.reports.catalog import ReportEntry, TileSlot
from seamline.reports.config import ReportsConfig
from seamline.reports.filters import Filters
from seamline.reports.reading import Reading, TileProvider
from seamline.reports.tiles import Table, Tile, unavailable
from seamline.triggers.membership import Audience
from seamline.users.permissions import may

if TYPE_CHECKING:  # DuckDB loads only when a tile reads the analytics (the dispatcher imports the reports' mail)
    from seamline.analytics.service import Analytics

log = logging.getLogger(__name__)
CacheKey = tuple[str, str, Filters]


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


# Who reads through the API: a server key with `reports:read` sees every tile, as it reads the whole assessment.
SERVER_KEY = "server key"


def visible_slots(entry: ReportEntry, role: str) -> list[TileSlot]:
    """The tiles of a report the role (or SERVER_KEY) may see (the report's own permission is the caller's check)."""
    return [s for s in entry.tiles if s.permission is None or role == SERVER_KEY or may(role, s.permission)]


class TileCache:
    """Tiles by (report, tile, filters): fresh for `seconds`, then served stale (at most `stale_seconds` old) while
    one refresh runs behind. Thread-safe (the console serves from a thread pool)."""

    def __init__(self, seconds: float, stale_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._stale = max(stale_seconds, seconds)
        self._clock = clock
        self._tiles: dict[CacheKey, tuple[float, Tile]] = {}
        self._refreshing: set[CacheKey] = set()
        self._lock = threading.Lock()

    def lookup(self, key: CacheKey) -> tuple[Tile | None, bool]:
        """(the tile, whether it is fresh); (None, False) when there is none young enough to show."""
        if self._seconds <= 0:
            return None, False
        with self._lock:
            found = self._tiles.get(key)
        if found is None:
            return None, False
        age = self._clock() - found[0]
        return (found[1], age < self._seconds) if age < self._stale else (None, False)

    def put(self, key: CacheKey, tile: Tile) -> None:
        if self._seconds <= 0:
            return
        with self._lock:
            if len(self._tiles) > 1000:  # filters are many; keep memory bounded
                self._tiles.clear()
            self._tiles[key] = (self._clock(), tile)

    def claim_refresh(self, key: CacheKey) -> bool:
        """Whether the caller is the one to refresh this tile (one refresh at a time per tile)."""
        with self._lock:
            if key in self._refreshing:
                return False
            self._refreshing.add(key)
            return True

    def release(self, key: CacheKey) -> None:
        with self._lock:
            self._refreshing.discard(key)


def compose(reading: Reading, entry: ReportEntry, filters: Filters, role: str) -> Dashboard:
    """Every tile of `entry` the role may see, computed now for these filters (no cache)."""
    tiles = [
        slot.provider(reading, filters)
        if slot.provider is not None
        else unavailable(slot.key, slot.title, slot.missing)
        for slot in visible_slots(entry, role)
    ]
    return Dashboard(entry, filters, tuple(tiles), reading.now)


class Dashboards:
    """Computes dashboards of one store for the console, the API and the scheduled emails (one per process)."""

    def __init__(
        self,
        engine: Engine,
        assessment: Assessment,
        analytics: Analytics,
        config: ReportsConfig | None = None,
        audience: Audience | None = None,
    ) -> None:
        self.engine = engine
        self.assessment = assessment
        self.analytics = analytics
        self.config = config or ReportsConfig()
        self.audience = audience  # the customer segments the reports may be filtered by (None: none defined)
        self.cache = TileCache(self.config.cache_seconds, self.config.stale_seconds)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    @contextmanager
    def reading(self, session: Session | None = None, now: datetime | None = None) -> Iterator[Reading]:
        """A reading on `session`, or on a read-only unit of work of its own."""
        if session is not None:
            yield Reading(session, self.assessment, self.analytics, now or utcnow(), self.audience)
            return
        with unit_of_work(self.engine, write=False) as own:
            yield Reading(own, self.assessment, self.analytics, now or utcnow(), self.audience)

    def compute(
        self,
        entry: ReportEntry,
        filters: Filters,
        role: str,
        *,
        session: Session | None = None,
        now: datetime | None = None,
    ) -> Dashboard:
        """The dashboard as `role` sees it: fresh tiles from the cache, stale ones shown while they are refreshed
        behind, missing ones computed now."""
        with self.reading(session, now) as reading:
            tiles = []
            for slot in visible_slots(entry, role):
                if slot.provider is None:
                    tiles.append(unavailable(slot.key, slot.title, slot.missing))
                    continue
                key = (entry.key, slot.key, filters)
                tile, is_fresh = self.cache.lookup(key)
                if tile is None:
                    tile = slot.provider(reading, filters)
                    self.cache.put(key, tile)
                elif not is_fresh and self.cache.claim_refresh(key):
                    self._refresh_behind(key, slot.provider, filters)
                tiles.append(tile)
            return Dashboard(entry, filters, tuple(tiles), reading.now)

    def _refresh_behind(self, key: CacheKey, provider: TileProvider, filters: Filters) -> None:
        def refresh() -> None:
            try:
                with self.reading() as reading:
                    self.cache.put(key, provider(reading, filters))
            except Exception:
                log.exception("refreshing report tile %s failed; the stale one stays until it is too old", key[:2])
            finally:
                self.cache.release(key)

        thread = threading.Thread(target=refresh, name=f"report-tile-{key[1]}", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    @property
    def segments(self) -> dict[str, str]:
        """The customer segments a report may be filtered by: key → title."""
        return {k: s.title for k, s in self.audience.segments.items()} if self.audience is not None else {}

    def wait_for_refreshes(self, timeout: float = 60.0) -> None:
        """Wait for the refreshes running behind (tests, benchmarks, a clean stop)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)
