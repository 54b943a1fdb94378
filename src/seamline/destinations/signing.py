"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp` and `webhook-signature` (v1, HMAC-SHA256 over
`id.timestamp.body` under the base64 secret after its `whsec_` prefix). Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret: 32 random bytes, base64, with the spec's `whsec_` prefix."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signature(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one delivery."""
    key = _key(secret)
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode("ascii")


@lru_cache(maxsize=256)
def _key(secret: str) -> bytes:
    """The HMAC key of a secret, decoded once (a dispatcher signs every webhook of a destination with it)."""
    return base64.b64decode(secret.removeprefix(PREFIX))


def headers(secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header a Standard Webhooks receiver checks."""
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, delivery_id, timestamp, body),
        "content-type": "application/json",
    }
