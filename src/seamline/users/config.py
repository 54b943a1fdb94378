"""The console's sign-in settings (`[console]` in the config file, SEAMLINE_CONSOLE__* in the environment)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator


class ConsoleConfig(BaseModel):
    """Session lifetimes, lock-out after failed logins, password length, and the cookie's Secure flag."""

    session_idle_minutes: float = Field(default=30, gt=0, description="A session unused this long ends.")
    session_absolute_hours: float = Field(default=12, gt=0, description="A session ends this long after login.")
    lockout_attempts: int = Field(default=5, ge=1, description="Failed logins within the window that lock a name.")
    lockout_window_minutes: float = Field(default=15, gt=0)
    lockout_minutes: float = Field(default=15, gt=0, description="How long a locked name stays locked.")
    min_password_length: int = Field(default=12, ge=8)
    secure_cookies: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "auto: the session cookie is Secure unless the request is plain http to a loopback host (localhost), "
            "so https deployments and proxies get Secure cookies and a local `seamline serve` still works."
        ),
    )
    time_zone: str = Field(
        default="UTC",
        description="The IANA time zone the console shows times in (e.g. Europe/London): the agents' own.",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (such as Europe/London or UTC)") from None
        return value
