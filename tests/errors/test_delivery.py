"""Escalation notices leave through the outbox as email to the people the policy names, and the worker's clock
check escalates a missed acknowledgement on its own."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from seamline.communications.config import EmailConfig
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.errors import repository
from seamline.errors.config import ErrorsConfig
from seamline.errors.service import view
from seamline.outbox.config import OutboxConfig
from seamline.worker.dispatcher import build_dispatcher
from seamline.worker.schedule import Schedule, error_clocks
from tests.errors.builders import log_run, report
from tests.support.smtp import smtp_server


def test_a_wrong_recipient_tells_compliance_and_the_dpo_by_email(engine: Engine, settings: Settings) -> None:
    ids = log_run(engine, "nov", 3)
    error = report(engine, [ids[0]], "recipient")
    with smtp_server() as (mailbox, port):
        mail = settings.model_copy(
            update={"email": EmailConfig(smtp_port=port), "outbox": OutboxConfig(retry_schedule_seconds=[0.0])}
        )
        dispatcher = build_dispatcher(engine, mail, unsubscribe_url=None)
        try:
            assert dispatcher.drain() == 2
        finally:
            dispatcher.stop()
    got = sorted((m["To"], m["Subject"]) for m in mailbox.messages)
    assert got == [
        ("compliance@bank.example", f"[critical] communication error #{error.id}: new error reported"),
        ("dpo@bank.example", f"[critical] communication error #{error.id}: regulatory clock started"),
    ]
    assert all("someone" not in m.get_content() for m in mailbox.messages)


def test_the_worker_clock_check_escalates_a_missed_acknowledgement(engine: Engine, settings: Settings) -> None:
    ids = log_run(engine, "nov", 1)
    long_ago = report(engine, [ids[0]], "balance")
    with unit_of_work(engine) as session:  # reported two days ago: its acknowledgement clock has run out
        row = repository.error(session, long_ago.id)
        assert row is not None
        row.acknowledge_due_at = row.next_check_at = row.reported_at - timedelta(days=2)
    clocks = Schedule(engine, [error_clocks(ErrorsConfig(check_seconds=3600))])  # as the worker's schedule runs it
    assert clocks.run_due() == {"errors.clocks": 1}
    assert clocks.run_due() == {}  # not again before the interval
    with unit_of_work(engine, write=False) as session:
        assert view(session, long_ago.id).escalation_level == 1
