"""Hot statements straight on the driver: a statement compiled once per dialect, run on the driver's own connection.

SQLAlchemy's execution machinery (execution context, result metadata, events) costs several times what SQLite
itself spends on a primary-key read: measured on a lookup, five statements and their session took ~240 µs of CPU
through SQLAlchemy and ~60 µs on the driver. A `Prepared` statement is written with SQLAlchemy (text with typed
columns, or Core), so its SQL, placeholders and type conversions stay SQLAlchemy's own for each dialect: the
statement is compiled once per dialect, and its columns' and parameters' processors are taken from their types.
Only running it skips the machinery.

A `Snapshot` is a read-only transaction on a pooled driver connection, for requests that read and change nothing;
`Prepared` also runs inside a unit of work's session or on a connection, in their own transaction: that is how a
hot write (the audit log's group commit) appends many rows with one driver call.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Dialect, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.selectable import Select, TextualSelect

Processor = Callable[[Any], Any]


class Snapshot:
    """A read-only transaction on one pooled driver connection (see `read_snapshot`)."""

    __slots__ = ("dialect", "driver")

    def __init__(self, dialect: Dialect, driver: DBAPIConnection) -> None:
        self.dialect = dialect
        self.driver = driver


Reads = Session | Snapshot
"""What a hot read runs in: a unit of work's session, or a read snapshot."""
Statement = Select[Any] | TextualSelect | Insert


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Snapshot]:
    """A read transaction for `Prepared` statements: one consistent view on SQLite, the same isolation as a unit of
    work's on PostgreSQL. It changes nothing, so it ends by rolling back."""
    proxied = engine.raw_connection()
    try:
        driver = proxied.driver_connection
        if engine.dialect.name == "sqlite":
            # The engine runs pysqlite in autocommit mode and begins explicitly (see create_db_engine).
            driver.execute("BEGIN")  # type: ignore[union-attr]
        yield Snapshot(engine.dialect, driver)  # type: ignore[arg-type]
    finally:
        proxied.rollback()
        proxied.close()


class _Compiled:
    __slots__ = ("binds", "columns", "is_positional", "make_row", "names", "sql")

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or any(b.expanding for b in compiled.binds.values()):
            raise ValueError("a prepared statement takes plain parameters (no IN-list expansion)")
        self.sql: str = compiled.string
        self.is_positional: bool = compiled.positional
        self.names: tuple[str, ...] = tuple(compiled.positiontup or compiled.binds)
        binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                binds[name] = processor
        self.binds = binds
        self.columns: list[tuple[int, Processor]] = []
        selected = () if isinstance(statement, Insert) else statement.selected_columns
        for index, column in enumerate(selected):
            result = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if result is not None:
                self.columns.append((index, result))
        fields = [str(column.key) for column in selected]
        row_type: Any = namedtuple("Row", fields, rename=True)  # type: ignore[misc]  # fields known at run time
        self.make_row: Callable[[Sequence[Any]], Any] = row_type._make

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        converted = {
            name: (self.binds[name](values[name]) if name in self.binds else values[name]) for name in self.names
        }
        return tuple(converted[name] for name in self.names) if self.is_positional else converted


class Prepared:
    """One statement, compiled once per dialect and run on the driver; rows come back as named tuples, and values
    both ways are converted exactly as SQLAlchemy would (timestamps, JSON, booleans)."""

    def __init__(self, statement: Statement) -> None:
        self._statement = statement
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    def all(self, bind: Reads, **values: Any) -> list[Any]:
        """Every row the statement returns."""
        compiled, driver = self._prepare(bind)
        rows = driver.execute(compiled.sql, compiled.parameters(values)).fetchall()
        return [_converted(compiled, row) for row in rows]

    def first(self, bind: Reads, **values: Any) -> Any:
        """The first row, or None."""
        compiled, driver = self._prepare(bind)
        row = driver.execute(compiled.sql, compiled.parameters(values)).fetchone()
        return None if row is None else _converted(compiled, row)

    def run_many(self, bind: Session | Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a write once per row, in one driver call, in the caller's transaction."""
        if rows:
            compiled, driver = self._prepare(bind)
            cursor = driver.cursor()
            try:
                cursor.executemany(compiled.sql, [compiled.parameters(row) for row in rows])
            finally:
                cursor.close()

    def _prepare(self, bind: Reads | Connection) -> tuple[_Compiled, Any]:
        driver: Any
        if isinstance(bind, Snapshot):
            dialect, driver = bind.dialect, bind.driver
        else:
            # A session's connection joins (or begins) its transaction.
            connection = bind if isinstance(bind, Connection) else bind.connection()
            dialect, driver = connection.dialect, connection.connection.driver_connection
        key = (dialect.name, dialect.driver)
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _Compiled(self._statement, dialect)
        return compiled, driver


def _converted(compiled: _Compiled, row: Sequence[Any]) -> Any:
    if not compiled.columns:
        return compiled.make_row(row)
    values = list(row)
    for index, processor in compiled.columns:
        values[index] = processor(values[index])
    return compiled.make_row(values)
