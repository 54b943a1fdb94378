"""Feedback over HTTP: send a survey at a touchpoint, record answers, read a person's answers and the rollups
(`/v1/feedback/...`, server keys with `feedback:read` / `feedback:write`; reads and changes of a person's answers
are audited), and the survey page itself (`/survey/{token}`: a signed, expiring link, a form without script,
post/redirect/get as the preference page)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from seamline.api.deps import Ctx, requires_key
from seamline.api.openapi import errors
from seamline.api.preferences import PAGE_HEADERS
from seamline.api.segments import Segmented
from seamline.audit.service import record, record_async
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, Gone, InvalidInput, NotFound, SeamlineError, Unauthorized
from seamline.core.ids import Id
from seamline.core.principal import Principal
from seamline.feedback.links import EXPIRED, link_expiry, verify_link
from seamline.feedback.page import render_error, render_page
from seamline.feedback.rollups import DIMENSIONS, by_question, rollup, score_trend
from seamline.feedback.service import (
    AnswerInput,
    AnswerView,
    FeedbackSetup,
    answer_page,
    answers_of,
    invite,
    record_answers,
)
from seamline.feedback.service import load_page as load_survey_page
from seamline.feedback.surveys import MAX_QUESTIONS
from seamline.preferences.links import form_nonce, is_fresh_nonce

router = APIRouter(tags=["feedback"])
Reader = Annotated[Principal, Depends(requires_key("feedback:read"))]
Writer = Annotated[Principal, Depends(requires_key("feedback:write"))]
MAX_ANSWERS = 500
MAX_DAYS = 3660


async def _setup(request: Request) -> FeedbackSetup:
    found: FeedbackSetup = request.app.state.feedback
    return found


Setup = Annotated[FeedbackSetup, Depends(_setup)]


class InvitationIn(BaseModel):
    profile_id: Id
    survey: str = Field(max_length=64, examples=["csat_case"])
    channel: str | None = Field(default=None, max_length=16, description="Default: the survey's channels in order.")
    about: dict[str, Any] = Field(
        default_factory=dict,
        description="The touchpoint: case_id, instance_id and step, communication_id, branch, staff…",
        examples=[{"case_id": 42}],
    )


class InvitationOut(BaseModel):
    sent: bool
    skipped: str | None = None
    invitation_id: int | None = None
    communication_id: str | None = None
    channel: str | None = None
    expires_at: datetime | None = None
    url: str | None = Field(default=None, description="The survey page (for a channel you deliver yourself).")
    snapshot: dict[str, Any] | None = None


class AnswerIn(BaseModel):
    survey: str = Field(max_length=64, examples=["csat_case"])
    score: int = Field(
        ge=-1000, le=1000, description="The headline question's, on its scale: CSAT 1-5, NPS 0-10, CES 1-7."
    )
    scores: dict[str, int] = Field(
        default_factory=dict, max_length=10, description="The survey's other questions answered: question → score."
    )
    comment: str | None = Field(default=None, max_length=10_000)
    invitation_id: Id | None = Field(default=None, description="The invitation answered: its snapshot is kept.")
    profile_id: Id | None = Field(default=None, description="Who answered; required without an invitation.")
    about: dict[str, Any] = Field(default_factory=dict, description="Without an invitation: the touchpoint's ids.")


class AnswersIn(BaseModel):
    answers: list[AnswerIn] = Field(min_length=1, max_length=MAX_ANSWERS)


class AnswerOut(BaseModel):
    id: int
    invitation_id: int | None
    survey: str
    kind: str
    touchpoint: str
    profile_id: int
    score: int
    comment: str | None
    via: str
    snapshot: dict[str, Any]
    task_id: int | None
    answered_at: datetime
    scores: dict[str, int]  # every question answered, the headline's included


class AnswersOut(BaseModel):
    answers: list[AnswerOut]


def _out(view: AnswerView) -> AnswerOut:
    return AnswerOut.model_validate(view, from_attributes=True)


def _period(days: int) -> tuple[datetime, datetime]:
    until = utcnow()
    return until - timedelta(days=days), until


@router.post(
    "/v1/feedback/invitations",
    responses=errors(400, 401, 403, 404, 410),
    response_model=InvitationOut,
    status_code=201,
    summary="Send a person a survey about a touchpoint (consent and the cross-channel cool-down decide)",
)
async def post_invitation(body: InvitationIn, principal: Writer, ctx: Ctx, setup: Setup) -> InvitationOut:
    with unit_of_work(ctx.engine) as session:
        invited = invite(
            session, setup, body.profile_id, body.survey, about=body.about, now=utcnow(), channel=body.channel
        )
        if invited.invitation is None:
            return InvitationOut(sent=False, skipped=invited.skipped)
        sent = invited.invitation
        record(session, principal, "change", "profile", sent.profile_id, {"survey_invitation": sent.id})
    return InvitationOut(
        sent=True, invitation_id=sent.id, communication_id=sent.communication_id, channel=sent.channel,
        expires_at=sent.expires_at, url=invited.url, snapshot=dict(sent.snapshot),
    )  # fmt: skip


@router.post(
    "/v1/feedback/answers",
    responses=errors(400, 401, 403, 404, 409, 410),
    response_model=AnswersOut,
    status_code=201,
    summary="Record answers (a batch is accepted or refused as a whole; problems named by index and field)",
)
async def post_answers(body: AnswersIn, principal: Writer, ctx: Ctx, setup: Setup) -> AnswersOut:
    items = [
        AnswerInput(a.survey, a.score, a.comment, a.invitation_id, a.profile_id, a.about, a.scores)
        for a in body.answers
    ]
    with unit_of_work(ctx.engine) as session:
        views = record_answers(session, setup, items, via="api", now=utcnow())
        for view in views:
            record(session, principal, "change", "profile", view.profile_id, {"survey_answer": view.id})
    return AnswersOut(answers=[_out(v) for v in views])


@router.get(
    "/v1/profiles/{profile_id}/feedback",
    responses=errors(400, 401, 403, 404, 410),
    response_model=AnswersOut,
    summary="A person's survey answers, each with the snapshot of what it rated, newest first",
)
async def get_answers(
    profile_id: Id, principal: Reader, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> AnswersOut:
    with unit_of_work(ctx.engine, write=False) as session:
        views = answers_of(session, profile_id, limit=limit)
    detail = {"view": "feedback", "survey_answers": [v.id for v in views]}
    await record_async(ctx.audit, principal, "read", "profile", profile_id, detail)
    return AnswersOut(answers=[_out(v) for v in views])


@router.get(
    "/v1/feedback/rollups",
    responses=errors(400, 401, 403),
    summary="Answers rolled up by touchpoint, agent, journey step, communication type or survey (aggregates only)",
)
async def get_rollups(
    principal: Reader,
    ctx: Ctx,
    segmented: Segmented,
    by: Annotated[str, Query(description=", ".join(DIMENSIONS))] = "touchpoint",
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> dict[str, Any]:
    since, until = _period(days)
    with unit_of_work(ctx.engine, write=False) as session:
        rows = rollup(session, by=by, since=since, until=until, people=segmented[1])
    return {"by": by, "since": since, "until": until, "rows": [r.as_dict() for r in rows]}


@router.get(
    "/v1/feedback/questions",
    responses=errors(400, 401, 403),
    summary="Every rated question of every survey: its figure and how its scores spread (aggregates only)",
)
async def get_questions(
    principal: Reader, ctx: Ctx, segmented: Segmented, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30
) -> dict[str, Any]:
    since, until = _period(days)
    with unit_of_work(ctx.engine, write=False) as session:
        rows = by_question(session, since=since, until=until, people=segmented[1])
    return {"since": since, "until": until, "rows": [r.as_dict() for r in rows]}


@router.get(
    "/v1/feedback/trend",
    responses=errors(400, 401, 403),
    summary="CSAT %, NPS and CES mean per day or week (aggregates only)",
)
async def get_trend(
    principal: Reader,
    ctx: Ctx,
    segmented: Segmented,
    bucket: Annotated[str, Query(description="day or week")] = "day",
    days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 30,
) -> dict[str, Any]:
    since, until = _period(days)
    with unit_of_work(ctx.engine, write=False) as session:
        points = score_trend(session, since=since, until=until, bucket=bucket, people=segmented[1])
    return {"bucket": bucket, "since": since, "until": until, "points": [p.as_dict() for p in points]}


def _customer(profile_id: int) -> Principal:
    return Principal(name=f"profile:{profile_id}", kind="customer", scopes=frozenset(), surface="web")


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


def _error_page(exc: SeamlineError) -> HTMLResponse:
    if isinstance(exc, Unauthorized | NotFound | Gone):
        expired = exc.message == EXPIRED or isinstance(exc, Gone)
        return _html(
            render_error(
                "This link has expired" if expired else "This link does not work",
                "Survey links work for a limited time, and only exactly as we sent them."
                if expired
                else "The link may be incomplete, or it was changed on the way.",
                "Thank you for wanting to tell us: you can always reply to us through your usual channel.",
            ),
            410 if expired else 401,
        )
    if isinstance(exc, Conflict):
        return _html(render_error("Thank you", "Your answer was already recorded.", ""), 409)
    raise exc


@router.get("/survey/{token}", response_class=HTMLResponse, include_in_schema=False)
async def get_survey(token: str, ctx: Ctx, setup: Setup) -> HTMLResponse:
    now = utcnow()
    try:
        invitation_id = verify_link(token, setup.secret, now)
        with unit_of_work(ctx.engine, write=False) as session:
            page = load_survey_page(session, setup, invitation_id)
    except SeamlineError as exc:
        return _error_page(exc)
    await record_async(
        ctx.audit, _customer(page.invitation.profile_id), "read", "profile", page.invitation.profile_id,
        {"view": "survey", "survey_invitation": invitation_id},
    )  # fmt: skip
    body = render_page(page, action=f"/survey/{token}", nonce=form_nonce(token, now, setup.secret),
                       expires_at=link_expiry(token))  # fmt: skip
    return _html(body)


@router.post("/survey/{token}", include_in_schema=False)
async def post_survey(token: str, request: Request, ctx: Ctx, setup: Setup) -> Response:
    now = utcnow()
    try:
        invitation_id = verify_link(token, setup.secret, now)
    except SeamlineError as exc:
        return _error_page(exc)
    form = await request.form(max_fields=MAX_QUESTIONS + 4)  # each question, the comment, the nonce
    submitted = {k: v for k, v in form.items() if isinstance(v, str)}
    # As on the preference page: a post is only taken within an hour of a page this server rendered for this link.
    if not is_fresh_nonce(submitted.pop("nonce", ""), token, setup.secret, now):
        return _html(render_error("Your answer was not sent", "The page was open for more than an hour.",
                                  "Open your link again to answer."), 403)  # fmt: skip
    try:
        with unit_of_work(ctx.engine) as session:
            answer = answer_page(session, setup, invitation_id, submitted, now)
            record(session, _customer(answer.profile_id), "change", "profile", answer.profile_id,
                   {"view": "survey", "survey_answer": answer.id})  # fmt: skip
    except InvalidInput as exc:
        with unit_of_work(ctx.engine, write=False) as session:
            page = load_survey_page(session, setup, invitation_id)
        problem = "; ".join(e.message for e in exc.errors) or exc.message
        body = render_page(page, action=f"/survey/{token}", nonce=form_nonce(token, now, setup.secret),
                           expires_at=link_expiry(token), problem=problem.capitalize())  # fmt: skip
        return _html(body, 400)
    except SeamlineError as exc:
        return _error_page(exc)
    return RedirectResponse(f"/survey/{token}", status_code=303, headers=PAGE_HEADERS)
