"""Data-subject requests: open one with its deadline, export everything held about a person, erase a person.

Services only flush; the caller's unit of work commits, so an erasure happens entirely or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from seamline.audit.service import MAX_ENTRIES, entries, scrub_details
from seamline.cases.service import erase_cases, export_cases
from seamline.communications.inbox import erase_person as erase_inbox
from seamline.communications.inbox import export_person as export_inbox
from seamline.communications.service import erase_person as erase_communications
from seamline.communications.service import export_person as export_communications
from seamline.consent.service import history, scrub_choices
from seamline.core.clock import isoformat_z, utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput
from seamline.decisions.erasure import erase_person as erase_decisions
from seamline.destinations.service import announce_erasure
from seamline.errors.service import erase_person as erase_comm_errors
from seamline.feedback.service import erase_person as erase_feedback
from seamline.feedback.service import export_person as export_feedback
from seamline.identity.identifiers import Identifier
from seamline.identity.service import (
    active_header,
    conflicts_for,
    erase_identity,
    identifier_links,
    merge_history,
    person_identity,
    profile_members,
)
from seamline.ingestion.service import hold_processing, load_events
from seamline.ingestion.service import scrub_events as scrub_inbox_events
from seamline.journeys.service import erase_person as erase_journeys
from seamline.journeys.service import export_person as export_journeys
from seamline.matching.erasure import erase_pairs
from seamline.outbox.service import erase_person as erase_outbox
from seamline.privacy import repository
from seamline.privacy.erasure import ERASED_MARK, identifier_hash, mentions, personal_strings, scrubbed_payload
from seamline.privacy.models import PrivacyRequest
from seamline.privacy.requests import STATUSES as STATUSES  # callers find the request reads here too
from seamline.privacy.requests import RequestView, stored_request
from seamline.privacy.requests import get_request as get_request
from seamline.privacy.requests import list_requests as list_requests
from seamline.profiles.service import erase_facts, event_ids_of, golden_traits, holdings_of, personal_facts
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import list_sources
from seamline.tasks.service import erase_person as erase_tasks
from seamline.tasks.service import export_person as export_tasks
from seamline.triggers.service import erase_person as erase_triggers

KINDS = ("access", "erasure")
DEFAULT_DUE_DAYS = 30  # GDPR art. 12(3): one month from receipt
ERASED_ACTOR = "erased"


def _iso(moment: datetime | None) -> str | None:
    return isoformat_z(moment) if moment is not None else None


def open_request(
    session: Session, kind: str, profile_id: int, *, requested_by: str, due_days: int = DEFAULT_DUE_DAYS
) -> RequestView:
    """Record a request about a profile (merged ids are followed to the active one), due `due_days` from now."""
    errors = []
    if kind not in KINDS:
        errors.append(FieldError("kind", "invalid", f"kind must be one of {', '.join(KINDS)}, not {kind!r}"))
    if due_days < 1:
        errors.append(FieldError("due_days", "invalid", "due_days must be at least 1"))
    if errors:
        raise InvalidInput(errors, "the request is not valid")
    root = int(active_header(session, profile_id).id)
    now = utcnow()
    row = repository.add_request(
        session,
        {
            "kind": kind,
            "profile_id": root,
            "status": "open",
            "requested_by": requested_by[:200],
            "created_at": now,
            "due_at": now + timedelta(days=due_days),
            "result": {},
        },
    )
    return RequestView.of(row)


def _open(session: Session, request_id: int, kind: str) -> PrivacyRequest:
    row = stored_request(session, request_id, lock=True)
    if row.kind != kind:
        raise Conflict(f"request {request_id} is an {row.kind} request, not {kind}")
    if row.status != "open":
        raise Conflict(f"request {request_id} is already {row.status}")
    return row


def _audit_of(session: Session, profile_ids: Sequence[int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for pid in profile_ids:
        before: int | None = None
        while True:
            page = entries(session, subject_type="profile", subject_id=pid, limit=MAX_ENTRIES, before_id=before)
            out.extend(
                {
                    "id": e.id,
                    "at": _iso(e.at),
                    "actor": e.actor,
                    "actor_kind": e.actor_kind,
                    "surface": e.surface,
                    "action": e.action,
                    "subject": f"{e.subject_type}:{e.subject_id}",
                    "detail": e.detail,
                }
                for e in page
            )
            if len(page) < MAX_ENTRIES:
                break
            before = page[-1].id
    return sorted(out, key=lambda e: int(e["id"]))


def export_profile(
    session: Session, profile_id: int, *, survivorship: SurvivorshipConfig | None = None
) -> dict[str, Any]:
    """Everything Seamline holds about the person a profile id leads to, as JSON-ready data."""
    root = int(active_header(session, profile_id).id)
    members = profile_members(session, root)
    names = {s.id: s.name for s in list_sources(session)}

    def source(source_id: int | None) -> str | None:
        return names.get(source_id, str(source_id)) if source_id is not None else None

    traits = golden_traits(session, root, names, survivorship or SurvivorshipConfig())
    events = load_events(session, event_ids_of(session, root))
    return {
        "format": "seamline.access-export/1",
        "generated_at": _iso(utcnow()),
        "profile_id": root,
        "profile_ids": members,
        "identifiers": [
            {
                "type": link.type,
                "value": link.value,
                "source": source(link.source_id),
                "first_seen_at": _iso(link.first_seen_at),
                "last_seen_at": _iso(link.last_seen_at),
            }
            for link in identifier_links(session, root)
        ],
        "traits": [
            {
                "name": t.name,
                "value": t.value,
                "rule": t.decision.rule,
                "candidates": [
                    {
                        "value": orjson.loads(c.value_json),
                        "source": c.source,
                        "is_winner": c is t.decision.winner,
                        "first_seen_at": _iso(c.first_seen_at),
                        "last_seen_at": _iso(c.last_seen_at),
                        "times_seen": c.times_seen,
                    }
                    for c in (t.decision.winner, *t.decision.alternatives)
                ],
            }
            for t in traits
        ],
        "holdings": [
            {
                "type": h.type,
                "external_id": h.external_id,
                "status": h.status,
                "source": source(h.source_id),
                "opened_at": _iso(h.opened_at),
                "closed_at": _iso(h.closed_at),
                "attributes": h.attributes,
                "updated_at": _iso(h.updated_at),
            }
            for h in holdings_of(session, root)
        ],
        "consent": [
            {
                "kind": c.kind,
                "purpose": c.purpose,
                "channel": c.channel,
                "topic": c.topic,
                "product": c.product,
                "document_type": c.document_type,
                "value": c.value,
                "actor": c.actor,
                "surface": c.surface,
                "source": source(c.source_id),
                "legal_basis": c.legal_basis,
                "evidence": dict(c.evidence),
                "recorded_at": _iso(c.recorded_at),
                "effective_at": _iso(c.effective_at),
                "expires_at": _iso(c.expires_at),
            }
            for c in history(session, root)
        ],
        "events": [
            {"id": e.id, "source": source(e.source_id), "received_at": _iso(e.received_at), "message": e.payload}
            for e in events
        ],
        "merges": [
            {
                "id": m.id,
                "profile_id": m.profile_id,
                "merged_profile_id": m.merged_profile_id,
                "rule": m.rule,
                "evidence": f"{m.identifier_type}:{m.identifier_value}" if m.identifier_value else m.identifier_type,
                "created_at": _iso(m.created_at),
                "undone_at": _iso(m.undone_at),
            }
            for m in merge_history(session, root)
        ],
        "refused_evidence": [
            {
                "identifier": f"{c.identifier_type}:{c.identifier_value}",
                "reason": c.reason,
                "created_at": _iso(c.created_at),
            }
            for c in conflicts_for(session, root, limit=1000)
        ],
        "cases": export_cases(session, members),
        "communications": export_communications(session, members),
        "journeys": export_journeys(session, members),
        "tasks": export_tasks(session, members),
        "survey_answers": export_feedback(session, members),
        "in_app_inbox": export_inbox(session, members),
        "audit": _audit_of(session, members),
    }


def complete_access(
    session: Session, request_id: int, *, survivorship: SurvivorshipConfig | None = None
) -> dict[str, Any]:
    """Answer an access request: the export, with an open request marked done. A done one is exported again (a
    copy lost, or sent anew) and stays done as it was; the caller audits each export."""
    row = stored_request(session, request_id, lock=True)
    if row.kind != "access":
        raise Conflict(f"request {request_id} is an {row.kind} request, not access")
    if row.status == "refused":
        raise Conflict(f"request {request_id} was refused")
    export = export_profile(session, row.profile_id, survivorship=survivorship)
    if row.status == "done":
        return export
    row.status, row.completed_at = "done", utcnow()
    row.result = {
        key: len(export[key])
        for key in ("profile_ids", "identifiers", "traits", "holdings", "consent", "events", "merges", "audit")
    }
    session.flush()
    return export


def erase_profile(session: Session, request_id: int) -> RequestView:
    """Erase the person of an open erasure request: delete or scrub every personal field, leave tombstones.

    Each domain erases its own rows through its service; this function decides what goes. Workers are held for
    the transaction (see `hold_processing`), so no event about the person is resolved half before, half after.
    """
    row = _open(session, request_id, "erasure")
    # Before anything is read: an event about the person that a worker is resolving right now commits first and is
    # erased with the rest; one resolved after this commits finds the tombstones.
    hold_processing(session)
    now = utcnow()
    person = person_identity(session, row.profile_id)
    members, links, shared = person.members, person.identifiers, person.shared
    values = sorted({value for _type, value in links})
    # A value another person also holds (a household phone, a shared device) stays theirs: no tombstone for it.
    repository.add_tombstones(
        session,
        [
            {"type": t, "value_hash": identifier_hash(t, v), "erased_at": now, "request_id": row.id}
            for t, v in links
            if (t, v) not in shared
        ],
    )
    timeline_ids, trait_values = personal_facts(session, members)
    personal = personal_strings(values, trait_values)
    event_ids = sorted({*timeline_ids, *person.refused_event_ids})
    scrubbed = scrub_events(session, event_ids)
    counts = erase_facts(session, members)
    identity_counts = erase_identity(session, members, event_ids=event_ids, values=values, request_id=row.id)
    # The decisions themselves are kept as proof of what was honoured; who stated them and the evidence go.
    choices = scrub_choices(session, members, actor=ERASED_ACTOR, evidence=ERASED_MARK)
    audit_scrubbed = scrub_details(
        session, "profile", members, is_personal=lambda detail: mentions(detail, personal), replacement=ERASED_MARK
    )
    row.status, row.completed_at = "done", now
    row.result = {
        "profiles": len(members),
        "tombstones": len(links) - len(shared),
        "shared_identifiers_kept": len(shared),
        "events_scrubbed": scrubbed,
        **counts,
        **identity_counts,
        "consent_choices_scrubbed": choices,
        "audit_entries_scrubbed": audit_scrubbed,
        "cases_erased": erase_cases(session, members),
        "match_pairs_erased": erase_pairs(session, members),
        "communications_erased": erase_communications(session, members),
        "journey_entries_erased": erase_journeys(session, members),
        "communication_errors_erased": erase_comm_errors(session, members),
        "in_app_messages_erased": erase_inbox(session, members),
        "outbox_messages_erased": erase_outbox(session, members),
        "tasks_erased": erase_tasks(session, members),
        "trigger_rows_erased": erase_triggers(session, members),
        "survey_rows_erased": erase_feedback(session, members),
        "decision_rows_erased": erase_decisions(session, members),
        # After the outbox is emptied of the person: the notice itself names only Seamline's profile ids.
        "destinations_notified": announce_erasure(session, members),
    }
    session.flush()
    return RequestView.of(row)


def scrub_events(session: Session, event_ids: Sequence[int]) -> int:
    """Reduce stored events to their minimal erased form (type, ids, times) and empty their person columns."""
    return scrub_inbox_events(session, event_ids, scrubbed_payload)


def is_erased(session: Session, identifiers: Sequence[Identifier]) -> set[Identifier]:
    """Which of these normalized identifiers belong to an erased person (one query per identifier type)."""
    if not identifiers:
        return set()
    # The worker asks this of every identifier of every batch, and most types have no tombstone at all: one index
    # probe per type spares hashing them and looking the hashes up (~7% of the worker's CPU on the ingest traffic).
    types = repository.tombstoned_types(session, {i.type for i in identifiers})
    if not types:
        return set()
    by_hash: dict[str, Identifier] = {}
    by_type: dict[str, list[str]] = {}
    for i in identifiers:
        if i.type not in types:
            continue
        digest = identifier_hash(i.type, i.value)
        by_hash[digest] = i
        by_type.setdefault(i.type, []).append(digest)
    return {by_hash[h] for h in repository.tombstoned(session, by_type)}
