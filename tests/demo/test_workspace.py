"""The demo workspace: created once, on an empty database, and fed through the tracking API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.demo.bank import channel_traffic, demo_people
from seamline.demo.feed import batches, send, wait_until_ready
from seamline.demo.sources import DEMO_SOURCES
from seamline.demo.workspace import create_demo_workspace
from tests.support.flows import active_profiles, drain
from tests.support.server import live_server


def test_first_start_creates_every_source_and_traffic_from_them(engine: Engine) -> None:
    workspace = create_demo_workspace(engine)
    assert workspace is not None
    assert set(workspace.keys) == {s.name for s in DEMO_SOURCES}
    assert len(workspace.traffic) > 1_000
    assert {source for source, _ in workspace.traffic} <= set(workspace.keys)
    assert create_demo_workspace(engine) is None  # a second start leaves the workspace alone


def test_the_demo_bank_is_the_same_every_time() -> None:
    first = demo_people(20)
    assert first == demo_people(20)
    assert {p.person_key for p in first} == {p.person_key for p in demo_people(20)}


def test_batches_keep_order_and_never_mix_sources() -> None:
    messages = [("web", {"n": 1}), ("web", {"n": 2}), ("ios-app", {"n": 3}), ("web", {"n": 4})]
    assert list(batches(messages, size=1)) == [
        ("web", [{"n": 1}]),
        ("web", [{"n": 2}]),
        ("ios-app", [{"n": 3}]),
        ("web", [{"n": 4}]),
    ]
    assert [len(run) for _, run in batches(messages)] == [2, 1, 1]


def test_traffic_sent_over_http_is_accepted_and_resolved(engine: Engine, settings: Settings) -> None:
    workspace = create_demo_workspace(engine)
    assert workspace is not None
    sample = workspace.traffic[:400]
    with live_server(create_app(settings)) as url:
        assert wait_until_ready(url, timeout=10)
        assert send(url, workspace.keys, sample) == len(sample)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM inbox_events")).scalar()
    assert stored == len(sample)
    assert drain(engine, settings) == len(sample)
    assert active_profiles(engine)


def test_traffic_is_oldest_first_within_the_last_month() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    traffic = channel_traffic(demo_people(30), now, n_events=200)
    stamps = [m["timestamp"] for _, m in traffic]
    assert stamps == sorted(stamps)
    assert all(s.startswith("2026-1") for s in stamps)
