"""Bulk inserts of many plain rows: the statement is SQLAlchemy's, compiled once per dialect; the rows go to the
driver as tuples, each value through its column type's bind processor.

SQLAlchemy's executemany builds and processes every row's parameters in Python, which cost as much as SQLite's
own work for the worker's rows (a timeline row per event, identifier, trait and holding rows per batch). Times
are converted once per distinct value (1.3 µs each on SQLite): a batch writes each event's time into several
tables and columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, DateTime, Dialect, Table, TypeDecorator
from sqlalchemy.sql.dml import ValuesBase

Processor = Callable[[Any], Any]

_TIMES_KEPT = 65_536  # converted times remembered per (dialect, type); forgotten all at once when full
_converted_times: dict[tuple[str, str], dict[Any, Any]] = {}


class BulkInsert:
    """An INSERT (plain or upsert) of rows given as tuples in `columns` order (the table's column order).

    `build(dialect_name)` makes the statement for a dialect; it is built and compiled once per dialect.
    """

    def __init__(self, table: Table, columns: Sequence[str], build: Callable[[str], ValuesBase]) -> None:
        self.table = table
        self.columns = tuple(columns)
        if self.columns != tuple(column.key for column in table.columns if column.key in self.columns):
            raise ValueError(f"{table.name}: give the columns in the table's order, not {self.columns}")
        self._pick = itemgetter(*self.columns)
        self._build = build
        self._compiled: dict[str, tuple[str, bool, tuple[tuple[int, Processor, dict[Any, Any] | None], ...]]] = {}

    def _compile(self, dialect: Dialect) -> tuple[str, bool, tuple[tuple[int, Processor, dict[Any, Any] | None], ...]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self._build(dialect.name).compile(
                dialect=dialect, column_keys=list(self.columns), for_executemany=True
            )
            positional = compiled.positiontup is not None
            if positional and tuple(compiled.positiontup or ()) != self.columns:
                raise ValueError(f"{self.table.name}: the statement binds {compiled.positiontup}, not {self.columns}")
            processors = []
            for index, name in enumerate(self.columns):
                column_type = self.table.c[name].type
                process = column_type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    # Times are remembered per type configuration (its repr), which decides how they are stored.
                    memo = (
                        _converted_times.setdefault((dialect.name, repr(column_type)), {})
                        if _is_time(column_type)
                        else None
                    )
                    processors.append((index, process, memo))
            found = (str(compiled), positional, tuple(processors))
            self._compiled[dialect.name] = found
        return found

    def run_mappings(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows given as mappings holding (at least) the statement's columns."""
        if rows:
            pick = self._pick
            self.run(conn, [pick(row) for row in rows])

    def run(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert the rows, in order, in the connection's transaction (one executemany)."""
        if not rows:
            return
        sql, positional, processors = self._compile(conn.dialect)
        converted: list[Any] = [list(row) for row in rows] if processors else list(rows)
        for index, process, memo in processors:
            if memo is None:
                for row in converted:
                    row[index] = process(row[index])
                continue
            if len(memo) > _TIMES_KEPT:
                memo.clear()
            for row in converted:
                value = row[index]
                # With its zone: equal instants in different zones are equal datetimes but are stored differently.
                key = (value, value.tzinfo) if value is not None else None
                done = memo.get(key)
                if done is None:
                    done = memo[key] = process(value)
                row[index] = done
        if positional:
            conn.exec_driver_sql(sql, [tuple(row) for row in converted])
        else:  # named parameters (psycopg)
            conn.exec_driver_sql(sql, [dict(zip(self.columns, row, strict=True)) for row in converted])


def _is_time(column_type: Any) -> bool:
    base = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    return isinstance(base, DateTime)
