"""The lock-out rule, pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from seamline.users.lockout import FAILURE, SUCCESS, UNLOCK, Attempt, locked_until

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RULE = {"limit": 5, "window": timedelta(minutes=15), "duration": timedelta(minutes=15)}


def failures(*minutes: float) -> list[Attempt]:
    return [Attempt(T0 + timedelta(minutes=m), FAILURE) for m in minutes]


def test_five_failures_within_the_window_lock_for_the_duration_after_the_last() -> None:
    attempts = failures(0, 1, 2, 3, 4)
    assert locked_until(attempts[:4], T0 + timedelta(minutes=5), **RULE) is None
    assert locked_until(attempts, T0 + timedelta(minutes=5), **RULE) == T0 + timedelta(minutes=19)
    assert locked_until(attempts, T0 + timedelta(minutes=19), **RULE) is None


def test_failures_spread_wider_than_the_window_do_not_lock() -> None:
    assert locked_until(failures(0, 5, 10, 15, 20), T0 + timedelta(minutes=21), **RULE) is None


def test_a_success_or_an_unlock_starts_the_count_afresh() -> None:
    for outcome in (SUCCESS, UNLOCK):
        attempts = [*failures(0, 1, 2, 3), Attempt(T0 + timedelta(minutes=3.5), outcome), *failures(4)]
        assert locked_until(attempts, T0 + timedelta(minutes=5), **RULE) is None
    unlocked = [*failures(0, 1, 2, 3, 4), Attempt(T0 + timedelta(minutes=6), UNLOCK)]
    assert locked_until(unlocked, T0 + timedelta(minutes=7), **RULE) is None
