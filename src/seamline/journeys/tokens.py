"""Resume tokens: what a customer who is not signed in keeps (in the page or app, or from a link or code sent to
them) to continue one journey. Unguessable (192 random bits), signed (an HMAC under the server's secret, so a
forged token is refused before any lookup), expiring, revocable (only its digest is stored), and single-person:
it opens one instance while that instance still belongs to the person it was issued for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from seamline.core.errors import FieldError, InvalidInput, Unauthorized
from seamline.core.secrets import hash_key, new_key
from seamline.identity.service import root_of
from seamline.journeys import progress, repository, service
from seamline.journeys.models import JourneyInstance, JourneyToken

PREFIX = "jrt_"
_PURPOSE = b"journey-resume:v1:"
MAX_HOURS = 24 * 30
NOT_VALID = "this resume token is not valid"


def _signature(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), _PURPOSE + body.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    instance_id: str
    expires_at: datetime


def issue(session: Session, public_id: str, *, hours: int, secret: str, issued_by: str, now: datetime) -> IssuedToken:
    """A new resume token for an open instance, valid for `hours`."""
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput([FieldError("hours", "invalid", f"hours must be between 1 and {MAX_HOURS}")])
    found = service.instance(session, public_id)
    if found.status not in progress.RESUMABLE:
        raise InvalidInput([FieldError("instance_id", "not_open", f"the journey is {found.status}")])
    body = new_key(PREFIX)
    token = f"{body}.{_signature(secret, body)}"
    expires_at = now + timedelta(hours=hours)
    repository.add(
        session,
        JourneyToken(
            digest=hash_key(token),
            instance_public_id=found.public_id,
            profile_id=root_of(session, found.profile_id),
            issued_by=issued_by,
            issued_at=now,
            expires_at=expires_at,
        ),
    )
    return IssuedToken(token, found.public_id, expires_at)


def redeem(session: Session, token: str, *, secret: str, now: datetime) -> JourneyInstance:
    """The instance a token opens; Unauthorized when forged, unknown, expired, revoked or no longer the person's."""
    body, _, signature = token.partition(".")
    if not body.startswith(PREFIX) or not hmac.compare_digest(_signature(secret, body), signature):
        raise Unauthorized(NOT_VALID)
    row = repository.token_by_digest(session, hash_key(token))
    if row is None or row.revoked_at is not None:
        raise Unauthorized(NOT_VALID)
    if row.expires_at <= now:
        raise Unauthorized("this resume token has expired")
    found = service.instance(session, row.instance_public_id)
    # An unmerge may have given the instance back to someone else: the token was issued to one person only.
    if root_of(session, found.profile_id) != root_of(session, row.profile_id):
        raise Unauthorized(NOT_VALID)
    return found


def revoke(session: Session, public_id: str, now: datetime) -> int:
    """Revoke every token of an instance; how many were live."""
    return repository.revoke_tokens(session, service.instance(session, public_id).public_id, now)
