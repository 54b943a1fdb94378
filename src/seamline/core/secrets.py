"""API and write keys: generated from the OS's CSPRNG, stored only as a SHA-256 digest.

A fast, unsalted digest is right for these keys and wrong for passwords. A key carries 192 random bits, so an
attacker who steals the digests cannot guess keys back from them however fast the hash is, and no two keys share
a digest to be cracked at once. That lets a request be authenticated by one indexed lookup of the digest, with no
per-request cost worth measuring. A password carries perhaps 30 to 40 bits a person chose, so a fast digest would
let a stolen table be guessed back at billions of tries a second: passwords need a slow, salted, memory-hard
function (argon2id or scrypt) and a lookup by user name, never by digest.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_BYTES = 24  # 192 bits, 32 URL-safe characters
HINT_CHARS = 4


def new_key(prefix: str) -> str:
    """A fresh random key: `prefix` followed by 32 URL-safe characters."""
    return prefix + secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_hint(key: str, prefix_len: int) -> str:
    """The prefix and first few characters of a key, which an operator may see again to tell keys apart."""
    return key[: prefix_len + HINT_CHARS] + "…"
