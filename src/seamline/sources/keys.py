"""Write keys of sources: the `wk_` prefix on the shared key toolkit of `seamline.core.secrets`."""

from __future__ import annotations

from seamline.core.secrets import hash_key, new_key
from seamline.core.secrets import key_hint as _key_hint

__all__ = ["KEY_PREFIX", "hash_key", "key_hint", "new_write_key"]

KEY_PREFIX = "wk_"


def new_write_key() -> str:
    """A fresh write key, 32 URL-safe characters after the prefix."""
    return new_key(KEY_PREFIX)


def key_hint(key: str) -> str:
    """The few characters of a write key an operator may see again to tell keys apart."""
    return _key_hint(key, len(KEY_PREFIX))
