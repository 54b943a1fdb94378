"""When a scheduled report is next due: daily at an hour, or weekly on a weekday at an hour (UTC). Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DAILY = "daily"
WEEKLY = "weekly"
CADENCES = (DAILY, WEEKLY)


def next_run(cadence: str, hour: int, weekday: int | None, after: datetime) -> datetime:
    """The first moment strictly after `after` that the cadence names (minutes and seconds zero)."""
    if cadence not in CADENCES:
        raise ValueError(f"{cadence!r} is not a cadence")  # the service checks before
    at = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0, hour=hour)
    if at <= after:
        at += timedelta(days=1)
    if cadence == WEEKLY:
        wanted = weekday if weekday is not None else 0
        at += timedelta(days=(wanted - at.weekday()) % 7)
    return at
