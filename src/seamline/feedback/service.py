"""Rules of feedback: invite a person to a survey at a touchpoint (consent, the cross-channel cool-down, a snapshot
of what they rate, the invitation through the outbox), record an answer (from the page, the API or a tracked
event), and the inner loop: a low score makes a follow-up task with the context. Services only flush; the caller's
unit of work commits."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from seamline.cases.config import CasesConfig
from seamline.cases.sla import BusinessCalendar
from seamline.communications.reachability import contact_points
from seamline.communications.service import queue_message
from seamline.communications.templates import Catalog
from seamline.consent.config import ConsentConfig
from seamline.consent.service import may_contact_profile
from seamline.core.clock import isoformat_z
from seamline.core.errors import Conflict, FieldError, Gone, InvalidInput, NotFound
from seamline.core.views import view_of
from seamline.feedback import repository
from seamline.feedback.config import FeedbackConfig
from seamline.feedback.links import sign_link
from seamline.feedback.models import SurveyAnswer, SurveyInvitation
from seamline.feedback.questions import check_scores, question_rows, scores_of_form
from seamline.feedback.snapshot import grouping, take_snapshot
from seamline.feedback.surveys import Survey, load_surveys
from seamline.identity.service import active_header, profile_members
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.tasks.config import TasksConfig
from seamline.tasks.service import TaskInput, create_task

MAX_COMMENT = 2000
VIA = ("page", "api", "event")


@dataclass(frozen=True, slots=True)
class FeedbackSetup:
    """What feedback needs from the rest of Seamline: the surveys, the cool-down, the template and consent rules,
    where follow-up tasks go, and how links are signed and addressed."""

    surveys: Mapping[str, Survey]
    config: FeedbackConfig = field(default_factory=FeedbackConfig)
    consent: ConsentConfig = field(default_factory=ConsentConfig)
    tasks: TasksConfig = field(default_factory=TasksConfig)
    calendar: BusinessCalendar = field(default_factory=lambda: CasesConfig().calendar.calendar())
    cases: CasesConfig = field(default_factory=CasesConfig)
    survivorship: SurvivorshipConfig = field(default_factory=SurvivorshipConfig)
    catalog: Catalog | None = None  # None: invitations cannot be sent (answers still can be recorded)
    signing: Callable[[], str] = field(default=lambda: "", repr=False)  # the secret, read (or made) on first use
    public_url: str = ""

    @property
    def secret(self) -> str:
        return self.signing()

    @classmethod
    def of(cls, config: FeedbackConfig, **parts: Any) -> FeedbackSetup:
        """The setup of a configuration: its survey files read now (SurveyError on a bad one)."""
        return cls(load_surveys(config.surveys_dir), config, **parts)

    def survey(self, key: str, field_name: str = "survey", index: int | None = None) -> Survey:
        found = self.surveys.get(key)
        if found is None:
            known = ", ".join(sorted(self.surveys)) or "none"
            raise InvalidInput([FieldError(field_name, "unknown", f"no survey {key!r}; known: {known}", index)])
        return found


@dataclass(frozen=True, slots=True)
class InvitationView:
    id: int
    survey: str
    kind: str
    touchpoint: str
    profile_id: int
    channel: str
    communication_id: str | None
    snapshot: Mapping[str, Any]
    sent_at: datetime
    expires_at: datetime
    answered_at: datetime | None

    @classmethod
    def of(cls, row: SurveyInvitation) -> InvitationView:
        return view_of(cls, row, snapshot=dict(row.snapshot or {}))


@dataclass(frozen=True, slots=True)
class Invited:
    """What an invitation came to: sent (with its invitation and link), or not, with the reason."""

    invitation: InvitationView | None
    url: str | None = None
    skipped: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerView:
    id: int
    invitation_id: int | None
    survey: str
    kind: str
    touchpoint: str
    profile_id: int
    score: int
    comment: str | None
    via: str
    snapshot: Mapping[str, Any]
    task_id: int | None
    answered_at: datetime
    scores: Mapping[str, int] = field(default_factory=dict)  # every question answered, the headline's included

    @classmethod
    def of(cls, row: SurveyAnswer, scores: Mapping[str, int] | None = None) -> AnswerView:
        return view_of(
            cls, row, snapshot=dict(row.snapshot or {}),
            scores=dict(scores) if scores is not None else {row.kind: row.score},
        )  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "invitation_id": self.invitation_id, "survey": self.survey, "kind": self.kind,
            "touchpoint": self.touchpoint, "profile_id": self.profile_id, "score": self.score,
            "comment": self.comment, "via": self.via, "snapshot": dict(self.snapshot), "task_id": self.task_id,
            "answered_at": isoformat_z(self.answered_at), "scores": dict(self.scores),
        }  # fmt: skip


def _channel(
    session: Session, profile_id: int, channels: Sequence[str], purpose: str, consent: ConsentConfig
) -> tuple[str | None, list[str]]:
    """The first channel, in order, the person is reachable on and consents to be contacted by for `purpose`."""
    reasons: list[str] = []
    points = contact_points(session, profile_id, list(channels))
    for channel in channels:
        point = points[channel]
        if not point.reach.reachable:
            reasons.append(point.reach.reason)
            continue
        decision = may_contact_profile(
            session, profile_id, purpose, channel, reachability={channel: point.reach}, config=consent
        )
        if decision.allowed:
            return channel, reasons
        reasons.append(f"{channel}: " + "; ".join(decision.reasons))
    return None, reasons


def invite(
    session: Session,
    setup: FeedbackSetup,
    profile_id: int,
    survey_key: str,
    *,
    about: Mapping[str, Any],
    now: datetime,
    channel: str | None = None,
    key: str | None = None,
) -> Invited:
    """Send a person a survey about a touchpoint, unless they were surveyed within the cool-down on any channel or
    may not be contacted on any of the survey's channels. `about` holds the touchpoint's ids and properties; `key`
    makes a retried call send once."""
    survey = setup.survey(survey_key)
    if channel is not None and channel not in survey.channels:
        raise InvalidInput(
            [FieldError("channel", "invalid", f"survey {survey.key!r} is sent by {', '.join(survey.channels)}")]
        )
    if key is not None and (done := repository.invitation_by_key(session, key)) is not None:
        return Invited(InvitationView.of(done))
    if setup.catalog is None or not setup.secret:
        raise NotFound("invitations cannot be sent: no templates or signing secret configured")
    template = setup.catalog.get(setup.config.template)
    pid = int(active_header(session, profile_id).id)
    # The person's cool-down row is locked until this transaction ends: a second worker deciding a survey for the
    # same person waits here, then sees this one's invitation.
    held = repository.contact(session, [pid], lock=True)
    last = held[0] if held else None
    if last is not None and last.last_surveyed_at > now - timedelta(days=setup.config.cooldown_days):
        return Invited(None, skipped=f"cool-down: surveyed by {last.channel} at {isoformat_z(last.last_surveyed_at)}")
    chosen, reasons = _channel(session, pid, [channel] if channel else survey.channels, template.purpose, setup.consent)
    if chosen is None:
        return Invited(None, skipped="no channel may be used: " + "; ".join(reasons))
    snapshot = take_snapshot(session, pid, survey.touchpoint, about, cases=setup.cases,
                             survivorship=setup.survivorship, now=now)  # fmt: skip
    expires_at = (now + timedelta(days=survey.link_days)).replace(microsecond=0)
    row = repository.add_invitation(session, {
        "survey": survey.key, "kind": survey.kind, "touchpoint": survey.touchpoint, "profile_id": pid,
        "origin_profile_id": pid, "channel": chosen, "idempotency_key": key, "snapshot": snapshot, "sent_at": now,
        "expires_at": expires_at,
    })  # fmt: skip
    url = f"{setup.public_url.rstrip('/')}/survey/{sign_link(row.id, expires_at, setup.secret)}"
    name = (snapshot.get("customer") or {}).get("name") or ""
    data = {"first_name": name, "survey_title": survey.title, "survey_question": survey.question, "survey_url": url}
    message, _ = queue_message(
        session, pid, template.name, data, catalog=setup.catalog, consent=setup.consent, batch=f"survey:{survey.key}",
        campaign=survey.key, idempotency_key=f"survey-invitation:{row.id}", channel=chosen,
    )  # fmt: skip
    row.communication_id = message.communication_id
    if last is None:
        repository.add_contact(session, pid, now, chosen)
    else:
        last.last_surveyed_at, last.channel = now, chosen
    session.flush()
    return Invited(InvitationView.of(row), url)


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """One answer: to an invitation (its snapshot is the one kept), or about a touchpoint named in `about`. `score`
    is the headline question's; `scores` the other questions' answered (questions.py)."""

    survey: str
    score: int
    comment: str | None = None
    invitation_id: int | None = None
    profile_id: int | None = None  # needed without an invitation
    about: Mapping[str, Any] = field(default_factory=dict)
    scores: Mapping[str, int] = field(default_factory=dict)


def check_answer(setup: FeedbackSetup, answer: AnswerInput, index: int | None = None) -> list[FieldError]:
    """What is wrong with an answer by itself (the survey, each score on its question's scale, the comment's
    length)."""
    survey = setup.surveys.get(answer.survey)
    if survey is None:
        return [
            FieldError(
                "survey", "unknown", f"no survey {answer.survey!r}; known: {', '.join(sorted(setup.surveys))}", index
            )
        ]
    errors = check_scores(survey, answer.score, answer.scores, index)
    if answer.comment is not None and len(answer.comment) > MAX_COMMENT:
        errors.append(FieldError("comment", "too_long", f"at most {MAX_COMMENT} characters", index))
    if answer.invitation_id is None and answer.profile_id is None:
        errors.append(FieldError("profile_id", "required", "an answer without an invitation names the person", index))
    return errors


def _follow_up(
    session: Session,
    setup: FeedbackSetup,
    survey: Survey,
    row: SurveyAnswer,
    scores: Mapping[str, int],
    now: datetime,
) -> int | None:
    """The inner loop: a low score of the headline question makes a task for a person, with what was rated, the
    other questions' scores and what was said."""
    if survey.low_score is None or not survey.is_low(row.score):
        return None
    spec = survey.low_score
    snapshot = row.snapshot or {}
    case = snapshot.get("case") or {}
    journey = snapshot.get("journey") or {}
    communication = snapshot.get("communication") or {}
    said = f"\nThey said: {row.comment}" if row.comment else ""
    also = "".join(f"\n{q.text} {scores[q.key]} of {q.high}" for q in survey.others if q.key in scores)
    detail = (f"{survey.title}: scored {row.score} of {survey.high} ({survey.kind.upper()}, {survey.touchpoint})."
              f"{also}{said}")  # fmt: skip
    task = create_task(
        session,
        TaskInput(
            profile_id=row.profile_id, title=spec.title, queue=spec.queue, skills=spec.skills, priority=spec.priority,
            detail=detail[:10_000], due_minutes=spec.due_minutes,
            journey_instance_id=journey.get("instance_id"), case_id=case.get("id"),
            communication_ids=[communication["communication_id"]] if communication.get("communication_id") else [],
            context={"event": "Survey Answered", "survey": survey.key, "answer_id": row.id, "score": row.score,
                     "scores": dict(scores), "comment": row.comment, "snapshot": dict(snapshot)},
        ),
        config=setup.tasks, calendar=setup.calendar, created_by=f"survey:{survey.key}", now=now,
    )  # fmt: skip
    return task.id


