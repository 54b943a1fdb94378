"""Intake, severity by policy, clocks, escalation and the agent's fix at first contact, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.service import ExternalCommunication, log_external
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, InvalidInput
from seamline.errors.escalation import NOTICE_KIND, run_due
from seamline.errors.fixing import fix_at_contact
from seamline.errors.problems import error_blast_radius
from seamline.errors.reports import clock_report, counts
from seamline.errors.service import acknowledge, view
from seamline.outbox.service import PENDING, entries
from seamline.pipeline.registry import Pipeline
from seamline.profiles.service import golden_traits
from tests.errors.builders import AGENT, POLICY, log_run, report
from tests.support.people import person


def notices(engine: Engine) -> list[tuple[str, str]]:
    """(address, reason) of every escalation notice waiting in the outbox."""
    with unit_of_work(engine, write=False) as session:
        return sorted((e.target, str(e.payload["reason"])) for e in entries(session, PENDING, kind=NOTICE_KIND))


def test_a_statement_sent_to_the_wrong_person_is_privacy_critical_with_a_72_hour_clock(engine: Engine) -> None:
    ids = log_run(engine, "2026-11-statements", 40)
    log_run(engine, "2026-10-statements", 5, first_profile=5000)  # another batch: not in the radius
    error = report(engine, [ids[7]], "recipient", shown="Mary Major's statement", expected="Jon Smith's statement")
    assert (error.harm, error.severity, error.owner_team) == ("privacy", "critical", "compliance")
    assert "privacy harm is critical" in error.severity_reason
    assert error.regulatory_clock == "personal_data_breach"
    assert error.regulatory_due_at == error.reported_at + timedelta(hours=72)
    assert error.regulatory_warn_at == error.regulatory_due_at - timedelta(hours=24)
    assert error.acknowledge_due_at == error.reported_at + timedelta(minutes=30)  # critical runs 24x7
    assert notices(engine) == [
        ("compliance@bank.example", "new error reported"),
        ("dpo@bank.example", "regulatory clock started"),
    ]
    with unit_of_work(engine, write=False) as session:
        radius = error_blast_radius(session, error.id, limit=100)
    assert (radius.total, radius.reported, radius.others) == (40, 1, 39)
    assert sorted(r.member.communication_id for r in radius.recipients) == sorted(ids)
    assert [r.member.communication_id for r in radius.recipients if r.is_reported] == [ids[7]]


def test_a_missed_acknowledgement_tells_the_next_level_once(engine: Engine) -> None:
    ids = log_run(engine, "b1", 3)
    error = report(engine, [ids[0]], "balance", shown="£1,000,000", expected="£1,000")
    assert (error.severity, error.escalation_level) == ("high", 0)
    assert notices(engine) == [("ops-duty@bank.example", "new error reported")]
    with unit_of_work(engine) as session:
        assert run_due(session, error.acknowledge_due_at - timedelta(seconds=1), POLICY) == 0
    with unit_of_work(engine) as session:
        assert run_due(session, error.acknowledge_due_at + timedelta(seconds=1), POLICY) == 1
    with unit_of_work(engine) as session:
        assert run_due(session, error.acknowledge_due_at + timedelta(minutes=5), POLICY) == 0  # told once
        seen = view(session, error.id)
    assert (seen.escalation_level, seen.acknowledge_missed, seen.resolve_missed) == (1, True, False)
    assert ("ops-head@bank.example", "acknowledgement clock missed") in notices(engine)
    with unit_of_work(engine) as session:
        assert run_due(session, error.resolve_due_at + timedelta(seconds=1), POLICY) == 1
    assert ("coo-office@bank.example", "resolution clock missed") in notices(engine)


def test_an_acknowledged_error_does_not_escalate_for_acknowledgement(engine: Engine) -> None:
    ids = log_run(engine, "b2", 1)
    error = report(engine, [ids[0]], "balance")
    with unit_of_work(engine) as session:
        acknowledge(session, error.id, actor=AGENT, now=error.reported_at + timedelta(minutes=1))
    with unit_of_work(engine) as session:
        assert run_due(session, error.acknowledge_due_at + timedelta(minutes=1), POLICY) == 0
        assert view(session, error.id).escalation_level == 0


def test_a_regulatory_deadline_is_warned_before_it_passes(engine: Engine) -> None:
    ids = log_run(engine, "b3", 1)
    error = report(engine, [ids[0]], "recipient")
    assert error.regulatory_warn_at is not None
    with unit_of_work(engine) as session:
        acknowledge(session, error.id, actor=AGENT, now=error.reported_at + timedelta(minutes=5))
    with unit_of_work(engine) as session:
        run_due(session, error.regulatory_warn_at + timedelta(seconds=1), POLICY)
    assert ("dpo@bank.example", "regulatory deadline approaching") in notices(engine)


def test_a_vulnerable_customer_and_many_affected_raise_the_severity(engine: Engine) -> None:
    ids = log_run(engine, "b4", 2)
    name = report(engine, [ids[0]], "first_name", is_vulnerable=True)
    assert (name.harm, name.severity) == ("cosmetic", "medium")
    assert "vulnerable customer (+1)" in name.severity_reason
    many = report(engine, [ids[1]], "email", customers_affected=1200)
    assert (many.harm, many.severity) == ("contact_data", "critical")


def test_bad_reports_are_refused_by_index_and_change_nothing(engine: Engine) -> None:
    from seamline.errors.service import Report, report_errors

    ids = log_run(engine, "b5", 1)
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refused:
        report_errors(
            session,
            POLICY,
            [Report([ids[0]], "balance"), Report(["nope"], "colour"), Report([ids[0]], "balance", harm="boring")],
            actor=AGENT,
            intake="import",
        )
    found = {(e.index, e.field, e.code) for e in refused.value.errors}
    assert found == {(1, "harm", "required"), (1, "communication_ids", "not_found"), (2, "harm", "invalid")}
    assert notices(engine) == []


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    return Pipeline(settings.identity, settings.consent)


def test_a_misspelt_name_is_fixed_at_contact_and_closed_with_its_correction(
    client: TestClient, engine: Engine, settings: Settings, pipeline: Pipeline
) -> None:
    ada = person(client, engine, settings)
    with unit_of_work(engine) as session:
        log_external(
            session,
            [ExternalCommunication("letter-1", ada, "notice", "paper", "print-house", template="welcome", batch="w1")],
        )
    error = report(engine, ["letter-1"], "first_name", shown="Adda", expected="Ada")
    assert (error.harm, error.severity, error.status) == ("cosmetic", "low", "open")
    assert notices(engine) == []  # the agent's to fix: nobody else is told yet
    with unit_of_work(engine) as session:
        fixed = fix_at_contact(session, POLICY, error.id, {"first_name": "Ada"}, actor=AGENT, pipeline=pipeline)
    assert (fixed.status, fixed.resolution, fixed.is_open) == ("fixed", "fixed at first contact", False)
    assert fixed.correction_event_id is not None
    with unit_of_work(engine, write=False) as session:
        traits = {t.name: t for t in golden_traits(session, ada, {}, settings.survivorship)}
    assert traits["first_name"].value == "Ada"
    with unit_of_work(engine) as session:
        assert run_due(session, error.resolve_due_at + timedelta(days=1), POLICY) == 0  # closed: clocks stopped


def test_a_financial_error_is_not_fixed_at_contact(
    client: TestClient, engine: Engine, settings: Settings, pipeline: Pipeline
) -> None:
    ada = person(client, engine, settings)
    with unit_of_work(engine) as session:
        log_external(session, [ExternalCommunication("s-1", ada, "statement", "email", "print-house")])
    error = report(engine, ["s-1"], "balance")
    with unit_of_work(engine) as session, pytest.raises(Conflict, match="escalated to operations"):
        fix_at_contact(session, POLICY, error.id, {"first_name": "Ada"}, actor=AGENT, pipeline=pipeline)


def test_reports_count_by_dimension_and_clocks_against_policy(engine: Engine) -> None:
    ids = log_run(engine, "b6", 3)
    quick, slow = report(engine, [ids[0]], "balance"), report(engine, [ids[1]], "balance")
    report(engine, [ids[2]], "first_name")
    with unit_of_work(engine) as session:
        acknowledge(session, quick.id, actor=AGENT, now=quick.reported_at + timedelta(minutes=10))
        acknowledge(session, slow.id, actor=AGENT, now=slow.acknowledge_due_at + timedelta(minutes=50))
    with unit_of_work(engine, write=False) as session:
        by_harm = dict(counts(session, "harm", quick.reported_at - timedelta(days=1)))
        high = next(c for c in clock_report(session, quick.reported_at - timedelta(days=1)) if c.severity == "high")
    assert by_harm == {"financial": 2, "cosmetic": 1}
    assert (high.errors, high.acknowledged, high.acknowledged_in_time) == (2, 2, 1)
    slow_minutes = (slow.acknowledge_due_at + timedelta(minutes=50) - slow.reported_at).total_seconds() / 60
    assert high.median_acknowledge_minutes == round((10 + slow_minutes) / 2, 1)  # wall-clock minutes


def test_the_queue_pages_by_its_key_through_ties_without_skipping_or_repeating(engine: Engine) -> None:
    from seamline.errors.service import QueueKey, Report, error_queue, report_errors

    ids = log_run(engine, "b7", 8)
    with unit_of_work(engine) as session:  # one call, one moment: equal severities get equal deadlines (ties)
        report_errors(
            session, POLICY, [Report([i], "first_name" if n % 3 else "balance") for n, i in enumerate(ids)],
            actor=AGENT, intake="import",
        )  # fmt: skip
    with unit_of_work(engine, write=False) as session:
        whole = [e.id for e in error_queue(session, limit=50)]
        pages, after = [], None
        while page := error_queue(session, limit=3, after=after):
            pages += [e.id for e in page]
            after = QueueKey.parse(QueueKey.of(page[-1]).token())  # through the link's text and back
        highs = [e.id for e in error_queue(session, severity="high", limit=2)]
        more = error_queue(session, severity="high", limit=2, after=QueueKey.of(view(session, highs[-1])))
        every_high = [e.id for e in error_queue(session, severity="high", limit=50)]
    assert len(whole) == 8
    assert pages == whole
    assert highs + [e.id for e in more] == every_high  # a filtered queue pages by the same key
    assert len(every_high) == 3  # the three balances
    with pytest.raises(InvalidInput):
        QueueKey.parse("1.2")
