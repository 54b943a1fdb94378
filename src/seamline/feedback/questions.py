"""The rated questions of an answer: checked against their survey's scales, and stored one row each. Pure: a
survey and scores in, problems or rows out.

An answer gives the headline's score as `score` (what every one-question survey has always had) and the other
questions' scores in `scores` (question key → whole number); only the headline is required — a person may leave
the others unanswered. `scores` may repeat the headline's score, never contradict it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seamline.core.errors import FieldError
from seamline.feedback.surveys import Survey

FORM_PREFIX = "score."  # the page's radio groups of the questions beside the headline: score.KEY


def is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_scores(survey: Survey, score: Any, scores: Mapping[str, Any], index: int | None) -> list[FieldError]:
    """What is wrong with an answer's scores: the headline's on its scale, each other question known and on its."""
    errors = []
    if not is_whole(score) or score not in survey.points:
        errors.append(FieldError("score", "invalid", f"a whole number from {survey.low} to {survey.high}", index))
    for key, value in scores.items():
        question = survey.question_of(str(key))
        if question is None:
            known = ", ".join(q.key for q in survey.questions)
            errors.append(FieldError(f"scores.{key}", "unknown", f"no question {key!r}; known: {known}", index))
        elif not is_whole(value) or value not in question.points:
            message = f"a whole number from {question.low} to {question.high}"
            errors.append(FieldError(f"scores.{key}", "invalid", message, index))
        elif key == survey.headline and value != score:
            errors.append(FieldError(f"scores.{key}", "invalid", "the headline's score is `score`; they differ", index))
    return errors


def question_rows(survey: Survey, answer_id: int, score: int, scores: Mapping[str, int]) -> list[dict[str, Any]]:
    """One row per question answered, in the survey's order: the headline's `score`, the others' given scores."""
    given = {**scores, survey.headline: score}
    return [
        {"answer_id": answer_id, "survey": survey.key, "question": q.key, "kind": q.kind, "score": int(given[q.key])}
        for q in survey.questions
        if q.key in given
    ]


def scores_of_form(survey: Survey, form: Mapping[str, str]) -> tuple[dict[str, int], list[FieldError]]:
    """The page's answers to the questions beside the headline (`score.KEY` radio groups; left blank: skipped)."""
    out: dict[str, int] = {}
    errors = []
    for question in survey.others:
        raw = form.get(FORM_PREFIX + question.key, "")
        if not raw:
            continue
        if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 3:
            out[question.key] = int(raw)
        else:
            errors.append(FieldError(f"scores.{question.key}", "invalid", f"choose a score for: {question.text}"))
    return out, errors
