"""Rows of a SQL query on a source database, streamed through a server-side cursor, both passes in one snapshot.

Consistency: validation and writing each run the query, inside one read-only transaction on the source database
that sees a single snapshot where the database offers one — PostgreSQL and MySQL at REPEATABLE READ, SQLite in
one read transaction. So the rows written are exactly the rows validated, however the source changes meanwhile.
On other databases the two runs may differ; the write pass validates every row again, so a row that turned bad
still refuses the whole import, but rows added or changed in between are imported as the second run reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from seamline.core.errors import FieldError, InvalidInput
from seamline.imports.mapping import RowProblem
from seamline.imports.reader import Row, plain_row

FETCH_ROWS = 1_000  # rows the server-side cursor fetches at a time
_SNAPSHOT_LEVELS = {"postgresql": "REPEATABLE READ", "mysql": "REPEATABLE READ", "mariadb": "REPEATABLE READ"}


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and evidence."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(not a database URL)"


def _engine(url: str) -> Engine:
    try:
        return create_engine(url, poolclass=NullPool)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise InvalidInput(
            [FieldError("from_sql", "invalid", f"cannot use {safe_url(url)}: {exc}")], "the source database is unusable"
        ) from None


class Snapshot:
    """A read-only connection to the source database; every query run through it sees the same data (see above)."""

    def __init__(self, conn: Connection, url: str, level: str) -> None:
        self._conn = conn
        self.url = safe_url(url)
        self.consistency = level  # how the two passes agree, said in the import's result

    def rows(self, query: str) -> QueryRows:
        """Run the query (again) in this snapshot."""
        return QueryRows(self._conn, query)


@contextmanager
def snapshot(url: str) -> Iterator[Snapshot]:
    """A read-only snapshot of the source database for the import's two passes; released (rolled back) at the end."""
    engine = _engine(url)
    dialect = engine.dialect.name
    try:
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            raise InvalidInput(
                [FieldError("from_sql", "unreachable", f"cannot connect to {safe_url(url)}: {exc.orig}")],
                "the source database is unreachable",
            ) from None
        with conn:
            level = _SNAPSHOT_LEVELS.get(dialect)
            if level is not None:
                options: dict[str, object] = {"isolation_level": level}
                if dialect == "postgresql":
                    options["postgresql_readonly"] = True
                conn = conn.execution_options(**options)
                conn.begin()
                consistency = f"one snapshot ({level}, read-only)"
            elif dialect == "sqlite":
                # pysqlite opens no transaction for reads: BEGIN makes both passes one read transaction (one snapshot).
                conn.exec_driver_sql("PRAGMA query_only = ON")
                conn.exec_driver_sql("BEGIN")
                consistency = "one snapshot (one SQLite read transaction, query_only)"
            else:
                conn.begin()
                consistency = f"no snapshot on {dialect}: the write pass re-validates what it reads"
            try:
                yield Snapshot(conn, url, consistency)
            finally:
                conn.rollback()  # the import only read
    finally:
        engine.dispose()


class QueryRows:
    """One run of the query: rows fetched from a server-side cursor a thousand at a time, numbered from 1."""

    unit = "row"

    def __init__(self, conn: Connection, query: str) -> None:
        try:
            self._result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(text(query))
        except DBAPIError as exc:
            raise InvalidInput(
                [FieldError("query", "invalid", f"the source database refused the query: {exc.orig}")],
                "the query failed",
            ) from None
        if not self._result.returns_rows:
            raise InvalidInput([FieldError("query", "invalid", "the query returns no rows (use SELECT)")])
        self.header: list[str] | None = list(self._result.keys())
        self._done = 0

    def progress(self) -> tuple[int, int | None]:
        """Rows read so far; a query's total is unknown until its end."""
        return self._done, None

    def rows(self) -> Iterator[tuple[int, Row | RowProblem]]:
        """Each row with its number, typed cells made plain; a query failing midway is reported at its row."""
        position = 0
        try:
            for row in self._result.mappings():
                position += 1
                self._done = position
                yield position, plain_row(dict(row), position)
        except DBAPIError as exc:
            yield position + 1, RowProblem(position + 1, f"the query failed here: {exc.orig}")

    def close(self) -> None:
        self._result.close()

    def __enter__(self) -> QueryRows:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
