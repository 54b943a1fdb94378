"""The loop end to end: a resolved case sends a survey through the triggers and the outbox, the customer answers
on the page behind the signed link, the answer keeps what it rated after the profile and the case change, and the
low score makes a follow-up task; the cool-down holds across email and SMS; consent picks the channel."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.audit.service import entries
from seamline.cases.config import CasesConfig
from seamline.cases.service import open_case
from seamline.cases.workflow import assign, change_status
from seamline.config import Settings
from seamline.consent.service import record_choice
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.rollups import rollup
from tests.feedback.world import FeedbackWorld
from tests.triggers.world import rule_folder

AFTER_A_CASE = """
name: csat-after-case
on: {case: resolved}
once: "{case_id}"
do: {survey: csat_case}
"""
AFTER_A_VISIT = """
name: csat-after-visit
on: {event: Branch Visit}
once: "{visit_id}"
do: {survey: csat_branch}
"""
CONFIG = CasesConfig()


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.scores: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"] or ""] = a["value"] or ""
        if tag == "input" and a.get("type") == "radio":
            self.scores.append(a["value"] or "")


def _form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def _resolved_case(engine: Engine, profile: int, agent: str) -> int:
    with unit_of_work(engine) as session:
        case = open_case(session, CONFIG, profile_id=profile, subject="Card blocked abroad", channel="phone",
                         actor=agent, surface="console", assignee=agent)  # fmt: skip
        change_status(session, CONFIG, case.id, "resolved", actor=agent, surface="console")
    return case.id


def test_a_resolved_case_is_surveyed_answered_on_the_page_and_a_low_score_makes_a_task(
    engine: Engine, settings: Settings, client: TestClient, tmp_path: Path
) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {"case": AFTER_A_CASE}))
    world.customer("u-1", first_name="Ada")
    profile = world.profile("u-1")
    world.run_due(utcnow())  # the triggers start reading the cases' changes from here
    case_id = _resolved_case(engine, profile, "alex")
    world.run_due(utcnow())
    [step] = world.steps("u-1")
    assert (step.action, step.target, step.status) == ("survey", "csat_case", "done"), step.result
    [message] = [c for c in world.communications("u-1") if c.template == "survey_invitation"]
    assert (message.type, message.channel, message.communication_id) == ("survey", "email", step.result)
    path = re.sub(r"^https?://[^/]+", "", str(message.fields["survey_url"]))
    assert path.startswith("/survey/")

    page = client.get(path)
    assert page.status_code == 200, page.text
    assert "Ada" in page.text
    assert "Card blocked abroad" in page.text
    assert "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    form = _form(page.text)
    assert form.scores == ["1", "2", "3", "4", "5"]
    # A score off the scale is refused on the page, naming what to do; nothing is recorded.
    bad = client.post(path, data={**form.hidden, "score": "9"}, follow_redirects=False)
    assert bad.status_code == 400
    assert "from 1 to 5" in bad.text
    assert world.answers("u-1") == []
    done = client.post(path, data={**form.hidden, "score": "1", "comment": "I waited a week"}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, path)
    assert "your answer has been recorded" in client.get(path).text
    again = client.post(path, data={**_form(page.text).hidden, "score": "5"}, follow_redirects=False)
    assert again.status_code == 409  # one answer per invitation

    # Later the customer is renamed and the case goes to another agent: the answer still rates what it rated.
    world.customer("u-1", first_name="Adaline")
    with unit_of_work(engine) as session:
        assign(session, CONFIG, case_id, "blair", actor="sam", surface="console")
    [answer] = world.answers("u-1")
    assert (answer.score, answer.comment, answer.via, answer.survey) == (1, "I waited a week", "page", "csat_case")
    assert answer.snapshot["customer"] == {"name": "Ada"}
    assert answer.snapshot["case"]["agent"] == "alex"
    assert answer.snapshot["agent"] == "alex"
    assert answer.snapshot["case"]["status"] == "resolved"

    # The inner loop: a task for a person with the context.
    [task] = [t for t in world.tasks() if t.created_by == "survey:csat_case"]
    assert (task.id, task.case_id, task.priority, task.queue) == (answer.task_id, case_id, "high", "service")
    assert "I waited a week" in task.detail
    assert task.context["snapshot"]["case"]["agent"] == "alex"
    assert task.communication_ids == ()  # a case survey rates the case, not a message

    # The outer loop: the answer counts for alex, beside the case of the same person.
    with unit_of_work(engine, write=False) as session:
        [row] = rollup(session, by="agent", since=utcnow() - timedelta(days=1), until=utcnow() + timedelta(hours=1))
        audit = entries(session, subject_type="profile", subject_id=profile, limit=50)
    assert (row.key, row.answers, row.unhappy, row.people_with_cases, row.cases) == ("alex", 1, 1, 1, 1)
    assert [(f.kind, f.score) for f in row.figures] == [("csat", 0.0)]
    # The page's read and the answer are audited as the customer themself.
    by_customer = [e for e in audit if e.actor == f"profile:{profile}"]
    assert {e.action for e in by_customer} == {"read", "change"}


def test_a_link_that_is_altered_or_expired_shows_a_plain_page(
    engine: Engine, settings: Settings, client: TestClient, tmp_path: Path
) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {}))
    world.customer("u-2")
    invited = world.invite("u-2", "csat_case", {}, at=utcnow() - timedelta(days=15))
    assert invited.url is not None
    path = re.sub(r"^https?://[^/]+", "", invited.url)
    expired = client.get(path)
    assert expired.status_code == 410
    assert "expired" in expired.text
    forged = client.get(path[:-3] + "abc")
    assert forged.status_code == 401
    assert "does not work" in forged.text
    assert client.post(path, data={"score": "5"}).status_code == 410


def test_the_cool_down_counts_every_channel(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {"visit": AFTER_A_VISIT}))
    world.send("u-3", traits={"email": "u-3@example.com", "phone": "+447911123456", "first_name": "Grace"})
    world.send("u-3", "Branch Visit", {"visit_id": "v1", "branch": "Leeds", "staff": "priya"})
    [first] = world.steps("u-3")
    [sms] = [c for c in world.communications("u-3") if c.template == "survey_invitation"]
    assert (sms.channel, first.result) == ("sms", sms.communication_id)  # the survey's first channel
    # A second visit the next day: surveyed by SMS yesterday, so no survey, by SMS or by email.
    world.now += timedelta(days=1)
    world.send("u-3", "Branch Visit", {"visit_id": "v2", "branch": "Leeds"})
    second = next(s for s in world.steps("u-3") if s.id != first.id)
    assert second.result is not None
    assert second.result.startswith("not sent: cool-down: surveyed by sms")
    by_email = world.invite("u-3", "csat_case", {}, channel="email")
    assert by_email.invitation is None
    assert by_email.skipped is not None
    assert "cool-down" in by_email.skipped
    assert len([c for c in world.communications("u-3") if c.template == "survey_invitation"]) == 1
    # After the cool-down (30 days by default) the person may be asked again, by email this time.
    later = world.invite("u-3", "csat_case", {}, channel="email", at=world.now + timedelta(days=31))
    assert later.invitation is not None
    assert later.invitation.channel == "email"


def test_consent_decides_the_channel(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {}))
    world.send("u-4", traits={"email": "u-4@example.com", "phone": "+447911123457"})
    with unit_of_work(engine) as session:
        record_choice(session, world.profile("u-4"), kind="consent", purpose="service", channel="sms",
                      value="denied", actor="customer", surface="web", config=settings.consent)  # fmt: skip
    invited = world.invite("u-4", "csat_branch", {"branch": "York"})  # sms first, but sms is denied
    assert invited.invitation is not None
    assert invited.invitation.channel == "email"
    world.send("u-5", traits={"phone": "+447911123458"})
    with unit_of_work(engine) as session:
        record_choice(session, world.profile("u-5"), kind="consent", purpose="service", channel="sms",
                      value="denied", actor="customer", surface="web", config=settings.consent)  # fmt: skip
    nowhere = world.invite("u-5", "csat_branch", {})
    assert nowhere.invitation is None
    assert nowhere.skipped is not None
    assert nowhere.skipped.startswith("no channel may be used")
