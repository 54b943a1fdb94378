"""The communication-error pages: the queue by severity and clock, the report form (from the customer page or a
case, picking the communication from the customer's list), and one error with its clocks, what happens next, the
agent's fix at first contact and the owner's acknowledge/resolve. Every form calls the service the API calls.

(Named errors_queue.py: console/errors.py is the console's error pages.)
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from seamline.audit.service import record_async, record_many_async
from seamline.communications.service import communications_of, described
from seamline.console.auth import Ctx, Form, requires
from seamline.console.pages import HEADERS, render
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput, NotFound
from seamline.core.ids import Id, parse_id
from seamline.errors.fixing import fix_at_contact, may_fix_at_contact
from seamline.errors.policy import SEVERITIES, harm_for
from seamline.errors.policystore import PolicyStore
from seamline.errors.problems import error_blast_radius
from seamline.errors.resending import correct_and_resend, may_resend
from seamline.errors.service import (
    COUNT_CAP,
    QueueKey,
    Report,
    acknowledge,
    error_queue,
    open_counts,
    report_errors,
    resolve,
    settle_regulatory,
    timeline,
    view,
)
from seamline.errors.views import clock_lines, next_steps
from seamline.identity.service import root_of
from seamline.profiles.service import display_names
from seamline.users.permissions import CORRECT_CUSTOMERS, VIEW_CASES, WORK_CASES, may
from seamline.users.service import SignedIn

router = APIRouter(prefix="/console")
Viewer = Annotated[SignedIn, Depends(requires(VIEW_CASES))]
Worker = Annotated[SignedIn, Depends(requires(WORK_CASES))]
PAGE_SIZE = 50
SAVED = {
    "reported": "The error is reported.",
    "fixed": "Fixed: the record is corrected and the error is closed, linked to the correction.",
    "resend": "Corrected and re-sent: the record is corrected and the communication goes again with the right value.",
    "acknowledge": "Acknowledged: the acknowledgement clock has stopped.",
    "resolve": "Resolved.",
    "regulatory": "The regulatory decision is recorded; its clock has stopped.",
}


async def policy_store(request: Request) -> PolicyStore:
    """The running error policy (async: a plain-def dependency would run in a thread)."""
    store: PolicyStore = request.app.state.errors_policy
    return store


Policies = Annotated[PolicyStore, Depends(policy_store)]


@router.get("/errors", include_in_schema=False)
async def queue(
    request: Request,
    user: Viewer,
    ctx: Ctx,
    store: Policies,
    severity: str = "",
    closed: str = "",
    after: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """The errors queue: most severe first, then the soonest resolution deadline, each with its clocks; a page
    continues after the last one's place in the queue (by the index, however deep)."""
    if severity not in ("", *SEVERITIES):
        raise InvalidInput([FieldError("severity", "invalid", f"severity is one of {', '.join(SEVERITIES)}")])
    start = QueueKey.parse(after) if after else None
    now = utcnow()
    with unit_of_work(ctx.engine, write=False) as session:
        errors = error_queue(session, is_open=closed != "1", severity=severity or None, limit=PAGE_SIZE, after=start)
        # Every customer listed is audited, in one batch (one transaction, one sync), written while the rest of
        # the page is read and rendered: the response still leaves only once the entries are committed.
        audited = asyncio.create_task(
            record_many_async(
                ctx.audit, user.user.principal, "read", "profile",
                [(e.profile_id, {"view": "console_errors", "comm_error": e.id}) for e in errors if e.profile_id],
            )
        )  # fmt: skip
        await asyncio.sleep(0)  # the batch is queued to the writer before the page goes on
        counts = open_counts(session)
        customers = display_names(session, sorted({e.profile_id for e in errors if e.profile_id is not None}))
    policy = store.current()
    try:
        page = render(
            request,
            "errors.html",
            user,
            errors=[(e, clock_lines(policy, e, now)) for e in errors],
            customers=customers,
            counts=counts,
            cap=COUNT_CAP,
            severities=list(reversed(SEVERITIES)),
            filters={"severity": severity, "closed": closed == "1"},
            is_first=start is None,
            next_after=QueueKey.of(errors[-1]).token() if len(errors) == PAGE_SIZE else None,
            policy_error=store.last_error,
        )
    finally:
        await audited  # raises if the entries were not committed: then the page does not leave
    return page


@router.get("/errors/new", include_in_schema=False)
async def new_form(
    request: Request,
    user: Worker,
    ctx: Ctx,
    store: Policies,
    profile: str = "",
    case: str = "",
    communication: str = "",
) -> Response:
    """The report form: the customer's communications to pick from, the field, what it showed and should have."""
    profile_id = parse_id("profile", profile)
    if profile_id is None:
        raise InvalidInput([FieldError("profile", "required", "open the form from a customer's page or a case")])
    with unit_of_work(ctx.engine, write=False) as session:
        root = root_of(session, profile_id)
        communications = communications_of(session, root, limit=50)
        name = display_names(session, [root]).get(root)
    await record_async(ctx.audit, user.user.principal, "read", "profile", root, {"view": "console_error_form"})
    return render(
        request,
        "error_new.html",
        user,
        profile_id=root,
        customer=name,
        case_id=parse_id("case", case),
        communications=communications,
        chosen=communication,
        harms=store.current().harms,
    )


