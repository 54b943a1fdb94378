"""Queries of the privacy domain.

Erasure has to reach rows of other domains' tables (identifiers, facts, the inbox, consent evidence, audit
detail). Those domains expose no erase operation yet, so the deletes and scrubs are here, in one place, each
named for the table it touches; when a domain grows its own `erase_*` service, the matching function moves there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from seamline.audit.models import AuditEntry
from seamline.consent.models import ConsentChoice
from seamline.core.db import table_of
from seamline.identity.models import IdentifierLink, IdentityConflict, Merge, Profile
from seamline.ingestion.models import InboxEvent
from seamline.privacy.models import ErasedIdentifier, PrivacyRequest
from seamline.profiles.models import Holding, ProfileEvent, TraitValue

CHUNK = 900  # under SQLite's bound-parameter limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def add_request(session: Session, row: dict[str, Any]) -> PrivacyRequest:
    request = PrivacyRequest(**row)
    session.add(request)
    session.flush()
    return request


def get_request(session: Session, request_id: int, *, lock: bool = False) -> PrivacyRequest | None:
    query = select(PrivacyRequest).where(PrivacyRequest.id == request_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def list_requests(session: Session, *, status: str | None, limit: int) -> Sequence[PrivacyRequest]:
    query = select(PrivacyRequest)
    if status is not None:
        query = query.where(PrivacyRequest.status == status)
    return session.scalars(query.order_by(PrivacyRequest.id.desc()).limit(limit)).all()


def members(session: Session, root: int) -> list[int]:
    """The profile and every profile merged into it (merge pointers are kept flat)."""
    absorbed = session.scalars(select(Profile.id).where(Profile.merged_into_id == root).order_by(Profile.id))
    return [root, *absorbed]


def links_of(session: Session, profile_ids: Sequence[int]) -> list[tuple[str, str]]:
    rows = session.execute(
        select(IdentifierLink.type, IdentifierLink.value).where(IdentifierLink.profile_id.in_(profile_ids))
    ).all()
    return sorted({(r[0], r[1]) for r in rows})


def held_elsewhere(session: Session, values: Sequence[str], profile_ids: Sequence[int]) -> set[tuple[str, str]]:
    """(type, value) of these values that a profile outside `profile_ids` also holds (a shared phone or device)."""
    out: set[tuple[str, str]] = set()
    for chunk in _chunks(values):
        rows = session.execute(
            select(IdentifierLink.type, IdentifierLink.value).where(
                IdentifierLink.value.in_(chunk), IdentifierLink.profile_id.not_in(profile_ids)
            )
        ).all()
        out.update((r[0], r[1]) for r in rows)
    return out


def add_tombstones(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert tombstones; one already there (an earlier erasure of the same value) is kept as it is."""
    if not rows:
        return
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table_of(ErasedIdentifier)).on_conflict_do_nothing(index_elements=["type", "value_hash"])
    session.execute(stmt, list(rows))


def tombstoned(session: Session, hashes: Sequence[str]) -> set[str]:
    """Which of these identifier hashes are tombstoned."""
    out: set[str] = set()
    for chunk in _chunks(hashes):
        out.update(session.scalars(select(ErasedIdentifier.value_hash).where(ErasedIdentifier.value_hash.in_(chunk))))
    return out


def event_ids_of(session: Session, profile_ids: Sequence[int]) -> list[int]:
    """Events on these profiles' timelines and events whose refused evidence named them."""
    timeline = session.scalars(select(ProfileEvent.event_id).where(ProfileEvent.profile_id.in_(profile_ids)))
    conflicts = session.scalars(
        select(IdentityConflict.event_id).where(
            IdentityConflict.event_id.is_not(None),
            or_(IdentityConflict.profile_id.in_(profile_ids), IdentityConflict.other_profile_id.in_(profile_ids)),
        )
    )
    return sorted({*timeline, *(e for e in conflicts if e is not None)})


