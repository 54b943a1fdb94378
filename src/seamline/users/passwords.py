"""Password hashing with argon2id (argon2-cffi): salted, slow and memory-hard, as passwords need.

A person's password carries few bits, so a stolen table must cost an attacker real memory and time per guess:
argon2id is the Password Hashing Competition's winner and RFC 9106's recommendation, and argon2-cffi is the
maintained binding of its reference C code (the same one Django and passlib use). Its defaults follow RFC 9106's
low-memory profile; a hash made with older parameters is upgraded at the next successful login.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An encoded argon2id hash (parameters and salt included)."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash; False for a malformed hash too."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")


def spend_verification_time(password: str) -> None:
    """Verify against a hash of nobody, so that an unknown name takes as long to refuse as a wrong password."""
    verify_password(_dummy_hash(), password)
