"""Signed, expiring links to a survey page. Pure.

A token is `<invitation id>.<expiry, unix seconds>.<signature>`: HMAC-SHA-256 over the first two parts under the
server's secret, in URL-safe base64, with a purpose of its own (a preference link can never pass as a survey link,
nor the other way round). The invitation row says whether it was answered; the signature says the link is ours.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from seamline.core.errors import Unauthorized

EXPIRED = "this link has expired"
NOT_VALID = "this link is not valid"
_LINK = b"survey-link:v1:"


def _signature(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), _LINK + message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def sign_link(invitation_id: int, expires_at: datetime, secret: str) -> str:
    """The token of a link to invitation `invitation_id`'s survey page, valid until `expires_at`."""
    if not secret:
        raise ValueError("a signing secret is required")
    message = f"{invitation_id}.{int(expires_at.timestamp())}"
    return f"{message}.{_signature(secret, message)}"


def verify_link(token: str, secret: str, now: datetime) -> int:
    """The invitation id a token was signed for; Unauthorized if it is forged, altered or expired."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 19 for p in parts[:2]):
        raise Unauthorized(NOT_VALID)
    message = f"{parts[0]}.{parts[1]}"
    if not secret or not hmac.compare_digest(_signature(secret, message), parts[2]):
        raise Unauthorized(NOT_VALID)
    if int(parts[1]) <= int(now.timestamp()):
        raise Unauthorized(EXPIRED)
    return int(parts[0])


def link_expiry(token: str) -> datetime:
    """When a token accepted by `verify_link` expires."""
    return datetime.fromtimestamp(int(token.split(".")[1]), UTC)
