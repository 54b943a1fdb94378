"""Every process forgets an erased person, wherever the erasure was made: the match index and the console's name
search through it at once, and the caches of personal values (normalized emails, name forms) within a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.identity.identifiers import normalize_email
from seamline.matching.lookup import find_by_name
from seamline.matching.model import TrainedModel
from seamline.matching.realtime import Matcher
from seamline.privacy.forgetting import ErasureFollower
from seamline.privacy.service import erase_profile, open_request
from tests.matching.people import HANDMADE, KATHERINE, background
from tests.matching.silos import import_silos, matching_context
from tests.matching.test_batch import _profile
from tests.privacy.people import world

ADA_EMAIL = "Ada.Lovelace@example.com"


def _waits_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_console_name_search_of_every_process_forgets_an_erased_person(
    engine: Engine, settings: Settings, trained_model: TrainedModel, tmp_path: Path
) -> None:
    import_silos(engine, settings, [*HANDMADE, *background()], tmp_path / "silos")
    matching_context(settings, trained_model)
    katherine = _profile(engine, KATHERINE.record_key, "checking")
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "dpo-desk", ["identity:admin"])
    admin = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        matchers: list[Matcher] = [first.app.state.matching, second.app.state.matching]
        assert all(_waits_for(lambda m=m: katherine in m.index.records) for m in matchers)  # warmed at start
        with unit_of_work(engine, write=False) as session:
            assert katherine in {h.profile_id for h in find_by_name(session, matchers[1], "Katherine Morrison")}
        made = first.post("/v1/privacy/requests", json={"kind": "erasure", "profile_id": katherine}, headers=admin)
        assert first.post(f"/v1/privacy/requests/{made.json()['id']}/complete", headers=admin).status_code == 200
        # The other process lets her go without being asked anything (its erasure follower)...
        assert _waits_for(lambda: katherine not in matchers[1].index.records)
        # ...and neither process's name search lists her.
        for matcher in matchers:
            with unit_of_work(engine, write=False) as session:
                hits = find_by_name(session, matcher, "Katherine Morrison")
            assert katherine not in {h.profile_id for h in hits}


def test_an_erasure_made_elsewhere_empties_this_processs_caches(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    people = world(client, engine, settings)
    follower = ErasureFollower(engine, interval=3600)  # polled by hand below
    follower.start()
    try:
        normalize_email(ADA_EMAIL)
        hits = normalize_email.cache_info().hits
        normalize_email(ADA_EMAIL)
        assert normalize_email.cache_info().hits == hits + 1  # the raw email is held in the cache
        with unit_of_work(engine) as session:  # another process's erasure: nothing here was told
            erase_profile(session, open_request(session, "erasure", people["ada"], requested_by="dpo").id)
        assert follower.poll() == {people["ada"]}
        assert follower.poll() == set()  # read once
        misses = normalize_email.cache_info().misses
        normalize_email(ADA_EMAIL)
        assert normalize_email.cache_info().misses == misses + 1  # forgotten: computed again
    finally:
        follower.stop()
