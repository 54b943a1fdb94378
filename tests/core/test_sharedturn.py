"""Writers of one SQLite file take turns across engines and processes, and one that wants the turn again lets the
one already waiting go first.

Two `SharedTurn`s on one file hold two open files, which `flock` treats like two processes; serve and its worker
child meet the same way (tests/worker/test_supervisor.py drives the two real processes).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.sharedturn import SharedTurn


def _is_held(path: Path) -> bool:
    """Whether some open file holds a lock on `path` (tried from yet another open file)."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_turn_taken_elsewhere_is_waited_for_up_to_the_timeout(tmp_path: Path) -> None:
    database = tmp_path / "seamline.db"
    api, worker = SharedTurn(database), SharedTurn(database)
    try:
        assert api.take(1.0)
        started = time.monotonic()
        assert not worker.take(0.2)
        assert time.monotonic() - started >= 0.2
        api.give_back()
        assert worker.take(0.2)
        worker.give_back()
    finally:
        api.close()
        worker.close()


def test_who_gives_the_turn_back_and_wants_it_again_goes_after_the_one_waiting(tmp_path: Path) -> None:
    database = tmp_path / "seamline.db"
    api, worker = SharedTurn(database), SharedTurn(database)
    order: list[str] = []

    def wait_then_write() -> None:
        assert api.take(10.0)
        order.append("api")
        time.sleep(0.1)
        api.give_back()

    try:
        assert worker.take(1.0)
        waiter = threading.Thread(target=wait_then_write)
        waiter.start()
        deadline = time.monotonic() + 5
        while not _is_held(Path(f"{database}-writequeue")) and time.monotonic() < deadline:
            time.sleep(0.005)  # until the API has queued
        worker.give_back()
        assert worker.take(10.0)  # at once again: without the queue it would win this race every time
        order.append("worker")
        worker.give_back()
        waiter.join(10)
    finally:
        api.close()
        worker.close()
    assert order == ["api", "worker"]


def test_a_write_transaction_holds_the_turn_until_it_ends(tmp_path: Path) -> None:
    database = tmp_path / "seamline.db"
    engine = create_db_engine(f"sqlite:///{database}")
    turn = Path(f"{database}-writeturn")
    try:
        with unit_of_work(engine) as session:
            session.connection()  # BEGIN IMMEDIATE
            assert _is_held(turn)
        assert not _is_held(turn)
        with unit_of_work(engine, write=False) as session:
            session.connection()
            assert not _is_held(turn)  # readers never wait for writers in WAL mode
    finally:
        engine.dispose()
