"""An app that stops gives back what it took: its threads (DuckDB's among them) and the objects it froze at start.
A process may start an app after another (the tests do, a host may restart one)."""

from __future__ import annotations

import gc
import os
import time
import weakref

from fastapi.testclient import TestClient

from seamline.app import create_app
from seamline.config import Settings


def _native_threads() -> int:
    return len(os.listdir(f"/proc/{os.getpid()}/task"))


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_stopped_app_leaves_no_threads_and_frees_what_it_froze(settings: Settings) -> None:
    gc.disable()  # no automatic collection frees the cycle before the start freezes it
    try:
        garbage = _Cycle()
        gone = weakref.ref(garbage)
        del garbage  # unreachable, but a cycle: only the collector frees it
        before = _native_threads()
        with TestClient(create_app(settings)) as client:
            assert client.get("/v1/assessment/inventory").status_code == 401  # the reports' copies exist from the start
            assert gc.get_freeze_count() > 0
            assert _native_threads() > before
            gc.collect()
            assert gone() is not None  # frozen with the start's objects, out of the collector's sight
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert gone() is None  # given back at the stop
    finally:
        gc.enable()
    deadline = time.monotonic() + 5  # a stopped thread leaves the process a moment after it is joined
    while _native_threads() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _native_threads() <= before
