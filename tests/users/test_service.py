"""Accounts, login with lock-out, sessions with idle and absolute expiry, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from seamline.audit.service import entries
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, InvalidInput
from seamline.core.principal import Principal
from seamline.users import service
from seamline.users.config import ConsoleConfig
from seamline.users.service import LoginResult
from tests.support.builders import CONSOLE_PASSWORD, make_user

CONFIG = ConsoleConfig()
OPERATOR = Principal(name="cli:test", kind="operator", scopes=frozenset(), surface="cli")


def log_in(engine: Engine, username: str, password: str, at_minutes: float = 0) -> LoginResult:
    with unit_of_work(engine) as session:
        return service.log_in(
            session,
            username,
            password,
            ip="127.0.0.1",
            user_agent="test",
            config=CONFIG,
            now=utcnow() + timedelta(minutes=at_minutes),
        )


def test_passwords_are_stored_as_argon2id_and_checked(engine: Engine) -> None:
    make_user(engine, "ada", "agent")
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM console_users WHERE username = 'ada'")).scalar_one()
    assert stored.startswith("$argon2id$")
    assert CONSOLE_PASSWORD not in stored
    assert log_in(engine, "ada", "wrong password!!").is_refused
    result = log_in(engine, "Ada ", CONSOLE_PASSWORD)
    assert result.signed_in is not None
    assert result.token
    assert result.signed_in.user.principal.name == "console:ada"
    assert result.signed_in.user.principal.surface == "console"
    with engine.connect() as conn:
        digest = conn.execute(text("SELECT token_hash FROM console_sessions")).scalar_one()
    assert result.token not in digest  # only the digest of the cookie's token is kept


def test_bad_accounts_are_refused_naming_the_fields(engine: Engine) -> None:
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as caught:
        service.create_user(session, "Ada!", "root", "short", actor=OPERATOR, config=CONFIG)
    assert {e.field for e in caught.value.errors} == {"username", "role", "password"}
    make_user(engine, "ada")
    with pytest.raises(Conflict):
        make_user(engine, "ada")
    with unit_of_work(engine) as session:
        audit = entries(session, subject_type="console_user")
    created = [(e.actor, e.subject_id, e.detail) for e in audit]
    assert created == [("cli:test", "ada", {"created": True, "role": "agent"})]


def test_five_failures_lock_the_name_known_or_not_until_the_lock_ends(engine: Engine) -> None:
    make_user(engine, "ada")
    for name in ("ada", "nobody"):
        for minute in range(5):
            assert log_in(engine, name, "wrong password!!", minute).is_refused
    # Locked: even the right password is refused, with the same answer as a wrong one.
    assert log_in(engine, "ada", CONSOLE_PASSWORD, 6).is_refused
    with unit_of_work(engine, write=False) as session:
        assert service.lock_ends_at(session, "nobody", utcnow() + timedelta(minutes=6), CONFIG) is not None
    assert not log_in(engine, "ada", CONSOLE_PASSWORD, 20).is_refused


def test_an_operator_unlock_lifts_the_lock_at_once(engine: Engine) -> None:
    make_user(engine, "ada")
    for _ in range(5):
        log_in(engine, "ada", "wrong password!!")
    assert log_in(engine, "ada", CONSOLE_PASSWORD).is_refused
    with unit_of_work(engine) as session:
        service.unlock(session, "ada", actor=OPERATOR)
    assert not log_in(engine, "ada", CONSOLE_PASSWORD).is_refused


def test_sessions_end_when_idle_at_the_absolute_limit_and_on_logout(engine: Engine) -> None:
    make_user(engine)
    result = log_in(engine, "ada", CONSOLE_PASSWORD)
    assert result.token is not None
    assert result.signed_in is not None
    token, start = result.token, result.signed_in.created_at

    def lookup(after: timedelta) -> service.SignedIn | None:
        with unit_of_work(engine, write=False) as session:
            return service.session_for(session, token, config=CONFIG, now=start + after)

    assert lookup(timedelta(minutes=29)) is not None
    assert lookup(timedelta(minutes=30)) is None  # idle
    # Activity restarts the idle clock, up to the absolute limit.
    for step in range(1, 36):
        found = lookup(timedelta(minutes=20 * step))
        assert found is not None
        with unit_of_work(engine) as session:
            service.note_activity(session, found, start + timedelta(minutes=20 * step))
    assert lookup(timedelta(hours=11, minutes=50)) is not None
    assert lookup(timedelta(hours=12)) is None  # absolute
    with unit_of_work(engine) as session:
        service.log_out(session, token)
    assert lookup(timedelta(minutes=1)) is None
    assert lookup(timedelta(0)) is None


def test_disabling_and_a_new_password_end_sessions(engine: Engine) -> None:
    make_user(engine)
    make_user(engine, "root", "admin")
    first = log_in(engine, "ada", CONSOLE_PASSWORD)
    with unit_of_work(engine) as session:
        service.set_password(session, "ada", "another long password", actor=OPERATOR, config=CONFIG)
        assert service.session_for(session, first.token or "", config=CONFIG) is None
    second = log_in(engine, "ada", "another long password")
    with unit_of_work(engine) as session:
        service.disable_user(session, "ada", actor=OPERATOR)
        assert service.session_for(session, second.token or "", config=CONFIG) is None
    assert log_in(engine, "ada", "another long password").is_refused
    with unit_of_work(engine) as session:
        service.enable_user(session, "ada", actor=OPERATOR)
    assert not log_in(engine, "ada", "another long password").is_refused
    with unit_of_work(engine) as session, pytest.raises(Conflict, match="last enabled admin"):
        service.disable_user(session, "root", actor=OPERATOR)


def test_the_csrf_token_belongs_to_its_session(engine: Engine) -> None:
    make_user(engine)
    one, two = log_in(engine, "ada", CONSOLE_PASSWORD), log_in(engine, "ada", CONSOLE_PASSWORD)
    assert one.signed_in is not None
    assert two.signed_in is not None
    assert one.signed_in.is_csrf_token(one.signed_in.csrf_token)
    assert not one.signed_in.is_csrf_token(two.signed_in.csrf_token)
    assert not one.signed_in.is_csrf_token("")
