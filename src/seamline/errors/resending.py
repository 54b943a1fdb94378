"""Correct and re-send: for a communication that showed a wrong value, the agent corrects the source value through
the existing corrections and sends the communication again, through the outbox, with the corrected value. The
new communication is linked to the error (and the error closed as resolved), so its page shows both."""

from __future__ import annotations

from sqlalchemy.orm import Session

from seamline.communications.service import described, queue_message
from seamline.communications.templates import Catalog
from seamline.consent.config import ConsentConfig
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.corrections.service import correct_profile
from seamline.errors import repository
from seamline.errors.policy import Policy
from seamline.errors.service import close_resent, view
from seamline.errors.views import ErrorView
from seamline.pipeline.registry import Pipeline

MAX_VALUE = 1000


def may_resend(policy: Policy, error: ErrorView) -> bool:
    """Whether the policy lets the agent correct and re-send this error's communication (its harm allows it, it is
    open, about one customer, and not re-sent already)."""
    rule = policy.harms.get(error.harm)
    return (
        rule is not None
        and rule.correct_and_resend
        and error.is_open
        and error.profile_id is not None
        and error.resent_communication_id is None
        and bool(error.communication_ids)
    )


def correct_and_resend(
    session: Session,
    policy: Policy,
    error_id: int,
    value: str,
    *,
    actor: Principal,
    pipeline: Pipeline,
    catalog: Catalog,
    consent: ConsentConfig,
    trait: str | None = None,
) -> ErrorView:
    """Correct the wrong field's source value on the customer's record (as `trait`, by default the field) and send
    the error's first communication again from its template with the corrected value, in the caller's transaction:
    the correction, the new communication and the error's closing commit together or not at all. Conflict when
    the policy or the communication does not allow it; consent is asked again when the message leaves."""
    value = value.strip()
    if not value or len(value) > MAX_VALUE:
        raise InvalidInput([FieldError("value", "required", f"give the corrected value (1-{MAX_VALUE} characters)")])
    current = view(session, error_id)
    if not may_resend(policy, current):
        raise Conflict(
            f"error {error_id} ({current.harm.replace('_', ' ')}, {current.status}) is not corrected and re-sent by "
            "an agent: the policy does not allow it for this harm, it is closed, or it was re-sent already"
        )
    first = current.communication_ids[0]
    original = described(session, [first]).get(first)
    if original is None or original.template is None:
        raise Conflict(f"communication {first} names no template, so it cannot be sent again from here")
    try:
        template = catalog.get(original.template)
    except NotFound:
        raise Conflict(f"template {original.template!r} of communication {first} is not in the catalogue") from None
    if template.is_declaration_only:
        raise Conflict(f"{template.platform} sends {template.name!r}, not Seamline: re-send it there")
    if current.field not in template.fields:
        raise InvalidInput(
            [FieldError("field", "not_in_template", f"template {template.name!r} has no field {current.field!r}")]
        )
    lacking = [f for f in template.fields if f != current.field and f not in original.fields]
    if lacking:
        raise Conflict(f"the log does not hold {', '.join(lacking)} of communication {first}, so it cannot be rebuilt")
    row = repository.error(session, error_id, lock=True)
    if row is None or row.profile_id is None:  # pragma: no cover - checked above
        raise NotFound(f"no communication error {error_id}")
    correction = correct_profile(
        session,
        row.profile_id,
        {trait or current.field: value},
        actor=actor,
        context=pipeline,
        reason=f"communication error #{error_id}: {current.field} was wrong; corrected and re-sent",
    )
    sent, _created = queue_message(
        session,
        correction.profile_id,
        template.name,
        {**original.fields, current.field: value},
        catalog=catalog,
        consent=consent,
        source_system=original.source_system,
        batch=f"comm-error-{error_id}-resend",
        campaign=original.campaign,
        product=original.product,
        idempotency_key=f"comm_error:{error_id}:resend",
        channel=original.channel if original.channel in template.channels else None,
    )
    close_resent(session, row, correction.event_id, sent.communication_id, actor, utcnow())
    return view(session, error_id)
