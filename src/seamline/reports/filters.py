"""What a report looks at: a period, a product, a channel, a customer segment, and a split by product. Pure.

Each tile says which of these it honours (`Tile.supports`); the page shows it beside the tile, so a filter a tile
cannot apply is never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

PERIOD = "period"
PRODUCT = "product"
CHANNEL = "channel"
SEGMENT = "segment"  # a customer segment of the segments file (triggers/segments.py): whose figures
SPLIT = "split"  # a breakdown of a tile's figures
FILTERS = (PERIOD, PRODUCT, CHANNEL, SEGMENT, SPLIT)
SPLITS = ("product",)
FILTER_PARAMS = ("since", "until", "product", "channel", "segment", "split")  # the query parameters
SEGMENT_FORM = re.compile(r"[a-z][a-z0-9_-]{0,63}")
CHANNEL_FORM = re.compile(r"[a-z0-9_-]{1,32}")  # the log names channels as their senders do (email, sms, paper…)
DEFAULT_DAYS = 30
MAX_DAYS = 3660


class BadFilter(ValueError):
    """A filter value that no report could use; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Filters:
    """Filters shared by every report: whole days, `until` included; an empty value means any."""

    since: date | None = None
    until: date | None = None
    product: str | None = None
    channel: str | None = None
    segment: str | None = None  # a customer segment's key
    split: str | None = None  # "product": figures per product

    def window(self, today: date) -> tuple[datetime, datetime]:
        """The period as [start, end) instants in UTC: the last DEFAULT_DAYS days when none is given."""
        until = self.until or today
        since = self.since or until - timedelta(days=DEFAULT_DAYS - 1)
        return datetime.combine(since, time.min, UTC), datetime.combine(until + timedelta(days=1), time.min, UTC)

    def as_query(self) -> dict[str, str]:
        """The filters as query parameters (links and saved reports keep them)."""
        out = {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "product": self.product,
            "channel": self.channel,
            "segment": self.segment,
            "split": self.split,
        }
        return {k: v for k, v in out.items() if v}

    def describe(self) -> str:
        """One line for an email or a page heading."""
        parts = [f"{k} {v}" for k, v in self.as_query().items()]
        return ", ".join(parts) if parts else f"the last {DEFAULT_DAYS} days, everything"


def _day(name: str, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(name, f"{name} must be a date (YYYY-MM-DD)") from None


def filters_of(values: Mapping[str, str | None], segments: Collection[str] | None = None) -> Filters:
    """Filters from a query string or a saved report; raises BadFilter naming the field. `segments`, when given,
    are the customer segments in force (a segment not among them is refused)."""
    since, until = _day("since", values.get("since")), _day("until", values.get("until"))
    if since and until and since > until:
        raise BadFilter("since", "since must not be after until")
    if since and until and (until - since).days > MAX_DAYS:
        raise BadFilter("since", f"a period is at most {MAX_DAYS} days")
    product = (values.get("product") or "").strip() or None
    if product is not None and len(product) > 200:
        raise BadFilter("product", "product is at most 200 characters")
    channel = values.get("channel") or None
    if channel is not None and not CHANNEL_FORM.fullmatch(channel):
        raise BadFilter("channel", "channel is a name of lower-case letters, digits, - and _ (email, sms, paper…)")
    segment = values.get("segment") or None
    split = values.get("split") or None
    if segment == "product":  # the product split's spelling before customer segments (saved reports, links)
        segment, split = None, split or "product"
    if split is not None and split not in SPLITS:
        raise BadFilter("split", f"split must be one of {', '.join(SPLITS)}")
    if segment is not None and not SEGMENT_FORM.fullmatch(segment):
        raise BadFilter("segment", "segment is a segment's name: lower-case letters, digits, - and _")
    if segment is not None and segments is not None and segment not in segments:
        known = ", ".join(sorted(segments)) or "none are defined"
        raise BadFilter("segment", f"no segment {segment!r}; known: {known}")
    return Filters(since, until, product, channel, segment, split)
