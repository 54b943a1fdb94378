"""API keys against a real database: creation, scope validation, authentication, and the key never kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select, text, update

from seamline.access.models import ApiKey
from seamline.access.service import (
    LAST_USED_PRECISION,
    ApiKeyView,
    authenticate_api_key,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from seamline.core.clock import utcnow
from seamline.core.db import is_sqlite, unit_of_work
from seamline.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from seamline.core.principal import Principal
from seamline.core.secrets import hash_key, key_hint, new_key


def make_api_key(engine: Engine, name: str = "crm-sync", scopes: Sequence[str] = ("profiles:read",)) -> str:
    """Create an API key; returns the key."""
    with unit_of_work(engine) as session:
        return create_api_key(session, name, scopes)[1]


def authenticate(engine: Engine, key: str, scope: str = "profiles:read") -> Principal:
    with unit_of_work(engine, write=False) as session:
        return authenticate_api_key(session, key, scope)


def test_keys_are_random_prefixed_and_hashed_with_sha256() -> None:
    key = new_key("sk_")
    assert key.startswith("sk_")
    assert len(key) == 3 + 32
    assert new_key("sk_") != key
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 vector
    assert key_hint(key, 3) == key[:7] + "…"


def test_create_returns_the_key_once_with_its_scopes(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        view, key = create_api_key(session, "crm-sync", ["profiles:write", "profiles:read", "profiles:read"])
    assert key.startswith("sk_")
    assert view.name == "crm-sync"
    assert view.scopes == ("profiles:read", "profiles:write")  # deduplicated, in the order SCOPES lists them
    assert view.key_hint == key[:7] + "…"
    assert not view.is_revoked
    assert view.last_used_at is None
    assert view.created_at.tzinfo is not None
    with unit_of_work(engine, write=False) as session:
        assert list_api_keys(session) == [view]


def test_the_key_itself_is_never_stored(engine: Engine) -> None:
    key = make_api_key(engine)
    authenticate(engine, key)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM api_keys")).all()
    assert len(rows) == 1
    assert all(key not in str(value) for value in rows[0])
    assert rows[0]._mapping["key_hash"] == hash_key(key)


def test_unknown_scopes_are_named_by_index_and_nothing_is_created(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as caught, unit_of_work(engine) as session:
        create_api_key(session, "crm-sync", ["profiles:read", "profiles:delete", "admin"])
    errors = [(e.field, e.index, e.code) for e in caught.value.errors]
    assert errors == [("scopes", 1, "invalid"), ("scopes", 2, "invalid")]
    assert "'profiles:delete'" in caught.value.errors[0].message
    with unit_of_work(engine, write=False) as session:
        assert list_api_keys(session) == []


@pytest.mark.parametrize(
    ("name", "scopes", "expected"),
    [
        ("CRM Sync", ["profiles:read"], [("name", None, "invalid")]),
        ("", ["profiles:read"], [("name", None, "invalid")]),
        ("crm-sync\n", ["profiles:read"], [("name", None, "invalid")]),
        ("c" * 101, ["profiles:read"], [("name", None, "invalid")]),
        ("crm-sync", [], [("scopes", None, "required")]),
    ],
)
def test_names_follow_the_source_rule_and_a_scope_is_required(
    engine: Engine, name: str, scopes: list[str], expected: list[tuple[str, int | None, str]]
) -> None:
    with pytest.raises(InvalidInput) as caught, unit_of_work(engine) as session:
        create_api_key(session, name, scopes)
    assert [(e.field, e.index, e.code) for e in caught.value.errors] == expected


def test_a_name_is_taken_once(engine: Engine) -> None:
    make_api_key(engine)
    with pytest.raises(Conflict), unit_of_work(engine) as session:
        create_api_key(session, "crm-sync", ["audit:read"])


def test_authentication_gives_the_principal_of_the_key(engine: Engine) -> None:
    key = make_api_key(engine, scopes=["profiles:read", "audit:read"])
    principal = authenticate(engine, key, "audit:read")
    assert principal == Principal(
        name="crm-sync", kind="api_key", scopes=frozenset({"profiles:read", "audit:read"}), surface="api"
    )
    assert principal.may("profiles:read")
    assert not principal.may("profiles:write")


def test_an_unknown_key_is_unauthorized(engine: Engine) -> None:
    make_api_key(engine)
    with pytest.raises(Unauthorized, match="unknown"):
        authenticate(engine, new_key("sk_"))
    with pytest.raises(Unauthorized):
        authenticate(engine, "")


def test_a_revoked_key_is_unauthorized_at_once(engine: Engine) -> None:
    key = make_api_key(engine)
    with unit_of_work(engine) as session:
        view = revoke_api_key(session, "crm-sync")
    assert view.is_revoked
    with pytest.raises(Unauthorized, match="revoked"):
        authenticate(engine, key)
    with unit_of_work(engine) as session:
        again = revoke_api_key(session, "crm-sync")  # revoking twice changes nothing
    assert again.revoked_at == view.revoked_at
    with pytest.raises(NotFound), unit_of_work(engine) as session:
        revoke_api_key(session, "nobody")


def test_a_key_without_the_scope_is_forbidden(engine: Engine) -> None:
    key = make_api_key(engine, scopes=["profiles:read"])
    with pytest.raises(Forbidden, match="profiles:write"):
        authenticate(engine, key, "profiles:write")


def test_asking_for_a_scope_that_does_not_exist_is_a_programming_error(engine: Engine) -> None:
    key = make_api_key(engine)
    with pytest.raises(ValueError, match="profiles:raed"):
        authenticate(engine, key, "profiles:raed")


def _last_used(engine: Engine) -> ApiKeyView:
    with unit_of_work(engine, write=False) as session:
        return list_api_keys(session)[0]


def test_last_use_is_stamped_at_most_once_a_minute(engine: Engine) -> None:
    key = make_api_key(engine)
    authenticate(engine, key)
    first = _last_used(engine).last_used_at
    assert first is not None
    authenticate(engine, key)
    assert _last_used(engine).last_used_at == first

    with engine.begin() as conn:
        conn.execute(update(ApiKey).values(last_used_at=utcnow() - LAST_USED_PRECISION - timedelta(seconds=1)))
    authenticate(engine, key)
    later = _last_used(engine).last_used_at
    assert later is not None
    assert later >= first


def test_a_read_transaction_that_cannot_stamp_still_authenticates(engine: Engine) -> None:
    """SQLite refuses to turn a stale read transaction into a write one; PostgreSQL stamps as usual."""
    key = make_api_key(engine)
    with unit_of_work(engine, write=False) as session:
        session.scalars(select(ApiKey.id)).all()  # the read snapshot starts here
        make_api_key(engine, "other-caller")  # another writer commits after it
        principal = authenticate_api_key(session, key, "profiles:read")
    assert principal.name == "crm-sync"
    stamped = _last_used(engine).last_used_at
    assert (stamped is None) if is_sqlite(engine) else (stamped is not None)
