"""The circuit breakers shared by every dispatcher process: a dispatcher seeds its breakers (outbox/breaker.py)
from `outbox_circuits` when it claims a round, and writes back what the round saw when it settles it, so a target
that one dispatcher found dead is spared by all of them, and a half-open circuit lets one trial through in all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from seamline.outbox import repository
from seamline.outbox.breaker import Breakers, Seen
from seamline.outbox.config import OutboxConfig


def load_circuits(
    session: Session, breakers: Breakers, targets: Sequence[str], config: OutboxConfig, now: datetime
) -> set[str]:
    """Seed the breakers with the shared state of these targets; returns the targets that have a circuit row.
    A half-open circuit's trial goes to the first dispatcher that asks; the others wait for its lease (the
    cooldown) to end, when the trial's result, success or failure, is in the table."""
    known: set[str] = set()
    lease = now + timedelta(seconds=config.breaker_cooldown_seconds)
    for row in repository.circuits(session, targets):
        known.add(row.target)
        open_until = row.open_until
        may_try = True
        if open_until is not None and open_until <= now:  # half-open: one trial, across every dispatcher
            may_try = repository.take_trial(session, row.target, now, lease)
            if not may_try:
                open_until = row.trial_until if row.trial_until is not None and row.trial_until > now else lease
        breakers.seed(
            row.target, int(row.failures), open_until.timestamp() if open_until is not None else None, may_try=may_try
        )
    for target in set(targets) - known:
        breakers.seed(target, 0, None, may_try=True)
    return known


def save_circuits(
    session: Session, seen: Mapping[str, Seen], known: set[str], config: OutboxConfig, now: datetime
) -> None:
    """Write what a round saw of each target into the shared circuits (in the settling transaction)."""
    opens = now + timedelta(seconds=config.breaker_cooldown_seconds)
    threshold = config.breaker_failures
    for target, round_ in sorted(seen.items()):
        if round_.has_succeeded:
            if round_.tail_failures or target in known:
                until = opens if round_.tail_failures >= threshold else None
                repository.reset_circuit(session, target, round_.tail_failures, until, now)
        elif round_.tail_failures:
            repository.add_failures(session, target, round_.tail_failures, threshold, opens, now)
