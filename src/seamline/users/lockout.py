"""Lock-out after repeated failed logins. Pure: attempts in, a verdict out.

A name is locked when `attempts` failures fall within `window` of its latest failure, until `duration` after that
failure. Attempts made while locked are refused before the password is checked and are not counted, so a lock
ends when it says it will. A success or an operator's unlock starts the count afresh. The rule applies to every
name typed, known or not, so locking tells nobody whether an account exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

FAILURE = "failure"
SUCCESS = "success"
UNLOCK = "unlock"
OUTCOMES = (FAILURE, SUCCESS, UNLOCK)


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    outcome: str


def locked_until(
    attempts: Sequence[Attempt], now: datetime, *, limit: int, window: timedelta, duration: timedelta
) -> datetime | None:
    """When the lock on a name ends, or None when it is not locked. `attempts` may come in any order."""
    ordered = sorted(attempts, key=lambda a: a.at)
    reset = max((a.at for a in ordered if a.outcome != FAILURE), default=None)
    failures = [a.at for a in ordered if a.outcome == FAILURE and (reset is None or a.at > reset)]
    if len(failures) < limit:
        return None
    latest = failures[-1]
    recent = [at for at in failures if at > latest - window]
    until = latest + duration
    return until if len(recent) >= limit and now < until else None


def lookback(window: timedelta, duration: timedelta) -> timedelta:
    """How far back attempts can still matter to the verdict."""
    return window + duration
