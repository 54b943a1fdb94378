"""Reports settings (`[reports]`): how long a dashboard's tiles are reused, and how often schedules are checked."""

from __future__ import annotations

from pydantic import BaseModel, Field

# The outbox kind of a scheduled report's email (here, light to import: the dispatcher registers its handler).
REPORT_KIND = "report_email"


class ReportsConfig(BaseModel):
    """How the reports area computes and sends."""

    cache_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A tile computed for the same filters within this many seconds is shown again, not recomputed "
        "(0: no cache). An older one is shown while it is recomputed behind.",
    )
    stale_seconds: float = Field(
        default=3600.0, ge=0, description="A tile older than this is recomputed before it is shown, never shown stale."
    )
    schedule_check_seconds: float = Field(
        default=60.0, gt=0, description="How often the worker's schedule looks for scheduled reports that are due."
    )
    max_recipients: int = Field(default=20, ge=1, le=200, description="Addresses one scheduled report may go to.")
