"""The locks identity resolution takes on PostgreSQL: one transaction advisory lock per identifier, in one global
order, so two workers resolving events that share an identifier take turns and no two deadlock."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.orm import Session

from seamline.identity.identifiers import Identifier


def lock_identifiers(session: Session, identifiers: Iterable[Identifier]) -> None:
    """PostgreSQL: take transaction advisory locks on the identifiers, in one global order (no deadlocks)."""
    keys = sorted({hash_key(i) for i in identifiers})
    if keys:
        session.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) s"),
            {"keys": keys},
        )


def hash_key(identifier: Identifier) -> int:
    """A stable 64-bit lock key for an identifier."""
    digest = hashlib.blake2b(f"{identifier.type}\x1f{identifier.value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
