"""What a tile provider is given: a read session, the assessment's and journey analytics' columnar copies, the
time, the customer segments, and the filters.

A provider is `(Reading, Filters) -> Tile`. It reads through other domains' public services and never writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from seamline.assessment.scope import Scope
from seamline.assessment.service import Assessment
from seamline.reports.filters import Filters
from seamline.reports.tiles import Tile
from seamline.triggers.membership import Audience

if TYPE_CHECKING:  # DuckDB loads only when a tile reads the analytics (the dispatcher imports the reports' mail)
    from seamline.analytics.service import Analytics


@dataclass
class Reading:
    """One computation of a report: everything its tiles read, shared (the assessment's day x channel counts are
    read once for the volumes and the effectiveness tiles)."""

    session: Session
    assessment: Assessment
    analytics: Analytics
    now: datetime
    audience: Audience | None = None
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def window(self, filters: Filters) -> tuple[datetime, datetime]:
        return filters.window(self.now.date())

    def scope(self, filters: Filters) -> Scope:
        """The assessment's scope of these filters (period, product and channel)."""
        since, until = self.window(filters)
        focus = {"channel": filters.channel} if filters.channel else {}
        return Scope(since=since, until=until, product=filters.product, focus=focus)

    def members(self, filters: Filters) -> frozenset[int] | None:
        """The profile ids of the filters' customer segment, read once per reading; None: everyone."""
        if filters.segment is None:
            return None
        key = ("members", filters.segment)
        if key not in self._memo:
            # The edges check the segment against the file; a segment gone since a page was saved has no members.
            audience = self.audience
            known = audience is not None and filters.segment in audience.segments
            self._memo[key] = audience.members(self.session, filters.segment) if audience and known else frozenset()
        found: frozenset[int] = self._memo[key]
        return found

    def channel_days(self, filters: Filters) -> list[dict[str, Any]]:
        """Messages per day x channel (x product when split), from the assessment's columnar copy."""
        key = ("channel_days", filters)
        if key not in self._memo:
            self._memo[key] = self.assessment.channel_days(
                self.scope(filters), segment=filters.split, people=self.members(filters)
            )
        found: list[dict[str, Any]] = self._memo[key]
        return found


TileProvider = Callable[[Reading, Filters], Tile]
