"""The demo bank's communication errors: a statement batch, a misspelt name, three wrong balances as one problem
and a statement sent to the wrong person."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.communications.templates import Catalog
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.demo.comm_errors import report_demo_errors
from seamline.errors.problems import blast_radius
from seamline.errors.resending import correct_and_resend
from seamline.errors.service import error_queue
from seamline.pipeline.registry import Pipeline
from tests.errors.builders import AGENT, POLICY
from tests.support.people import person


def test_the_demo_reports_five_errors_and_one_problem(client: TestClient, engine: Engine, settings: Settings) -> None:
    customers = [
        (person(client, engine, settings, user_id=f"u-{i}", email=f"d{i}@example.com"), "Ada") for i in range(6)
    ]
    assert report_demo_errors(engine, POLICY, customers[:4]) == 0  # too few customers for the story
    assert report_demo_errors(engine, POLICY, customers) == 5
    with unit_of_work(engine, write=False) as session:
        errors = error_queue(session)
        [problem_id] = {e.problem_id for e in errors if e.problem_id is not None}
        radius = blast_radius(session, problem_id)
    assert [e.severity for e in errors] == ["critical", "high", "high", "high", "low"]
    assert next(e for e in errors if e.harm == "cosmetic").shown == "Adaa"
    assert (radius.total, radius.reported) == (6, 3)
    wrong = next(e for e in errors if e.harm == "financial" and e.shown == "£12.40")
    with unit_of_work(engine) as session:  # what the statement said is in the log: it can be corrected and re-sent
        again = correct_and_resend(
            session, POLICY, wrong.id, "£1,240.00", actor=AGENT, pipeline=Pipeline(settings.identity, settings.consent),
            catalog=Catalog(settings.email.templates_dir), consent=settings.consent,
        )  # fmt: skip
    assert (again.status, again.resent_communication_id is not None) == ("resolved", True)
