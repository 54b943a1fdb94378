"""`profile.consent_changed`: a change from every way in (API, preference page, console, a tracked event, an
import, each through its real route) reaches a subscribed destination once, in canonical terms; taking the feed
again, a rebuild or an erasure announces nothing more."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.consent.changes import take_changes
from seamline.consent.service import record_choice
from seamline.core.db import unit_of_work
from seamline.destinations.consent_changes import announce_consent_changes
from seamline.destinations.service import create_destination
from seamline.imports.mapping import load_mapping
from seamline.imports.service import import_file
from seamline.outbox.config import OutboxConfig
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.replay import rebuild
from seamline.privacy.service import erase_profile, open_request
from seamline.worker.dispatcher import build_dispatcher
from seamline.worker.runner import Worker
from tests.console.conftest import SignIn, console, sign_in  # noqa: F401  # fixtures of the console's agent path
from tests.support.builders import make_source
from tests.support.flows import drain, send
from tests.support.people import person
from tests.support.webhooks import Receiver, webhook_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    outbox = OutboxConfig(retry_schedule_seconds=[0.0], jitter=0.0, webhook_timeout_seconds=2.0)
    return settings.model_copy(update={"outbox": outbox})


def _subscribe(engine: Engine, settings: Settings, receiver: Receiver, purpose: str = "analytics") -> None:
    with unit_of_work(engine) as session:
        _view, receiver.secret = create_destination(
            session, "crm", receiver.url, purpose=purpose, subscriptions=["profile.consent_changed"],
            consent=settings.consent,
        )  # fmt: skip


def _announced(engine: Engine, settings: Settings, receiver: Receiver) -> list[dict[str, Any]]:
    """Run the announcer and a dispatcher; what the receiver got this time."""
    before = len(receiver.received)
    with unit_of_work(engine) as session:
        announce_consent_changes(session, consent=settings.consent)
    runner = build_dispatcher(engine, settings, unsubscribe_url=None)
    try:
        runner.drain()
    finally:
        runner.stop()
    return [b["data"] for b in receiver.received[before:] if b["type"] == "profile.consent_changed"]


def _key(engine: Engine, *scopes: str) -> dict[str, str]:
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "crm-sync", list(scopes))
    return {"Authorization": f"Bearer {key}"}


def _webhooks(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM outbox_messages WHERE kind = 'webhook'")).scalar_one())


PAPERLESS = {
    "type": "track",
    "userId": "u-ada",
    "event": "Delivery Preference Updated",
    "properties": {"document_type": "statements", "value": "electronic", "product": "CC-9"},
}
MAPPING = load_mapping(
    """
record_key: customer_no
identifiers: {email: email}
consent:
  legal_basis: consent
  choices:
    - {column: sms_ok, purpose: marketing, channel: sms}
