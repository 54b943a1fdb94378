"""Communications configuration: the SMTP server, the sender, and where templates live (`[email]`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

# The templates that ship with Seamline. Named here, not in templates.py, so reading settings does not load Jinja.
BUILTIN_DIR = Path(__file__).parent / "templates"


class EmailConfig(BaseModel):
    """How email leaves: one SMTP server (a relay or a provider's SMTP endpoint)."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_tls: Literal["none", "starttls", "implicit"] = Field(
        default="none",
        description="starttls upgrades a plain connection (port 587); implicit is TLS from the start (465).",
    )
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    from_address: str = "Seamline <no-reply@localhost>"
    message_id_domain: str = Field(default="seamline.local", description="The right side of each Message-ID.")
    templates_dir: Path = Field(default=BUILTIN_DIR, description="Folder of NAME.yaml templates.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where customers reach this server: the base of unsubscribe and preference links.",
    )
    track_links: bool = Field(
        default=True,
        description="Send an email's links through a signed redirect at PUBLIC_URL, so clicks reach the log.",
    )
    track_opens: bool = Field(
        default=True, description="Add an open pixel to HTML email (opens are approximate: clients block images)."
    )