def _same_person(session: Session, named: int | None, invited: int) -> bool:
    """Whether an answer naming a person (or none) may answer an invitation made for `invited`."""
    return named is None or int(active_header(session, named).id) == int(active_header(session, invited).id)


def record_answer(
    session: Session,
    setup: FeedbackSetup,
    answer: AnswerInput,
    *,
    via: str,
    now: datetime,
    event_id: int | None = None,
    index: int | None = None,
) -> AnswerView:
    """Record one answer with the snapshot it rates; a low score makes its follow-up task. An invitation is
    answered once (Conflict after that) and only before its link expires (Gone)."""
    errors = check_answer(setup, answer, index)
    if errors:
        raise InvalidInput(errors, "the answer was not recorded")
    survey = setup.survey(answer.survey)
    if answer.invitation_id is not None:
        invitation = repository.invitation(session, answer.invitation_id, lock=True)
        if invitation is None or not _same_person(session, answer.profile_id, invitation.profile_id):
            raise NotFound(f"no invitation {answer.invitation_id} for this person")
        if invitation.survey != survey.key:
            raise InvalidInput(
                [FieldError("survey", "invalid", f"invitation {invitation.id} is to {invitation.survey!r}", index)]
            )
        if invitation.answered_at is not None:
            raise Conflict(f"invitation {invitation.id} was answered already")
        if invitation.expires_at <= now:
            raise Gone(f"invitation {invitation.id} expired")
        invitation.answered_at = now
        profile_id, snapshot = invitation.profile_id, dict(invitation.snapshot or {})
    else:
        assert answer.profile_id is not None
        profile_id = int(active_header(session, answer.profile_id).id)
        snapshot = take_snapshot(session, profile_id, survey.touchpoint, answer.about, cases=setup.cases,
                                 survivorship=setup.survivorship, now=now)  # fmt: skip
    comment = answer.comment.strip() if answer.comment and answer.comment.strip() else None
    row = repository.add_answer(session, {
        "invitation_id": answer.invitation_id, "event_id": event_id, "survey": survey.key, "kind": survey.kind,
        "touchpoint": survey.touchpoint, "profile_id": profile_id, "origin_profile_id": profile_id,
        "score": answer.score, "comment": comment, "via": via, "snapshot": snapshot, "answered_at": now,
        **grouping(snapshot),
    })  # fmt: skip
    rows = question_rows(survey, row.id, answer.score, answer.scores)
    repository.add_question_answers(session, rows)
    scores = {r["question"]: r["score"] for r in rows}
    row.task_id = _follow_up(session, setup, survey, row, scores, now)
    session.flush()
    return AnswerView.of(row, scores)


