"""The write turn that processes sharing one SQLite file take before they write (`serve`'s API and its worker child).

SQLite lets one writer in at a time, and a writer that finds the lock taken polls it with sleeps of up to 100 ms, so
a process that commits and begins again at once wins every race against one that waits: measured, the API's
inbox writer and a worker process starved each other for seconds. Within a process the engine's write turn queues
threads fairly (core.db); across processes, this does the same with two `flock` locks on empty files beside the
database:

- the turn (`<database>-writeturn`), held exclusively from before BEGIN IMMEDIATE until after COMMIT;
- the queue (`<database>-writequeue`), held shared by every engine that waits for the turn.

An engine that wants the turn first waits until nobody is queued (an exclusive lock on the queue), then queues
itself and waits for the turn. So a process that just gave the turn back and wants it again lets whoever was
already waiting go first: the processes alternate instead of one starving the other. `flock` locks belong to the
open file, so two engines of one process queue like two processes, and the kernel drops a dead process's locks.
A process that is not Seamline (the sqlite3 shell) still meets the busy handler as before.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

_FIRST_POLL_SECONDS = 0.0001
_LONGEST_POLL_SECONDS = 0.002  # the most the next process waits after the turn is given back


class SharedTurn:
    """A first-come, first-served write turn across the processes that open one database file.

    One thread of a process at a time may use it: the engine's in-process turn decides which.
    """

    def __init__(self, database: Path) -> None:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        self._turn = os.open(f"{database}-writeturn", flags, 0o600)
        self._queue = os.open(f"{database}-writequeue", flags, 0o600)

    def take(self, timeout: float) -> bool:
        """Wait for the turn, behind every process already waiting; False when `timeout` passed first."""
        deadline = time.monotonic() + timeout
        try:
            fcntl.flock(self._queue, fcntl.LOCK_EX)  # nobody is queued any more: they all had their turn
            fcntl.flock(self._queue, fcntl.LOCK_SH)  # queued: the holder lets this engine go next
        except OSError:
            return False  # an interrupted wait: SQLite's busy handler decides, as without this turn
        try:
            pause = _FIRST_POLL_SECONDS
            while True:
                try:
                    fcntl.flock(self._turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except OSError:
                    # A blocking wait would have no timeout; while this process is queued the holder cannot take
                    # the turn again, so short polls lose no race.
                    if time.monotonic() >= deadline:
                        return False
                    time.sleep(pause)
                    pause = min(pause * 2, _LONGEST_POLL_SECONDS)
        finally:
            fcntl.flock(self._queue, fcntl.LOCK_UN)

    def give_back(self) -> None:
        fcntl.flock(self._turn, fcntl.LOCK_UN)

    def close(self) -> None:
        """Close the lock files (which gives back the turn, if held)."""
        os.close(self._turn)
        os.close(self._queue)
