"""`column IN (values)` for a batch of any size, on either database, as a few conditions to run one query each.

On PostgreSQL one condition, `column = ANY(:array)`: one parameter whatever the batch, so the statement's text is
the same for every batch (SQLAlchemy's cache and the driver's prepared statement hold) and the driver sends one
array instead of a parameter per value; an expanding IN list is rendered anew, value by value, on every call,
which on a dispatcher's batch costs more CPU than the database's own work on it. On SQLite, IN lists of at most
900 values (under its bound-parameter limit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

# The generic ARRAY, which PostgreSQL's dialect renders as its own: importing that dialect's package costs a command
# on SQLite ~0.02 s for nothing.
from sqlalchemy import ARRAY, ColumnElement, String, any_, bindparam, func, select
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


def among_all(session: Session, column: ColumnElement[Any], values: Sequence[int | str]) -> ColumnElement[bool]:
    """One condition that selects the rows whose `column` is one of `values`, whatever their number: on
    PostgreSQL as `among`, on SQLite `column IN (SELECT value FROM json_each(:values))` (the values as one JSON
    array), for a batch too large for a few IN lists. Integers and strings only."""
    unique = sorted(set(values))
    if is_postgres(session):
        return column == any_(bindparam(None, unique, type_=ARRAY(column.type)))
    # SQLite reads the array's values and looks each up in the column's index, as it would an IN list's: one
    # statement and one parameter, where 28 IN lists of 900 were rendered and bound value by value (the stall
    # scan's 200,000 people: identity's person_keys 1.2 -> 0.9 s of CPU, with its loop made leaner).
    each = func.json_each(bindparam(None, json.dumps(unique), type_=String)).table_valued("value")
    return column.in_(select(each.c.value))
