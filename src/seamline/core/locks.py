"""Locks across several transactions of one process's round: PostgreSQL session advisory locks, taken in one global
order (so two holders of overlapping sets never deadlock) and held until the block ends. SQLite takes none: it runs
one writer at a time, and Seamline runs one dispatcher on it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

_INT32 = 2**31
# The two-key form (space, key) of PostgreSQL's advisory locks: a key space apart from the one-bigint locks that
# identity resolution takes on identifiers.
_LOCK = text("SELECT pg_advisory_lock(:space, k) FROM (SELECT unnest(CAST(:keys AS int[])) AS k ORDER BY 1) s")
_UNLOCK = text("SELECT pg_advisory_unlock(:space, k) FROM unnest(CAST(:keys AS int[])) AS k")


@contextmanager
def held_locks(engine: Engine, space: int, keys: Iterable[int]) -> Iterator[None]:
    """Hold a lock on each key in `space` while the block runs, whatever transactions it commits meanwhile (another
    holder of any of them waits). Keys are folded into 32 bits: two keys sharing a lock only wait for each other."""
    folded = sorted({key % _INT32 for key in keys})
    if engine.dialect.name != "postgresql" or not folded:
        yield
        return
    with engine.connect() as connection:
        connection.execute(_LOCK, {"space": space, "keys": folded})
        connection.commit()  # a session lock outlives the transaction that took it
        try:
            yield
        finally:
            try:
                connection.execute(_UNLOCK, {"space": space, "keys": folded})
                connection.commit()
            except Exception:
                connection.invalidate()  # closing the session releases its locks
                raise
