"""Latency histograms: how the bottlenecks' p50/p95 come from per-day counts instead of every message. Pure.

Percentiles do not add up day by day, but histograms do. The copy keeps, per UTC day x path x product x type,
how many latencies fell in each of a fixed set of log-spaced buckets, with the smallest and largest latency seen
in each (rollup.py, `latency_days`); a period's histogram is the sum of its days'. A quantile is then read as
DuckDB's `quantile_cont` reads sorted values — the two values around rank (n - 1) x q, interpolated — except that
each of the two is estimated inside its bucket: the bucket's smallest latency plus its share of the way to the
largest, by its rank among the bucket's values.

So a quantile from the histograms is **exact to the bucket width**: the estimate and the true value lie between
the same bucket's smallest and largest latency, and a bucket's upper bound is `RATIO` (1.05) times its lower, so
the error is under 5% of the value (under 1 ms for latencies below `FLOOR_SECONDS`, which share the first
bucket, negative ones — clock skew between systems — included). Where a bucket holds one or two values the
estimate is exact. 1.05 keeps a day x path to at most ~560 buckets from 1 ms to 30 years, and in practice a few
hundred: a 90-day period of a few hundred paths sums tens of thousands of rows, not millions of messages.
"""

from __future__ import annotations

import math

RATIO = 1.05  # each bucket's upper bound over its lower
FLOOR_SECONDS = 0.001  # latencies below this (and negative ones) share bucket 0
QUANTILES = (0.5, 0.95)


def bucket_sql(seconds: str) -> str:
    """The bucket of a latency expression, in DuckDB SQL (the same as `bucket_of`)."""
    return (
        f"CASE WHEN {seconds} < {FLOOR_SECONDS} THEN 0 "
        f"ELSE CAST(floor(ln({seconds} / {FLOOR_SECONDS}) / ln({RATIO})) AS INTEGER) + 1 END"
    )


def bucket_of(seconds: float) -> int:
    """Bucket k >= 1 holds latencies in [FLOOR x RATIO^(k-1), FLOOR x RATIO^k); bucket 0 everything below."""
    if seconds < FLOOR_SECONDS:
        return 0
    return math.floor(math.log(seconds / FLOOR_SECONDS) / math.log(RATIO)) + 1


def bounds(bucket: int) -> tuple[float, float]:
    """The latencies a bucket holds, [low, high) in seconds (bucket 0: below FLOOR_SECONDS)."""
    if bucket <= 0:
        return (-math.inf, FLOOR_SECONDS)
    return (FLOOR_SECONDS * RATIO ** (bucket - 1), FLOOR_SECONDS * RATIO**bucket)


def quantile(buckets: list[tuple[int, int, float, float]], q: float) -> float | None:
    """The q-quantile of a histogram given as (bucket, count, smallest, largest) rows, as the SQL reads it (for
    the tests and for anyone checking the SQL; queries.latencies computes the same in DuckDB)."""
    rows = sorted(buckets)
    total = sum(n for _, n, _, _ in rows)
    if not total:
        return None
    position = (total - 1) * q

    def at(rank: int) -> float:
        below = 0
        for _, n, low, high in rows:
            if rank < below + n:
                return low + (high - low) * (rank - below) / max(n - 1, 1)
            below += n
        raise AssertionError("a rank beyond the histogram")  # pragma: no cover - rank < total

    low = at(math.floor(position))
    return low + (at(math.ceil(position)) - low) * (position - math.floor(position))
