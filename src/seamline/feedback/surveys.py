"""Survey definitions: YAML files read into typed surveys, with errors naming file, line and field. Pure.

A file holds one survey (docs/feedback.md):

```yaml
survey: csat_case                 # its key: lower-case letters, digits, '_' (default: the file's name)
kind: csat                        # csat (1-5), nps (0-10) or ces (1-7)
touchpoint: case_resolved         # case_resolved, journey_completed, journey_abandoned, branch_visit,
                                  # message_delivered, or any other lower-case name
title: How did we do?
question: How satisfied are you with how we handled your request?
scale: {min: 1, max: 5, low_label: Very dissatisfied, high_label: Very satisfied}   # optional; the kind's default
follow_up: What could we have done better?        # an optional free-text question
channels: [email, sms]            # tried in order: the first the person may be contacted on
link_days: 14                     # how long the link works
low_score:                        # optional: a score at or below `at_most` makes a task (the inner loop)
  at_most: 2
  task: {title: Call back about a low score, queue: service, priority: high, due_minutes: 240}
```

Or several rated questions, each on its own scale, one of them the **headline** (the survey's kind, its figure
in the CSAT/NPS/CES trends, and the score `low_score` is read on):

```yaml
questions:
  - {key: satisfaction, kind: csat, question: "How satisfied are you with your visit?"}
  - {key: effort, kind: ces, question: "How easy was it to do what you came for?"}
  - key: waiting
    kind: custom                  # a scale of your own: min and max (0-10 points apart at most) are needed
    question: How would you rate the waiting time?
    scale: {min: 1, max: 4, low_label: Far too long, high_label: No wait}
headline: satisfaction            # default: the first question; a csat, nps or ces question
```
A one-question file is a survey of one question whose key is its kind (`csat`, `nps` or `ces`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seamline.core.yamlfile import FileError, Reader, load_mapping

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
KINDS = ("csat", "nps", "ces")
QUESTION_KINDS = (*KINDS, "custom")  # a custom scale is summed up by its mean
MAX_QUESTIONS = 10
MAX_POINTS = 11  # a scale's points, as radio buttons in one row
# The scale each kind is read on: the figures (CSAT %, NPS, CES mean) are only comparable on these.
SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
LABELS = {
    "csat": ("Very dissatisfied", "Very satisfied"),
    "nps": ("Not at all likely", "Extremely likely"),
    "ces": ("Very difficult", "Very easy"),
}
TOUCHPOINTS = ("case_resolved", "journey_completed", "journey_abandoned", "branch_visit", "message_delivered")
CHANNELS = ("email", "sms", "push", "in_app")
PRIORITIES = ("urgent", "high", "normal", "low")
MAX_TEXT = 500
MAX_LINK_DAYS = 90
_TOP = {"survey", "kind", "touchpoint", "title", "question", "scale", "follow_up", "channels", "link_days",
        "low_score", "description", "questions", "headline"}  # fmt: skip
_QUESTION = {"key", "kind", "question", "scale"}
_SCALE = {"min", "max", "low_label", "high_label"}
_LOW = {"at_most", "task"}
_TASK = {"title", "queue", "priority", "due_minutes", "skills"}


class SurveyError(FileError):
    """A survey file that cannot be used: `file`, `line` and `field` say where."""


@dataclass(frozen=True, slots=True)
class LowScoreTask:
    """The task a low score makes: at or below `at_most`."""

    at_most: int
    title: str
    queue: str | None
    priority: str
    due_minutes: int | None
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Question:
    """One rated question: its key in the survey, its kind (csat, nps, ces or custom) and scale."""

    key: str
    kind: str
    text: str
    low: int
    high: int
    low_label: str
    high_label: str

    @property
    def points(self) -> range:
        return range(self.low, self.high + 1)


@dataclass(frozen=True, slots=True)
class Survey:
    key: str
    file: str
    kind: str
    touchpoint: str
    title: str
    question: str
    low: int  # the scale's ends
    high: int
    low_label: str
    high_label: str
    follow_up: str | None
    channels: tuple[str, ...]
    link_days: int
    low_score: LowScoreTask | None = None
    description: str = ""
    # Every rated question in the file's order, the headline among them (kind, question, low… above are its).
    questions: tuple[Question, ...] = ()
    headline: str = ""

    @property
    def points(self) -> range:
        return range(self.low, self.high + 1)

    def question_of(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    @property
    def others(self) -> tuple[Question, ...]:
        """The questions beside the headline."""
        return tuple(q for q in self.questions if q.key != self.headline)

    def is_low(self, score: int) -> bool:
        """Whether a score makes a follow-up task."""
        return self.low_score is not None and score <= self.low_score.at_most


class _Reader(Reader):
    def __init__(self, file: str) -> None:
        super().__init__(file, SurveyError)

    def text(self, parent: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
        value = parent.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(parent, key if key in parent else None, path, "text is needed")
        if len(value) > MAX_TEXT:
            raise self.fail(parent, key, path, f"at most {MAX_TEXT} characters")
        return value.strip()

    def whole(self, parent: Mapping[str, Any], key: str, path: str, low: int, high: int) -> int:
        value = parent.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self.fail(parent, key if key in parent else None, path, f"a whole number from {low} to {high}")
        return value


def _low_score(reader: _Reader, raw: Mapping[str, Any], low: int, high: int) -> LowScoreTask:
    spec = reader.mapping(raw, "low_score", "low_score", _LOW)
    at_most = reader.whole(spec, "at_most", "low_score.at_most", low, high - 1)
    if "task" not in spec:
        raise reader.fail(spec, None, "low_score.task", "is required: the task a low score makes")
    task = reader.mapping(spec, "task", "low_score.task", _TASK)
    title = reader.text(task, "title", "low_score.task.title") or ""
    queue = task.get("queue")
    if queue is not None and (not isinstance(queue, str) or not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", queue)):
        raise reader.fail(task, "queue", "low_score.task.queue", "a queue name (lower-case letters, digits, . _ -)")
    priority = task.get("priority", "high")
    if priority not in PRIORITIES:
        raise reader.fail(task, "priority", "low_score.task.priority", f"one of {', '.join(PRIORITIES)}")
    minutes = (
        reader.whole(task, "due_minutes", "low_score.task.due_minutes", 1, 100_000) if "due_minutes" in task else None
    )
    skills = task.get("skills", [])
    if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
        raise reader.fail(task, "skills", "low_score.task.skills", "a list of skill names")
    return LowScoreTask(at_most, title, queue, str(priority), minutes, tuple(skills))


def _question(reader: _Reader, raw: Mapping[str, Any], path: str, key: str, kind: Any) -> Question:
    """One rated question of `raw` (its `question` and `scale`), read on `kind`'s scale."""
    if kind not in QUESTION_KINDS:
        raise reader.fail(raw, "kind" if "kind" in raw else None, f"{path}kind", f"one of {', '.join(QUESTION_KINDS)}")
    text = reader.text(raw, "question", f"{path}question") or ""
    scale = reader.mapping(raw, "scale", f"{path}scale", _SCALE) if "scale" in raw else {}
    if kind == "custom":
        for bound in ("min", "max"):
            if bound not in scale:
                raise reader.fail(scale or raw, None, f"{path}scale.{bound}", "a custom scale names its min and max")
        low = reader.whole(scale, "min", f"{path}scale.min", 0, 100)
        high = reader.whole(scale, "max", f"{path}scale.max", low + 1, low + MAX_POINTS - 1)
        labels = (str(low), str(high))
    else:
        low, high = SCALES[kind]
        labels = LABELS[kind]
        for bound, expected in (("min", low), ("max", high)):
            if bound in scale and scale[bound] != expected:
                message = f"a {kind} survey is answered from {low} to {high}: {bound} must be {expected}"
                raise reader.fail(scale, bound, f"{path}scale.{bound}", message)
    low_label = reader.text(scale, "low_label", f"{path}scale.low_label", required=False) or labels[0]
    high_label = reader.text(scale, "high_label", f"{path}scale.high_label", required=False) or labels[1]
    return Question(key, str(kind), text, low, high, low_label, high_label)


