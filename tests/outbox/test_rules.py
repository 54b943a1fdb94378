"""The outbox's pure rules: the retry schedule with jitter, and the circuit breaker per target."""

from __future__ import annotations

import random

from seamline.outbox.breaker import Breakers
from seamline.outbox.config import STANDARD_WEBHOOKS_SCHEDULE
from seamline.outbox.retry import retry_delay


def test_retries_follow_the_schedule_within_the_jitter_and_end_when_it_is_spent() -> None:
    rng = random.Random(7)
    for attempt, base in enumerate(STANDARD_WEBHOOKS_SCHEDULE, start=1):
        delay = retry_delay(attempt, STANDARD_WEBHOOKS_SCHEDULE, 0.2, rng)
        assert delay is not None
        assert base * 0.8 <= delay <= base * 1.2
    assert retry_delay(len(STANDARD_WEBHOOKS_SCHEDULE) + 1, STANDARD_WEBHOOKS_SCHEDULE, 0.2, rng) is None


def test_jitter_spreads_messages_that_failed_together() -> None:
    rng = random.Random(1)
    delays = {retry_delay(2, STANDARD_WEBHOOKS_SCHEDULE, 0.2, rng) for _ in range(20)}
    assert len(delays) == 20


def test_a_circuit_opens_after_failures_in_a_row_then_lets_one_trial_through() -> None:
    breakers = Breakers(failures=3, cooldown=30.0)
    for _ in range(2):
        breakers.failed("dead-endpoint", now=100.0)
    assert breakers.allows("dead-endpoint", 100.0)
    breakers.failed("dead-endpoint", now=100.0)
    assert not breakers.allows("dead-endpoint", 101.0)
    assert breakers.allows("healthy", 101.0)  # one dead endpoint does not hold up the rest
    assert breakers.reopens_at("dead-endpoint") == 130.0

    assert breakers.allows("dead-endpoint", 131.0)  # half-open: one trial
    assert not breakers.allows("dead-endpoint", 131.5)  # and only one
    breakers.failed("dead-endpoint", now=132.0)
    assert not breakers.allows("dead-endpoint", 133.0)  # the trial failed: open again
    assert breakers.allows("dead-endpoint", 163.0)
    breakers.succeeded("dead-endpoint")
    assert breakers.allows("dead-endpoint", 163.1)
    assert not breakers.is_open("dead-endpoint", 163.1)
