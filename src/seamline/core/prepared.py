"""Hot statements straight on the driver: a statement compiled once per dialect, run on the driver's own connection.

SQLAlchemy's execution machinery (execution context, result metadata, events) costs several times what SQLite
itself spends on a primary-key read: measured on a lookup, five statements and their session took ~240 µs of CPU
through SQLAlchemy and ~60 µs on the driver. A `Prepared` statement is written with SQLAlchemy (text with typed
columns, or Core), so its SQL, placeholders and type conversions stay SQLAlchemy's own for each dialect: the
statement is compiled once per dialect, and its columns' and parameters' processors are taken from their types.
Only running it skips the machinery.

Rows come back as named tuples: reading a field of a SQLAlchemy `Row` by attribute cost ~5x a named tuple's
(measured on the consent policy, which reads ten fields of each choice). A read names its row type, a
`typing.NamedTuple` whose fields are the statement's columns in order (checked when it is built), so callers get
typed rows rather than `Any`: `Prepared(select(t.c.id, t.c.name), IdName).all(reads)` is a `list[IdName]`.

A `read_snapshot` is a read-only transaction on a pooled driver connection, for requests that read and change
nothing; a `write_transaction` is its writing twin, for a writer that appends many rows with one driver call. The
hottest of them keep their connection instead (`core.held`: the API's reads, the group commits). `Prepared` also
runs inside a unit of work's session or on a connection, in their transaction.
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, overload

from sqlalchemy import ColumnElement, Connection, Dialect, Engine, bindparam
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert, Update, UpdateBase
from sqlalchemy.sql.selectable import Select, TextualSelect

from seamline.core.db import BUSY_TIMEOUT_SECONDS, SYNCHRONOUS, write_turn_of

Processor = Callable[[Any], Any]
R = TypeVar("R", bound=tuple[Any, ...])


class DriverTransaction:
    """A transaction on one pooled driver connection: a read snapshot or a write (see the functions below)."""

    __slots__ = ("dialect", "driver")

    def __init__(self, dialect: Dialect, driver: DBAPIConnection) -> None:
        self.dialect = dialect
        self.driver = driver


Reads = Session | DriverTransaction
"""What a hot read runs in: a unit of work's session, or a read snapshot."""
Statement = Select[Any] | TextualSelect | Insert | Update


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[DriverTransaction]:
    """A read transaction for `Prepared` statements: one consistent view on SQLite, the same isolation as a unit of
    work's on PostgreSQL. It changes nothing, so it ends by rolling back."""
    proxied = engine.raw_connection()
    try:
        driver = proxied.driver_connection
        if engine.dialect.name == "sqlite":
            # The engine runs pysqlite in autocommit mode and begins explicitly (see create_db_engine).
            driver.execute("BEGIN")  # type: ignore[union-attr]  # DBAPI connections are typed as Any-or-None
        yield DriverTransaction(engine.dialect, driver)  # type: ignore[arg-type]  # a live driver connection, never None here
    finally:
        proxied.rollback()
        proxied.close()


@contextmanager
def write_transaction(engine: Engine, *, flush: bool = True) -> Iterator[DriverTransaction]:
    """A write transaction for `Prepared` statements, committed when the block ends and rolled back when it raises.

    On SQLite it takes the engine's write turn and begins IMMEDIATE, as a unit of work that writes does, so it
    queues fairly with the process's other writers instead of polling SQLite's lock. With `flush=False` the commit
    does not wait for the disk (SQLite's WAL at synchronous=NORMAL, PostgreSQL's synchronous_commit=off): it is
    committed, visible and safe from a crash of this process, and reaches the disk with the next flush."""
    turn = write_turn_of(engine)
    is_turn_taken = turn is not None and turn.take(BUSY_TIMEOUT_SECONDS)
    try:
        proxied = engine.raw_connection()
        driver: Any = proxied.driver_connection
        is_sqlite = engine.dialect.name == "sqlite"
        try:
            if is_sqlite:
                if not flush:
                    driver.execute("PRAGMA synchronous=NORMAL")
                driver.execute("BEGIN IMMEDIATE")
            elif not flush:
                driver.execute("SET LOCAL synchronous_commit TO OFF")
            yield DriverTransaction(engine.dialect, driver)
        except BaseException:
            proxied.rollback()
            raise
        else:
            proxied.commit()
        finally:
            if is_sqlite and not flush:
                driver.execute(f"PRAGMA synchronous={proxied.info.get(SYNCHRONOUS, 'FULL')}")
            proxied.close()
    finally:
        if is_turn_taken:
            assert turn is not None
            turn.give_back()


def _selected(statement: Statement) -> Sequence[ColumnElement[Any]]:
    # A write's columns are those it returns (RETURNING), if any.
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    return list(statement.selected_columns)