def _questions(reader: _Reader, raw: Mapping[str, Any]) -> tuple[tuple[Question, ...], str]:
    """The survey's rated questions and its headline's key: one question (`kind`, `question`, `scale` at the top,
    its key the kind) or a `questions` list."""
    if "questions" not in raw:
        if "headline" in raw:
            raise reader.fail(raw, "headline", "headline", "a headline names one of the survey's questions")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise reader.fail(raw, "kind" if "kind" in raw else None, "kind", f"one of {', '.join(KINDS)}")
        return (_question(reader, raw, "", str(kind), kind),), str(kind)
    for single in ("kind", "question", "scale"):
        if single in raw:
            raise reader.fail(raw, single, single, "a survey of several questions gives each its own, in questions")
    items = raw["questions"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUESTIONS:
        raise reader.fail(raw, "questions", "questions", f"a list of 1 to {MAX_QUESTIONS} questions")
    out: list[Question] = []
    for i, item in enumerate(items):
        path = f"questions[{i}]."
        if not isinstance(item, Mapping):
            raise reader.fail(raw, "questions", f"questions[{i}]", "a mapping with key, kind and question")
        reader.known(item, _QUESTION, f"questions[{i}]")
        key = item.get("key")
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise reader.fail(item, "key" if "key" in item else None, f"{path}key",
                              "1-64 of a-z 0-9 _, starting with a letter")  # fmt: skip
        if any(q.key == key for q in out):
            raise reader.fail(item, "key", f"{path}key", f"question {key!r} is asked twice")
        out.append(_question(reader, item, path, key, item.get("kind")))
    headline = raw.get("headline", out[0].key)
    found = next((q for q in out if q.key == headline), None)
    if found is None:
        raise reader.fail(raw, "headline", "headline", f"one of the questions: {', '.join(q.key for q in out)}")
    if found.kind not in KINDS:
        raise reader.fail(raw, "headline" if "headline" in raw else "questions", "headline",
                          f"the headline is a {', '.join(KINDS)} question (its figure is the survey's)")  # fmt: skip
    return tuple(out), found.key


def parse_survey(text: str, file: str) -> Survey:
    """One survey from a YAML text; SurveyError naming the file, line and field at its first problem."""
    reader = _Reader(file)
    raw = load_mapping(
        text, file, SurveyError, "survey", "a survey file is a mapping with kind, touchpoint and question"
    )
    reader.known(raw, _TOP)
    stem = Path(file).stem
    key = str(raw.get("survey", stem))
    if not KEY.fullmatch(key):
        raise reader.fail(raw, "survey", "survey", "1-64 of a-z 0-9 _, starting with a letter")
    touchpoint = raw.get("touchpoint")
    if not isinstance(touchpoint, str) or not KEY.fullmatch(touchpoint):
        raise reader.fail(raw, "touchpoint" if "touchpoint" in raw else None, "touchpoint",
                          f"a touchpoint name such as {', '.join(TOUCHPOINTS)}")  # fmt: skip
    questions, headline = _questions(reader, raw)
    head = next(q for q in questions if q.key == headline)
    kind, question, low, high = head.kind, head.text, head.low, head.high
    title = reader.text(raw, "title", "title", required=False) or question
    follow_up = reader.text(raw, "follow_up", "follow_up", required=False)
    channels = raw.get("channels", ["email"])
    if not isinstance(channels, list) or not channels or any(c not in CHANNELS for c in channels):
        raise reader.fail(raw, "channels", "channels", f"a list of channels of {', '.join(CHANNELS)}")
    link_days = reader.whole(raw, "link_days", "link_days", 1, MAX_LINK_DAYS) if "link_days" in raw else 14
    low_score = _low_score(reader, raw, low, high) if "low_score" in raw else None
    description = raw.get("description", "")
    return Survey(
        key=key, file=file, kind=str(kind), touchpoint=touchpoint, title=title, question=question, low=low,
        high=high, low_label=head.low_label, high_label=head.high_label, follow_up=follow_up,
        channels=tuple(dict.fromkeys(str(c) for c in channels)), link_days=link_days, low_score=low_score,
        description=str(description), questions=questions, headline=headline,
    )  # fmt: skip


def load_surveys(folder: Path) -> dict[str, Survey]:
    """Every survey file of a folder (`*.yaml`, `*.yml`), by key; SurveyError at the first bad one or a key used
    twice."""
    if not folder.is_dir():
        raise SurveyError(str(folder), None, "surveys_dir", "no such folder")
    found: dict[str, Survey] = {}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        survey = parse_survey(path.read_text(encoding="utf-8"), str(path))
        if survey.key in found:
            raise SurveyError(
                str(path), None, "survey", f"survey {survey.key!r} is also defined in {found[survey.key].file}"
            )
        found[survey.key] = survey
    return found
