"""Problems: errors of one cause grouped as they arrive, closed only with a cause and a fix, reopened by a new
report; blast radius and notices to everyone else the run reached, each one's outcome tracked."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.communications.service import ExternalCommunication, log_external
from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput
from seamline.errors.problems import blast_radius, close_problem, notify_recipients, problem_view, split
from seamline.errors.service import view
from seamline.privacy.service import erase_profile, open_request
from tests.errors.builders import AGENT, log_run, report
from tests.support.people import person


def test_three_wrong_balances_on_one_template_and_batch_make_one_problem_with_its_blast_radius(engine: Engine) -> None:
    ids = log_run(engine, "2026-11", 60)
    log_run(engine, "2026-11", 7, version="2", first_profile=3000)  # the next version of the template: not reached
    log_run(engine, "2026-11", 9, template="fee_notice", first_profile=4000)  # another template in the batch
    log_run(engine, "2026-12", 11, first_profile=6000)  # the same template in another batch
    first = report(engine, [ids[3]], "balance", shown="£12.00", expected="£1,200.00")
    assert first.problem_id is None  # one report is not yet a pattern
    second = report(engine, [ids[10]], "balance")
    third = report(engine, [ids[42]], "balance")
    assert second.problem_id is not None
    assert third.problem_id == second.problem_id
    with unit_of_work(engine, write=False) as session:
        assert view(session, first.id).problem_id == second.problem_id
        problem = problem_view(session, second.problem_id)
        radius = blast_radius(session, problem.id, limit=50)
        rest = blast_radius(session, problem.id, after_id=radius.recipients[-1].member.row_id, limit=50)
    assert (problem.grouped_by, problem.error_count, problem.status) == ("template_batch", 3, "open")
    assert (radius.total, radius.reported, radius.others) == (60, 3, 57)
    listed = [r.member.communication_id for r in radius.recipients + rest.recipients]
    assert sorted(listed) == sorted(ids)
    assert rest.next_after is None


def test_a_closed_problem_needs_its_cause_and_fix_and_reopens_with_a_flag(engine: Engine) -> None:
    ids = log_run(engine, "b", 5)
    a, b = report(engine, [ids[0]], "balance"), report(engine, [ids[1]], "balance")
    assert a.problem_id is None
    assert b.problem_id is not None
    with unit_of_work(engine) as session, pytest.raises(InvalidInput) as refused:
        close_problem(session, b.problem_id, root_cause=" ", corrective_action="", actor=AGENT)
    assert {e.field for e in refused.value.errors} == {"root_cause", "corrective_action"}
    with unit_of_work(engine) as session:
        closed = close_problem(
            session, b.problem_id, root_cause="feed sent pence as pounds", corrective_action="fixed the mapping",
            actor=AGENT,
        )  # fmt: skip
    assert (closed.status, closed.is_reopened) == ("closed", False)
    again = report(engine, [ids[2]], "balance")
    assert again.problem_id == b.problem_id
    with unit_of_work(engine, write=False) as session:
        reopened = problem_view(session, b.problem_id)
    assert (reopened.status, reopened.is_reopened, reopened.error_count) == ("open", True, 3)


def test_a_person_splits_errors_into_a_problem_of_their_own(engine: Engine) -> None:
    ids = log_run(engine, "b", 5)
    errors = [report(engine, [ids[i]], "balance") for i in range(3)]
    problem_id = errors[1].problem_id
    assert problem_id is not None
    with unit_of_work(engine) as session:
        new = split(session, problem_id, [errors[2].id], actor=AGENT)
        assert (new.grouped_by, new.error_count) == ("manual", 1)
        assert problem_view(session, problem_id).error_count == 2


def test_everyone_else_is_sent_a_notice_once_and_its_outcome_is_tracked(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    people = [person(client, engine, settings, user_id=f"u-{i}", email=f"p{i}@example.com") for i in range(3)]
    with unit_of_work(engine) as session:
        log_external(
            session,
            [
                ExternalCommunication(
                    f"c{i}",
                    pid,
                    "statement",
                    "email",
                    "print-house",
                    template="stmt",
                    template_version="1",
                    batch="nov",
                )
                for i, pid in enumerate(people)
            ],
        )
    report(engine, ["c0"], "balance")
    problem_id = report(engine, ["c1"], "balance").problem_id
    assert problem_id is not None
    catalog = Catalog(settings.email.templates_dir)
    with unit_of_work(engine) as session:
        done = notify_recipients(
            session, problem_id, catalog=catalog, consent=settings.consent, template="communication_correction",
            actor=AGENT,
        )  # fmt: skip
        assert done == (1, 0)  # only c2's person did not report it
    with unit_of_work(engine) as session:
        again = notify_recipients(
            session, problem_id, catalog=catalog, consent=settings.consent, template="communication_correction",
            actor=AGENT,
        )  # fmt: skip
        assert again == (0, 0)
        radius = blast_radius(session, problem_id)
    [told] = [r for r in radius.recipients if r.action is not None]
    assert (told.member.communication_id, told.action, told.notice_status) == ("c2", "notified", "queued")


def test_erasure_through_a_privacy_request_empties_what_a_report_said(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    ada = person(client, engine, settings)
    with unit_of_work(engine) as session:
        log_external(session, [ExternalCommunication("s-1", ada, "statement", "email", "print-house")])
    error = report(engine, ["s-1"], "balance", shown="£12.00", expected="£1,200.00", description="on the phone")
    with unit_of_work(engine) as session:
        request = open_request(session, "erasure", ada, requested_by="dpo")
        result = erase_profile(session, request.id).result
    assert result["communication_errors_erased"] == 1
    with unit_of_work(engine, write=False) as session:
        gone = view(session, error.id)
    assert (gone.shown, gone.expected, gone.description, gone.field, gone.harm) == (
        None,
        None,
        None,
        "balance",
        "financial",
    )
    with engine.connect() as conn:
        dumped = " ".join(str(r) for r in conn.execute(text("SELECT * FROM comm_errors")))
        dumped += " ".join(str(r) for r in conn.execute(text("SELECT * FROM comm_error_events")))
    assert "1,200" not in dumped
    assert "on the phone" not in dumped
