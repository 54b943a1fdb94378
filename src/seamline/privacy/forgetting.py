"""Every process forgets an erased person: a thread that follows the erasures in the profile change feed and
empties the process's caches of personal values (core.forgetting), wherever the erasure was made.

The real-time match index follows the feed itself before each answer; this thread reaches the caches of a process
that is not asked anything (an API process between requests, a worker), within `interval` seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from seamline.core.db import unit_of_work
from seamline.core.forgetting import forget_personal_data
from seamline.identity.service import changes_mark, erasures_since

log = logging.getLogger(__name__)


class ErasureFollower:
    """Polls the change feed for erasures every `interval` seconds; on one, empties this process's caches and
    calls `on_erased` with the erased profile ids."""

    def __init__(
        self, engine: Engine, interval: float = 1.0, on_erased: Callable[[set[int]], None] | None = None
    ) -> None:
        self._engine = engine
        self._interval = interval
        self._on_erased = on_erased
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mark: int | None = None

    def start(self) -> None:
        try:
            self._begin()
        except Exception:  # a schema not yet upgraded: the first poll tries again
            log.warning("could not read the change feed's mark", exc_info=True)
        self._thread = threading.Thread(target=self._run, name="erasure-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def poll(self) -> set[int]:
        """Read the erasures since the last poll and forget; the profiles erased."""
        if self._mark is None:
            self._begin()
            return set()
        with unit_of_work(self._engine, write=False) as session:
            self._mark, erased = erasures_since(session, self._mark)
        if erased:
            forget_personal_data()
            if self._on_erased is not None:
                self._on_erased(erased)
        return erased

    def _begin(self) -> None:
        with unit_of_work(self._engine, write=False) as session:
            self._mark = changes_mark(session)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll()
            except Exception:  # a database hiccup: the next poll reads from the same mark
                log.warning("could not read erasures from the change feed", exc_info=True)