"""
)


def test_a_change_from_every_way_in_reaches_the_destination_once_in_canonical_terms(
    client: TestClient,
    console: TestClient,  # noqa: F811  # the fixture imported above
    sign_in: SignIn,  # noqa: F811  # the fixture imported above
    engine: Engine,
    hook_settings: Settings,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    ada = person(client, engine, hook_settings)
    _subscribe(engine, hook_settings, receiver)
    assert _announced(engine, hook_settings, receiver) == []  # making Ada recorded no choice

    # The API.
    key = _key(engine, "profiles:write")
    choice = {"kind": "consent", "purpose": "marketing", "channel": "email", "value": "granted"}
    answer = client.post(f"/v1/profiles/{ada}/consent", headers=key, json=choice)
    assert answer.status_code == 201, answer.text
    [api] = _announced(engine, hook_settings, receiver)
    assert api == {
        "profile_id": ada, "choice_id": answer.json()["id"], "kind": "consent", "purpose": "marketing",
        "channel": "email", "topic": None, "product": None, "document_type": None, "value": "granted",
        "legal_basis": None, "effective_at": api["effective_at"], "expires_at": None,
        "source": {"surface": "api", "source_id": None, "event_id": None},
    }  # fmt: skip

    # The preference page's one-click unsubscribe (RFC 8058).
    link = client.post(f"/v1/profiles/{ada}/preference-link", headers=key)
    unsubscribed = client.post(f"{link.json()['url']}/unsubscribe", data={"List-Unsubscribe": "One-Click"})
    assert unsubscribed.status_code == 200, unsubscribed.text[:300]
    [page] = _announced(engine, hook_settings, receiver)
    assert (page["purpose"], page["channel"], page["value"], page["source"]["surface"]) == (
        "marketing", "email", "denied", "email"
    )  # fmt: skip

    # The console: an agent records what the customer said on the line.
    token = sign_in("agent")
    spoken = console.post(f"/console/customers/{ada}/preferences", data={
        "csrf_token": token, "purpose": "marketing", "channel": "phone", "value": "granted", "evidence": "yes to calls"
    })  # fmt: skip
    assert spoken.status_code == 200, spoken.text[:300]
    [agent] = _announced(engine, hook_settings, receiver)
    assert (agent["channel"], agent["value"], agent["legal_basis"], agent["source"]["surface"]) == (
        "phone", "granted", "consent", "console"
    )  # fmt: skip

    # A tracked event, through the worker's consent consumer.
    _, web = make_source(engine, "card-app", "mobile")
    send(client, web, PAPERLESS)
    drain(engine, hook_settings)
    [event] = _announced(engine, hook_settings, receiver)
    assert (event["kind"], event["document_type"], event["product"], event["value"]) == (
        "delivery", "statements", "CC-9", "electronic"
    )  # fmt: skip
    assert event["source"]["event_id"] is not None

    # An import's consent column, through the worker too.
    crm, _ = make_source(engine, "crm", "import")
    path = tmp_path / "consent.csv"
    path.write_text("customer_no,email,sms_ok\nC1,ada@example.com,no\n", encoding="utf-8")
    import_file(engine, "crm", path, MAPPING, consent=hook_settings.consent)
    drain(engine, hook_settings)
    [imported] = _announced(engine, hook_settings, receiver)
    assert (imported["channel"], imported["value"], imported["source"]["surface"]) == ("sms", "denied", "import")
    assert imported["source"]["source_id"] == crm.id
    assert imported["profile_id"] == ada  # the row's email is Ada's

    # Nothing twice: the feed taken again, the same event sent again, a rebuild that replays every event.
    assert _announced(engine, hook_settings, receiver) == []
    send(client, web, PAPERLESS)
    with unit_of_work(engine) as session:
        rebuild(session, Pipeline(hook_settings.identity, hook_settings.consent))
    drain(engine, hook_settings)
    second = _announced(engine, hook_settings, receiver)
    assert len(second) == 1  # the second event is a new statement of a choice: one version, announced once
    assert _announced(engine, hook_settings, receiver) == []
    assert len(set(receiver.ids)) == len(receiver.ids) == 6


def test_a_withdrawal_of_the_destinations_purpose_reaches_it_but_later_changes_do_not(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _subscribe(engine, hook_settings, receiver, purpose="analytics")

    def choose(purpose: str, value: str) -> None:
        with unit_of_work(engine) as session:
            record_choice(session, ada, kind="consent", purpose=purpose, value=value, actor="t", surface="api",
                          config=hook_settings.consent)  # fmt: skip

    choose("analytics", "denied")
    [withdrawn] = _announced(engine, hook_settings, receiver)
    assert (withdrawn["purpose"], withdrawn["value"]) == ("analytics", "denied")  # it must stop: it is told
    choose("marketing", "granted")
    assert _announced(engine, hook_settings, receiver) == []  # it may not hear of Ada otherwise
    choose("analytics", "granted")
    choose("marketing", "denied")
    announced = sorted((d["purpose"], d["value"]) for d in _announced(engine, hook_settings, receiver))
    assert announced == [("analytics", "granted"), ("marketing", "denied")]  # sent at once, in any order


def test_an_erased_persons_waiting_changes_are_not_announced(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _subscribe(engine, hook_settings, receiver)
    with unit_of_work(engine) as session:
        record_choice(session, ada, kind="consent", purpose="marketing", value="granted", actor="t", surface="api",
                      config=hook_settings.consent)  # fmt: skip
        announce_consent_changes(session, consent=hook_settings.consent)  # queued, not yet sent
        record_choice(session, ada, kind="consent", purpose="marketing", value="denied", actor="t", surface="api",
                      config=hook_settings.consent)  # fmt: skip
    with unit_of_work(engine) as session:
        erase_profile(session, open_request(session, "erasure", ada, requested_by="dpo").id)
    assert _webhooks(engine) == 0  # the waiting webhook was erased with her
    assert _announced(engine, hook_settings, receiver) == []  # and the change still in the feed is not announced


def test_a_rolled_back_take_gives_the_changes_back_and_the_worker_schedule_announces_them(
    client: TestClient, engine: Engine, hook_settings: Settings, receiver: Receiver
) -> None:
    ada = person(client, engine, hook_settings)
    _subscribe(engine, hook_settings, receiver)
    with unit_of_work(engine) as session:
        for value in ("granted", "denied"):
            record_choice(session, ada, kind="consent", purpose="marketing", value=value, actor="t", surface="api",
                          config=hook_settings.consent)  # fmt: skip
    taken: list[int] = []

    def fail_after_taking() -> None:
        with unit_of_work(engine) as session:
            taken.append(len(take_changes(session, "destinations")))
            raise RuntimeError("the announcer failed after taking")

    with pytest.raises(RuntimeError):
        fail_after_taking()
    assert taken == [2]
    ran = Worker(engine, hook_settings).schedule.run_due()
    assert ran["destinations.consent_changes"] == 2
    assert _webhooks(engine) == 2
    assert Worker(engine, hook_settings).schedule.run_due().get("destinations.consent_changes", 0) == 0


def test_a_change_committed_after_a_later_one_is_neither_skipped_nor_taken_twice(
    client: TestClient, engine: Engine, hook_settings: Settings
) -> None:
    if engine.dialect.name != "postgresql":
        return  # SQLite's writers take turns: rows commit in seq order, nothing can commit out of order
    ada = person(client, engine, hook_settings)

    def choose(session: Session, value: str) -> None:
        record_choice(session, ada, kind="consent", purpose="marketing", value=value, actor="t", surface="api",
                      config=hook_settings.consent)  # fmt: skip

    def take() -> list[str]:
        with unit_of_work(engine) as session:
            return [c.value for c in take_changes(session, "test-reader")]

    with unit_of_work(engine) as slow:
        choose(slow, "granted")  # the older transaction, still open
        with unit_of_work(engine) as quick:
            choose(quick, "denied")
        assert take() == []  # the later change waits: the older transaction may still commit below it
    assert take() == ["granted", "denied"]  # both once the older one ended, in transaction order
    assert take() == []
