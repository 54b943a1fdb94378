"""A circuit breaker per target, so one dead endpoint does not slow the rest. Pure (times are passed in).

Closed: deliveries go. After `failures` failures in a row it opens: deliveries to that target are put back
without an attempt until `cooldown` has passed; then it is half-open and lets one trial through, which closes it
on success and opens it again on failure.

The circuits are shared by every dispatcher process through the database (`outbox_circuits`, outbox/circuits.py):
at the start of a round a dispatcher seeds these breakers with what the table says of its batch's targets (and
whether it won the one trial of a half-open circuit); during the round they judge each delivery as it happens, so
a target that fails in the middle of a round is spared at once; at the end the round's results go back to the
table in the settling transaction.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _State:
    failures: int = 0
    open_until: float | None = None
    is_trial_out: bool = False


@dataclass(frozen=True, slots=True)
class Seen:
    """What one round saw of a target: failures in a row at its end, and whether anything succeeded."""

    tail_failures: int
    has_succeeded: bool


class Breakers:
    """The circuit of every target a dispatcher delivers to."""

    def __init__(self, failures: int, cooldown: float) -> None:
        self._failures = failures
        self._cooldown = cooldown
        self._states: dict[str, _State] = {}
        self._round: dict[str, Seen] = {}

    def seed(self, target: str, failures: int, open_until: float | None, *, may_try: bool) -> None:
        """Take a target's shared state: failures in a row, open until when (None: closed), and whether this
        dispatcher may send the one trial of a half-open circuit."""
        if failures == 0 and open_until is None:
            self._states.pop(target, None)
        else:
            self._states[target] = _State(failures, open_until, not may_try)

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
        self._round[target] = Seen(0, True)

    def failed(self, target: str, now: float) -> None:
        state = self._states.setdefault(target, _State())
        state.failures += 1
        state.is_trial_out = False
        if state.failures >= self._failures:
            state.open_until = now + self._cooldown
        seen = self._round.get(target, Seen(0, False))
        self._round[target] = Seen(seen.tail_failures + 1, seen.has_succeeded)

    def is_open(self, target: str, now: float) -> bool:
        state = self._states.get(target)
        return state is not None and state.open_until is not None and now < state.open_until

    def take_round(self) -> dict[str, Seen]:
        """What this round saw of each target it delivered to (and forget it: the next round starts afresh)."""
        seen, self._round = self._round, {}
        return seen
