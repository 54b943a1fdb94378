"""Access exports and erasure through the real path: tracking API, worker, privacy service, raw tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.audit.service import record
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, Gone, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.identity.identifiers import Identifier
from seamline.privacy.service import (
    complete_access,
    erase_profile,
    export_profile,
    get_request,
    is_erased,
    list_requests,
    open_request,
)
from tests.privacy.people import raw_mentions, world
from tests.support.flows import drain, profile_holding, send

AGENT = Principal(name="agent-7", kind="api_key", scopes=frozenset({"profiles:read"}), surface="api")


@pytest.fixture
def people(client: TestClient, engine: Engine, settings: Settings) -> dict[str, Any]:
    found = world(client, engine, settings)
    with unit_of_work(engine) as session:
        # An audit entry whose detail names the person (a lookup by email), as a careless caller might write it.
        record(session, AGENT, "read", "profile", found["ada"], {"view": "lookup", "by": "ada.lovelace@example.com"})
        record(session, AGENT, "read", "profile", found["ada"], {"view": "summary"})
    return found


def _erase(engine: Engine, profile_id: int) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", profile_id, requested_by="dpo")
        return erase_profile(session, request.id).result


def test_the_access_export_holds_events_traits_with_sources_holdings_consent_and_audit(
    engine: Engine, people: dict[str, Any]
) -> None:
    with unit_of_work(engine) as session:
        request = open_request(session, "access", people["ada"], requested_by="dpo")
        export = complete_access(session, request.id)
        done = get_request(session, request.id)
    assert export["profile_id"] == people["ada"]
    assert {(i["type"], i["value"]) for i in export["identifiers"]} >= {
        ("email", "ada.lovelace@example.com"),
        ("phone", "+14155550132"),
        ("user_id", "u-lovelace"),
    }
    names = {t["name"]: t for t in export["traits"]}
    assert {(c["value"], c["source"]) for c in names["name"]["candidates"]} == {
        ("Ada Lovelace", "web"),
        ("Ada King", "crm"),
    }
    assert [h["external_id"] for h in export["holdings"]] == ["CC-9"]
    assert [(c["purpose"], c["channel"], c["value"]) for c in export["consent"]] == [("marketing", "email", "denied")]
    assert len(export["events"]) == 6
    assert any(e["message"].get("traits", {}).get("name") == "Ada Lovelace" for e in export["events"])
    assert {a["actor"] for a in export["audit"]} == {"agent-7"}
    assert done.status == "done"
    assert done.completed_at is not None
    assert done.result["events"] == 6


def test_requests_have_a_status_and_a_due_date_and_complete_once(engine: Engine, people: dict[str, Any]) -> None:
    with unit_of_work(engine) as session:
        request = open_request(session, "access", people["ada"], requested_by="dpo")
        later = open_request(session, "erasure", people["grace"], requested_by="dpo", due_days=10)
    assert (request.status, request.due_at - request.created_at) == ("open", timedelta(days=30))
    assert later.due_at - later.created_at == timedelta(days=10)
    with unit_of_work(engine) as session:
        assert [r.id for r in list_requests(session, status="open")] == [later.id, request.id]
        complete_access(session, request.id)
    with unit_of_work(engine) as session:
        done = get_request(session, request.id)
        assert complete_access(session, request.id)["profile_id"] == people["ada"]  # exported again
        assert get_request(session, request.id) == done  # still done, as it was
    with unit_of_work(engine) as session, pytest.raises(Conflict):
        complete_access(session, later.id)  # an erasure request is not an access request
    with unit_of_work(engine) as session, pytest.raises(Conflict):
        erase_profile(session, request.id)  # an access request is not an erasure
    with unit_of_work(engine) as session, pytest.raises(InvalidInput):
        open_request(session, "forget", people["ada"], requested_by="dpo")
    with unit_of_work(engine) as session, pytest.raises(NotFound):
        open_request(session, "access", 999_999, requested_by="dpo")


def test_after_erasure_no_table_holds_the_persons_email_phone_or_name(
    client: TestClient, engine: Engine, settings: Settings, people: dict[str, Any]
) -> None:
    assert raw_mentions(engine)  # the search finds them before
    result = _erase(engine, people["ada"])
    assert raw_mentions(engine) == []
    assert result["tombstones"] == 4  # user_id, anonymous_id, email, phone
    assert result["events_scrubbed"] == 6
    with engine.connect() as conn:
        payloads = conn.execute(text("SELECT payload, user_id, anonymous_id FROM inbox_events")).all()
        kept = conn.execute(text("SELECT purpose, channel, value, actor FROM consent_choices")).all()
    assert sum('"erased":true' in p for p, _, _ in payloads) == 6
    assert all(u is None and a is None for p, u, a in payloads if '"erased":true' in p)
    assert [tuple(r) for r in kept] == [("marketing", "email", "denied", "erased")]
    # Grace is untouched.
    assert profile_holding(engine, "email:grace@example.com") == people["grace"]
    with unit_of_work(engine) as session, pytest.raises(Gone, match="erased"):
        export_profile(session, people["ada"])  # nothing is served about an erased person, not even emptiness


def test_a_replayed_or_late_event_with_the_old_email_does_not_recreate_the_person(
    client: TestClient, engine: Engine, settings: Settings, people: dict[str, Any]
) -> None:
    late = {"type": "track", "userId": "u-lovelace", "event": "Signed In", "messageId": "late-1"}
    send(client, people["web"], late)  # accepted before the erasure, processed after it
    _erase(engine, people["ada"])
    replayed = {
        "type": "identify",
        "messageId": "replay-1",
        "anonymousId": "fresh-device",
        "traits": {"email": "Ada.Lovelace@example.com", "name": "Ada Lovelace"},
    }
    send(client, people["web"], replayed)
    assert drain(engine, settings) == 2
    assert raw_mentions(engine) == []
    with engine.connect() as conn:
        holders = conn.execute(text("SELECT count(*) FROM identifiers WHERE value LIKE '%lovelace%'")).scalar()
        pending = conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar()
    assert (holders, pending) == (0, 0)
    with unit_of_work(engine, write=False) as session:
        old = [Identifier("email", "ada.lovelace@example.com"), Identifier("email", "grace@example.com")]
        assert is_erased(session, old) == {old[0]}
        # A type no tombstone has (only those that have one are hashed and looked up) is never erased.
        other = [Identifier("ext:crm", "ada.lovelace@example.com"), Identifier("user_id", "u-lovelace")]
        assert is_erased(session, [*old, *other]) == {old[0], other[1]}


def test_erasure_follows_merged_profiles(client: TestClient, engine: Engine, settings: Settings) -> None:
    world_ids = world(client, engine, settings)
    # A second device known first anonymously, then tied to Ada: its profile is merged into hers.
    send(client, world_ids["web"], {"type": "page", "anonymousId": "ada-laptop", "name": "Lovelace Rates"})
    drain(engine, settings)
    send(client, world_ids["web"], {"type": "track", "anonymousId": "ada-laptop", "userId": "u-lovelace", "event": "X"})
    drain(engine, settings)
    result = _erase(engine, world_ids["ada"])
    assert result["profiles"] == 2
    assert raw_mentions(engine, ("lovelace", "ada-laptop")) == []
