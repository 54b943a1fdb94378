"""Database engines for SQLite (WAL) and PostgreSQL, and the transaction boundary."""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    Select,
    Table,
    TypeDecorator,
    any_,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import Pool
from sqlalchemy.sql.elements import ColumnElement

from seamline.core.checkpoints import AUTOCHECKPOINT_PAGES, Checkpointer
from seamline.core.sharedturn import SharedTurn

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Execution option asking SQLite to take the write lock when the transaction begins, so that two writers
# queue on busy_timeout instead of failing when a reader upgrades to a writer.
WRITE_INTENT = "seamline_write_intent"

WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a SQLite WAL keeps after a checkpoint (above wal_autocheckpoint's ~40 MB)
BUSY_TIMEOUT_SECONDS = 30.0  # how long a SQLite writer waits for another's transaction before giving up
_HOLDS_WRITE_TURN = "seamline_holds_write_turn"
SYNCHRONOUS = "seamline_synchronous"  # a SQLite connection's configured synchronous level, in its pool record


class Base(DeclarativeBase):
    """Declarative base shared by every domain's tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def create_db_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 8) -> Engine:
    """Make an engine; SQLite gets WAL, a busy timeout and explicit BEGIN so transactions mean what they say."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" hook below issues BEGIN itself, which is
        # the documented way to get real transactions (and BEGIN IMMEDIATE) from pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        record.info[SYNCHRONOUS] = sqlite_synchronous  # what a write that flushes lazily restores afterwards
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA cache_size=-65536")
        # SQLite's own checkpoint (inside a COMMIT, under the write turn) only as a safety net: the engine's
        # Checkpointer copies the WAL into the database file outside the turn (core.checkpoints). Commits are synced
        # to the WAL as before, so durability is unchanged. (Before it, ~40 MB rather than SQLite's 4 MB had been
        # measured at -8% worker CPU, +11% events/s: pages touched by several commits are written once.)
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        # Erasure: deleted and overwritten content is zeroed in the database file rather than left in free space
        # (set here, not left to how the distribution compiled SQLite: Debian's default is off), and a checkpoint
        # shrinks the WAL back to this size, so copies of old pages do not linger in a long file (see erase_wal).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        cursor.close()

    # SQLite's busy handler polls with sleeps of up to 100 ms, so a thread waiting for the write lock can lose
    # every race to one that commits and begins again at once (measured: requests waiting on the inbox's group
    # commit starved for seconds behind the embedded worker). Write transactions of this engine take turns, and
    # with the other processes on the same file too (`serve` and its worker child: core.sharedturn).
    is_file = bool(parsed.database) and parsed.database != ":memory:" and "mode=memory" not in str(parsed)
    across = SharedTurn(Path(str(parsed.database))) if is_file else None
    checkpointer = Checkpointer(Path(str(parsed.database))) if is_file else None
    write_turn = _WriteTurn(across, checkpointer)
    if across is not None:
        weakref.finalize(write_turn, across.close)  # the engine's listeners hold the turn: it goes with the engine
    _WRITE_TURNS[engine.pool] = write_turn

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(WRITE_INTENT, False):
            conn.exec_driver_sql("BEGIN")
            return
        holder = conn.connection.record_info
        is_turn_taken = holder is not None and write_turn.take(BUSY_TIMEOUT_SECONDS)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if is_turn_taken:
                write_turn.give_back()
            raise
        if is_turn_taken:
            assert holder is not None
            holder[_HOLDS_WRITE_TURN] = True

    # The turn goes back once the transaction has ended in the database, not before: SQLAlchemy's commit and
    # rollback events fire before the driver's COMMIT, and a writer handed the turn then met SQLite's lock still
    # held by that COMMIT (its WAL write and sync) and slept in the busy handler's growing steps (1, 2, 5, 10, 15,
    # 20 … ms), oversleeping the release (measured beside the worker: BEGIN IMMEDIATE p90 18-20 ms, p99 39-54 ms).
    dialect = engine.dialect
    dialect_commit, dialect_rollback = dialect.do_commit, dialect.do_rollback

    def _give_back(dbapi_connection: Any) -> None:
        holder = getattr(dbapi_connection, "record_info", None)
        if holder is not None and holder.pop(_HOLDS_WRITE_TURN, False):
            write_turn.give_back()

    def _commit(dbapi_connection: Any) -> None:
        try:
            dialect_commit(dbapi_connection)
        finally:
            _give_back(dbapi_connection)

    def _rollback(dbapi_connection: Any) -> None:
        try:
            dialect_rollback(dbapi_connection)
        finally:
            _give_back(dbapi_connection)

    # The engine's own dialect instance (create_engine makes one per engine): no event runs after the driver's commit.
    dialect.do_commit = _commit  # type: ignore[method-assign]  # this engine's own dialect instance, patched on purpose (above)
    dialect.do_rollback = _rollback  # type: ignore[method-assign]  # this engine's own dialect instance, patched on purpose (above)

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A transaction that ended without commit or rollback (a connection invalidated mid-way) gives its
        # turn back here, so no writer waits for a turn nobody holds.
        if record is not None and record.record_info.pop(_HOLDS_WRITE_TURN, False):
            write_turn.give_back()

    return engine


def write_turn_of(engine: Engine) -> _WriteTurn | None:
    """The turn this engine's write transactions take (SQLite), for a writer that begins on the driver itself."""
    return _WRITE_TURNS.get(engine.pool)


class _WriteTurn:
    """A first-come, first-served turn for write transactions (a threading.Lock lets its releaser retake it)."""

    def __init__(self, across: SharedTurn | None = None, checkpointer: Checkpointer | None = None) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._is_taken = False
        self._holder: int | None = None
        self._across = across  # the turn among processes, taken by whichever thread holds this one
        self.checkpointer = checkpointer  # copies the WAL into the file after writes, outside the turn

    def take(self, timeout: float) -> bool:
        """Wait for the turn (this process's, then the file's); False when a wait timed out, or when this thread
        already holds it."""
        started = time.monotonic()
        if not self._take_here(timeout):
            return False
        if self._across is not None and not self._across.take(timeout - (time.monotonic() - started)):
            self._give_back_here()
            return False
        return True

    def give_back(self) -> None:
        """Hand the turn to the longest waiter, if any."""
        if self._across is not None:
            self._across.give_back()
        self._give_back_here()
        if self.checkpointer is not None:
            self.checkpointer.wrote()

    def _take_here(self, timeout: float) -> bool:
        me = threading.get_ident()
        with self._mutex:
            if self._holder == me:
                return False  # a second write transaction of one thread: SQLite will refuse it, as before
            if not self._is_taken:
                self._is_taken, self._holder = True, me
                return True
            signal = threading.Lock()
            signal.acquire()
            self._waiting.append(signal)
        if not signal.acquire(timeout=timeout):
            with self._mutex:
                if signal in self._waiting:
                    self._waiting.remove(signal)
                    return False
            # the turn was handed over just as the wait ran out: it is ours
        with self._mutex:
            self._holder = me
        return True

    def _give_back_here(self) -> None:
        with self._mutex:
            self._holder = None
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._is_taken = False


# Each SQLite engine's turn, by its pool (engines made with execution_options share their pool and their turn).
_WRITE_TURNS: weakref.WeakKeyDictionary[Pool, _WriteTurn] = weakref.WeakKeyDictionary()


def erase_wal(engine: Engine, *, timeout: float = BUSY_TIMEOUT_SECONDS) -> bool:
    """SQLite: copy every committed page into the database file and truncate the WAL to nothing, so the page
    images written before an erasure (whole events, names, emails) are gone from the WAL file. Call right after
    the erasure commits. False when readers kept it from finishing within `timeout` (the next call finishes it);
    True at once on PostgreSQL, whose WAL is the database server's, not in Seamline's data folder."""
    if not is_sqlite(engine):
        return True
    deadline = time.monotonic() + timeout
    # The write turn first: a busy worker that commits and begins again at once would otherwise win every race for
    # the lock the checkpoint waits on (see _WriteTurn); with the turn, its next batch waits for the checkpoint.
    turn = write_turn_of(engine)
    is_turn_taken = turn is not None and turn.take(timeout)
    # On the driver, outside any transaction: a checkpoint cannot finish past the snapshot of its own connection.
    proxied = engine.raw_connection()
    try:
        while True:
            # TRUNCATE waits for writers through the busy handler; a reader still on an old snapshot makes it
            # report busy, so it is retried until that reader is done.
            cursor = proxied.cursor()
            busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            cursor.close()
            if not busy:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
    finally:
        proxied.close()
        if is_turn_taken:
            assert turn is not None
            turn.give_back()


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def is_postgres(session: Session) -> bool:
    """True when the session's database is PostgreSQL (row locks, advisory locks and snapshots to take)."""
    return session.get_bind().dialect.name == "postgresql"


def picked_once(session: Session, column: ColumnElement[Any], picked: Select[Any]) -> ColumnElement[bool]:
    """`column IN (picked)` with the pick made once. Under `IN`, PostgreSQL may run a `LIMIT … FOR UPDATE SKIP
    LOCKED` subquery again for each outer row (a nested-loop semi join); each run skips the rows the statement has
    already taken, so it takes more than its limit. As `= ANY(ARRAY(…))` the subquery is an InitPlan, run once.
    SQLite takes no row locks and runs an uncorrelated subquery once."""
    if is_postgres(session):
        return column == any_(func.array(picked.scalar_subquery()))
    return column.in_(picked.scalar_subquery())


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire on commit: the boundary commits, then still reads what it wrote."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """The transaction boundary: commit when the block ends, roll back when it raises."""
    # A copy of the engine with other options is cheap but not free (the API authenticates every request
    # this way), so it is made only when the engine does not already say the same.
    bind = engine
    if engine.get_execution_options().get(WRITE_INTENT, False) != write:
        bind = engine.execution_options(**{WRITE_INTENT: write})
    with Session(bind, expire_on_commit=False) as session, session.begin():
        yield session


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for bulk statements that skip the ORM's per-row bookkeeping."""
    return cast(Table, model.__table__)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database: SQLite hands back naive values, this makes them UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
