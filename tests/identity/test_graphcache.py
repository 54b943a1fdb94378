"""The worker's memory of the graph between batches (identity.graphcache): the same graph as reading everything
each batch, and never trusted after someone else changed the graph, a batch that did not commit, or an erasure."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.config import Settings
from seamline.core.forgetting import forget_personal_data
from seamline.identity import graphcache
from seamline.identity.graphcache import NO_HOLDER, GraphCache
from seamline.identity.identifiers import Identifier
from seamline.identity.resolution import ProfileShape
from seamline.worker.runner import Worker
from tests.support.builders import make_source
from tests.support.flows import active_profiles, profile_holding, send
from tests.support.streams import STREAM_EVENTS, resolved_graph

ADA, BOB = Identifier("user_id", "ada"), Identifier("email", "bob@example.com")


# --- the cache alone -------------------------------------------------------------------------------------------
def _staged(cache: GraphCache, mark: int, **kwargs: Any) -> None:
    generation = cache.begin(mark)
    cache.lend([])
    shapes = kwargs.get("shapes", {1: ProfileShape(1, {"user_id": {"ada"}})})
    cache.stage(generation, mark + 1, kwargs.get("holders", {ADA: [1]}), shapes, kwargs.get("gone", {}), set())


def test_a_confirmed_batch_is_lent_to_the_next_one_at_the_same_mark() -> None:
    cache = GraphCache()
    _staged(cache, 4)
    cache.confirm()
    cache.begin(5)
    lent = cache.lend([ADA, BOB])
    assert lent.holders == {ADA: 1}
    assert set(lent.shapes) == {1}
    assert lent.shapes[1].identifiers == {"user_id": {"ada"}}


def test_a_change_by_anyone_else_empties_it() -> None:
    cache = GraphCache()
    _staged(cache, 4)
    cache.confirm()
    cache.begin(6)  # the feed moved past the worker's own change
    assert cache.lend([ADA]).holders == {}
    assert cache.size == (0, 0)


def test_a_batch_that_was_not_confirmed_leaves_it_empty() -> None:
    cache = GraphCache()
    _staged(cache, 4)
    cache.confirm()
    _staged(cache, 5)  # lent, staged, never confirmed (rolled back): its shapes may have changed
    cache.begin(5)
    assert cache.size == (0, 0)


def test_only_the_thread_that_staged_confirms() -> None:
    cache = GraphCache()
    _staged(cache, 4)
    other = threading.Thread(target=cache.confirm)
    other.start()
    other.join()
    assert cache.size == (0, 0)
    cache.confirm()
    assert cache.size == (1, 1)


def test_an_identifier_held_by_several_or_none_and_the_profiles_merged_away() -> None:
    cache = GraphCache()
    phone = Identifier("phone", "+14155550132")
    _staged(
        cache,
        1,
        holders={ADA: [1], phone: [1]},
        shapes={1: ProfileShape(1, {"user_id": {"ada"}, "phone": {phone.value}})},
    )
    cache.confirm()
    # Profile 1 is absorbed by 2 in a batch that saw only BOB (now held by nobody) and the shared phone.
    survivor = ProfileShape(2, {"user_id": {"ada"}, "phone": {phone.value}})
    _staged(cache, 2, holders={BOB: [], phone: [2, 3]}, shapes={2: survivor}, gone={1: 2})
    cache.confirm()
    cache.begin(3)
    lent = cache.lend([ADA, BOB, phone])
    assert lent.holders == {ADA: 2, BOB: NO_HOLDER}  # the phone's order is the database's: read again
    assert set(lent.shapes) == {2}


def test_past_its_bounds_it_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graphcache, "MAX_SHAPES", 1)
    cache = GraphCache()
    _staged(cache, 4)
    cache.confirm()
    assert cache.size == (1, 1)
    bob = ProfileShape(2, {"email": {BOB.value}})
    _staged(cache, 5, holders={BOB: [2]}, shapes={2: bob})
    cache.confirm()
    assert cache.size == (1, 1)  # emptied, then what the last batch learnt
    cache.begin(6)
    assert cache.lend([ADA, BOB]).holders == {BOB: 2}


def test_an_erasure_in_the_process_empties_it() -> None:
    cache = GraphCache()
    _staged(cache, 4)
    cache.confirm()
    forget_personal_data()
    assert cache.size == (0, 0)


# --- through the worker ----------------------------------------------------------------------------------------
@pytest.fixture
def web(engine: Engine) -> str:
    """The write key of a web source."""
    return make_source(engine, "web", "web")[1]


def test_another_workers_merge_is_seen_by_the_next_batch(
    client: TestClient, engine: Engine, settings: Settings, web: str
) -> None:
    """A second worker (another process) merges two people this worker has in memory; this worker's next event
    must go to the survivor, not to the profile it remembered."""
    first = Worker(engine, settings)
    send(client, web, {"type": "identify", "anonymousId": "a1", "userId": "ada"})
    send(client, web, {"type": "identify", "anonymousId": "a2", "traits": {"email": "ada@example.com"}})
    assert first.drain() == 2
    remembered = profile_holding(engine, "anonymous_id:a2")
    assert len(active_profiles(engine)) == 2
    if engine.dialect.name == "sqlite":
        assert first._pipeline.graph_cache.size[0] >= 3
    else:  # several writers at once: the cache is not used
        assert first._pipeline.graph_cache.size == (0, 0)

    send(client, web, {"type": "identify", "userId": "ada", "traits": {"email": "ada@example.com"}})
    assert Worker(engine, settings).drain() == 1
    [survivor] = active_profiles(engine)

    send(client, web, {"type": "page", "anonymousId": "a2", "name": "Home"})
    assert first.drain() == 1
    with engine.connect() as conn:
        placed = conn.execute(
            text(
                "SELECT pe.profile_id FROM profile_events pe JOIN inbox_events e ON e.id = pe.event_id"
                " WHERE e.type = 'page'"
            )
        ).scalar_one()
    assert placed == survivor
    assert remembered != survivor or profile_holding(engine, "user_id:ada") == survivor
    assert active_profiles(engine) == [survivor]


def test_what_an_absorbed_profile_held_outside_the_batch_follows_the_merge(
    client: TestClient, engine: Engine, settings: Settings, web: str
) -> None:
    """A merge moves every identifier of the absorbed profile, also those its batch did not name."""
    worker = Worker(engine, settings.model_copy(update={"worker_batch_size": 1}))
    send(client, web, {"type": "identify", "anonymousId": "a1", "traits": {"email": "ada@example.com"}})
    send(client, web, {"type": "identify", "anonymousId": "a2", "userId": "ada"})
    send(client, web, {"type": "identify", "userId": "ada", "traits": {"email": "ada@example.com"}})
    send(client, web, {"type": "page", "anonymousId": "a1", "name": "Home"})
    assert worker.drain() == 4
    [survivor] = active_profiles(engine)
    with engine.connect() as conn:
        placed = conn.execute(
            text(
                "SELECT pe.profile_id FROM profile_events pe JOIN inbox_events e ON e.id = pe.event_id"
                " WHERE e.type = 'page'"
            )
        ).scalar_one()
    assert placed == survivor
    assert profile_holding(engine, "anonymous_id:a1") == survivor


def test_an_erasure_empties_the_workers_cache(client: TestClient, engine: Engine, settings: Settings, web: str) -> None:
    worker = Worker(engine, settings)
    send(client, web, {"type": "identify", "userId": "ada", "traits": {"email": "ada@example.com"}})
    worker.drain()
    forget_personal_data()
    assert worker._pipeline.graph_cache.size == (0, 0)


def test_a_stream_resolves_to_the_same_graph_with_and_without_the_cache(
    stream_database: Callable[[str], tuple[Engine, Settings]],
) -> None:
    """Anonymous sessions, logins, cross-device, shared tablets, calls, CRM records, placeholders: one worker
    remembering the graph across 30 batches, against a fresh worker (nothing remembered) for every batch."""
    engine, settings = stream_database("remembering")
    worker = Worker(engine, settings)
    assert worker.drain() == STREAM_EVENTS
    assert worker._pipeline.graph_cache.size[1] > 0
    assert worker.replanned == 0  # nobody else wrote: every batch planned ahead of the write lock was written
    remembered = resolved_graph(engine)

    engine, settings = stream_database("forgetting")
    while Worker(engine, settings).run_once():
        pass
    assert remembered["merges"] > 0
    assert remembered == resolved_graph(engine)
