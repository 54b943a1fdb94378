"""The worker as a child process of `seamline serve`: `python -m seamline.worker.child`, started by the supervisor.

The parent writes the settings as one JSON line on the child's stdin and keeps stdin open for as long as it lives:
end of file there means the parent has gone (even killed with SIGKILL, since the kernel closes its end), and the
child stops after its current batch. The child writes a heartbeat line on stdout every second; anything else the
process would print goes to stderr, so it can never corrupt a heartbeat.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import IO

import orjson

from seamline.config import Settings
from seamline.core.db import create_db_engine
from seamline.worker.runner import Worker

HEARTBEAT_SECONDS = 1.0
log = logging.getLogger("seamline.worker")


def _watch_parent(stdin: int, runner: Worker) -> None:
    # The raw descriptor, not sys.stdin: a thread blocked in a buffered read holds the buffer's lock, which the
    # interpreter's shutdown then cannot take.
    while os.read(stdin, 4096):  # the parent writes nothing more: this returns only at end of file
        pass
    log.warning("the serve process has gone; the worker stops after its current batch")
    runner.stop_soon()


def _beat(heartbeats: IO[bytes], runner: Worker, stopped: threading.Event) -> None:
    is_last = False
    while not is_last:
        is_last = stopped.is_set()  # one more beat after the loop ends, with the final count
        try:
            heartbeats.write(orjson.dumps({"pid": os.getpid(), "processed": runner.processed}) + b"\n")
            heartbeats.flush()
        except (BrokenPipeError, ValueError):  # the parent stopped reading: the stdin watch ends the worker
            return
        stopped.wait(HEARTBEAT_SECONDS)


def main() -> int:
    """Run a worker until SIGTERM or SIGINT, or until the parent's pipe closes; 0 when it stopped as asked."""
    heartbeats = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints go where logs go, not into the heartbeats
    settings = Settings.model_validate_json(sys.stdin.buffer.readline())
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s seamline-worker[%(process)d] %(message)s",
    )
    engine = create_db_engine(
        settings.database_url, sqlite_synchronous=settings.sqlite_synchronous, pool_size=settings.db_pool_size
    )
    runner = Worker(engine, settings)
    signal.signal(signal.SIGTERM, lambda *_: runner.stop_soon())
    signal.signal(signal.SIGINT, lambda *_: runner.stop_soon())
    stopped = threading.Event()
    threading.Thread(target=_watch_parent, args=(sys.stdin.fileno(), runner), name="parent-watch", daemon=True).start()
    beat = threading.Thread(target=_beat, args=(heartbeats, runner, stopped), name="heartbeat", daemon=True)
    beat.start()
    try:
        runner.run_forever()
    finally:
        stopped.set()
        beat.join(2 * HEARTBEAT_SECONDS)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
