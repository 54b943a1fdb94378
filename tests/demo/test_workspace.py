"""The demo workspace: created once, on an empty database, and fed through the tracking API."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.demo.bank import channel_traffic, demo_people
from seamline.demo.feed import batches, send, wait_until_ready
from seamline.demo.sources import DEMO_SOURCES
from seamline.demo.stories import CONVERSATIONS
from seamline.demo.workspace import DEMO_USERS, create_demo_workspace
from tests.demo.conftest import PlayedDemo
from tests.support.flows import active_profiles, drain
from tests.support.server import live_server


def test_first_start_creates_every_source_staff_and_traffic(engine: Engine, settings: Settings) -> None:
    workspace = create_demo_workspace(engine, settings)
    assert workspace is not None
    assert set(workspace.keys) == {s.name for s in DEMO_SOURCES}
    assert len(workspace.traffic) > 1_000
    assert {source for source, _ in workspace.traffic} <= set(workspace.keys)
    assert {(login.username, login.role) for login in workspace.logins} == {
        (name, role) for name, role, _ in DEMO_USERS
    }
    assert create_demo_workspace(engine, settings) is None  # a second start leaves the workspace alone
    # The silo exports and their mappings stay on disk, for a newcomer to read and re-import.
    for system in ("checking", "cards", "mortgage"):
        assert (settings.data_dir / "demo" / f"{system}.csv").stat().st_size > 0
        assert "record_key: customer_no" in (settings.data_dir / "demo" / f"{system}.mapping.yaml").read_text()
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        for login in workspace.logins:  # the printed passwords open the console
            client.cookies.clear()
            form = client.get("/console/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            answer = client.post(
                "/console/login",
                data={"username": login.username, "password": login.password, "csrf_token": token.group(1)},
                follow_redirects=False,
            )
            assert answer.status_code == 303, (login.username, answer.text[:300])
            assert answer.headers["location"] != "/console/login"


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
    workspace = create_demo_workspace(engine, settings)
    assert workspace is not None
    sample = workspace.traffic[:400]
    with engine.connect() as conn:
        imported = int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar() or 0)
    assert imported >= workspace.silo_rows  # an identify per silo record, a group per account it names
    with live_server(create_app(settings)) as url:
        assert wait_until_ready(url, timeout=10)
        assert send(url, workspace.keys, sample) == len(sample)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM inbox_events")).scalar()
    assert stored == imported + len(sample)
    assert drain(engine, settings) == imported + len(sample)
    assert active_profiles(engine)


def test_play_resolves_the_traffic_then_opens_the_conversations(played_demo: PlayedDemo) -> None:
    workspace, summary, engine = played_demo.workspace, played_demo.summary, played_demo.engine
    with engine.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar()
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar()
        escalated = conn.execute(text("SELECT count(*) FROM cases WHERE status = 'escalated'")).scalar()
        handoffs = conn.execute(text("SELECT count(*) FROM case_handoffs")).scalar()
        merges = conn.execute(text("SELECT count(*) FROM merges WHERE rule = 'match'")).scalar()
        merged_pairs = conn.execute(text("SELECT count(*) FROM match_pairs WHERE status = 'merged'")).scalar()
        to_review = conn.execute(text("SELECT count(*) FROM match_pairs WHERE status = 'pending'")).scalar()
        requests = conn.execute(text("SELECT kind, status FROM privacy_requests ORDER BY id")).all()
        channels = conn.execute(
            text(
                "SELECT channel, count(*) FROM communications"
                " WHERE platform = 'seamline' AND channel IN ('in_app', 'sms') GROUP BY channel"
            )
        ).all()
    assert pending == 0
    assert f"{workspace.silo_rows:,} silo records imported and {len(workspace.traffic):,} web, app" in summary
    assert merges  # silo records of one customer joined by matching, through the identity graph
    assert f"matching merged {merged_pairs} pairs and sent {to_review} to review" in summary
    assert "with national ids that differ: `seamline match findings`" in summary  # the demo's mistyped id
    assert f"; {cases} customer conversations" in summary
    assert cases == len(CONVERSATIONS)  # each conversation found a customer the bank knows by email
    assert escalated == sum(1 for c in CONVERSATIONS if c.escalation)
    assert handoffs == sum(1 for c in CONVERSATIONS if c.handoff)
    assert [tuple(r) for r in requests] == [("access", "open"), ("erasure", "open")]  # for the privacy officer
    assert "; 2 data-subject requests waiting" in summary
    # The other platforms' sends and the print vendor's log, in the communications log (docs/assessment.md).
    assert re.search(r"; [1-9][\d,]* communication events from five platforms and [1-9][\d,]* printed letters", summary)
    assert sorted(tuple(r) for r in channels) == [("in_app", 3), ("sms", 3)]  # a fraud alert by SMS, an inbox note
    assert "; 6 messages queued" in summary
    assert "; 5 communication errors reported" in summary  # a misspelt name, three wrong balances, a breach
    # Surveys sent at touchpoints and answered: the statement recipients with errors rate it hard (Feedback page).
    found = re.search(r"; (\d+) surveys sent and (\d+) answered", summary)
    assert found is not None
    assert int(found.group(1)) > int(found.group(2)) >= 10


def test_traffic_is_oldest_first_within_the_last_month() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    traffic = channel_traffic(demo_people(30), now, n_events=200)
    stamps = [m["timestamp"] for _, m in traffic]
    assert stamps == sorted(stamps)
    assert all(s.startswith("2026-1") for s in stamps)
