"""Corrections: an agent or a system fixes a profile's traits and contact identifiers, and sees it at once.

The correction becomes an event of its own source (the reserved `console` source unless the caller names
another), appended to the inbox and resolved in the caller's transaction by the same resolver the worker runs.
It never merges two customers: a new email or id that another profile holds is refused, for a person to review.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from seamline.audit.service import record
from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.principal import Principal
from seamline.corrections.message import (
    MAX_REASON,
    SYSTEM_OWNED,
    anchor_placement,
    correction_message,
    trait_errors,
)
from seamline.identity.identifiers import Identifier
from seamline.identity.service import IdentityContext, active_header, identifier_links, profile_holding, root_of
from seamline.ingestion.service import append_processed
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import process_events
from seamline.profiles.vocabulary import ADDRESS, ADDRESS_PARTS
from seamline.sources.service import SourceView, create_source, list_sources

CONSOLE_SOURCE = "console"
CONSOLE_SOURCE_KIND = "call-center"


@dataclass(frozen=True, slots=True)
class Correction:
    profile_id: int
    event_id: int
    source: str
    traits: dict[str, Any]


def correction_source(session: Session, name: str | None = None) -> SourceView:
    """The source a correction is written as: a named one, or the reserved `console` source (made on first use)."""
    wanted = name or CONSOLE_SOURCE
    found = next((s for s in list_sources(session) if s.name == wanted), None)
    if found is not None:
        if found.is_revoked:
            raise InvalidInput([FieldError("source", "revoked", f"source {wanted!r} is revoked")])
        return found
    if name is not None:
        raise InvalidInput([FieldError("source", "unknown", f"no source named {name!r}")])
    # Its write key is thrown away: nothing sends to the tracking API as the console.
    source, _key = create_source(session, CONSOLE_SOURCE, CONSOLE_SOURCE_KIND)
    return source


def _anchor(session: Session, profile_id: int, context: IdentityContext, taken: list[str]) -> dict[str, Any]:
    """How the message names the profile: its strongest identifier the resolver can read from a free path."""
    links = sorted(identifier_links(session, profile_id), key=lambda link: context.extractor.rule(link.type).priority)
    for link in links:
        placed = anchor_placement(Identifier(link.type, link.value), context.extractor.rule(link.type), taken)
        if placed is not None:
            return placed
    raise Conflict(f"profile {profile_id} holds no identifier a correction can name it by")


def _refuse_other_profiles(
    session: Session, message: Mapping[str, Any], profile_id: int, context: IdentityContext
) -> None:
    """A correction never joins two customers: identifiers another profile holds are refused by field."""
    identifiers, refusals = context.extractor.extract(message)
    errors = [
        FieldError(f"traits.{r.type}", r.reason, f"{r.raw!r} is not a usable {r.type}")
        for r in refusals
        if r.type not in SYSTEM_OWNED
    ]
    for ident in identifiers:
        if context.extractor.rule(ident.type).is_shareable:
            continue  # a household's phone may be two people's; the resolver never merges on it alone
        try:
            holder = profile_holding(session, ident)
        except NotFound:
            continue
        if root_of(session, holder) != profile_id:
            errors.append(
                FieldError(
                    f"traits.{ident.type}",
                    "held_by_another_profile",
                    f"{ident} belongs to another customer (profile {holder}); a correction never merges customers",
                )
            )
    if errors:
        raise InvalidInput(errors, "the correction was not made")


def correct_profile(
    session: Session,
    profile_id: int,
    traits: Mapping[str, Any],
    *,
    actor: Principal,
    context: Pipeline,
    reason: str | None = None,
    source: str | None = None,
) -> Correction:
    """Record corrected traits (names, email, phone, address…) on a profile as an event, resolved at once, audited."""
    errors = trait_errors(traits)
    for name in traits:
        if name in SYSTEM_OWNED or name in ("userId", "anonymousId"):
            errors.append(FieldError(f"traits.{name}", "system_owned", f"{name} is set by the system that owns it"))
        elif name != ADDRESS and context.vocabulary.canonical_name(name) == ADDRESS:
            # A part alone would become a whole address of one part, dropping the rest: the address is one value.
            errors.append(
                FieldError(
                    f"traits.{name}",
                    "address_part",
                    f"{name} is part of the address, which is corrected whole: send address with all its parts "
                    f"({', '.join(ADDRESS_PARTS)})",
                )
            )
        elif name == ADDRESS and not isinstance(traits[name], Mapping):
            errors.append(
                FieldError(
                    "traits.address",
                    "invalid",
                    f"an address is an object of its parts ({', '.join(ADDRESS_PARTS)})",
                )
            )
    if reason is not None and len(reason) > MAX_REASON:
        errors.append(FieldError("reason", "too_long", f"a reason has at most {MAX_REASON} characters"))
    if errors:
        raise InvalidInput(errors, "the correction was not made")
    profile = active_header(session, profile_id)
    pid = int(profile.id)
    taken = [f"traits.{name}" for name in traits]
    message = correction_message(
        traits,
        _anchor(session, pid, context, taken),
        profile_id=pid,
        actor=actor.name,
        surface=actor.surface,
        reason=reason,
        now=utcnow(),
    )
    _refuse_other_profiles(session, {"traits": dict(traits)}, pid, context)
    written_as = correction_source(session, source)
    [item] = append_processed(session, written_as.id, [message])
    outcome = process_events(session, [item], context)
    landed = root_of(session, outcome.assignments.get(item.id, pid))
    detail = {"corrected": sorted(traits), "event_id": item.id, "source": written_as.name, "reason": reason}
    record(session, actor, "change", "profile", landed, detail)
    return Correction(landed, item.id, written_as.name, dict(traits))
