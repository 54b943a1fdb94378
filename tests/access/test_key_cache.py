"""The API processes' cache of checked server keys: a revoked key is refused once the cache's time has passed
(`api_key_cache_seconds`, one second by default), and at once when the cache is off."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from seamline.access.service import ApiKeyCache, create_api_key, revoke_api_key
from seamline.core.db import unit_of_work
from seamline.core.errors import Unauthorized


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _key(engine: Engine) -> str:
    with unit_of_work(engine) as session:
        return create_api_key(session, "crm-sync", ["profiles:read"])[1]


def _revoke(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        revoke_api_key(session, "crm-sync")


def test_a_revoked_key_is_refused_once_the_cache_time_has_passed(engine: Engine) -> None:
    key, clock = _key(engine), Clock()
    cache = ApiKeyCache(1.0, clock)
    assert cache.authenticate(lambda: unit_of_work(engine, write=False), key, "profiles:read").name == "crm-sync"
    _revoke(engine)
    clock.now += 0.5  # within the stated bound the checked key may still be trusted
    assert cache.authenticate(lambda: unit_of_work(engine, write=False), key, "profiles:read").name == "crm-sync"
    clock.now += 0.5  # the bound has passed: the key is read again, and refused
    with pytest.raises(Unauthorized, match="revoked"):
        cache.authenticate(lambda: unit_of_work(engine, write=False), key, "profiles:read")


def test_with_the_cache_off_a_revoked_key_is_refused_at_once(engine: Engine) -> None:
    key = _key(engine)
    cache = ApiKeyCache(0.0, Clock())
    assert cache.authenticate(lambda: unit_of_work(engine, write=False), key, "profiles:read").name == "crm-sync"
    _revoke(engine)
    with pytest.raises(Unauthorized, match="revoked"):
        cache.authenticate(lambda: unit_of_work(engine, write=False), key, "profiles:read")
