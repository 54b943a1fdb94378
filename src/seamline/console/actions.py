"""The customer page's next best actions: what the decision point suggests for the customer on the line (the call
center's channel), with its reasons, and the outcome the agent records (offered and accepted, or declined), which
teaches the propensity model. The same services as the decision API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seamline.audit.service import record
from seamline.console.auth import Ctx, Form, requires
from seamline.console.pages import HEADERS
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.ids import Id
from seamline.decisions.arbitration import Situation
from seamline.decisions.propensity import ACCEPTED, IGNORED, SHOWN
from seamline.decisions.service import OutcomeInput, Setup, decide, record_outcomes
from seamline.identity.service import active_header
from seamline.users.permissions import VIEW_CUSTOMERS
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
AGENT_CHANNEL = "call_center"
SHOWN_ACTIONS = 3
Viewer = Annotated[SignedIn, Depends(requires(VIEW_CUSTOMERS))]


async def _setup(request: Request) -> Setup:
    setup: Setup = request.app.state.decisions
    return setup


Decisions = Annotated[Setup, Depends(_setup)]


def top_actions(request: Request, profile_id: int) -> dict[str, Any]:
    """The agent's suggestions for a customer (read in its own read-only unit of work; the page audits the view)."""
    setup: Setup = request.app.state.decisions
    engine = request.app.state.console.engine
    with unit_of_work(engine, write=False) as session:
        decided = decide(session, profile_id, Situation(AGENT_CHANNEL), setup, limit=SHOWN_ACTIONS)
    return {
        "ranked": decided.decision.ranked,
        "stopped": [s for s in decided.decision.stopped if s.stage == "suitability"],
    }


@router.post("/customers/{profile_id}/actions/{action}/outcome", include_in_schema=False)
async def post_outcome(profile_id: Id, action: str, user: Viewer, form: Form, ctx: Ctx, setup: Decisions) -> Response:
    answer = form.get("outcome", "")
    if answer not in (ACCEPTED, IGNORED):
        raise InvalidInput([FieldError("outcome", "invalid", "accepted or ignored")], "say what the customer said")
    principal = user.user.principal
    with unit_of_work(ctx.engine) as session:
        pid = int(active_header(session, profile_id).id)
        items = [
            OutcomeInput(pid, action, outcome, AGENT_CHANNEL, "console", user.user.username)
            for outcome in (SHOWN, answer)
        ]
        record_outcomes(session, items, setup)
        record(session, principal, "change", "profile", pid, {"action": action, "outcome": answer})
    return RedirectResponse(f"/console/customers/{pid}?saved=outcome#actions", status_code=303, headers=HEADERS)
