"""Copying SQLite's WAL into the database file from a thread of its own, outside the write turn.

SQLite checkpoints by itself inside the COMMIT of whichever transaction takes the WAL past `wal_autocheckpoint`
pages: at ~46 MB of WAL a second at the ingest goal's 15,000 events/s (measured: 1.3 KB per event appended, 1.8
KB more when the worker processes it), that is a commit every second or so that copies tens of megabytes and syncs
the database file (~100-140 ms here for 37 MB), while the committing process still holds the write turn
(core.db), so every writer of the other process waits for it. Here a process's engine instead checkpoints at most
every CHECKPOINT_SECONDS, after a write transaction gave the turn back, on a connection of its own: a PASSIVE
checkpoint waits for no one and holds up no writer (it takes only the checkpoint lock; readers and the next writer
go on), so what it costs is disk and CPU, not other writers' latency. SQLite's own automatic checkpoint stays as
a safety net far above it (AUTOCHECKPOINT_PAGES), for a process whose writes never take the turn.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 0.5  # the longest a process's committed writes wait in the WAL before a checkpoint starts
AUTOCHECKPOINT_PAGES = 50_000  # SQLite's own checkpoint, in a COMMIT, only past ~200 MB of WAL (a safety net)


class Checkpointer:
    """Checkpoints one database file's WAL on a short-lived thread, at most every CHECKPOINT_SECONDS."""

    def __init__(self, database: Path) -> None:
        # Read-write, never create: a checkpoint that comes after the file was removed (a test's folder) fails.
        self._uri = f"file:{quote(str(database))}?mode=rw"
        self._lock = threading.Lock()
        self._is_running = False
        self._last = time.monotonic()
        self.checkpoints = 0

    def wrote(self) -> None:
        """A write transaction ended: start a checkpoint if the last one began long enough ago."""
        now = time.monotonic()
        with self._lock:
            if self._is_running or now - self._last < CHECKPOINT_SECONDS:
                return
            self._is_running, self._last = True, now
        threading.Thread(target=self.run, name="seamline-checkpoint", daemon=True).start()

    def run(self) -> None:
        """One PASSIVE checkpoint on a connection of its own (its caller's thread)."""
        try:
            connection = sqlite3.connect(self._uri, uri=True, isolation_level=None, check_same_thread=False)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
            self.checkpoints += 1
        except sqlite3.Error as exc:  # the next write starts another; SQLite's own checkpoint is the safety net
            log.debug("WAL checkpoint failed: %s", exc)
        finally:
            with self._lock:
                self._is_running = False
