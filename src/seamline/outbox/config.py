"""Outbox configuration: how dispatchers claim, retry and protect targets (`[outbox]` in the TOML file)."""

from __future__ import annotations

from pydantic import BaseModel, Field

# The Standard Webhooks retry schedule (after the first, immediate attempt): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
# 10 h. Roughly exponential, it spreads a day and a half of retries over an outage; each delay is jittered.
STANDARD_WEBHOOKS_SCHEDULE = [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]


class OutboxConfig(BaseModel):
    """The outbox section of the configuration."""

    batch_size: int = Field(default=200, ge=1, description="Most messages one dispatcher claims at a time.")
    lease_seconds: float = Field(
        default=120.0, gt=0, description="How long a claim holds; a dispatcher killed mid-run frees its rows then."
    )
    idle_seconds: float = Field(
        default=0.05, gt=0, description="Sleep between polls when nothing is due (the floor of a quiet latency)."
    )
    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: list(STANDARD_WEBHOOKS_SCHEDULE),
        description="Delay before each retry; when they run out the message goes to the dead letters.",
    )
    jitter: float = Field(default=0.2, ge=0, le=1, description="Each delay is drawn within ± this fraction.")
    breaker_failures: int = Field(
        default=5, ge=1, description="Failures in a row after which a target's circuit opens."
    )
    breaker_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="How long an open circuit waits before one trial delivery."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a webhook may take to answer before it counts as failed (retried)."
    )
    send_threads: int = Field(default=8, ge=1, description="Deliveries one dispatcher makes at once (webhooks).")