def record_answers(
    session: Session, setup: FeedbackSetup, answers: Sequence[AnswerInput], *, via: str, now: datetime
) -> list[AnswerView]:
    """A batch of answers, accepted or refused as a whole: every item's problems are reported by index first."""
    errors = [e for i, a in enumerate(answers) for e in check_answer(setup, a, i)]
    if errors:
        raise InvalidInput(errors, "no answer was recorded")
    return [record_answer(session, setup, a, via=via, now=now, index=i) for i, a in enumerate(answers)]


@dataclass(frozen=True, slots=True)
class SurveyPage:
    """What the survey page shows: the survey, whom it greets, what it is about, and whether it was answered."""

    invitation: InvitationView
    survey: Survey
    name: str | None
    about: str


def _about(snapshot: Mapping[str, Any]) -> str:
    """What the person rates, in words, from the snapshot."""
    if case := snapshot.get("case"):
        return f"Your request: {case.get('subject')}" if case.get("subject") else "Your recent request"
    if journey := snapshot.get("journey"):
        return f"Your {str(journey.get('journey') or 'application').replace('_', ' ')}"
    if communication := snapshot.get("communication"):
        return f"Our message: {communication.get('subject')}" if communication.get("subject") else "Our recent message"
    if (context := snapshot.get("context")) and context.get("branch"):
        return f"Your visit to our {context['branch']} branch"
    return "Your recent contact with us"


