"""Escalation to destinations: a level that names a destination sends it a signed webhook through the outbox (to a
loopback receiver verifying Standard Webhooks signatures), once per error and reason, with no personal data; a
destination the policy names but nobody registered is noted on the timeline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.destinations.service import create_destination
from seamline.errors import repository
from seamline.errors.escalation import WEBHOOK_TYPE, run_due
from seamline.errors.policy import BUILTIN_POLICY, Policy, PolicyError, load_policy
from seamline.errors.service import Report, report_errors, timeline
from seamline.errors.views import ErrorView
from seamline.outbox.config import OutboxConfig
from seamline.worker.dispatcher import build_dispatcher
from tests.errors.builders import AGENT, log_run
from tests.support.webhooks import Receiver, webhook_receiver

# The head of operations (the second level of a high error) is also paged, and a chat room nobody registered.
PAGED = load_policy(
    BUILTIN_POLICY.read_text(encoding="utf-8").replace(
        '{name: Head of operations, notify: ["ops-head@bank.example"]}',
        '{name: Head of operations, notify: ["ops-head@bank.example"], destinations: [ops-pager, ops-chat]}',
    )
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as running:
        yield running


def _pager(engine: Engine, settings: Settings, receiver: Receiver) -> None:
    with unit_of_work(engine) as session:
        _view, secret = create_destination(
            session,
            "ops-pager",
            receiver.url,
            purpose="analytics",
            subscriptions=["profile.erased"],  # it subscribes to nothing of a person's: escalation names it
            consent=settings.consent,
        )
    receiver.secret = secret


def _report(engine: Engine, policy: Policy, communication_id: str) -> ErrorView:
    with unit_of_work(engine) as session:
        [made] = report_errors(session, policy, [Report([communication_id], "balance")], actor=AGENT, intake="api")
    return made


def _deliver(engine: Engine, settings: Settings) -> int:
    quick = settings.model_copy(update={"outbox": OutboxConfig(retry_schedule_seconds=[0.0], jitter=0.0)})
    runner = build_dispatcher(engine, quick, unsubscribe_url=None)
    try:
        return runner.drain()
    finally:
        runner.stop()


def test_a_missed_acknowledgement_pages_the_destination_of_the_next_level(
    engine: Engine, settings: Settings, receiver: Receiver
) -> None:
    _pager(engine, settings, receiver)
    ids = log_run(engine, "nov", 2)
    error = _report(engine, PAGED, ids[0])
    _deliver(engine, settings)
    assert receiver.received == []  # level 0 (the duty manager) is told by email only
    with unit_of_work(engine) as session:  # its acknowledgement was due two days ago (a webhook leaves at `now`)
        row = repository.error(session, error.id)
        assert row is not None
        row.acknowledge_due_at = row.next_check_at = row.reported_at - timedelta(days=2)
    late = utcnow()
    with unit_of_work(engine) as session:
        assert run_due(session, late, PAGED) == 2  # the head of operations by email, the pager by webhook
    with unit_of_work(engine) as session:
        assert run_due(session, late + timedelta(minutes=5), PAGED) == 0  # once
    _deliver(engine, settings)
    assert receiver.forged == 0
    [hook] = receiver.received
    assert hook["type"] == WEBHOOK_TYPE
    data = hook["data"]
    assert (data["error_id"], data["severity"], data["escalation_level"]) == (error.id, "high", 1)
    assert (data["reason"], data["console_path"]) == ("acknowledgement clock missed", f"/console/errors/{error.id}")
    assert "profile_id" not in data  # no person
    assert "100.00" not in str(hook)  # nothing the letter said
    with unit_of_work(engine, write=False) as session:
        told = [t.detail for t in timeline(session, error.id) if t.kind == "notified"]
    assert told[-1]["to"] == ["ops-head@bank.example", "destination ops-pager"]
    assert told[-1]["missing_destinations"] == ["ops-chat"]


def test_a_level_must_notify_someone_and_name_destinations_by_name() -> None:
    text = BUILTIN_POLICY.read_text(encoding="utf-8")
    nobody = text.replace('{name: Customer care lead, notify: ["care-lead@bank.example"]}', "{name: Nobody}", 1)
    with pytest.raises(PolicyError, match=r"severities\.low\.escalation\.1: Value error, a level notifies someone"):
        load_policy(nobody)
    bad_name = text.replace(
        '{name: Compliance on call, notify: ["compliance@bank.example"]}',
        '{name: Compliance on call, destinations: ["Pager Duty!"]}',
    )
    with pytest.raises(PolicyError, match=r"severities\.critical\.escalation\.0\.destinations: .*'Pager Duty!'"):
        load_policy(bad_name)
