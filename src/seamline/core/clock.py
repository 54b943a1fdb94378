"""Time, in one place, always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def isoformat_z(moment: datetime) -> str:
    """ISO 8601 with millisecond precision and a Z, the way the Segment spec writes times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
