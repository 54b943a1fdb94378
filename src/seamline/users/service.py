"""Rules of the users domain: accounts with one role, login with lock-out, sessions with idle and absolute expiry.

Services only flush; the request or CLI command commits. Every change to an account is audited here, so the CLI
and the admin page leave the same trail.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.names import name_error
from seamline.core.principal import Principal
from seamline.core.secrets import hash_key
from seamline.core.views import view_of
from seamline.users import repository
from seamline.users.config import ConsoleConfig
from seamline.users.lockout import FAILURE, SUCCESS, UNLOCK, Attempt, locked_until, lookback
from seamline.users.models import ConsoleSession, ConsoleUser
from seamline.users.passwords import hash_password, needs_rehash, spend_verification_time, verify_password
from seamline.users.permissions import ADMIN, ROLES, permissions_of

MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; a bound keeps a megabyte "password" from costing more
MAX_DISPLAY_NAME = 200
TOKEN_BYTES = 32  # 256 bits: the cookie's token is looked up by its SHA-256 digest, like server keys
# A session's last use is stamped at most this often, so most page views stay reads; idle expiry is this coarse.
TOUCH_EVERY = timedelta(minutes=1)
LOGIN_REFUSED = "The user name or password is not right, or the account is locked or disabled."


@dataclass(frozen=True, slots=True)
class UserView:
    """A console account as callers outside the domain see it (never the password hash)."""

    id: int
    username: str
    display_name: str
    role: str
    created_at: datetime
    password_changed_at: datetime
    disabled_at: datetime | None

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    @property
    def principal(self) -> Principal:
        """Who this user is to the services and the audit log: an operator on the console, with the role's rights."""
        return Principal(
            name=f"console:{self.username}", kind="operator", scopes=permissions_of(self.role), surface="console"
        )

    @classmethod
    def of(cls, user: ConsoleUser) -> UserView:
        return view_of(cls, user)


def _password_errors(password: str, config: ConsoleConfig) -> list[FieldError]:
    if len(password) < config.min_password_length:
        return [FieldError("password", "too_short", f"use at least {config.min_password_length} characters")]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [FieldError("password", "too_long", f"use at most {MAX_PASSWORD_LENGTH} characters")]
    return []


def create_user(
    session: Session,
    username: str,
    role: str,
    password: str,
    *,
    display_name: str | None = None,
    actor: Principal,
    config: ConsoleConfig,
) -> UserView:
    """Create an account; InvalidInput names each bad field, Conflict when the name is taken."""
    errors: list[FieldError] = []
    if (problem := name_error(username, "username")) is not None:
        errors.append(problem)
    if role not in ROLES:
        errors.append(FieldError("role", "invalid", f"role must be one of {', '.join(ROLES)}"))
    shown = (display_name or username).strip()
    if not shown or len(shown) > MAX_DISPLAY_NAME:
        errors.append(FieldError("display_name", "invalid", f"use 1-{MAX_DISPLAY_NAME} characters"))
    errors += _password_errors(password, config)
    if errors:
        raise InvalidInput(errors, f"user {username!r} was not created")
    if repository.user_by_name(session, username) is not None:
        raise Conflict(f"a user named {username!r} already exists")
    now = utcnow()
    user = repository.add_user(
        session,
        ConsoleUser(
            username=username,
            display_name=shown,
            role=role,
            password_hash=hash_password(password),
            created_at=now,
            updated_at=now,
            password_changed_at=now,
        ),
    )
    record(session, actor, "change", "console_user", username, {"created": True, "role": role})
    return UserView.of(user)


def list_users(session: Session) -> list[UserView]:
    """Every account, disabled ones included, by name."""
    return [UserView.of(u) for u in repository.all_users(session)]


