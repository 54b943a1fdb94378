"""The demo's feedback: surveys sent at touchpoints and answered, so the Feedback page and the customer page have
something to show, with two structural causes to find. The customers who received the November statements with
errors rate the statement hard to understand (the rollup by communication type shows their errors beside the
scores), and one branch's visits score low under one staff member (the rollup by agent shows it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.feedback.service import AnswerInput, record_answer
from seamline.feedback.service import invite as send_survey
from seamline.worker.triggers import feedback_setup

STATEMENT_SCORES = (
    2,
    1,
    2,
    3,
    1,
    6,
    7,
    6,
    5,
    7,
)  # CES 1-7 of the first statement recipients; errors hit the first five
VISITS = (("Leeds", "priya"), ("York", "jordan"), ("Bristol", "li"))
VISIT_SCORES = {"priya": (5, 4, 5, 4), "jordan": (2, 1, 3, 2), "li": (4, 5, 3, 5)}  # CSAT 1-5
NPS_SCORES = (10, 9, 7, 3, 9, 10, 6, 8)
COMMENTS = {1: "The balance made no sense.", 2: "Nobody explained what happened.", 3: "It took too long."}
# The advice survey of three questions (csat_advice): satisfaction (CSAT, the headline), effort (CES) and the
# waiting time (1-4); the satisfied still waited too long — the per-question rollup shows it.
ADVICE = ((5, 6, 2), (4, 7, 1), (5, 5, 2), (2, 3, 1), (4, 6, 3), (5, 7, 2))


def survey_demo_customers(
    engine: Engine, settings: Settings, statement_customers: Sequence[int], others: Sequence[int]
) -> tuple[int, int]:
    """Send and answer the demo's surveys; (surveys sent, answers recorded). `statement_customers` received the
    November statements in the order the errors demo reported them (`seamline.demo.comm_errors`)."""
    setup = feedback_setup(settings)
    now = utcnow()
    plan: list[tuple[int, str, dict[str, object], int | None]] = []
    for i, profile_id in enumerate(statement_customers[: len(STATEMENT_SCORES)]):
        plan.append((profile_id, "ces_message", {"communication_id": f"demo-stmt-{i}"}, STATEMENT_SCORES[i]))
    visitors, rest = others[:12], others[12:]
    for i, profile_id in enumerate(visitors):
        branch, staff = VISITS[i % len(VISITS)]
        plan.append((profile_id, "csat_branch", {"branch": branch, "staff": staff}, VISIT_SCORES[staff][i // 3 % 4]))
    for i, profile_id in enumerate(rest[: len(NPS_SCORES) + 2]):
        score = NPS_SCORES[i] if i < len(NPS_SCORES) else None  # the last two never answer
        plan.append((profile_id, "nps_journey", {}, score))
    advised = rest[len(NPS_SCORES) + 2 :][: len(ADVICE)]
    for i, profile_id in enumerate(advised):
        plan.append((profile_id, "csat_advice", {"branch": "Leeds", "staff": "amir"}, ADVICE[i][0]))
    others_of = {p: {"effort": ADVICE[i][1], "waiting": ADVICE[i][2]} for i, p in enumerate(advised)}
    sent = answered = 0
    for n, (profile_id, survey, about, score) in enumerate(plan):
        at = now - timedelta(days=n % 20, hours=n % 7)
        with unit_of_work(engine) as session:
            invited = send_survey(session, setup, profile_id, survey, about=about, now=at, channel="email")
            if invited.invitation is None:
                continue
            sent += 1
            if score is not None:
                scores = others_of.get(profile_id, {}) if survey == "csat_advice" else {}
                answer = AnswerInput(survey, score, COMMENTS.get(score), invitation_id=invited.invitation.id,
                                     scores=scores)  # fmt: skip
                record_answer(session, setup, answer, via="page", now=at + timedelta(hours=2))
                answered += 1
    return sent, answered
