"""Find and the customer page: the golden record with provenance, identifiers, holdings, preferences with
reasons, the timeline with filters, merge history; and the simple changes an agent may make from it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
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
from seamline.consent.policy import Preferences
from seamline.consent.service import preferences_for, record_choice
from seamline.console.auth import Ctx, Form, requires
from seamline.console.cases import REPLY_CHANNELS, Config, clock_lines
from seamline.console.context import ConsoleContext, Match
from seamline.console.pages import HEADERS, render
from seamline.console.search import find_customers
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.core.ids import Id, parse_id
from seamline.corrections.service import correct_profile, correction_source
from seamline.identity.service import active_header, identifier_links, merge_history
from seamline.ingestion.service import load_events
from seamline.pipeline import replay
from seamline.profiles.cursor import decode_cursor, encode_cursor
from seamline.profiles.names import NAME_TRAITS
from seamline.profiles.service import golden_traits, holdings_of, timeline, timeline_facets
from seamline.profiles.vocabulary import ADDRESS, ADDRESS_PARTS, part_label
from seamline.users.permissions import (
    CHANGE_PREFERENCES,
    CORRECT_CUSTOMERS,
    FIND_CUSTOMERS,
    UNMERGE,
    VIEW_CASES,
    VIEW_CUSTOMERS,
    may,
)
from seamline.users.service import SignedIn

COMMUNICATIONS_SHOWN = 20  # the newest; the API pages through the rest
router = APIRouter(prefix="/console")
PAGE_SIZE = 50
OPEN_CASES_SHOWN = 20
CONTACT_TRAITS = ("email", "phone")
SAVED = {
    "correction": "The correction is saved.",
    "preference": "The choice is recorded, with what the customer said.",
    "unmerged": "The merge is undone.",
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


@dataclass(frozen=True, slots=True)
class Cell:
    answer: str
    css: str
    reasons: str


@dataclass(frozen=True, slots=True)
class PreferenceRow:
    """One purpose (customer-wide, or a product whose answers differ), its answer per channel."""

    subject: str
    scope: str
    cells: tuple[Cell, ...]


def _preference_rows(preferences: Preferences, channels: list[str]) -> list[PreferenceRow]:
    """A compact grid: each purpose customer-wide, plus only the products whose answers differ from it."""
    by_purpose: dict[str, dict[str | None, dict[str, Cell]]] = {}
    for (purpose, channel, topic), per_product in preferences.consent.items():
        if topic is not None:
            continue  # topics show on the ledger; the grid answers the everyday question
        for product, decision in per_product.items():
            cell = Cell(
                "allowed" if decision.allowed else "not allowed",
                "granted" if decision.allowed else "denied",
                "; ".join(decision.reasons),
            )
            by_purpose.setdefault(purpose, {}).setdefault(product, {})[channel] = cell
    rows = []
    for purpose, grid in sorted(by_purpose.items()):
        wide = grid.get(None, {})
        for product, cells in sorted(grid.items(), key=lambda item: (item[0] is not None, item[0] or "")):
            answers = [cells.get(c) for c in channels]
            if product is not None and [a.answer if a else "" for a in answers] == [
                wide[c].answer if c in wide else "" for c in channels
            ]:
                continue
            rows.append(
                PreferenceRow(
                    purpose,
                    "customer-wide" if product is None else f"product {product}",
                    tuple(a or Cell("—", "", "") for a in answers),
                )
            )
    for document_type, per_doc in sorted(preferences.delivery.items()):
        delivery = per_doc.get(None)
        if delivery is not None:
            cell = Cell(delivery.value, "", "; ".join(delivery.reasons))
            rows.append(PreferenceRow(f"delivery of {document_type}", "customer-wide", (cell,)))
    return rows


def _page_values(ctx: ConsoleContext, profile_id: int, filters: dict[str, str], cursor: str) -> dict[str, Any]:
    names = ctx.source_names.get()
    by_name = {name: sid for sid, name in names.items()}
    before = _decode_cursor(cursor)
    now = utcnow()
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
            types=[filters["type"]] if filters["type"] else None,
        )
        page = list(rows[:PAGE_SIZE])
        messages = {item.id: item.payload for item in load_events(session, [r.event_id for r in page])}
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
    return {
        "profile": profile,
        "heading": heading,
        "traits": traits,
        "editable": editable,
        "identifiers": [
            {
                "type": link.type,
                "value": link.value,
                "source": names.get(link.source_id, "—") if link.source_id is not None else "—",
                "last_seen_at": link.last_seen_at,
            }
            for link in links
        ],
        "holdings": [
            {
                "type": h.type,
                "external_id": h.external_id,
                "status": h.status,
                "source": names.get(h.source_id, str(h.source_id)),
                "opened_at": h.opened_at,
                "balance": h.attributes.get("balance") if isinstance(h.attributes, dict) else None,
            }
            for h in holdings
        ],
        "preferences": _preference_rows(preferences, list(ctx.identity.consent.channels)),
        "purposes": ctx.identity.consent.purposes,
        "channels": ctx.identity.consent.channels,
        "timeline": [
            {
                "occurred_at": r.occurred_at,
                "type": r.type,
                "name": r.name,
                "channel": r.channel,
                "source": names.get(r.source_id, str(r.source_id)),
                "message": messages.get(r.event_id, {}),
            }
            for r in page
        ],
        "filters": filters,
        "filter_options": {
            "channels": facets.channels,
            "sources": sorted(names.get(s, str(s)) for s in facets.source_ids),
            "types": facets.types,
        },
        "next_page": next_page,
        "merges": merges,
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
) -> Response:
    filters = {"channel": channel[:32], "source": source[:100], "type": type[:16]}
    values = _page_values(ctx, profile_id, filters, cursor)
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
    with unit_of_work(ctx.engine, write=False) as session:
        communications = communications_of(session, pid, limit=COMMUNICATIONS_SHOWN)
    # One entry for the page: the open cases it lists are this customer's, read in the same view.
    detail: dict[str, Any] = {"view": "console"}
    if open_cases and open_cases["cases"]:
        detail["cases"] = [c.id for c, _clocks in open_cases["cases"]]
    await record_async(ctx.audit, user.user.principal, "read", "profile", pid, detail)
    return render(
        request,
        "customer.html",
        user,
        requested=profile_id,
        saved=SAVED.get(saved, ""),
        open_cases=open_cases,
        communications=communications,
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