@router.post("/errors", include_in_schema=False)
async def post_report(user: Worker, form: Form, ctx: Ctx, store: Policies) -> Response:
    """Report an error from the form; the page of the new error says what happens next."""
    ids = [form.get("communication_id", "").strip()] + [
        c.strip() for c in form.get("more_communication_ids", "").replace(",", " ").split() if c.strip()
    ]
    count = form.get("customers_affected", "1").strip() or "1"
    if not count.isdigit():
        raise InvalidInput([FieldError("customers_affected", "invalid", "a whole number")])
    report = Report(
        [c for c in ids if c],
        form.get("field", ""),
        form.get("shown") or None,
        form.get("expected") or None,
        form.get("description") or None,
        form.get("harm") or None,
        int(count),
        form.get("vulnerable") == "1",
        parse_id("profile_id", form.get("profile_id", "")),
        parse_id("case_id", form.get("case_id", "")),
    )
    with unit_of_work(ctx.engine) as session:
        [made] = report_errors(session, store.current(), [report], actor=user.user.principal, intake="console")
    return RedirectResponse(f"/console/errors/{made.id}?saved=reported", status_code=303, headers=HEADERS)


@router.get("/errors/{error_id}", include_in_schema=False)
async def error_page(
    request: Request, error_id: Id, user: Viewer, ctx: Ctx, store: Policies, saved: str = ""
) -> Response:
    """One error: severity and why, its clocks, what happens next, the fix or the owner's actions, the timeline."""
    policy = store.current()
    with unit_of_work(ctx.engine, write=False) as session:
        error = view(session, error_id)
        steps = timeline(session, error_id)
        radius = error_blast_radius(session, error_id, limit=10)
        name = display_names(session, [error.profile_id]).get(error.profile_id) if error.profile_id else None
        # The communications it is about and the one it was re-sent as, both shown (and linked) on the page.
        shown = described(session, [*error.communication_ids, *filter(None, [error.resent_communication_id])])
    if error.profile_id is not None:
        detail = {"view": "console_error", "comm_error": error.id}
        await record_async(ctx.audit, user.user.principal, "read", "profile", error.profile_id, detail)
    fixable = may_fix_at_contact(policy, error) and may(user.user.role, CORRECT_CUSTOMERS)
    trait = error.field if harm_for(policy, error.field, None) in ("cosmetic", "contact_data") else ""
    return render(
        request,
        "comm_error.html",
        user,
        error=error,
        customer=name,
        clocks=clock_lines(policy, error, utcnow()),
        steps=next_steps(policy, error),
        timeline=steps,
        radius=radius,
        communications=[shown[c] for c in error.communication_ids if c in shown],
        resent=shown.get(error.resent_communication_id or ""),
        may_resend=may_resend(policy, error) and may(user.user.role, CORRECT_CUSTOMERS),
        may_fix=fixable,
        fix_trait=trait,
        may_work=may(user.user.role, WORK_CASES),
        saved=SAVED.get(saved),
    )


@router.post("/errors/{error_id}/{action}", include_in_schema=False)
async def post_action(
    request: Request, error_id: Id, action: str, user: Worker, form: Form, ctx: Ctx, store: Policies
) -> Response:
    """fix (at first contact, through a correction), resend (correct the value and re-send the communication),
    acknowledge, resolve, regulatory (the decision)."""
    principal = user.user.principal
    with unit_of_work(ctx.engine) as session:
        if action == "fix":
            if not may(user.user.role, CORRECT_CUSTOMERS):
                raise InvalidInput([FieldError("action", "not_allowed", "your role does not correct customers")])
            trait, value = form.get("trait", "").strip(), form.get("value", "").strip()
            if not trait or not value:
                raise InvalidInput([FieldError("value", "required", "give the corrected value")])
            fix_at_contact(session, store.current(), error_id, {trait: value}, actor=principal, pipeline=ctx.identity)
            action = "fixed"
        elif action == "resend":
            if not may(user.user.role, CORRECT_CUSTOMERS):
                raise InvalidInput([FieldError("action", "not_allowed", "your role does not correct customers")])
            correct_and_resend(
                session, store.current(), error_id, form.get("value", ""), actor=principal, pipeline=ctx.identity,
                catalog=request.app.state.templates, consent=ctx.identity.consent,
                trait=form.get("trait", "").strip() or None,
            )  # fmt: skip
        elif action == "acknowledge":
            acknowledge(session, error_id, actor=principal)
        elif action == "resolve":
            resolve(session, error_id, form.get("note", ""), actor=principal)
        elif action == "regulatory":
            settle_regulatory(session, error_id, form.get("decision", ""), actor=principal)
        else:
            raise NotFound(f"no action {action!r} on an error")
    return RedirectResponse(f"/console/errors/{error_id}?saved={action}", status_code=303, headers=HEADERS)
