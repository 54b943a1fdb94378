"""Find and the customer page: the golden record with provenance, identifiers, holdings, preferences with
reasons, the timeline with filters, merge history; and the simple changes an agent may make from it."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from seamline.audit.service import record, record_async
from seamline.cases.lifecycle import ACTIVE, PRIORITIES
from seamline.cases.service import list_cases
from seamline.communications.service import communications_of
from seamline.consent.choices import stated_basis
from seamline.consent.service import preferences_for, record_choice
from seamline.console.actions import top_actions
from seamline.console.auth import Ctx, Form, requires
from seamline.console.cases import REPLY_CHANNELS, Config, clock_lines
from seamline.console.context import ConsoleContext, Match
from seamline.console.customer_view import (
    LAST_CONTACTS,
    SUMMARY_HOLDINGS,
    preference_lines,
    preference_rows,
    timeline_entry,
    trait_rows,
    who,
)
from seamline.console.journeys import open_journeys_of
from seamline.console.masking import is_national_id, mask
from seamline.console.pages import HEADERS, render
from seamline.console.search import find_customers
from seamline.console.timeline_words import CUSTOMER_EVENTS
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, Forbidden, InvalidInput
from seamline.core.ids import Id, parse_id
from seamline.corrections.service import correct_profile, correction_source
from seamline.errors.service import RaisedOn, errors_on
from seamline.feedback.service import answers_of
from seamline.identity.service import active_header, identifier_links, merge_history, profile_members
from seamline.ingestion.service import load_events
from seamline.pipeline import replay
from seamline.profiles.cursor import decode_cursor, encode_cursor
from seamline.profiles.names import NAME_TRAITS
from seamline.profiles.service import golden_traits, holdings_of, timeline, timeline_facets
from seamline.profiles.vocabulary import ADDRESS, ADDRESS_PARTS, part_label
from seamline.tasks.lifecycle import OUTCOMES
from seamline.tasks.service import TaskView, tasks_of
from seamline.users.permissions import (
    CHANGE_PREFERENCES,
    CORRECT_CUSTOMERS,
    FIND_CUSTOMERS,
    REVEAL_NATIONAL_IDS,
    UNMERGE,
    VIEW_CASES,
    VIEW_CUSTOMERS,
    may,
)
from seamline.users.service import SignedIn

COMMUNICATIONS_SHOWN = 20  # the newest; the API pages through the rest
ANSWERS_SHOWN = 10  # the newest survey answers, each with what it rated
router = APIRouter(prefix="/console")
PAGE_SIZE = 50
OPEN_CASES_SHOWN = 20
TASKS_SHOWN = 20
CONTACT_TRAITS = ("email", "phone")
SAVED = {
    "correction": "The correction is saved.",
    "preference": "The choice is recorded, with what the customer said.",
    "unmerged": "The merge is undone.",
    "journey": "The step is completed, recorded as done by you through the call center.",
    "outcome": "The customer's answer is recorded.",
    "task-picked": "The task is yours.",
    "task-done": "The outcome of the task is recorded.",
}
Finder = Annotated[SignedIn, Depends(requires(FIND_CUSTOMERS))]
Viewer = Annotated[SignedIn, Depends(requires(VIEW_CUSTOMERS))]
Corrector = Annotated[SignedIn, Depends(requires(CORRECT_CUSTOMERS))]
Chooser = Annotated[SignedIn, Depends(requires(CHANGE_PREFERENCES))]
Unmerger = Annotated[SignedIn, Depends(requires(UNMERGE))]


@router.get("/find", include_in_schema=False)
async def find(request: Request, user: Finder, ctx: Ctx, matcher: Match, q: str = "") -> Response:
    with unit_of_work(ctx.engine, write=False) as session:
        results = find_customers(session, q, ctx.identity, matcher) if q.strip() else []
    # Names shown are personal data: one entry per person listed, committed together before the page leaves.
    principal = user.user.principal
    await asyncio.gather(
        *(
            record_async(ctx.audit, principal, "read", "profile", r.profile_id, {"view": "console_find"})
            for r in results
        )
    )
    return render(request, "find.html", user, query=q.strip()[:200], results=results, problem="")


def _decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    try:
        return decode_cursor(cursor)
    except ValueError:
        raise InvalidInput([FieldError("cursor", "invalid", "this page link is damaged")]) from None


def _page_values(
    ctx: ConsoleContext, profile_id: int, filters: dict[str, str], cursor: str, *, reveal: bool
) -> dict[str, Any]:
    names = ctx.source_names.get()
    by_name = {name: sid for sid, name in names.items()}
    before = _decode_cursor(cursor)
    now = utcnow()
    # System events (identify, group, alias) show through the golden record, holdings and merges: the timeline
    # lists what the person did unless the agent asks for everything or for one type.
    types = [filters["type"]] if filters["type"] else (None if filters["system"] else list(CUSTOMER_EVENTS))
    with unit_of_work(ctx.engine, write=False) as session:
        profile = active_header(session, profile_id)
        pid = int(profile.id)
        traits = golden_traits(session, pid, names, ctx.survivorship, ctx.identity.vocabulary)
        holdings = holdings_of(session, pid)
        facets = timeline_facets(session, pid)
        source_id = by_name.get(filters["source"]) if filters["source"] else None
        rows = timeline(
            session,
            pid,
            limit=PAGE_SIZE + 1,
            before=before,
            source_ids=[source_id if source_id is not None else -1] if filters["source"] else None,
            channels=[filters["channel"]] if filters["channel"] else None,
            types=types,
        )
        page = list(rows[:PAGE_SIZE])
        contacts = (
            page[:LAST_CONTACTS]
            if types == list(CUSTOMER_EVENTS) and before is None and not (filters["source"] or filters["channel"])
            else timeline(session, pid, limit=LAST_CONTACTS, types=list(CUSTOMER_EVENTS))
        )
        wanted = {r.event_id for r in page} | {r.event_id for r in contacts}
        messages = {item.id: item.payload for item in load_events(session, sorted(wanted))}
        links = identifier_links(session, pid)
        merges = merge_history(session, pid)
        preferences = preferences_for(
            session, pid, [h.external_id for h in holdings], config=ctx.identity.consent, now=now
        )
    golden = {t.name: t.value for t in traits}
    full = ("name", "full_name", "fullName")
    heading = next((str(golden[n]) for n in full if isinstance(golden.get(n), str) and golden[n]), "")
    if not heading:
        first = golden.get("firstName") or golden.get("first_name") or ""
        last = golden.get("lastName") or golden.get("last_name") or ""
        heading = f"{first} {last}".strip() or f"Profile #{pid}"
    vocabulary = ctx.identity.vocabulary
    editable = [(n, vocabulary.label(n), golden[n]) for n in NAME_TRAITS if isinstance(golden.get(n), str)]
    editable += [
        (n, vocabulary.label(n), golden.get(n, "") if isinstance(golden.get(n, ""), str) else "")
        for n in CONTACT_TRAITS
    ]
    # The address is one value: its parts are edited together and saved as a whole new address.
    held = golden.get(ADDRESS)
    address: dict[str, Any] = held if isinstance(held, dict) else {}
    editable += [(f"{ADDRESS}.{p}", f"Address: {part_label(p)}", str(address.get(p) or "")) for p in ADDRESS_PARTS]
    next_page = None
    if len(rows) > PAGE_SIZE:
        query = {k: v for k, v in filters.items() if v}
        query["cursor"] = encode_cursor(page[-1].occurred_at, page[-1].event_id)
        next_page = f"/console/customers/{pid}?{urlencode(query)}"
    shown_traits = trait_rows(traits, reveal=reveal)
    channels = list(ctx.identity.consent.channels)
    grid = preference_rows(preferences, channels)

    def entry(r: Any) -> Any:
        source = names.get(r.source_id, str(r.source_id))
        message = messages.get(r.event_id, {})
        return timeline_entry(r.occurred_at, r.type, r.name, r.channel, source, message, reveal=reveal)

    holding_rows = [
        {
            "type": h.type,
            "external_id": h.external_id,
            "status": h.status,
            "source": names.get(h.source_id, str(h.source_id)),
            "opened_at": h.opened_at,
            "balance": h.attributes.get("balance") if isinstance(h.attributes, dict) else None,
        }
        for h in holdings
    ]
    return {
        "profile": profile,
        "heading": heading,
        "traits": shown_traits,
        "who": who(shown_traits),
        "has_national_id": any(is_national_id(t.name) for t in traits)
        or any(is_national_id(link.type) for link in links),
        "editable": editable,
        "identifiers": [
            {
                "type": link.type,
                "value": mask(link.value) if is_national_id(link.type) and not reveal else link.value,
                "source": names.get(link.source_id, "—") if link.source_id is not None else "—",
                "last_seen_at": link.last_seen_at,
            }
            for link in links
        ],
        "holdings": holding_rows,
        "summary_holdings": holding_rows[:SUMMARY_HOLDINGS],
        "preferences": grid,
        "preference_lines": preference_lines(grid, channels),
        "purposes": ctx.identity.consent.purposes,
        "channels": ctx.identity.consent.channels,
        "timeline": [entry(r) for r in page],
        "last_contacts": [entry(r) for r in contacts],
        "filters": filters,
        "filter_options": {
            "channels": facets.channels,
            "sources": sorted(names.get(s, str(s)) for s in facets.source_ids),
            "types": facets.types,
        },
        "next_page": next_page,
        "merges": [
            {
                "merge": m,
                "value": mask(m.identifier_value or "")
                if m.identifier_type and is_national_id(m.identifier_type) and not reveal
                else m.identifier_value,
            }
            for m in merges
        ],
        "revealed": reveal,
    }


@router.get("/customers/{profile_id}", include_in_schema=False)
async def customer(
    request: Request,
    profile_id: Id,
    user: Viewer,
    ctx: Ctx,
    config: Config,
    channel: str = "",
    source: str = "",
    type: str = "",
    cursor: str = "",
    saved: str = "",
    system: str = "",
    reveal: str = "",
) -> Response:
    is_reveal = reveal == "national_id"
    if is_reveal and not may(user.user.role, REVEAL_NATIONAL_IDS):
        raise Forbidden("your role may not reveal national ids")
    filters = {"channel": channel[:32], "source": source[:100], "type": type[:16], "system": "1" if system else ""}
    values = _page_values(ctx, profile_id, filters, cursor, reveal=is_reveal)
    pid = int(values["profile"].id)
    open_cases: dict[str, Any] | None = None
    if may(user.user.role, VIEW_CASES):
        with unit_of_work(ctx.engine, write=False) as session:
            found = list_cases(session, config, profile_id=pid, statuses=ACTIVE, limit=OPEN_CASES_SHOWN)
        open_cases = {
            "cases": [(c, clock_lines(c.sla)) for c in found.cases],
            "is_more": found.next_before is not None,
            "priorities": PRIORITIES,
            "channels": REPLY_CHANNELS,
            "default_queue": config.default_queue,
        }
    tasks: list[TaskView] | None = None  # the people who work cases work tasks (the same roles see them)
    raised: dict[str, list[RaisedOn]] = {}
    with unit_of_work(ctx.engine, write=False) as session:
        communications = communications_of(session, pid, limit=COMMUNICATIONS_SHOWN)
        survey_answers = answers_of(session, pid, limit=ANSWERS_SHOWN)
        journeys = open_journeys_of(session, request, pid)  # first on the page: what the customer is in the middle of
        if may(user.user.role, VIEW_CASES):
            tasks = tasks_of(session, profile_members(session, pid), limit=TASKS_SHOWN)
            raised = errors_on(session, [c.communication_id for c in communications])  # each links to its errors
    actions = top_actions(request, pid)
    # One entry for the page: the open cases it lists are this customer's, read in the same view.
    detail: dict[str, Any] = {"view": "console"}
    if open_cases and open_cases["cases"]:
        detail["cases"] = [c.id for c, _clocks in open_cases["cases"]]
    if tasks:
        detail["tasks"] = [t.id for t in tasks]
    if survey_answers:
        detail["survey_answers"] = [a.id for a in survey_answers]
    await record_async(ctx.audit, user.user.principal, "read", "profile", pid, detail)
    if is_reveal:
        # Its own entry, so `seamline audit list` shows every reveal of a national id on its own line.
        await record_async(ctx.audit, user.user.principal, "read", "profile", pid, {"reveal": "national_id"})
    return render(
        request,
        "customer.html",
        user,
        requested=profile_id,
        saved=SAVED.get(saved, ""),
        saved_kind=saved if saved in SAVED else "",
        open_cases=open_cases,
        communications=communications,
        comm_errors=raised,
        survey_answers=survey_answers,
        journeys=journeys,
        tasks=tasks,
        outcomes=OUTCOMES,
        back=f"/console/customers/{pid}",
        actions=actions,
        **values,
    )


def _back(profile_id: int, saved: str) -> Response:
    return RedirectResponse(f"/console/customers/{profile_id}?saved={saved}", status_code=303, headers=HEADERS)


@router.post("/customers/{profile_id}/corrections", include_in_schema=False)
async def post_correction(profile_id: Id, user: Corrector, form: Form, ctx: Ctx) -> Response:
    reason = form.pop("reason", "").strip() or None
    submitted: dict[str, Any] = {}
    address: dict[str, str] = {}
    for key, value in form.items():
        name = key.removeprefix("trait.")
        if not key.startswith("trait."):
            continue
        if name.startswith(f"{ADDRESS}."):
            if value.strip():
                address[name.removeprefix(f"{ADDRESS}.")] = value.strip()
        else:
            submitted[name] = value.strip()
    if address:
        submitted[ADDRESS] = address  # whole: the parts left empty are not part of the corrected address
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, profile_id)
        current = {t.name: t.value for t in golden_traits(session, int(profile.id), {}, ctx.survivorship)}
        changed = {k: v for k, v in submitted.items() if v and v != current.get(k)}
        if not changed:
            raise InvalidInput([FieldError("traits", "unchanged", "no value was changed")], "nothing to save")
        done = correct_profile(
            session, int(profile.id), changed, actor=user.user.principal, context=ctx.identity, reason=reason
        )
    return _back(done.profile_id, "correction")


@router.post("/customers/{profile_id}/preferences", include_in_schema=False)
async def post_preference(profile_id: Id, user: Chooser, form: Form, ctx: Ctx) -> Response:
    evidence = form.get("evidence", "").strip()
    if not evidence:
        raise InvalidInput([FieldError("evidence", "required", "write down what the customer said")])
    principal = user.user.principal
    with unit_of_work(ctx.engine) as session:
        profile = active_header(session, profile_id)
        source = correction_source(session)
        choice = record_choice(
            session,
            int(profile.id),
            kind="consent",
            purpose=form.get("purpose") or None,
            channel=form.get("channel") or None,
            product=form.get("product") or None,
            value=form.get("value", ""),
            actor=principal.name,
            surface=principal.surface,
            source_id=source.id,
            evidence={"spoken_consent": evidence[:2000], "agent": user.user.username},
            legal_basis=stated_basis(ctx.identity.consent),
            config=ctx.identity.consent,
        )
        record(session, principal, "change", "profile", int(profile.id), {"consent": choice.id})
    return _back(int(profile.id), "preference")


@router.post("/merges/{merge_id}/unmerge", include_in_schema=False)
async def post_unmerge(merge_id: Id, user: Unmerger, form: Form, ctx: Ctx) -> Response:
    reason = form.get("reason", "").strip()
    if not reason:
        raise InvalidInput([FieldError("reason", "required", "say why this merge is wrong")])
    back_to = parse_id("profile_id", form.get("profile_id", ""))
    if back_to is None:
        raise InvalidInput([FieldError("profile_id", "required", "the form is damaged")])
    principal = user.user.principal
    with unit_of_work(ctx.engine) as session:
        result = replay.unmerge(session, merge_id, ctx.identity, actor=principal.name, reason=reason)
        for pid in result.profiles:
            record(session, principal, "change", "profile", pid, {"unmerge": merge_id, "reason": reason})
    return _back(back_to, "unmerged")
