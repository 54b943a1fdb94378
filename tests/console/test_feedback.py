"""The feedback page (rollups for the roles that read reports, never a person) and the answers on the customer
page, in the page's audit entry."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.service import AnswerInput, record_answers
from seamline.worker.triggers import feedback_setup
from tests.console.conftest import SignIn
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


def _answered(console: TestClient, engine: Engine, settings: Settings) -> int:
    _, write = make_source(engine, "website", "web")
    send(
        console,
        write,
        {"type": "identify", "userId": "u-ada", "traits": {"email": "ada@example.com", "first_name": "Ada"}},
    )
    drain(engine, settings)
    ada = profile_holding(engine, "user_id:u-ada")
    answers = [
        AnswerInput(
            "csat_branch", 2, "Nobody <b>greeted</b> me", profile_id=ada, about={"branch": "Leeds", "staff": "priya"}
        ),
        AnswerInput("nps_journey", 10, None, profile_id=ada),
    ]
    with unit_of_work(engine) as session:
        record_answers(session, feedback_setup(settings), answers, via="api", now=utcnow())
    return ada


def test_the_feedback_page_shows_rollups_to_report_readers_only(
    console: TestClient, engine: Engine, settings: Settings, sign_in: SignIn
) -> None:
    _answered(console, engine, settings)
    sign_in("analyst")
    page = console.get("/console/reports/feedback?days=7")
    assert page.status_code == 200, page.text
    assert "priya" in page.text
    assert "Leeds" not in page.text
    assert "Ada" not in page.text
    assert "greeted" not in page.text
    assert "NPS 100.0" in page.text
    assert "CSAT 0.0 %" in page.text
    assert 'href="/console/reports/feedback"' in console.get("/console/reports").text  # in the one reports area
    assert console.get("/console/reports/feedback?days=0").status_code == 400
    sign_in("agent")
    assert console.get("/console/reports/feedback").status_code == 403


def test_the_customer_page_lists_the_answers_and_audits_them(
    console: TestClient, engine: Engine, settings: Settings, sign_in: SignIn
) -> None:
    ada = _answered(console, engine, settings)
    sign_in("agent")
    page = console.get(f"/console/customers/{ada}")
    assert page.status_code == 200
    assert "Survey answers" in page.text
    assert "Nobody &lt;b&gt;greeted&lt;/b&gt; me" in page.text
    assert "agent priya" in page.text
    with unit_of_work(engine, write=False) as session:
        [entry] = [
            e for e in entries(session, subject_type="profile", subject_id=ada) if e.detail.get("view") == "console"
        ]
    assert len(entry.detail["survey_answers"]) == 2


def test_the_feedback_tables_download_as_csv_and_json(
    console: TestClient, engine: Engine, settings: Settings, sign_in: SignIn
) -> None:
    _answered(console, engine, settings)
    sign_in("analyst")
    page = console.get("/console/reports/feedback?days=7").text
    links = {a.split('"')[0].replace("&amp;", "&") for a in page.split('href="/console/reports/feedback?')[1:]}
    downloads = sorted(link for link in links if "format=" in link)
    assert len(downloads) == 2 * 7  # the trend, the questions and one table per dimension
    for link in downloads:
        answer = console.get(f"/console/reports/feedback?{link}")
        assert answer.status_code == 200, link
        assert answer.headers["content-disposition"].startswith("attachment; filename=")
    agents = console.get("/console/reports/feedback", params={"days": 7, "table": "agent", "format": "json"}).json()
    assert {row["key"] for row in agents} == {"priya", None}  # None: the answers with no agent
    assert all("figures" not in row for row in agents)  # a score per kind is a column of its own
    questions = console.get("/console/reports/feedback", params={"days": 7, "table": "question", "format": "json"})
    assert all("histogram" not in row and row["answers"] for row in questions.json())  # a column per score
    assert console.get("/console/reports/feedback", params={"table": "bogus", "format": "csv"}).status_code == 400
