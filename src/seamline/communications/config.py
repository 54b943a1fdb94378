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


class ProviderConfig(BaseModel):
    """How one mobile channel (`[sms]`, `[push]`) leaves: an HTTP provider, in its documented wire shape.

    `twilio`: Twilio's Messages API (form POST, Basic auth) and its status callbacks (`X-Twilio-Signature`).
    `fcm`: Firebase Cloud Messaging HTTP v1 (JSON, OAuth 2.0 bearer token). `webhook`: Seamline's generic JSON
    shape signed per Standard Webhooks, for any provider or in-house gateway. `none`: not configured (messages
    wait, retried and then dead-lettered, until it is).
    """

    provider: Literal["none", "twilio", "fcm", "webhook"] = "none"
    url: str = Field(
        default="",
        description=(
            "twilio: the API base (https://api.twilio.com); fcm: the API base (https://fcm.googleapis.com); "
            "webhook: the full address messages are POSTed to."
        ),
    )
    account_sid: str = Field(default="", description="twilio: the account SID (the Basic auth user).")
    auth_token: str = Field(
        default="", description="twilio: the auth token (Basic auth password; the key of X-Twilio-Signature)."
    )
    from_number: str = Field(default="", description="twilio: the sender (E.164), unless a messaging service is set.")
    messaging_service_sid: str = Field(default="", description="twilio: a Messaging Service SID (MG…) to send from.")
    project_id: str = Field(default="", description="fcm: the Firebase project id.")
    access_token_file: Path | None = Field(
        default=None,
        description="fcm: a file holding a current OAuth 2.0 access token (re-read every round; a sidecar renews it).",
    )
    service_account_file: Path | None = Field(
        default=None,
        description=(
            "fcm: a Google service account key (JSON): Seamline mints and renews its own OAuth 2.0 access tokens "
            "(JWT bearer flow) instead of reading access_token_file."
        ),
    )
    secret: str = Field(
        default="", description="webhook: the whsec_… secret that signs our requests and the provider's callbacks."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="A provider slower than this is retried.")

    def is_shape(self, *allowed: str) -> bool:
        return self.provider in ("none", *allowed)
