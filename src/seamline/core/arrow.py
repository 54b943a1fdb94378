"""Reading the store into Arrow for an in-process column store (the assessment's and journey analytics' DuckDB
copies): a schema from (name, type) pairs, times as epoch seconds computed by the database (so millions of rows
never parse a timestamp in Python), and a query streamed into record batches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from sqlalchemy import ColumnElement, Float, Select, cast, func
from sqlalchemy.orm import Session

AnySelect = Select[*tuple[Any, ...]]
CHUNK = 200_000  # rows per Arrow batch: a few tens of MB at most


def schema(fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in fields])


def epoch(session: Session, column: Any) -> ColumnElement[float]:
    """A time column as epoch seconds, computed in the database."""
    if session.get_bind().dialect.name == "sqlite":
        # julianday is a double of days: rounded to the millisecond, it reads back the time stored
        return cast(func.round((func.julianday(column) - 2440587.5) * 86400.0, 3), Float)
    return cast(func.extract("epoch", column), Float)


def batches(session: Session, query: AnySelect, shape: pa.Schema) -> Iterator[pa.RecordBatch]:
    """The query's rows as record batches of `shape`, streamed CHUNK rows at a time."""
    result = session.execute(query.execution_options(stream_results=True))
    for rows in result.partitions(CHUNK):
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in shape]
        yield pa.RecordBatch.from_arrays(
            [pa.array(c, type=f.type) for c, f in zip(columns, shape, strict=True)], schema=shape
        )


def table(session: Session, query: AnySelect, shape: pa.Schema) -> pa.Table:
    """The query's rows as one Arrow table of `shape`."""
    return pa.Table.from_batches(list(batches(session, query, shape)), schema=shape)
