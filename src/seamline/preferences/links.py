"""Signed, expiring links to a person's preference page, and the form nonce that goes with a rendered page. Pure.

A link token is `<profile id>.<expiry, unix seconds>.<signature>`: the signature is HMAC-SHA-256 over the first
two parts under the server's secret, in URL-safe base64. Nothing is stored: the signature is the proof, so a
link cannot be revoked one by one — only by its expiry, or all at once by changing the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from seamline.core.errors import Unauthorized

EXPIRED = "this link has expired"
NOT_VALID = "this link is not valid"
FORM_MAX_AGE_SECONDS = 3600
_LINK = b"preference-link:v1:"  # a purpose per signature, so a nonce can never pass as a link or back
_FORM = b"preference-form:v1:"


def _signature(secret: str, purpose: bytes, message: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), purpose + message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def sign_link(profile_id: int, expires_at: datetime, secret: str) -> str:
    """The token of a link to `profile_id`'s preference page, valid until `expires_at`."""
    if not secret:
        raise ValueError("a signing secret is required")
    message = f"{profile_id}.{_seconds(expires_at)}"
    return f"{message}.{_signature(secret, _LINK, message)}"


def link_expiry(token: str) -> datetime:
    """When a (well-formed) token expires; call only after `verify_link` accepted it."""
    return datetime.fromtimestamp(int(token.split(".")[1]), UTC)


def verify_link(token: str, secret: str, now: datetime) -> int:
    """The profile id a token was signed for; raises Unauthorized if it is forged, altered or expired."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts[:2]):
        raise Unauthorized(NOT_VALID)
    message = f"{parts[0]}.{parts[1]}"
    # compare_digest takes as long whatever the first differing byte: no timing tells a forger how close they are.
    if not secret or not hmac.compare_digest(_signature(secret, _LINK, message), parts[2]):
        raise Unauthorized(NOT_VALID)
    if int(parts[1]) <= _seconds(now):
        raise Unauthorized(EXPIRED)
    return int(parts[0])


def form_nonce(token: str, issued_at: datetime, secret: str) -> str:
    """The hidden field of a page rendered at `issued_at` for `token`: the time and an HMAC binding both."""
    issued = str(_seconds(issued_at))
    return f"{issued}.{_signature(secret, _FORM, f'{token}.{issued}')}"


def is_fresh_nonce(nonce: str, token: str, secret: str, now: datetime, max_age: int = FORM_MAX_AGE_SECONDS) -> bool:
    """Whether a form nonce was made by this server for this token within `max_age` seconds before `now`."""
    issued, _, signature = nonce.partition(".")
    if not (issued.isascii() and issued.isdigit()) or not secret:
        return False
    if not hmac.compare_digest(_signature(secret, _FORM, f"{token}.{issued}"), signature):
        return False
    return 0 <= _seconds(now) - int(issued) <= max_age
