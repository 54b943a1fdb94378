"""The supervisors' match review queue: pairs the model was unsure of, side by side field by field, to accept
(merge, through the identity graph as an automatic merge does) or reject (keep apart, kept as a label).

The form calls `decide_review`, the function the API route and the CLI call, with the supervisor's name as the
reviewer; both profiles' changes are audited in its transaction, and every page showing the people is audited
before it is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from seamline.audit.service import record, record_async
from seamline.console.auth import Ctx, Form, requires
from seamline.console.context import Match
from seamline.console.masking import is_national_id, mask
from seamline.console.pages import HEADERS, render
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.ids import Id, parse_id
from seamline.identity.service import roots_of
from seamline.matching import findings as id_findings
from seamline.matching.readback import import_sources
from seamline.matching.service import (
    DECISIONS,
    STATUSES,
    ReviewView,
    current_model,
    decide_review,
    get_review,
    list_reviews,
)
from seamline.profiles.service import display_names
from seamline.users.permissions import REVIEW_MATCHES
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
PAGE_SIZE = 25
MAX_NOTE = 1000
Reviewer = Annotated[SignedIn, Depends(requires(REVIEW_MATCHES))]
BAR_STEPS = 10  # a weight's bar is drawn in tenths of the largest weight on the page (no inline style: the CSP)
STATUS_WORDS = {
    "pending": "waiting for a reviewer",
    "accepted": "accepted by a reviewer: merged",
    "rejected": "rejected: kept apart",
    "merged": "merged automatically by the model",
}


@dataclass(frozen=True, slots=True)
class Side:
    """One profile of a pair as the page names it: the profile the pair scored, where it lives now, its name."""

    profile_id: int
    root_id: int
    name: str | None


@dataclass(frozen=True, slots=True)
class FieldLine:
    """One compared field: both values, the level they met, its weight and how long its bar is (0..BAR_STEPS)."""

    field: str
    left: Any
    right: Any
    level: str
    weight: float
    bar: int

    @property
    def sign(self) -> str:
        return "for" if self.weight > 0 else "against" if self.weight < 0 else "none"


def _sides(session: Session, views: list[ReviewView]) -> dict[int, Side]:
    ids = sorted({pid for v in views for pid in (v.left_profile_id, v.right_profile_id)})
    roots = roots_of(session, ids)
    names = display_names(session, sorted(set(roots.values())))
    return {pid: Side(pid, roots.get(pid, pid), names.get(roots.get(pid, pid))) for pid in ids}


def field_lines(view: ReviewView) -> list[FieldLine]:
    """The comparison as the page draws it, each bar relative to the largest weight of the pair."""
    largest = max((abs(float(f.get("weight") or 0.0)) for f in view.fields), default=0.0) or 1.0
    lines = []
    for item in view.fields:
        weight = float(item.get("weight") or 0.0)
        field = str(item.get("field", ""))  # a national id shows masked: its level says whether the two agree
        bar = round(abs(weight) / largest * BAR_STEPS)
        lines.append(
            FieldLine(
                field,
                mask(str(item["left"])) if is_national_id(field) and item.get("left") else item.get("left"),
                mask(str(item["right"])) if is_national_id(field) and item.get("right") else item.get("right"),
                str(item.get("level", "")),
                weight,
                max(bar, 1) if weight else 0,
            )
        )
    return lines


async def _audit_people(ctx: Ctx, user: SignedIn, views: list[ReviewView], sides: dict[int, Side], view: str) -> None:
    """One read entry per customer shown (the profile they live in now), all committed before the page leaves."""
    by_profile: dict[int, list[int]] = {}
    for pair in views:
        for pid in (pair.left_profile_id, pair.right_profile_id):
            by_profile.setdefault(sides[pid].root_id, []).append(pair.id)
    principal = user.user.principal
    await asyncio.gather(
        *(
            record_async(ctx.audit, principal, "read", "profile", pid, {"view": view, "matches": sorted(set(ids))})
            for pid, ids in by_profile.items()
        )
    )


@router.get("/matches", include_in_schema=False)
async def queue(
    request: Request, user: Reviewer, ctx: Ctx, matcher: Match, status: str = "pending", after: str = ""
) -> Response:
    """The queue (or the pairs in another status), likeliest first: the near-certain pairs clear fastest."""
    if status not in STATUSES:
        raise InvalidInput([FieldError("status", "invalid", f"status must be one of {', '.join(STATUSES)}")])
    with unit_of_work(ctx.engine, write=False) as session:
        views = list_reviews(
            session, status=status, limit=PAGE_SIZE, after_id=parse_id("after", after) or 0, order="likeliest"
        )
        sides = _sides(session, views)
    await _audit_people(ctx, user, views, sides, "console_matches")
    # Only an empty first page needs to know whether a model exists (reading it parses its file).
    has_model = bool(views) or after != "" or current_model(matcher.ctx) is not None
    config = matcher.ctx.config
    return render(
        request,
        "matches.html",
        user,
        pairs=views,
        sides=sides,
        shown=status,
        statuses=[(s, STATUS_WORDS[s]) for s in STATUSES],
        next_after=views[-1].id if len(views) == PAGE_SIZE else None,
        is_first_page=not after,
        has_model=has_model,
        review_threshold=config.review_threshold,
        merge_threshold=config.merge_threshold,
    )


@router.get("/matches/findings", include_in_schema=False)
async def findings(request: Request, user: Reviewer, ctx: Ctx, after: str = "") -> Response:
    """Data-quality findings: compared records whose national ids differ, each id with the systems and records
    holding it (masked, as everywhere in the console), for their owners to correct at the source."""
    with unit_of_work(ctx.engine, write=False) as session:
        page = id_findings.findings_page(
            session, import_sources(session), after=parse_id("after", after) or 0, limit=PAGE_SIZE
        )
        names = display_names(session, page.profile_ids)
    by_profile: dict[int, list[int]] = {}
    for finding in page.findings:
        for held in finding.ids:
            by_profile.setdefault(held.profile_id, []).append(finding.match_id)
    principal = user.user.principal
    await asyncio.gather(
        *(
            record_async(ctx.audit, principal, "read", "profile", pid, {"view": "console_findings", "matches": ids})
            for pid, ids in by_profile.items()
        )
    )
    return render(
        request,
        "match_findings.html",
        user,
        findings=page.findings,
        names=names,
        masked={h.value: mask(h.value) for f in page.findings for h in f.ids},
        next_after=page.next_after,
        is_first_page=not after,
    )


@router.get("/matches/{match_id}", include_in_schema=False)
async def pair_page(request: Request, match_id: Id, user: Reviewer, ctx: Ctx, decided: str = "") -> Response:
    """One pair: both people side by side, each field's level and weight, the total; the decision forms."""
    with unit_of_work(ctx.engine, write=False) as session:
        view = get_review(session, match_id)
        sides = _sides(session, [view])
    await _audit_people(ctx, user, [view], sides, "console_match")
    left, right = sides[view.left_profile_id], sides[view.right_profile_id]
    lines = field_lines(view)
    return render(
        request,
        "match.html",
        user,
        pair=view,
        left=left,
        right=right,
        lines=lines,
        # The match weight is the prior's log-odds plus each field's weight: what the fields do not explain.
        prior=view.match_weight - sum(line.weight for line in lines),
        status_words=STATUS_WORDS[view.status],
        is_one_now=left.root_id == right.root_id,
        decided=decided == "1",
        max_note=MAX_NOTE,
    )


@router.post("/matches/{match_id}/decision", include_in_schema=False)
async def post_decision(match_id: Id, user: Reviewer, form: Form, ctx: Ctx, matcher: Match) -> Response:
    """Accept (the match event goes to the log; the worker merges the two) or reject (they stay apart)."""
    decision = form.get("decision", "")
    if decision not in DECISIONS:
        raise InvalidInput([FieldError("decision", "invalid", "choose accept or reject")])
    note = form.get("note", "").strip() or None
    principal = user.user.principal
    with unit_of_work(ctx.engine) as session:
        view = decide_review(session, matcher.ctx, match_id, decision, user.user.username, note)
        for profile_id in (view.left_profile_id, view.right_profile_id):
            record(session, principal, "change", "profile", profile_id, {"match": view.id, "decision": decision})
    return RedirectResponse(f"/console/matches/{match_id}?decided=1", status_code=303, headers=HEADERS)