def _user(session: Session, username: str) -> ConsoleUser:
    user = repository.user_by_name(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def get_user(session: Session, username: str) -> UserView:
    """One account by name; NotFound when there is none."""
    return UserView.of(_user(session, username))


def disable_user(session: Session, username: str, *, actor: Principal) -> UserView:
    """Stop an account from signing in and end its sessions; the last enabled admin cannot be disabled."""
    user = _user(session, username)
    if user.disabled_at is None:
        if user.role == ADMIN and _enabled_admins(session) <= 1:
            raise Conflict("this is the last enabled admin; create or enable another admin first")
        now = utcnow()
        user.disabled_at = user.updated_at = now
        ended = repository.revoke_sessions_of(session, user.id, now)
        session.flush()
        record(session, actor, "change", "console_user", username, {"disabled": True, "sessions_ended": ended})
    return UserView.of(user)


def _enabled_admins(session: Session) -> int:
    return sum(1 for u in repository.all_users(session) if u.role == ADMIN and u.disabled_at is None)


def enable_user(session: Session, username: str, *, actor: Principal) -> UserView:
    """Let a disabled account sign in again."""
    user = _user(session, username)
    if user.disabled_at is not None:
        user.disabled_at, user.updated_at = None, utcnow()
        session.flush()
        record(session, actor, "change", "console_user", username, {"enabled": True})
    return UserView.of(user)


def set_password(
    session: Session, username: str, password: str, *, actor: Principal, config: ConsoleConfig
) -> UserView:
    """Give an account a new password and end its sessions (a reset assumes the old one may be known)."""
    errors = _password_errors(password, config)
    if errors:
        raise InvalidInput(errors, "the password was not changed")
    user = _user(session, username)
    now = utcnow()
    user.password_hash = hash_password(password)
    user.password_changed_at = user.updated_at = now
    ended = repository.revoke_sessions_of(session, user.id, now)
    session.flush()
    record(session, actor, "change", "console_user", username, {"password_set": True, "sessions_ended": ended})
    return UserView.of(user)


def unlock(session: Session, username: str, *, actor: Principal) -> None:
    """Lift a lock-out at once: the failures before now no longer count."""
    key = _login_key(username)
    repository.add_attempt(session, key, utcnow(), UNLOCK, None)
    record(session, actor, "change", "console_user", key, {"unlocked": True})


def _login_key(username: str) -> str:
    return username.strip().lower()[:100]


def lock_ends_at(session: Session, username: str, now: datetime, config: ConsoleConfig) -> datetime | None:
    """When the lock on a name ends, or None when it is not locked."""
    window = timedelta(minutes=config.lockout_window_minutes)
    duration = timedelta(minutes=config.lockout_minutes)
    rows = repository.attempts_since(session, _login_key(username), now - lookback(window, duration))
    attempts = [Attempt(at, outcome) for at, outcome in rows]
    return locked_until(attempts, now, limit=config.lockout_attempts, window=window, duration=duration)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A live console session: who, its CSRF token, and its clocks."""

    session_id: int
    user: UserView
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    def needs_touch(self, now: datetime) -> bool:
        """Whether the last use should be stamped now (at most once a minute)."""
        return now - self.last_seen_at >= TOUCH_EVERY

    def is_csrf_token(self, given: str) -> bool:
        """Whether a form's token is this session's, compared in constant time."""
        return secrets.compare_digest(given.encode(), self.csrf_token.encode())


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A new session and its cookie token, or a refusal (with one message whatever the reason)."""

    signed_in: SignedIn | None
    token: str | None

    @property
    def is_refused(self) -> bool:
        return self.signed_in is None


def log_in(
    session: Session,
    username: str,
    password: str,
    *,
    ip: str | None,
    user_agent: str | None,
    config: ConsoleConfig,
    now: datetime | None = None,
) -> LoginResult:
    """Check a name and password and start a session; every refusal looks the same and fails equally slowly.

    The attempt is recorded in the caller's transaction, which must commit on refusal too.
    """
    now = now or utcnow()
    key = _login_key(username)
    if lock_ends_at(session, key, now, config) is not None:
        spend_verification_time(password)
        return LoginResult(None, None)
    user = repository.user_by_name(session, key)
    if user is None:
        spend_verification_time(password)
    is_right = user is not None and verify_password(user.password_hash, password[:MAX_PASSWORD_LENGTH])
    if user is None or not is_right or user.disabled_at is not None:
        repository.add_attempt(session, key, now, FAILURE, ip)
        return LoginResult(None, None)
    repository.add_attempt(session, key, now, SUCCESS, ip)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = repository.add_session(
        session,
        ConsoleSession(
            user_id=user.id,
            token_hash=hash_key(token),
            csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=config.session_absolute_hours),
            ip=ip[:64] if ip else None,
            user_agent=user_agent[:300] if user_agent else None,
        ),
    )
    return LoginResult(_signed_in(row, user), token)


def _signed_in(row: ConsoleSession, user: ConsoleUser) -> SignedIn:
    return SignedIn(row.id, UserView.of(user), row.csrf_token, row.created_at, row.last_seen_at, row.expires_at)


def session_for(session: Session, token: str, *, config: ConsoleConfig, now: datetime | None = None) -> SignedIn | None:
    """The live session a cookie's token stands for; None when unknown, ended, expired, idle or its user disabled."""
    if not token:
        return None
    now = now or utcnow()
    found = repository.session_by_token_hash(session, hash_key(token))
    if found is None:
        return None
    row, user = found
    idle_limit = timedelta(minutes=config.session_idle_minutes)
    if row.revoked_at is not None or user.disabled_at is not None or now >= row.expires_at:
        return None
    if now - row.last_seen_at >= idle_limit:
        return None
    return _signed_in(row, user)


def note_activity(session: Session, signed_in: SignedIn, now: datetime | None = None) -> None:
    """Stamp a session's last use (the idle clock restarts)."""
    repository.touch_session(session, signed_in.session_id, now or utcnow())


def log_out(session: Session, token: str, now: datetime | None = None) -> None:
    """End the session of a cookie's token; unknown or ended tokens change nothing."""
    found = repository.session_by_token_hash(session, hash_key(token)) if token else None
    if found is not None:
        repository.revoke_session(session, found[0].id, now or utcnow())


def users_by_id(session: Session, user_ids: Sequence[int]) -> dict[int, UserView]:
    """The accounts of these ids that exist (for other domains that keep a user's id: saved reports' owners)."""
    found = (repository.user_by_id(session, i) for i in sorted(set(user_ids)))
    return {u.id: UserView.of(u) for u in found if u is not None}
