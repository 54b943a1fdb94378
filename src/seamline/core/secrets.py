"""API and write keys: generated from the OS's CSPRNG, stored only as a SHA-256 digest.

A fast, unsalted digest is right for these keys and wrong for passwords. A key carries 192 random bits, so an
attacker who steals the digests cannot guess keys back from them however fast the hash is, and no two keys share
a digest to be cracked at once. That lets a request be authenticated by one indexed lookup of the digest, with no
per-request cost worth measuring. A password carries perhaps 30 to 40 bits a person chose, so a fast digest would
let a stolen table be guessed back at billions of tries a second: passwords need a slow, salted, memory-hard
function (argon2id or scrypt) and a lookup by user name, never by digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from pathlib import Path

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


SECRET_FILE = "secret_key"  # noqa: S105 - the file's name, not a secret


def load_or_create_secret(data_dir: Path) -> str:
    """The server's signing secret from DATA_DIR/secret_key, made (256 random bits, mode 0600) on first use."""
    path = data_dir / SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole to a private temporary file, then linked into place: link fails if the name exists, so
        # when two processes start together exactly one secret wins and nobody reads a half-written file.
        draft = data_dir / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
            with contextlib.suppress(FileExistsError):  # another process linked its secret first: use that one
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
    secret = path.read_text(encoding="utf-8").strip()
    if not secret:
        raise ValueError(f"{path} is empty; delete it to make a new secret (links issued so far stop working)")
    return secret