def load_page(session: Session, setup: FeedbackSetup, invitation_id: int) -> SurveyPage:
    """The page of an invitation (NotFound when it, or its survey, is gone)."""
    row = repository.invitation(session, invitation_id)
    if row is None or row.survey not in setup.surveys:
        raise NotFound("no such survey")
    snapshot = row.snapshot or {}
    name = (snapshot.get("customer") or {}).get("name")
    return SurveyPage(InvitationView.of(row), setup.surveys[row.survey], name, _about(snapshot))


def answer_page(
    session: Session, setup: FeedbackSetup, invitation_id: int, form: Mapping[str, str], now: datetime
) -> AnswerView:
    """The page's form as an answer to its invitation."""
    page = load_page(session, setup, invitation_id)
    raw = form.get("score", "")
    if not (raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 3):
        raise InvalidInput([FieldError("score", "required", "choose a score")], "choose a score")
    scores, errors = scores_of_form(page.survey, form)
    if errors:
        raise InvalidInput(errors, errors[0].message)
    answer = AnswerInput(page.survey.key, int(raw), form.get("comment") or None, invitation_id=invitation_id,
                         scores=scores)  # fmt: skip
    return record_answer(session, setup, answer, via="page", now=now)


def answers_of(session: Session, profile_id: int, *, limit: int = 50) -> list[AnswerView]:
    """A person's answers (every profile merged into them), newest first."""
    members = profile_members(session, int(active_header(session, profile_id).id))
    return _views(session, repository.answers_of(session, members, limit))


def _views(session: Session, rows: Sequence[SurveyAnswer]) -> list[AnswerView]:
    """Answers with every question's score, read in one query."""
    scores = repository.question_scores(session, [r.id for r in rows])
    return [AnswerView.of(r, scores.get(r.id)) for r in rows]


def follow_merges(session: Session, merges: Sequence[tuple[int, int]]) -> None:
    """Merges (absorbed, survivor), in order: each absorbed profile's invitations, answers and cool-down now belong
    to its survivor. One read finds the few profiles that hold any, so a merge of profiles that hold nothing of
    feedback (nearly all of them) costs no statement; a survivor that received rows may pass them on later in the
    same list."""
    if not merges:
        return
    holding = repository.holders(session, {absorbed for absorbed, _ in merges})
    for absorbed, survivor in merges:
        if absorbed in holding:
            repository.move(session, absorbed, survivor)
            holding.add(survivor)


def restore_origins(session: Session, profile_ids: Sequence[int]) -> None:
    """Before an unmerge's replay: invitations and answers go back to the profiles they were made on."""
    repository.restore(session, profile_ids)


def export_person(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    """A person's answers, with what each rated (a data-subject access request)."""
    rows = repository.answers_of(session, profile_ids, 10_000) if profile_ids else []
    return [v.as_dict() for v in _views(session, rows)]


def erase_person(session: Session, profile_ids: Sequence[int]) -> int:
    """Erasure: the person's invitations (their snapshots), answers and cool-down; how many rows."""
    return repository.erase(session, profile_ids) if profile_ids else 0
