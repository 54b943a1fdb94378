"""Driver connections a hot path keeps for its life instead of taking one from the pool per transaction.

Taking a pooled connection and giving it back (checkout, the pool's events, the reset on return) cost about as
much as the work a profile read or an audit commit does on it: measured with py-spy on the group-commit writer,
a third of its Python time per commit was the pool. A `HeldWriter` is the connection of one writer thread (the
audit log's group commit); a `HeldReader` is the read snapshots of one event loop's requests. Each gives its
connection back to the pool on `close()`, and drops it (invalidates it, so the pool opens a fresh one) when a
transaction on it fails in a way that may have broken it; the next transaction takes a new one.

Transactions are the same as `read_snapshot` and `write_transaction` (core.prepared) make: the same isolation,
the same write turn on SQLite, the same durability choices.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.pool import PoolProxiedConnection

from seamline.core.db import BUSY_TIMEOUT_SECONDS, SYNCHRONOUS, write_turn_of
from seamline.core.prepared import DriverTransaction, read_snapshot


def _is_usable(proxied: PoolProxiedConnection) -> bool:
    # psycopg says when it knows its connection is gone; sqlite3 connections do not break this way.
    driver: Any = proxied.driver_connection
    return not (getattr(driver, "closed", False) or getattr(driver, "broken", False))


class HeldWriter:
    """The write transactions of one writer thread, on one connection it keeps (see the module's note).

    With `flush=False` commits do not wait for the disk (SQLite's WAL at synchronous=NORMAL, PostgreSQL's
    synchronous_commit=off), as `write_transaction(flush=False)`; the held SQLite connection keeps that setting
    until it goes back to the pool, where it is restored."""

    def __init__(self, engine: Engine, *, flush: bool = True) -> None:
        self._engine = engine
        self._flush = flush
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._proxied: PoolProxiedConnection | None = None

    @contextmanager
    def transaction(self) -> Iterator[DriverTransaction]:
        """A write transaction, committed when the block ends and rolled back when it raises."""
        turn = write_turn_of(self._engine)
        is_turn_taken = turn is not None and turn.take(BUSY_TIMEOUT_SECONDS)
        try:
            try:
                proxied = self._begun()
            except Exception:  # nothing was written: once more, on a fresh connection
                self._drop()
                proxied = self._begun()
            driver: Any = proxied.driver_connection
            try:
                yield DriverTransaction(self._engine.dialect, driver)
            except BaseException:
                self._roll_back(proxied)
                raise
            try:
                proxied.commit()
            except BaseException:
                self._roll_back(proxied)
                raise
        finally:
            if is_turn_taken:
                assert turn is not None
                turn.give_back()

    def close(self) -> None:
        """Give the connection back to the pool (its synchronous level as the engine configured it)."""
        proxied, self._proxied = self._proxied, None
        if proxied is None:
            return
        try:
            if self._is_sqlite and not self._flush:
                proxied.driver_connection.execute(  # type: ignore[union-attr]  # a pooled connection always holds its driver connection
                    f"PRAGMA synchronous={proxied.info.get(SYNCHRONOUS, 'FULL')}"
                )
        finally:
            proxied.close()

    def _begun(self) -> PoolProxiedConnection:
        proxied = self._connection()
        driver: Any = proxied.driver_connection
        if self._is_sqlite:
            driver.execute("BEGIN IMMEDIATE")
        elif not self._flush:
            driver.execute("SET LOCAL synchronous_commit TO OFF")
        return proxied

    def _connection(self) -> PoolProxiedConnection:
        if self._proxied is not None and not _is_usable(self._proxied):
            self._drop()
        if self._proxied is None:
            proxied = self._engine.raw_connection()
            if self._is_sqlite and not self._flush:
                proxied.driver_connection.execute("PRAGMA synchronous=NORMAL")  # type: ignore[union-attr]  # a pooled connection always holds its driver connection
            self._proxied = proxied
        return self._proxied

    def _roll_back(self, proxied: PoolProxiedConnection) -> None:
        try:
            proxied.rollback()
        except Exception:  # the connection itself failed: a fresh one for the next transaction
            self._drop()

    def _drop(self) -> None:
        proxied, self._proxied = self._proxied, None
        if proxied is not None:
            proxied.invalidate()


class HeldReader:
    """Read snapshots on one connection kept for the requests of an event loop (see the module's note).

    One snapshot at a time uses the held connection; a snapshot asked for while it is in use (another thread, or
    a snapshot inside a snapshot) takes a pooled one, as `read_snapshot` does. On PostgreSQL the held connection
    runs its statements in autocommit: at the engine's READ COMMITTED each statement of a transaction takes its own
    snapshot anyway, so the view is the same, without the round trips that begin and end a transaction."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._proxied: PoolProxiedConnection | None = None
        self._in_use = threading.Lock()
        self._is_closed = False

    @contextmanager
    def snapshot(self) -> Iterator[DriverTransaction]:
        """A read transaction for `Prepared` statements, ended by rolling back (it changes nothing)."""
        if self._is_closed or not self._in_use.acquire(blocking=False):
            with read_snapshot(self._engine) as reads:
                yield reads
            return
        try:
            try:
                driver = self._begun()
            except Exception:  # a connection that cannot begin: once more, on a fresh one
                self._drop()
                driver = self._begun()
            try:
                yield DriverTransaction(self._engine.dialect, driver)
            finally:
                try:
                    driver.rollback()
                except Exception:
                    self._drop()
                    raise
        finally:
            self._in_use.release()

    def close(self) -> None:
        """Give the connection back to the pool; later snapshots take pooled connections."""
        with self._in_use:
            self._is_closed = True
            proxied, self._proxied = self._proxied, None
            if proxied is not None:
                if not self._is_sqlite:
                    proxied.driver_connection.autocommit = False  # type: ignore[union-attr]  # as the pool gave it
                proxied.close()

    def _begun(self) -> Any:
        if self._proxied is not None and not _is_usable(self._proxied):
            self._drop()
        if self._proxied is None:
            proxied = self._engine.raw_connection()
            if not self._is_sqlite:
                proxied.rollback()  # out of any transaction before switching
                proxied.driver_connection.autocommit = True  # type: ignore[union-attr]  # a pooled connection always holds its driver connection
            self._proxied = proxied
        driver: Any = self._proxied.driver_connection
        if self._is_sqlite:
            driver.execute("BEGIN")  # the engine runs pysqlite in autocommit mode (see create_db_engine)
        return driver

    def _drop(self) -> None:
        proxied, self._proxied = self._proxied, None
        if proxied is not None:
            proxied.invalidate()
