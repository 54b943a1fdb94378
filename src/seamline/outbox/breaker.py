"""A circuit breaker per target, so one dead endpoint does not slow the rest. Pure (times are passed in).

Closed: deliveries go. After `failures` failures in a row it opens: deliveries to that target are put back
without an attempt until `cooldown` has passed; then it is half-open and lets one trial through, which closes it
on success and opens it again on failure. Each dispatcher keeps its own breakers: a target is judged by what this
process sees, as libraries such as pybreaker do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _State:
    failures: int = 0
    open_until: float | None = None
    is_trial_out: bool = False


class Breakers:
    """The circuit of every target a dispatcher delivers to."""

    def __init__(self, failures: int, cooldown: float) -> None:
        self._failures = failures
        self._cooldown = cooldown
        self._states: dict[str, _State] = {}

    def allows(self, target: str, now: float) -> bool:
        """Whether a delivery to `target` may go now (a half-open circuit lets exactly one through)."""
        state = self._states.get(target)
        if state is None or state.open_until is None:
            return True
        if now < state.open_until or state.is_trial_out:
            return False
        state.is_trial_out = True
        return True

    def reopens_at(self, target: str) -> float | None:
        """When an open circuit lets a trial through, or None when it is closed."""
        state = self._states.get(target)
        return None if state is None else state.open_until

    def succeeded(self, target: str) -> None:
        self._states.pop(target, None)

    def failed(self, target: str, now: float) -> None:
        state = self._states.setdefault(target, _State())
        state.failures += 1
        state.is_trial_out = False
        if state.failures >= self._failures:
            state.open_until = now + self._cooldown

    def is_open(self, target: str, now: float) -> bool:
        state = self._states.get(target)
        return state is not None and state.open_until is not None and now < state.open_until
