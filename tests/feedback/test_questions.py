"""Surveys of several rated questions, on both databases: the file's questions and headline (errors naming line and
field), one page answering them all without a script, the API and the tracked event, the rollups per question, the
low-score task on the headline, and one-question files read as they always were. The built-in `csat_advice` asks
satisfaction (CSAT, the headline), effort (CES) and the waiting time (a custom 1-4 scale)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from seamline.access.service import create_api_key
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.config import BUILTIN_SURVEYS
from seamline.feedback.models import SurveyQuestionAnswer
from seamline.feedback.rollups import by_question, overall
from seamline.feedback.service import erase_person
from seamline.feedback.surveys import SurveyError, load_surveys, parse_survey
from tests.feedback.test_loop import _form
from tests.feedback.world import FeedbackWorld
from tests.triggers.world import START, rule_folder

TWO = """\
survey: visit_two
touchpoint: branch_visit
questions:
  - {key: effort, kind: ces, question: "How easy was it?"}
  - {key: overall, kind: nps, question: "Would you recommend us?"}
headline: overall
low_score: {at_most: 6, task: {title: Call a detractor}}
"""


def test_a_survey_of_several_questions_and_a_one_question_file() -> None:
    survey = parse_survey(TWO, "surveys/visit_two.yaml")
    assert [(q.key, q.kind, q.low, q.high) for q in survey.questions] == [("effort", "ces", 1, 7),
                                                                          ("overall", "nps", 0, 10)]  # fmt: skip
    assert (survey.headline, survey.kind, survey.question, survey.low, survey.high) == (
        "overall",
        "nps",
        "Would you recommend us?",
        0,
        10,
    )  # the headline speaks for the survey
    assert survey.title == "Would you recommend us?"
    assert [q.key for q in survey.others] == ["effort"]
    advice = load_surveys(BUILTIN_SURVEYS)["csat_advice"]
    waiting = advice.question_of("waiting")
    assert waiting is not None
    assert (waiting.kind, list(waiting.points), waiting.high_label) == ("custom", [1, 2, 3, 4], "No wait at all")
    single = load_surveys(BUILTIN_SURVEYS)["csat_case"]
    assert [(q.key, q.kind, q.text) for q in single.questions] == [("csat", "csat", single.question)]
    assert single.headline == "csat"


@pytest.mark.parametrize(
    ("change", "line", "field"),
    [
        (("touchpoint: branch_visit\n", "touchpoint: branch_visit\nkind: csat\n"), 3, "kind"),
        (("headline: overall", "headline: nope"), 6, "headline"),
        (("kind: ces", "kind: custom"), 4, "questions[0].scale.min"),
        (("key: overall", "key: effort"), 5, "questions[1].key"),
        (("kind: nps", "kind: stars"), 5, "questions[1].kind"),
        (("- {key: effort", "- {key: Effort"), 4, "questions[0].key"),
    ],
)
def test_a_bad_question_names_its_line_and_field(change: tuple[str, str], line: int, field: str) -> None:
    with pytest.raises(SurveyError) as raised:
        parse_survey(TWO.replace(*change), "surveys/x.yaml")
    assert (raised.value.line, raised.value.field) == (line, field), str(raised.value)


def test_a_custom_headline_is_refused() -> None:
    text = TWO.replace("kind: ces", "kind: custom, scale: {min: 1, max: 3}").replace("headline: overall",
                                                                                     "headline: effort")  # fmt: skip
    with pytest.raises(SurveyError) as raised:
        parse_survey(text, "surveys/x.yaml")
    assert raised.value.field == "headline"


def test_one_page_answers_every_question_and_the_headline_decides_the_task(
    engine: Engine, settings: Settings, client: TestClient, tmp_path: Path
) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {}))
    world.customer("u-1", first_name="Ada")
    invited = world.invite("u-1", "csat_advice", {"branch": "Leeds", "staff": "amir"})
    assert invited.url is not None
    path = re.sub(r"^https?://[^/]+", "", invited.url)
    page = client.get(path)
    assert page.status_code == 200
    assert "<script" not in page.text
    assert page.text.count("<fieldset") == 3
    assert page.text.count("<legend>") == 3
    assert "How was the waiting time before your appointment?" in page.text
    form = _form(page.text)
    assert form.scores == ["1", "2", "3", "4", "5", *map(str, range(1, 8)), "1", "2", "3", "4"]
    bad = client.post(path, data={**form.hidden, "score": "4", "score.waiting": "9"}, follow_redirects=False)
    assert bad.status_code == 400
    assert "from 1 to 4" in bad.text
    done = client.post(path, data={**form.hidden, "score": "2", "score.effort": "6", "score.waiting": "1"},
                       follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    [answer] = world.answers("u-1")
    assert (answer.score, answer.kind) == (2, "csat")
    assert dict(answer.scores) == {"satisfaction": 2, "effort": 6, "waiting": 1}
    [task] = [t for t in world.tasks() if t.created_by == "survey:csat_advice"]  # the headline's 2 is low
    assert task.context["scores"] == {"satisfaction": 2, "effort": 6, "waiting": 1}
    assert "How was the waiting time before your appointment? 1 of 4" in task.detail


def test_the_api_and_the_event_answer_several_questions_rolled_up_per_question(
    engine: Engine, settings: Settings, client: TestClient, tmp_path: Path
) -> None:
    world = FeedbackWorld(engine, settings, rule_folder(tmp_path, {}))
    for user in ("u-1", "u-2", "u-3"):
        world.customer(user)
    with unit_of_work(engine) as session:
        _view, key = create_api_key(session, "app", ["feedback:write", "feedback:read"])
    auth = {"Authorization": f"Bearer {key}"}
    p1, p2 = world.profile("u-1"), world.profile("u-2")
    refused = client.post("/v1/feedback/answers", headers=auth, json={"answers": [
        {"survey": "csat_advice", "score": 5, "profile_id": p1, "scores": {"effort": 6}},
        {"survey": "csat_advice", "score": 5, "profile_id": p1, "scores": {"effort": 9, "mood": 2}},
        {"survey": "csat_advice", "score": 5, "profile_id": p1, "scores": {"satisfaction": 4}},
    ]})  # fmt: skip
    assert refused.status_code == 400
    problems = [(e["index"], e["field"]) for e in refused.json()["error"]["errors"]]
    assert problems == [(1, "scores.effort"), (1, "scores.mood"), (2, "scores.satisfaction")]
    accepted = client.post("/v1/feedback/answers", headers=auth, json={"answers": [
        {"survey": "csat_advice", "score": 5, "profile_id": p1, "scores": {"effort": 6, "waiting": 2}},
        {"survey": "csat_advice", "score": 4, "profile_id": p2, "scores": {"effort": 3}},  # waiting skipped
        {"survey": "csat_case", "score": 4, "profile_id": p2},  # one question, as ever
    ]})  # fmt: skip
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["answers"][2]["scores"] == {"csat": 4}
    world.send("u-3", "Survey Answered", {"survey": "csat_advice", "score": 3, "scores": {"effort": 7.0, "waiting": 4}})
    [tracked] = world.answers("u-3")
    assert (tracked.via, dict(tracked.scores)) == ("event", {"satisfaction": 3, "effort": 7, "waiting": 4})

    since, until = min(START, utcnow()) - timedelta(days=1), max(START, utcnow()) + timedelta(hours=1)  # the event's
    with unit_of_work(engine, write=False) as session:
        rows = {(r.survey, r.question): r for r in by_question(session, since=since, until=until)}
        figures = {f.kind: f for f in overall(session, since=since, until=until)}
    assert set(rows) == {("csat_advice", "satisfaction"), ("csat_advice", "effort"), ("csat_advice", "waiting"),
                         ("csat_case", "csat")}  # fmt: skip
    assert (rows[("csat_advice", "satisfaction")].answers, rows[("csat_advice", "satisfaction")].score) == (3, 66.7)
    assert (rows[("csat_advice", "effort")].kind, rows[("csat_advice", "effort")].score) == ("ces", 5.3)  # 16/3
    assert rows[("csat_advice", "waiting")].histogram == ((2, 1), (4, 1))
    assert rows[("csat_advice", "waiting")].score == 3.0  # a custom scale's mean
    # The survey's own figures count its headline only: 4 CSAT answers (3 of csat_advice, 1 of csat_case).
    assert (figures["csat"].answers, figures["ces"].answers) == (4, 0)
    read = client.get("/v1/feedback/questions", headers=auth, params={"days": 1})
    assert read.status_code == 200
    assert {(r["survey"], r["question"]) for r in read.json()["rows"]} >= {("csat_advice", "waiting")}

    with unit_of_work(engine) as session:
        erase_person(session, [p1])
    with unit_of_work(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(SurveyQuestionAnswer)) == 6  # u-1's 3 rows gone
