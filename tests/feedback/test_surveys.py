"""Survey files: the built-in ones load; a bad file is refused naming its file, line and field. And the figures
(CSAT %, NPS, CES mean) against hand-computed ones, and the signed links. Pure: no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from seamline.core.errors import Unauthorized
from seamline.feedback.config import BUILTIN_SURVEYS
from seamline.feedback.links import EXPIRED, NOT_VALID, sign_link, verify_link
from seamline.feedback.scoring import bucket_start, figure
from seamline.feedback.surveys import SurveyError, load_surveys, parse_survey
from seamline.triggers.rules import RuleError, parse_rule

GOOD = """\
kind: csat
touchpoint: case_resolved
question: How satisfied are you?
follow_up: What could we do better?
channels: [email, sms]
low_score:
  at_most: 2
  task: {title: Call back, queue: service, priority: high}
"""


def test_the_builtin_surveys_load_one_per_touchpoint() -> None:
    surveys = load_surveys(BUILTIN_SURVEYS)
    assert {s.touchpoint for s in surveys.values()} == {
        "case_resolved", "journey_completed", "journey_abandoned", "branch_visit", "message_delivered",
    }  # fmt: skip
    assert {s.kind for s in surveys.values()} == {"csat", "nps", "ces"}
    nps = surveys["nps_journey"]
    assert (nps.low, nps.high, list(nps.points)[:2]) == (0, 10, [0, 1])
    assert nps.is_low(4)
    assert not nps.is_low(5)


def test_a_good_file_reads_with_the_kinds_scale() -> None:
    survey = parse_survey(GOOD, "surveys/csat_case.yaml")
    assert (survey.key, survey.kind, survey.low, survey.high) == ("csat_case", "csat", 1, 5)
    assert survey.title == "How satisfied are you?"  # no title: the question
    assert survey.channels == ("email", "sms")
    assert survey.low_score is not None
    assert survey.low_score.queue == "service"


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        (GOOD + "colour: blue\n", 9, "colour", "unknown field"),
        (GOOD.replace("kind: csat", "kind: happiness"), 1, "kind", "one of csat, nps, ces"),
        (GOOD.replace("kind: csat", "kind: nps") + "scale: {min: 1}\n", 9, "scale.min", "must be 0"),
        (GOOD.replace("question: How satisfied are you?\n", ""), 1, "question", "text is needed"),
        (GOOD.replace("at_most: 2", "at_most: 5"), 7, "low_score.at_most", "from 1 to 4"),
        (GOOD.replace("priority: high", "priority: soon"), 8, "low_score.task.priority", "one of urgent"),
        (GOOD.replace("[email, sms]", "[email, pigeon]"), 5, "channels", "a list of channels"),
        (GOOD.replace("touchpoint: case_resolved", "touchpoint: Case Resolved!"), 2, "touchpoint", "touchpoint"),
        ("kind: [csat\n", 2, "yaml", "not valid YAML"),
    ],
)
def test_a_bad_file_names_its_file_line_and_field(text: str, line: int, field: str, words: str) -> None:
    with pytest.raises(SurveyError) as caught:
        parse_survey(text, "surveys/bad.yaml")
    error = caught.value
    assert (error.file, error.line, error.field) == ("surveys/bad.yaml", line, field), str(error)
    assert words in error.problem
    assert str(error).startswith(f"surveys/bad.yaml:{line}: {field}: ")


def test_a_survey_defined_twice_in_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD.replace("kind: csat", "survey: same\nkind: csat"), encoding="utf-8")
    (tmp_path / "b.yaml").write_text(GOOD.replace("kind: csat", "survey: same\nkind: csat"), encoding="utf-8")
    with pytest.raises(SurveyError, match="also defined in"):
        load_surveys(tmp_path)
    with pytest.raises(SurveyError, match="no such folder"):
        load_surveys(tmp_path / "missing")


def test_the_figures_match_hand_computed_ones() -> None:
    # CSAT: 4 and 5 of 1-5 are satisfied: 3 of 5 answers = 60 %.
    assert figure("csat", [5, 4, 3, 1, 4]).score == 60.0
    # NPS: promoters 9, 10, 10 (3); passives 7, 8; detractors 0, 6 (2): (3 - 2) / 7 = 14.3.
    assert figure("nps", [9, 10, 10, 7, 8, 0, 6]).score == 14.3
    assert figure("nps", [0, 1]).score == -100.0
    # CES: the mean.
    assert figure("ces", [7, 6, 2]).score == 5.0
    assert figure("ces", []).score is None
    assert figure("ces", []).answers == 0


def test_buckets_are_days_or_iso_weeks_starting_monday() -> None:
    sunday = date(2026, 12, 6)
    assert bucket_start(sunday, "day").isoformat() == "2026-12-06"
    assert bucket_start(sunday, "week").isoformat() == "2026-11-30"


def test_a_link_works_until_it_expires_and_only_as_signed() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    token = sign_link(41, now + timedelta(days=14), "s3cret")
    assert verify_link(token, "s3cret", now) == 41
    for forged in (token.replace("41.", "42.", 1), token + "x", "41.1.abc", "", "a.b.c", token.replace(".", "", 1)):
        with pytest.raises(Unauthorized, match=NOT_VALID):
            verify_link(forged, "s3cret", now)
    with pytest.raises(Unauthorized, match=NOT_VALID):
        verify_link(token, "another secret", now)
    with pytest.raises(Unauthorized, match=EXPIRED):
        verify_link(token, "s3cret", now + timedelta(days=15))


def test_a_rule_may_name_only_a_known_survey() -> None:
    rule = "on: {case: resolved}\ndo:\n  - survey: csat_case\n    data: {channel: sms}\n"
    parsed = parse_rule(rule, "rules/after-case.yaml", surveys=frozenset({"csat_case"}))
    [step] = parsed.steps
    assert (step.action, step.target, dict(step.data)) == ("survey", "csat_case", {"channel": "sms"})
    with pytest.raises(RuleError) as caught:
        parse_rule(rule.replace("csat_case", "csat_cas"), "rules/after-case.yaml", surveys=frozenset({"csat_case"}))
    assert (caught.value.line, caught.value.field) == (3, "do[0].survey")
    assert "no survey 'csat_cas'; known: csat_case" in str(caught.value)
