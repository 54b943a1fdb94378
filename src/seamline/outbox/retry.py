"""When to try again: a stated schedule with jitter. Pure."""

from __future__ import annotations

import random
from collections.abc import Sequence


def retry_delay(attempts: int, schedule: Sequence[float], jitter: float, rng: random.Random) -> float | None:
    """Seconds to wait after the `attempts`-th failed attempt, or None when the schedule is spent (dead letter).

    Jitter spreads retries of messages that failed together (one outage) so they do not all return at once.
    """
    if attempts < 1 or attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return max(0.0, base * (1 + rng.uniform(-jitter, jitter)))
