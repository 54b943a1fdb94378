"""The profile card's hot reads: which profile holds an identifier, a profile's header, its identifiers.

They run as prepared statements on the driver (see core.prepared), in a read snapshot or a unit of work's session:
building a select costs more than running it on an index, and SQLAlchemy's execution machinery several times more
again. Typed by the Core tables' columns, so timestamps come back as the ORM would give them.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import text

from seamline.core.db import table_of
from seamline.core.prepared import Prepared, Reads
from seamline.identity.identifiers import Identifier
from seamline.identity.models import IdentifierLink, Profile

_PROFILES, _IDENTIFIERS = table_of(Profile).c, table_of(IdentifierLink).c


class ProfileHeader(NamedTuple):
    """A profile's own row, without its facts."""

    id: int
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None
    erasure_request_id: int | None


class IdentifierRow(NamedTuple):
    """One identifier a profile holds, with where and when it was seen."""

    type: str
    value: str
    source_id: int | None
    first_seen_at: datetime
    last_seen_at: datetime


class _Holder(NamedTuple):
    profile_id: int


class _External(NamedTuple):
    type: str
    profile_id: int


class _Id(NamedTuple):
    id: int


_FIND = Prepared(
    text(
        "SELECT profile_id FROM identifiers WHERE value = :value AND type = :type ORDER BY last_seen_at DESC LIMIT 1"
    ).columns(_IDENTIFIERS.profile_id),
    _Holder,
)
_HOLDERS = Prepared(
    text(
        "SELECT profile_id FROM identifiers WHERE value = :value AND type = :type ORDER BY last_seen_at DESC "
        "LIMIT :limit"
    ).columns(_IDENTIFIERS.profile_id),
    _Holder,
)
# A product system's customer number typed bare: every `ext:` type holding the value (the unique index on
# (value, type, profile_id) answers it by its first column).
_EXTERNAL = Prepared(
    text(
        "SELECT type, profile_id FROM identifiers WHERE value = :value AND type LIKE 'ext:%' "
        "ORDER BY last_seen_at DESC LIMIT :limit"
    ).columns(_IDENTIFIERS.type, _IDENTIFIERS.profile_id),
    _External,
)
_HEADER = Prepared(
    text(
        "SELECT id, merged_into_id, created_at, updated_at, erased_at, erasure_request_id FROM profiles WHERE id = :id"
    ).columns(
        _PROFILES.id,
        _PROFILES.merged_into_id,
        _PROFILES.created_at,
        _PROFILES.updated_at,
        _PROFILES.erased_at,
        _PROFILES.erasure_request_id,
    ),
    ProfileHeader,
)
_ABSORBED = Prepared(text("SELECT id FROM profiles WHERE merged_into_id = :id ORDER BY id").columns(_PROFILES.id), _Id)
_LINKS = Prepared(
    text(
        "SELECT type, value, source_id, first_seen_at, last_seen_at FROM identifiers WHERE profile_id = :id "
        "ORDER BY type, id"
    ).columns(
        _IDENTIFIERS.type,
        _IDENTIFIERS.value,
        _IDENTIFIERS.source_id,
        _IDENTIFIERS.first_seen_at,
        _IDENTIFIERS.last_seen_at,
    ),
    IdentifierRow,
)


def find_profile(reads: Reads, identifier: Identifier) -> int | None:
    """The active profile holding an identifier (the most recent user, for a shared device)."""
    found = _FIND.first(reads, value=identifier.value, type=identifier.type)
    return int(found.profile_id) if found is not None else None


def holder_ids(reads: Reads, identifier: Identifier, limit: int) -> list[int]:
    """Every profile holding an identifier (a household's phone has several), the most recent user first."""
    return [int(r.profile_id) for r in _HOLDERS.all(reads, value=identifier.value, type=identifier.type, limit=limit)]


def external_holders(reads: Reads, value: str, limit: int) -> list[tuple[str, int]]:
    """(type, profile) of every external system id (`ext:<system>`) with this value."""
    return [(str(r.type), int(r.profile_id)) for r in _EXTERNAL.all(reads, value=value, limit=limit)]


def profile_header(reads: Reads, profile_id: int) -> ProfileHeader | None:
    """id, merged_into_id, created_at, updated_at, erased_at, erasure_request_id of a profile, or None."""
    return _HEADER.first(reads, id=profile_id)


def absorbed_ids(reads: Reads, root: int) -> list[int]:
    """Every profile merged into an active one (merge pointers are kept flat)."""
    return [int(r.id) for r in _ABSORBED.all(reads, id=root)]


def link_rows(reads: Reads, profile_id: int) -> list[IdentifierRow]:
    """type, value, source_id, first_seen_at, last_seen_at of each identifier a profile holds."""
    return _LINKS.all(reads, id=profile_id)
