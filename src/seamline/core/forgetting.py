"""In-process caches that may hold personal values (normalized emails and phones, name forms) register here, so an
erasure can empty them all in every process: "an erased person is gone everywhere", caches included.

Emptying a whole cache rather than the person's entries: the caches are keyed by raw values (an email as someone
typed it), which erasure no longer knows once the person's rows are gone, and they refill in moments.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Protocol


class Forgetful(Protocol):
    def forget(self) -> None: ...


_lock = threading.Lock()
_clearers: list[Callable[[], None]] = []
_holders: weakref.WeakSet[Forgetful] = weakref.WeakSet()  # objects with a cache of their own, for as long as they live


def register(clear: Callable[[], None]) -> None:
    """Have `clear` called whenever personal data must be forgotten (for module-level caches)."""
    with _lock:
        _clearers.append(clear)


def register_holder(holder: Forgetful) -> None:
    """Have `holder.forget()` called whenever personal data must be forgotten, while the holder lives."""
    with _lock:
        _holders.add(holder)


def forget_personal_data() -> None:
    """Empty every registered cache of this process."""
    with _lock:
        clearers, holders = list(_clearers), list(_holders)
    for clear in clearers:
        clear()
    for holder in holders:
        holder.forget()
