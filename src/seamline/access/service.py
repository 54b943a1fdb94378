"""Rules for API keys: creation with a one-time key, revocation, and authentication with a scope."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from seamline.access import repository
from seamline.access.models import ApiKey
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound, Unauthorized
from seamline.core.names import name_error
from seamline.core.principal import Principal
from seamline.core.secrets import hash_key, key_hint, new_key
from seamline.core.views import view_of

log = logging.getLogger(__name__)

KEY_PREFIX = "sk_"
SCOPES = (
    "profiles:read",
    "profiles:write",
    "identity:admin",
    "audit:read",
    "cases:read",
    "cases:write",
    "cases:supervise",
    "matching:read",
    "matching:write",
    "destinations:admin",
    "journeys:read",
    "journeys:write",
    "tasks:read",
    "tasks:write",
    "errors:read",
    "errors:write",
    "reports:read",  # the communications assessment's reports: aggregates, no person
    "analytics:read",  # journey analytics: aggregates; the people behind a number also need profiles:read
    "inbox:read",
    "inbox:write",
    "decisions",
    "feedback:read",  # survey answers of a person (audited), and their rollups
    "feedback:write",  # send surveys, record answers
)
# last_used_at is for operators telling live keys from dead ones; stamping it at most once a minute per key keeps
# authentication a read for nearly every request.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    """What callers outside the domain see of an API key (never the key digest)."""

    id: int
    name: str
    key_hint: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def is_revoked(self) -> bool:
        """Whether the key has been revoked."""
        return self.revoked_at is not None

    @classmethod
    def of(cls, api_key: ApiKey) -> ApiKeyView:
        """The view of a stored key."""
        return view_of(cls, api_key, scopes=tuple(api_key.scopes or ()))


def _validate(name: str, scopes: Sequence[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    if (problem := name_error(name)) is not None:
        errors.append(problem)
    if not scopes:
        errors.append(FieldError("scopes", "required", f"give at least one scope: {', '.join(SCOPES)}"))
    for i, scope in enumerate(scopes):
        if scope not in SCOPES:
            errors.append(FieldError("scopes", "invalid", f"{scope!r} is not a scope; use: {', '.join(SCOPES)}", i))
    return errors


def create_api_key(session: Session, name: str, scopes: Sequence[str]) -> tuple[ApiKeyView, str]:
    """Create an API key; the returned key is shown this once and never stored."""
    errors = _validate(name, scopes)
    if errors:
        raise InvalidInput(errors, f"API key {name!r} was not created")
    if repository.get_by_name(session, name) is not None:
        raise Conflict(f"an API key named {name!r} already exists")
    key = new_key(KEY_PREFIX)
    api_key = repository.add(
        session,
        ApiKey(
            name=name,
            key_hash=hash_key(key),
            key_hint=key_hint(key, len(KEY_PREFIX)),
            scopes=sorted(set(scopes), key=SCOPES.index),
            created_at=utcnow(),
        ),
    )
    return ApiKeyView.of(api_key), key


def revoke_api_key(session: Session, name: str) -> ApiKeyView:
    """Stop accepting an API key at once; revoking twice changes nothing."""
    api_key = repository.get_by_name(session, name)
    if api_key is None:
        raise NotFound(f"no API key named {name!r}")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.flush()
    return ApiKeyView.of(api_key)


def list_api_keys(session: Session) -> list[ApiKeyView]:
    """Every API key, revoked ones included, by name."""
    return [ApiKeyView.of(k) for k in repository.list_all(session)]


def authenticate_api_key(session: Session, key: str, scope: str) -> Principal:
    """The principal an API key stands for; Unauthorized when unknown or revoked, Forbidden without `scope`."""
    if scope not in SCOPES:
        raise ValueError(f"{scope!r} is not a scope")  # a programming error, not a caller's
    return require_scope(identify_api_key(session, key), scope)


def identify_api_key(session: Session, key: str) -> Principal:
    """The principal an API key stands for, whatever its scopes; Unauthorized when unknown or revoked."""
    api_key = repository.get_by_key_hash(session, hash_key(key))
    if api_key is None:
        raise Unauthorized("unknown API key")
    if api_key.revoked_at is not None:
        raise Unauthorized("this API key has been revoked")
    _note_use(session, api_key)
    return Principal(name=api_key.name, kind="api_key", scopes=frozenset(api_key.scopes), surface="api")


def require_scope(principal: Principal, scope: str) -> Principal:
    """The principal itself when it holds `scope`; Forbidden otherwise."""
    if not principal.may(scope):
        raise Forbidden(f"this API key lacks the scope {scope!r}")
    return principal


class ApiKeyCache:
    """Keys authenticated in the last `ttl` seconds, so a high-rate API does not read the key table per request.

    A revoked or re-scoped key takes effect within `ttl` seconds on each API process. Unknown keys are never
    cached, so a flood of guesses cannot fill memory.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}

    def authenticate(
        self, open_session: Callable[[], AbstractContextManager[Session]], key: str, scope: str
    ) -> Principal:
        """Like authenticate_api_key, answering from memory when the key was checked recently."""
        if scope not in SCOPES:
            raise ValueError(f"{scope!r} is not a scope")
        digest = hash_key(key)
        now = self._clock()
        hit = self._entries.get(digest)
        if hit is not None and hit[1] > now:
            return require_scope(hit[0], scope)
        with open_session() as session:
            principal = identify_api_key(session, key)
        if self._ttl > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[digest] = (principal, now + self._ttl)
        return require_scope(principal, scope)


def _note_use(session: Session, api_key: ApiKey) -> None:
    now = utcnow()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    try:
        with session.begin_nested():
            repository.stamp_last_used(session, api_key, now)
    except OperationalError:
        # On SQLite a read transaction cannot become a write one once another writer has committed since it
        # began (SQLITE_BUSY_SNAPSHOT). The stamp is advisory; the request must not fail for it.
        log.debug("skipped stamping last use of API key %r", api_key.name, exc_info=True)
