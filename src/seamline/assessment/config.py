"""Assessment settings (`[assessment]`): windows, thresholds and costs the reports read."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AssessmentConfig(BaseModel):
    """How the communications assessment counts."""

    contacts_after_days: int = Field(
        default=7, ge=1, le=90, description="A case opened this many days after a message counts as a contact after."
    )
    late_delivery_hours: float = Field(
        default=24.0, gt=0, description="A delivery later than this after sending is a late delivery (a break)."
    )
    channel_costs: dict[str, float] = Field(
        default_factory=dict,
        description="Cost of one message per channel (e.g. paper = 0.85), when a template declares none.",
    )
    refresh_seconds: float = Field(
        default=5.0, ge=0, description="A report within this many seconds of the last one reuses the columnar copy."
    )
    rebuild_seconds: float = Field(
        default=86_400.0,
        gt=0,
        description="The columnar copy is rebuilt whole this often; between builds it catches up on what changed.",
    )
