"""A value recomputed at most once per `ttl` seconds: for small, rarely changing lookups on hot paths."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlValue(Generic[T]):
    """Holds what `load` returned for up to `ttl` seconds; `ttl` 0 loads every time."""

    def __init__(self, load: Callable[[], T], ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._ttl = ttl
        self._clock = clock
        self._value: T | None = None
        self._expires = float("-inf")

    def get(self) -> T:
        now = self._clock()
        if self._value is None or now >= self._expires:
            self._value = self._load()
            self._expires = now + self._ttl
        return self._value
