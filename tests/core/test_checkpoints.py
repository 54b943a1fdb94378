"""SQLite writers hold the write turn until their COMMIT has finished in the database, and the WAL is copied into
the database file by a checkpoint of its own, outside the turn (core.checkpoints)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from seamline.core.checkpoints import Checkpointer
from seamline.core.db import create_db_engine, unit_of_work, write_turn_of


def test_the_turn_is_held_until_the_drivers_commit_and_rollback_have_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer handed the turn must find SQLite's lock free: the turn may not go back before the COMMIT."""
    held_during: list[tuple[str, bool]] = []
    commit, rollback = SQLiteDialect_pysqlite.do_commit, SQLiteDialect_pysqlite.do_rollback

    def observed(name: str, real: Any) -> Any:
        def run(self: Any, dbapi_connection: Any) -> None:
            turn = write_turn_of(engine)
            assert turn is not None
            held_during.append((name, turn._is_taken))
            real(self, dbapi_connection)

        return run

    monkeypatch.setattr(SQLiteDialect_pysqlite, "do_commit", observed("commit", commit))
    monkeypatch.setattr(SQLiteDialect_pysqlite, "do_rollback", observed("rollback", rollback))
    engine = create_db_engine(f"sqlite:///{tmp_path / 'seamline.db'}")
    try:
        with unit_of_work(engine) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        with pytest.raises(RuntimeError):
            _insert_then_fail(engine)
        assert ("commit", True) in held_during
        assert ("rollback", True) in held_during
        turn = write_turn_of(engine)
        assert turn is not None
        assert not turn._is_taken  # and given back afterwards
    finally:
        engine.dispose()


def _insert_then_fail(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("rolled back")


def _join_checkpoints() -> None:
    for thread in [t for t in threading.enumerate() if t.name == "seamline-checkpoint"]:
        thread.join()


@pytest.fixture
def checkpointed(tmp_path: Path) -> Iterator[tuple[Path, Engine, Checkpointer]]:
    """A SQLite file's engine and the checkpointer its write turn runs."""
    database = tmp_path / "seamline.db"
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        turn = write_turn_of(engine)
        assert turn is not None
        assert turn.checkpointer is not None
        yield database, engine, turn.checkpointer
    finally:
        engine.dispose()


def test_a_write_is_checkpointed_into_the_database_file_after_the_turn(
    checkpointed: tuple[Path, Engine, Checkpointer],
) -> None:
    database, engine, checkpointer = checkpointed
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE t (x BLOB)"))
    _join_checkpoints()
    marker = b"only-in-the-wal-until-checkpointed"
    checkpointer._last = 0.0  # as if the last checkpoint were long ago
    with unit_of_work(engine) as session:
        session.execute(text("INSERT INTO t VALUES (:x)"), {"x": marker})
    _join_checkpoints()
    assert checkpointer.checkpoints >= 1
    assert marker in database.read_bytes()


def test_writes_soon_after_a_checkpoint_wait_in_the_wal(checkpointed: tuple[Path, Engine, Checkpointer]) -> None:
    database, engine, checkpointer = checkpointed
    checkpointer._last = float("inf")  # a checkpoint has just begun, as far as this engine knows
    marker = b"waits-for-the-next-checkpoint"
    with unit_of_work(engine) as session:
        session.execute(text("CREATE TABLE t (x BLOB)"))
        session.execute(text("INSERT INTO t VALUES (:x)"), {"x": marker})
    assert checkpointer.checkpoints == 0
    assert marker not in database.read_bytes()
    assert marker in Path(f"{database}-wal").read_bytes()
