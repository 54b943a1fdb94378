"""`column IN (values)` for a batch of any size, on either database, as a few conditions to run one query each.

On PostgreSQL one condition, `column = ANY(:array)`: one parameter whatever the batch, so the statement's text is
the same for every batch (SQLAlchemy's cache and the driver's prepared statement hold) and the driver sends one
array instead of a parameter per value; an expanding IN list is rendered anew, value by value, on every call,
which on a dispatcher's batch costs more CPU than the database's own work on it. On SQLite, IN lists of at most
900 values (under its bound-parameter limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# The generic ARRAY, which PostgreSQL's dialect renders as its own: importing that dialect's package costs a command
# on SQLite ~0.02 s for nothing.
from sqlalchemy import ARRAY, ColumnElement, any_, bindparam
from sqlalchemy.orm import Session

from seamline.core.db import is_postgres

SQLITE_CHUNK = 900


def among(session: Session, column: ColumnElement[Any], values: Sequence[Any]) -> list[ColumnElement[bool]]:
    """Conditions that together select the rows whose `column` is one of `values` (none for no values)."""
    unique = sorted(set(values))
    if not unique:
        return []
    if is_postgres(session):
        return [column == any_(bindparam(None, unique, type_=ARRAY(column.type)))]
    return [column.in_(unique[start : start + SQLITE_CHUNK]) for start in range(0, len(unique), SQLITE_CHUNK)]
