"""Write keys: generated from the OS's CSPRNG, stored only as a SHA-256 digest.

A fast digest is the right tool here, unlike for passwords: a key has 192 random bits, so guessing from the
digest is hopeless, and the tracking API checks a key on every request.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "wk_"


def new_write_key() -> str:
    """A fresh write key, 32 URL-safe characters after the prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    """The digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_hint(key: str) -> str:
    """The few characters an operator may see again to tell keys apart."""
    return key[: len(KEY_PREFIX) + 4] + "…"
