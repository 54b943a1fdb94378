"""kill -9 of a real `seamline dispatcher` process in the middle of a run, for the crash tests of each channel."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from seamline.config import Settings

# A short lease, small claims, one send thread: the kill lands with a claimed batch half sent, and its lease lapses
# soon after.
CRASHABLE = {
    "SEAMLINE_OUTBOX__LEASE_SECONDS": "1",
    "SEAMLINE_OUTBOX__BATCH_SIZE": "10",
    "SEAMLINE_OUTBOX__SEND_THREADS": "1",
}


def kill_dispatcher_midway(settings: Settings, arrived: Callable[[], int], extra_env: Mapping[str, str]) -> None:
    """Start a dispatcher on `settings`' database, SIGKILL it once `arrived()` reaches 5, and wait out its lease."""
    seamline = shutil.which("seamline") or str(Path(sys.executable).parent / "seamline")
    env = {
        **os.environ,
        "SEAMLINE_DATABASE_URL": settings.database_url,
        "SEAMLINE_DATA_DIR": str(settings.data_dir),
        **CRASHABLE,
        **extra_env,
    }
    dispatcher = subprocess.Popen(
        [seamline, "dispatcher"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while arrived() < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        dispatcher.send_signal(signal.SIGKILL)  # no shutdown, no settling: a crash
        dispatcher.wait(10)
    finally:
        if dispatcher.poll() is None:
            dispatcher.kill()
            dispatcher.wait(10)
    time.sleep(1.2)  # the dead dispatcher's lease lapses
