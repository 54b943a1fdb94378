"""Per-source token buckets (per API process): how many requests a source may send each second."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateDecision:
    is_allowed: bool
    retry_after_seconds: float = 0.0
    remaining: int = 0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by source id; `rate` 0 means unlimited."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def check(self, source_id: int, rate: float, burst: int) -> RateDecision:
        if rate <= 0:
            return RateDecision(True)
        capacity = float(burst) if burst > 0 else max(1.0, 2 * rate)
        now = self._clock()
        bucket = self._buckets.get(source_id)
        if bucket is None:
            bucket = self._buckets[source_id] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return RateDecision(True, remaining=math.floor(bucket.tokens))
        return RateDecision(False, retry_after_seconds=(1.0 - bucket.tokens) / rate)
