"""Correct and re-send: a statement that showed the wrong balance is corrected on the record (through the
corrections) and sent again through the outbox with the right balance; the new communication is linked to the
error, which closes. Both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import ExternalCommunication, log_external, queue_message
from seamline.communications.service import view as communication
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict
from seamline.errors.resending import correct_and_resend
from seamline.errors.service import timeline
from seamline.errors.views import ErrorView
from seamline.outbox.service import PENDING, entries
from seamline.pipeline.registry import Pipeline
from seamline.profiles.service import golden_traits
from tests.errors.builders import AGENT, POLICY, report
from tests.support.people import person

STATEMENT = {"first_name": "Ada", "product_name": "Current account", "balance": "£12.00"}


def _statement(engine: Engine, settings: Settings, profile_id: int) -> str:
    """Send the customer a statement through Seamline (so its template and fields are in the log)."""
    with unit_of_work(engine) as session:
        sent, _created = queue_message(
            session, profile_id, "statement_ready", STATEMENT, catalog=Catalog(settings.email.templates_dir),
            consent=settings.consent, source_system="core-banking", batch="2026-11-statements", channel="email",
        )  # fmt: skip
    return sent.communication_id


def _resend(engine: Engine, settings: Settings, error_id: int, value: str) -> ErrorView:
    with unit_of_work(engine) as session:
        return correct_and_resend(
            session, POLICY, error_id, value, actor=AGENT, pipeline=Pipeline(settings.identity, settings.consent),
            catalog=Catalog(settings.email.templates_dir), consent=settings.consent,
        )  # fmt: skip


def test_a_wrong_balance_is_corrected_and_the_statement_re_sent_with_it(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    wrong = _statement(engine, settings, ada)
    error = report(engine, [wrong], "balance", shown="£12.00", expected="£1,200.00")
    assert (error.severity, error.status) == ("high", "open")
    done = _resend(engine, settings, error.id, "£1,200.00")
    with unit_of_work(engine, write=False) as session:
        fixed = timeline(session, error.id)
        again = communication(session, str(done.resent_communication_id))
        first = communication(session, wrong)
        traits = {t.name: t.value for t in golden_traits(session, ada, {}, settings.survivorship)}
        waiting = [e.delivery_id for e in entries(session, PENDING)]
    assert done.status == "resolved"
    assert done.correction_event_id is not None
    assert (again.template, again.batch) == ("statement_ready", f"comm-error-{error.id}-resend")
    assert again.channel == first.channel  # the customer's own delivery choice, as the first time
    assert again.fields == {**STATEMENT, "balance": "£1,200.00"}  # the corrected value, the rest as sent
    assert first.fields["balance"] == "£12.00"  # the wrong one stays in the log as it was
    assert again.communication_id in waiting  # it leaves through the outbox
    assert traits["balance"] == "£1,200.00"  # the source value is corrected on the record
    assert [t.kind for t in fixed][-1] == "resent"
    assert fixed[-1].detail["communication_id"] == again.communication_id
    with pytest.raises(Conflict, match=r"re-sent already|closed"):
        _resend(engine, settings, error.id, "£1,200.00")  # once


def test_what_the_policy_or_the_log_does_not_allow_is_refused(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    wrong_person = report(engine, [_statement(engine, settings, ada)], "recipient")
    with pytest.raises(Conflict, match="privacy"):
        _resend(engine, settings, wrong_person.id, "someone else")  # a breach is compliance's, not re-sent
    with unit_of_work(engine) as session:  # another platform's letter: no template Seamline can send it from
        log_external(session, [ExternalCommunication("ext-1", ada, "statement", "paper", "print-house")])
    external = report(engine, ["ext-1"], "balance")
    with pytest.raises(Conflict, match="names no template"):
        _resend(engine, settings, external.id, "£1,200.00")
