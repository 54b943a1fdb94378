"""Feedback's consumer of resolved events: a `Survey Answered` track from any SDK is an answer (once per event, never
again on a replay), and a person's invitations, answers and cool-down follow their merges, unmerges and replays.

The event (docs/feedback.md): `analytics.track("Survey Answered", {survey, score, scores?, comment?,
invitation_id?, case_id?, instance_id?, step?, communication_id?, branch?, staff?})`; `scores` maps the survey's
other questions to their scores. An event that is not a valid answer is
logged and left: one bad answer must not hold up the person's other events."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from seamline.core.errors import SeamlineError
from seamline.core.pipeline import Consumer, ResolvedBatch
from seamline.feedback import repository
from seamline.feedback.service import AnswerInput, FeedbackSetup, follow_merges, record_answer, restore_origins

log = logging.getLogger(__name__)
ANSWERED = "Survey Answered"


def answer_of(properties: Mapping[str, Any], profile_id: int) -> AnswerInput | None:
    """The answer a `Survey Answered` event's properties give, or None when they lack a survey or a score."""
    survey, score = properties.get("survey"), properties.get("score")
    if not isinstance(survey, str) or isinstance(score, bool):
        return None
    if isinstance(score, float) and score.is_integer():
        score = int(score)
    if not isinstance(score, int):
        return None
    comment = properties.get("comment")
    invitation = properties.get("invitation_id")
    raw = properties.get("scores")
    scores = {str(k): int(v) if isinstance(v, float) and v.is_integer() else v
              for k, v in (raw.items() if isinstance(raw, Mapping) else ())}  # fmt: skip
    return AnswerInput(
        survey=survey[:64], score=score, comment=str(comment) if isinstance(comment, str) and comment else None,
        invitation_id=invitation if isinstance(invitation, int) and not isinstance(invitation, bool) else None,
        profile_id=profile_id, about=properties, scores=scores,
    )  # fmt: skip


class FeedbackConsumer(Consumer):
    name = "feedback"

    def __init__(self, setup: FeedbackSetup) -> None:
        self.setup = setup

    def take(self, session: Session, batch: ResolvedBatch) -> None:
        touched: set[int] = set()
        if not batch.is_replay:
            answered = batch.tracked((ANSWERED,))
            done = repository.answered_event_ids(session, [e.id for e in answered]) if answered else set()
            for event in answered:
                if event.id in done:
                    continue
                props = event.payload.get("properties")
                answer = answer_of(props if isinstance(props, Mapping) else {}, event.profile_id)
                if answer is None:
                    log.warning("event %d: %s without a survey and a whole-number score, ignored", event.id, ANSWERED)
                    continue
                try:
                    with session.begin_nested():
                        record_answer(session, self.setup, answer, via="event", now=event.occurred_at,
                                      event_id=event.id)  # fmt: skip
                except SeamlineError as exc:
                    log.warning("event %d: %s not recorded: %s", event.id, ANSWERED, exc.message)
                    continue
                touched.add(event.profile_id)
        follow_merges(
            session,
            [
                (m.absorbed, m.survivor)
                for m in batch.merges
                # a profile born in this batch holds nothing of feedback unless it just answered
                if not (m.absorbed_is_new and m.absorbed not in touched)
            ],
        )

    def rederive(self, session: Session, profile_ids: Sequence[int]) -> None:
        restore_origins(session, profile_ids)

    def retire(self, session: Session, homes: Mapping[int, int]) -> None:
        follow_merges(session, list(homes.items()))
