"""Rules for sources on both databases: validation, one-time hashed keys, revocation, rotation."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import Engine, text

from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from seamline.sources.service import (
    SOURCE_KINDS,
    SourceView,
    authenticate_write_key,
    create_source,
    find_by_key,
    is_origin_allowed_anywhere,
    list_sources,
    revoke_source,
    rotate_key,
)
from tests.support.builders import make_source


def _source_rows(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM sources ORDER BY id"))]


def _create(engine: Engine, name: str = "web", kind: str = "web", **options: Any) -> tuple[SourceView, str]:
    with unit_of_work(engine) as session:
        return create_source(session, name, kind, **options)


def _refused(engine: Engine, name: str = "web", kind: str = "web", **options: Any) -> list[tuple[int | None, str]]:
    with pytest.raises(InvalidInput) as caught:
        _create(engine, name, kind, **options)
    assert _source_rows(engine) == []
    return [(e.index, e.field) for e in caught.value.errors]


# --- creation and keys ---------------------------------------------------------------------------------------------


def test_a_new_source_gets_a_one_time_key_and_its_settings(engine: Engine) -> None:
    source, key = _create(
        engine, "cards-system", "core-system", origins=["https://bank.example"], rate_limit_per_second=5
    )
    assert re.fullmatch(r"wk_[A-Za-z0-9_-]{32}", key)
    assert source.name == "cards-system"
    assert source.kind == "core-system"
    assert source.allowed_origins == ("https://bank.example",)
    assert source.rate_limit_per_second == 5
    assert source.is_revoked is False
    assert source.key_hint == key[:7] + "…"


def test_the_key_is_stored_only_as_its_sha256(engine: Engine) -> None:
    _source, key = _create(engine)
    [row] = _source_rows(engine)
    assert row["write_key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    # Nothing in the database holds the key, nor more than its hint.
    cells = " ".join(str(value) for value in row.values())
    assert key not in cells
    assert key[7:] not in cells
    assert key[7:15] not in cells


def test_every_key_is_new(engine: Engine) -> None:
    keys = {_create(engine, f"s{i}")[1] for i in range(20)}
    assert len(keys) == 20


def test_a_view_never_carries_the_digest(engine: Engine) -> None:
    source, _key = _create(engine)
    assert not hasattr(source, "write_key_hash")
    assert "hash" not in repr(source)


def test_valid_names(engine: Engine) -> None:
    for name in ("a", "web", "ios-app", "cards_system", "web.v2", "9", "a" * 100):
        assert _create(engine, name)[0].name == name


def test_invalid_names(engine: Engine) -> None:
    for name in ("", "Web", "web app", "-web", ".web", "a" * 101, "wéb", "web/1", "web\n", "\nweb", "web\t"):
        assert _refused(engine, name) == [(None, "name")], repr(name)


def test_every_kind_is_accepted(engine: Engine) -> None:
    for kind in SOURCE_KINDS:
        assert _create(engine, f"s-{kind}", kind)[0].kind == kind


def test_invalid_kinds(engine: Engine) -> None:
    for kind in ("", "website", "WEB", "web ", "crm\n"):
        assert _refused(engine, kind=kind) == [(None, "kind")], repr(kind)


def test_origins_are_stored_as_browsers_send_them(engine: Engine) -> None:
    for i, (given, stored) in enumerate(
        [
            ("https://shop.example", "https://shop.example"),
            ("https://shop.example/", "https://shop.example"),
            ("http://localhost:8000", "http://localhost:8000"),
            ("HTTPS://Shop.Example", "https://shop.example"),
            ("http://[::1]:3000", "http://[::1]:3000"),
            ("*", "*"),
        ]
    ):
        source, _key = _create(engine, f"s{i}", origins=[given])
        assert source.allowed_origins == (stored,), given
        assert source.may_receive_from(stored)


def test_invalid_origins_are_refused_not_a_crash(engine: Engine) -> None:
    for origin in (
        "shop.example",
        "ftp://shop.example",
        "https://",
        "https://shop.example/path",
        "https://shop.example?x=1",
        "https://shop.example#top",
        "https://user@shop.example",
        "https://shop.example:port",
        "https://shop.example:99999",
        "http://[oops",
        " https://shop.example",
        "",
    ):
        assert _refused(engine, origins=["https://ok.example", origin]) == [(1, "origins")], repr(origin)


def test_a_rate_limit_must_be_a_positive_number(engine: Engine) -> None:
    for rate in (0, -1, float("nan"), float("inf")):
        assert _refused(engine, rate_limit_per_second=rate) == [(None, "rate_limit")], rate
    assert _create(engine, rate_limit_per_second=0.5)[0].rate_limit_per_second == 0.5


def test_every_problem_is_reported_at_once(engine: Engine) -> None:
    assert _refused(
        engine, "Bad Name", "website", origins=["x", "https://ok.example", "y"], rate_limit_per_second=0
    ) == [
        (None, "name"),
        (None, "kind"),
        (0, "origins"),
        (2, "origins"),
        (None, "rate_limit"),
    ]


def test_names_are_unique(engine: Engine) -> None:
    _create(engine, "web")
    with pytest.raises(Conflict, match="already exists"):
        _create(engine, "web", "server")
    assert [row["kind"] for row in _source_rows(engine)] == ["web"]


# --- authentication, revocation, rotation --------------------------------------------------------------------------


def test_a_key_authenticates_its_source(engine: Engine) -> None:
    web, web_key = make_source(engine, "web")
    crm, crm_key = make_source(engine, "crm", "crm")
    with unit_of_work(engine, write=False) as session:
        assert authenticate_write_key(session, web_key) == web
        assert authenticate_write_key(session, crm_key) == crm
        with pytest.raises(Unauthorized, match="unknown"):
            authenticate_write_key(session, web_key + "x")
        with pytest.raises(Unauthorized, match="unknown"):
            authenticate_write_key(session, "")


def test_a_revoked_key_no_longer_authenticates_and_its_source_stays(engine: Engine) -> None:
    _source, key = make_source(engine)
    with unit_of_work(engine) as session:
        revoked = revoke_source(session, "web")
    assert revoked.is_revoked
    with unit_of_work(engine, write=False) as session:
        with pytest.raises(Unauthorized, match="revoked"):
            authenticate_write_key(session, key)
        assert find_by_key(session, key) is None
        assert [s.is_revoked for s in list_sources(session)] == [True]


def test_revoking_twice_keeps_the_first_revocation_time(engine: Engine) -> None:
    make_source(engine)
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
    [first] = _source_rows(engine)
    with unit_of_work(engine) as session:
        assert revoke_source(session, "web").is_revoked
    [second] = _source_rows(engine)
    assert first["revoked_at"] is not None
    assert second["revoked_at"] == first["revoked_at"]


def test_rotation_replaces_the_key_at_once(engine: Engine) -> None:
    source, old_key = make_source(engine)
    with unit_of_work(engine) as session:
        rotated, new_key = rotate_key(session, "web")
    assert new_key != old_key
    assert rotated.id == source.id
    assert rotated.key_hint == new_key[:7] + "…"
    with unit_of_work(engine, write=False) as session:
        with pytest.raises(Unauthorized, match="unknown"):
            authenticate_write_key(session, old_key)
        assert authenticate_write_key(session, new_key).id == source.id
    [row] = _source_rows(engine)
    assert row["write_key_hash"] == hashlib.sha256(new_key.encode()).hexdigest()


def test_rotating_a_revoked_source_gives_it_a_working_key(engine: Engine) -> None:
    # Rotation is how an operator brings a revoked source back: the old key stays dead, the new one works.
    _source, old_key = make_source(engine)
    with unit_of_work(engine) as session:
        revoke_source(session, "web")
        _rotated, new_key = rotate_key(session, "web")
    with unit_of_work(engine, write=False) as session:
        assert not authenticate_write_key(session, new_key).is_revoked
        assert find_by_key(session, old_key) is None


@pytest.mark.parametrize("action", [revoke_source, rotate_key])
def test_unknown_sources_are_not_found(engine: Engine, action: Any) -> None:
    make_source(engine)
    with unit_of_work(engine) as session, pytest.raises(NotFound, match="'nope'"):
        action(session, "nope")


# --- what other parts ask ------------------------------------------------------------------------------------------


def test_origins_allowed_by_any_active_source(engine: Engine) -> None:
    make_source(engine, "web", origins=["https://shop.example"])
    make_source(engine, "old", origins=["https://old.example"])
    with unit_of_work(engine) as session:
        revoke_source(session, "old")
    with unit_of_work(engine, write=False) as session:
        assert is_origin_allowed_anywhere(session, "https://shop.example")
        assert not is_origin_allowed_anywhere(session, "https://old.example")
        assert not is_origin_allowed_anywhere(session, "https://evil.example")
    make_source(engine, "any", origins=["*"])
    with unit_of_work(engine, write=False) as session:
        assert is_origin_allowed_anywhere(session, "https://evil.example")


def test_sources_are_listed_by_name(engine: Engine) -> None:
    for name in ("web", "crm", "ios-app"):
        make_source(engine, name)
    with unit_of_work(engine, write=False) as session:
        assert [s.name for s in list_sources(session)] == ["crm", "ios-app", "web"]
