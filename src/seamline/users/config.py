"""The console's sign-in settings (`[console]` in the config file, SEAMLINE_CONSOLE__* in the environment)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


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
