"""The agent fixes a simple error on the call: the record is corrected through the existing corrections, and the
error is closed as fixed at first contact, linked to that correction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, NotFound
from seamline.core.principal import Principal
from seamline.corrections.service import correct_profile
from seamline.errors import repository
from seamline.errors.policy import Policy, classify
from seamline.errors.service import close_fixed, view
from seamline.errors.views import ErrorView
from seamline.pipeline.registry import Pipeline


def may_fix_at_contact(policy: Policy, error: ErrorView) -> bool:
    """Whether the policy lets the agent fix this error on the call (a simple harm, one customer, still open)."""
    if not error.is_open or error.profile_id is None or error.harm not in policy.harms:
        return False
    return classify(policy, error.harm, error.customers_affected, error.is_vulnerable).may_fix_at_contact


def fix_at_contact(
    session: Session,
    policy: Policy,
    error_id: int,
    traits: Mapping[str, Any],
    *,
    actor: Principal,
    pipeline: Pipeline,
    reason: str | None = None,
) -> ErrorView:
    """Correct the customer's record (names, email, phone, address) and close the error as fixed, linked to the
    correction; Conflict when the policy sends this error to its owner instead."""
    current = view(session, error_id)
    if not may_fix_at_contact(policy, current):
        owner = policy.severities[current.severity].owner if current.severity in policy.severities else "its owner"
        raise Conflict(
            f"error {error_id} ({current.harm.replace('_', ' ')}, {current.severity}, {current.status}) is not fixed "
            f"at contact: it is escalated to {owner}"
        )
    row = repository.error(session, error_id, lock=True)
    if row is None or row.profile_id is None:  # pragma: no cover - checked just above
        raise NotFound(f"no communication error {error_id}")
    correction = correct_profile(
        session,
        row.profile_id,
        traits,
        actor=actor,
        context=pipeline,
        reason=reason or f"communication error #{error_id}: {row.field} was wrong",
    )
    close_fixed(session, row, correction.event_id, actor, utcnow())
    return view(session, error_id)
