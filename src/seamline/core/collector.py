"""The cyclic garbage collector's settings, each with its reason, in one place: held off while a batch runs, and
the start-up's long-lived objects moved out of its sight."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while a batch runs, and let it run between batches.

    A batch keeps tens of thousands of objects alive for its whole length, so collections during it promote them
    and end in full collections walking the whole heap (measured: a quarter of the worker's CPU). Between batches
    the young generation holds little, so the collection that follows is cheap. Process-wide, counted across
    threads: the collector comes back when the last batch in flight ends.
    """
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def freeze_start_up() -> None:
    """Move everything alive now out of the collector's sight: each full collection then stops walking the ~120k
    objects a start makes, which live as long as the process (measured: a quarter of the ingest CPU and most of its
    p99 tail). Whatever garbage is frozen with them waits for `thaw`: no collection first, which would cost each
    start 70-100 ms of walking the heap (a test worker starts an app a thousand times)."""
    gc.freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector when the app that froze them stops: a process that starts an
    app after another (the tests do) otherwise keeps every earlier app's garbage for good (a test worker grew to
    6 GB and was killed)."""
    gc.unfreeze()