def trait_values(session: Session, profile_ids: Sequence[int]) -> list[str]:
    return list(session.scalars(select(TraitValue.value_json).where(TraitValue.profile_id.in_(profile_ids))))


def delete_facts(session: Session, profile_ids: Sequence[int]) -> dict[str, int]:
    """Delete the profiles' timeline index, traits, holdings and identifier links; counts per table."""
    counts: dict[str, int] = {}
    for name, model in (
        ("events", ProfileEvent),
        ("traits", TraitValue),
        ("holdings", Holding),
        ("identifiers", IdentifierLink),
    ):
        result: Any = session.execute(delete(table_of(model)).where(model.profile_id.in_(profile_ids)))
        counts[name] = int(result.rowcount or 0)
    return counts


def delete_conflicts(
    session: Session, profile_ids: Sequence[int], event_ids: Sequence[int], values: Sequence[str]
) -> int:
    """Delete refused evidence about these profiles, from their events, or naming their values."""
    table = table_of(IdentityConflict)
    total = 0
    conditions = [table.c.profile_id.in_(profile_ids), table.c.other_profile_id.in_(profile_ids)]
    result: Any = session.execute(delete(table).where(or_(*conditions)))
    total += int(result.rowcount or 0)
    for chunk in _chunks(event_ids):
        result = session.execute(delete(table).where(table.c.event_id.in_(chunk)))
        total += int(result.rowcount or 0)
    for chunk in _chunks(values):
        result = session.execute(delete(table).where(table.c.identifier_value.in_(chunk)))
        total += int(result.rowcount or 0)
    return total


def forget_merge_evidence(session: Session, profile_ids: Sequence[int]) -> int:
    """Blank the identifier value a merge of these profiles was made on (the merge itself stays, undoable)."""
    table = table_of(Merge)
    result: Any = session.execute(
        update(table)
        .where(or_(table.c.profile_id.in_(profile_ids), table.c.merged_profile_id.in_(profile_ids)))
        .where(table.c.identifier_value.is_not(None))
        .values(identifier_value=None)
    )
    return int(result.rowcount or 0)


def replace_payloads(session: Session, payloads: dict[int, str]) -> None:
    """Overwrite inbox events' payloads and empty their person columns."""
    if not payloads:
        return
    table = table_of(InboxEvent)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("event_id"))
        .values(payload=bindparam("new_payload"), user_id=None, anonymous_id=None)
    )
    session.connection().execute(stmt, [{"event_id": k, "new_payload": v} for k, v in payloads.items()])


def consent_rows(session: Session, profile_ids: Sequence[int]) -> list[tuple[int, str, dict[str, Any]]]:
    rows = session.execute(
        select(ConsentChoice.id, ConsentChoice.actor, ConsentChoice.evidence).where(
            or_(ConsentChoice.profile_id.in_(profile_ids), ConsentChoice.origin_profile_id.in_(profile_ids))
        )
    ).all()
    return [(int(r[0]), str(r[1]), dict(r[2] or {})) for r in rows]


def scrub_consent(session: Session, choice_ids: Sequence[int], actor: str, evidence: dict[str, Any]) -> None:
    table = table_of(ConsentChoice)
    for chunk in _chunks(choice_ids):
        session.execute(update(table).where(table.c.id.in_(chunk)).values(actor=actor, evidence=evidence))


def audit_details(session: Session, profile_ids: Sequence[int]) -> list[tuple[int, dict[str, Any]]]:
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.detail).where(
            AuditEntry.subject_type == "profile", AuditEntry.subject_id.in_([str(p) for p in profile_ids])
        )
    ).all()
    return [(int(r[0]), dict(r[1] or {})) for r in rows]


def replace_audit_details(session: Session, entry_ids: Sequence[int], detail: dict[str, Any]) -> None:
    table = table_of(AuditEntry)
    for chunk in _chunks(entry_ids):
        session.execute(update(table).where(table.c.id.in_(chunk)).values(detail=detail))