class _Compiled:
    __slots__ = ("binds", "columns", "is_positional", "make_row", "names", "sql", "steps")

    def __init__(self, statement: Statement, dialect: Dialect, make_row: Callable[[Sequence[Any]], Any] | None) -> None:
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
        # Each parameter's name and its processor, in order: a statement with hundreds of slots converts in one pass.
        self.steps: tuple[tuple[str, Processor | None], ...] = tuple((name, binds.get(name)) for name in self.names)
        self.columns: list[tuple[int, Processor]] = []
        selected = _selected(statement)
        for index, column in enumerate(selected):
            result = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if result is not None:
                self.columns.append((index, result))
        if make_row is None:  # no row type given: one made from the columns' names
            fields = [str(column.key) for column in selected]
            row_type: Any = namedtuple("Row", fields, rename=True)  # type: ignore[misc]  # fields known at run time
            make_row = row_type._make
        self.make_row: Callable[[Sequence[Any]], Any] = make_row

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        if self.is_positional:
            return tuple([values[name] if step is None else step(values[name]) for name, step in self.steps])
        return {name: values[name] if step is None else step(values[name]) for name, step in self.steps}


class Prepared(Generic[R]):
    """One statement, compiled once per dialect and run on the driver; rows come back as named tuples of `row`, and
    values both ways are converted exactly as SQLAlchemy would (timestamps, JSON, booleans).

    `row` is a `typing.NamedTuple` whose fields are the statement's columns, same names, same order (a mismatch is
    refused here, when the statement is built). Without it the rows are untyped named tuples (`Prepared[Any]`): for
    writes that return nothing, and the reads not yet given a row type."""

    @overload
    def __init__(self: Prepared[Any], statement: Statement) -> None: ...
    @overload
    def __init__(self, statement: Statement, row: type[R]) -> None: ...

    def __init__(self, statement: Statement, row: type[R] | None = None) -> None:
        self._statement = statement
        self._make_row: Callable[[Sequence[Any]], R] | None = None
        if row is not None:
            columns = tuple(str(column.key) for column in _selected(statement))
            fields = tuple(getattr(row, "_fields", ()))
            if fields != columns:
                raise ValueError(f"{row.__name__} has the fields {fields}; the statement's columns are {columns}")
            self._make_row = row._make  # type: ignore[attr-defined]  # a NamedTuple's, checked by its fields above
        self._by_dialect: dict[tuple[str, str], _Compiled] = {}

    @property
    def statement(self) -> Statement:
        """The statement as it was given."""
        return self._statement

    @property
    def typed(self) -> bool:
        """Whether rows come back as the row type given (else as untyped named tuples)."""
        return self._make_row is not None

    def all(self, bind: Reads, **values: Any) -> list[R]:
        """Every row the statement returns."""
        compiled, driver = self._prepare(bind)
        rows = driver.execute(compiled.sql, compiled.parameters(values)).fetchall()
        return [_converted(compiled, row) for row in rows]

    def first(self, bind: Reads, **values: Any) -> R | None:
        """The first row, or None."""
        compiled, driver = self._prepare(bind)
        row = driver.execute(compiled.sql, compiled.parameters(values)).fetchone()
        return None if row is None else _converted(compiled, row)

    def run_many(self, bind: Session | Connection | DriverTransaction, rows: Sequence[Mapping[str, Any]]) -> None:
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
        if isinstance(bind, DriverTransaction):
            dialect, driver = bind.dialect, bind.driver
        else:
            # A session's connection joins (or begins) its transaction.
            connection = bind if isinstance(bind, Connection) else bind.connection()
            dialect, driver = connection.dialect, connection.connection.driver_connection
        key = (dialect.name, dialect.driver)
        compiled = self._by_dialect.get(key)
        if compiled is None:
            compiled = self._by_dialect[key] = _Compiled(self._statement, dialect, self._make_row)
        return compiled, driver


def _converted(compiled: _Compiled, row: Sequence[Any]) -> Any:
    if not compiled.columns:
        return compiled.make_row(row)
    values = list(row)
    for index, processor in compiled.columns:
        values[index] = processor(values[index])
    return compiled.make_row(values)


def in_slots(column: ColumnElement[Any], size: int) -> ColumnElement[bool]:
    """`column IN (…)` with exactly `size` placeholders, for a prepared statement (which takes no expanding list):
    give it `slot_values(values, size)`. An expanding IN list is rendered anew on every call, which on a worker's
    batch reads cost more CPU than the database's own work on them."""
    return column.in_([bindparam(f"in_{n}") for n in range(size)])


def slot_values(values: Sequence[Any], size: int) -> dict[str, Any]:
    """1 to `size` values as the parameters of `in_slots`, padded with the last one (a value repeated in an IN list
    matches nothing more)."""
    if not 0 < len(values) <= size:
        raise ValueError(f"give 1 to {size} values, not {len(values)}")
    padded = [*values, *[values[-1]] * (size - len(values))]
    return dict(zip(_slot_names(size), padded, strict=True))


@functools.lru_cache(maxsize=32)
def _slot_names(size: int) -> tuple[str, ...]:
    # Named once per size: a batch read of 900 slots named them anew on every call.
    return tuple(f"in_{n}" for n in range(size))
