"""Read-back: which active profile each imported source record ended in, and the evidence of every join that put it
there, so a user can audit a run.

A record is its import's anonymous id (`SYSTEM:KEY`, see imports/mapping.py) on the profile that holds it now. How
it got there, from the record outward:

- its event created a profile, which merges may since have folded into others: one join per merge on the way to the
  active profile. A merge of the identity graph's rules shows the shared identifier; a merge asked by a match event
  shows the stored pair (probability, match weight, model version, field-by-field comparison) and who decided it
  (the model, or the reviewer and when);
- or its event carried an identifier a profile already held and was placed there with no merge: that is a
  deterministic join on the shared identifier, after the joins of the record that first brought that identifier.

`assemble` is pure (a page of identity's read-back in, rows out); `export_page` reads one page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.errors import NotFound
from seamline.core.paging import stream_pages
from seamline.identity.service import EventInput, RecordHomes, read_identifiers, record_homes
from seamline.ingestion.service import load_events
from seamline.matching import repository
from seamline.matching.message import ANONYMOUS_ID
from seamline.matching.models import MatchPair
from seamline.matching.records import MatchingContext
from seamline.sources.service import list_sources

MATCH_RULE: Final = "match"
PAGE: Final = 200  # active profiles per page (each page is one read of each table and one audit entry)
MAX_HOPS: Final = 64  # a record's joins are a short chain; a longer one is a loop in damaged data
CSV_COLUMNS: Final = ("system", "record_key", "profile_id", "joins", "join_kinds", "evidence")


class MergeRow(Protocol):
    """What read-back reads of an identity merge record."""

    id: int
    profile_id: int
    merged_profile_id: int
    event_id: int | None
    identifier_type: str | None
    identifier_value: str | None
    rule: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One source record, the active profile it ended in, and the joins that put it there (from the record out)."""

    system: str
    record_key: str
    profile_id: int
    joins: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "record_key": self.record_key,
            "profile_id": self.profile_id,
            "joins": self.joins,
        }


@dataclass(frozen=True, slots=True)
class ExportPage:
    rows: list[RecordRow]
    profile_ids: list[int]  # the active profiles read (for the audit entry)
    next_after: int | None  # the keyset of the next page; None after the last


def import_sources(session: Session, system: str | None = None) -> dict[int, str]:
    """The sources records may have been imported into, by id (only `system` when given); NotFound when `system`
    names no source. Any source can take an import (`kind import` is the usual, a silo's own `core-system` source
    as well): a record is told from other traffic by its anonymous id, `SOURCE:KEY` as the import wrote it."""
    every = {s.id: s.name for s in list_sources(session)}
    known_system(every, system)
    return every if system is None else {i: name for i, name in every.items() if name == system}


def known_system(sources: Mapping[int, str], system: str | None) -> None:
    """NotFound when `system` is given and names none of these sources."""
    if system is not None and system not in sources.values():
        raise NotFound(f"no source named {system!r}")


def _identifier_join(merge: MergeRow) -> dict[str, Any]:
    return {
        "kind": "identifier",
        "rule": merge.rule,
        "identifier_type": merge.identifier_type,
        "identifier_value": merge.identifier_value,
        "at": merge.created_at.isoformat(),
        "merge_id": merge.id,
    }


def _match_join(merge: MergeRow, pair: MatchPair | None) -> dict[str, Any]:
    join: dict[str, Any] = {"kind": "match", "at": merge.created_at.isoformat(), "merge_id": merge.id}
    if pair is None:  # the pair's evidence was not found (erased, or written by another installation)
        return {**join, "match_id": None}
    reviewed = pair.status == "accepted"
    return {
        **join,
        "match_id": pair.id,
        "decided_by": "reviewer" if reviewed else "model",
        "reviewer": pair.decided_by if reviewed else None,
        "reviewed_at": pair.decided_at.isoformat() if reviewed and pair.decided_at else None,
        "probability": pair.probability,
        "match_weight": pair.match_weight,
        "model_version": pair.model_version,
        "fields": list(pair.comparison or []),
    }


def match_id_of(payload: Mapping[str, Any]) -> int | None:
    context = payload.get("context")
    match = context.get("match") if isinstance(context, Mapping) else None
    found = match.get("match_id") if isinstance(match, Mapping) else None
    return found if isinstance(found, int) else None


def assemble(
    homes: RecordHomes,
    sources: Mapping[int, str],
    carried: Mapping[int, Sequence[tuple[str, str]]],
    match_of_event: Mapping[int, int],
    pairs: Mapping[int, MatchPair],
) -> list[RecordRow]:
    """Rows of a page: `carried` is the (type, value) identifiers of each record event that created no profile,
    `match_of_event` the pair id of each match event, `pairs` the stored pairs."""
    creators = {event: pid for pid, _root, event in homes.members if event is not None}
    absorbed_by = {m.merged_profile_id: m for m in homes.merges}  # oldest first, so the newest live merge wins
    first_seen: dict[tuple[int, str, str], int] = {}
    for root, kind, value, _source, event in homes.links:
        if event is not None:
            first_seen[(root, kind, value)] = event

    def merge_joins(profile_id: int) -> list[dict[str, Any]]:
        joins: list[dict[str, Any]] = []
        while profile_id in absorbed_by and len(joins) < MAX_HOPS:
            merge = absorbed_by[profile_id]
            if merge.rule == MATCH_RULE and merge.event_id is not None:
                pair_id = match_of_event.get(merge.event_id)
                joins.append(_match_join(merge, pairs.get(pair_id) if pair_id is not None else None))
            else:
                joins.append(_identifier_join(merge))
            profile_id = merge.profile_id
        return joins

    def joins_of(root: int, event: int, hops: int = 0) -> list[dict[str, Any]]:
        if event in creators:
            return merge_joins(creators[event])
        shared = [
            (first_seen[(root, kind, value)], kind, value)
            for kind, value in carried.get(event, ())
            if kind != ANONYMOUS_ID and first_seen.get((root, kind, value), event) < event
        ]
        if not shared:
            return [{"kind": "identifier", "rule": "resolution", "identifier_type": None, "identifier_value": None}]
        earlier, kind, value = min(shared)
        join = {"kind": "identifier", "rule": "resolution", "identifier_type": kind, "identifier_value": value}
        before = joins_of(root, earlier, hops + 1) if hops < MAX_HOPS else []
        return [*before, join]

    rows: list[RecordRow] = []
    for root, kind, value, source, event in homes.links:
        name = sources.get(source) if source is not None else None
        if kind != ANONYMOUS_ID or name is None or not value.startswith(f"{name}:"):
            continue
        joins = joins_of(root, event) if event is not None else []
        rows.append(RecordRow(name, value[len(name) + 1 :], root, joins))
    return rows


def export_page(
    session: Session, ctx: MatchingContext, sources: Mapping[int, str], *, after: int = 0, limit: int = PAGE
) -> ExportPage:
    """One page of the read-back: the records of the next `limit` active profiles (ids above `after`) holding a
    record of these import sources. Erased people are not there (identity leaves them out)."""
    homes = record_homes(session, ANONYMOUS_ID, list(sources), after=after, limit=limit)
    if not homes.roots:
        return ExportPage([], [], None)
    creators = {event for _pid, _root, event in homes.members if event is not None}
    record_events = {
        event
        for _root, kind, _value, source, event in homes.links
        if kind == ANONYMOUS_ID and source in sources and event is not None and event not in creators
    }
    # The events behind deterministic joins may be older records' (a chain through shared identifiers); reading
    # every link's first event of those profiles covers them.
    joined_roots = {root for root, kind, _v, _s, event in homes.links if event in record_events}
    other_events = {
        event
        for root, _kind, _value, _source, event in homes.links
        if root in joined_roots and event is not None and event not in creators
    }
    match_events = [m.event_id for m in homes.merges if m.rule == MATCH_RULE and m.event_id is not None]
    wanted = sorted(record_events | other_events | set(match_events))
    items = load_events(session, wanted) if wanted else []
    inputs = [EventInput(i.id, i.source_id, i.payload, i.received_at) for i in items]
    carried = {
        item.id: [(ident.type, ident.value) for ident in idents]
        for item, (idents, _refused) in zip(inputs, read_identifiers(inputs, ctx.identity), strict=True)
    }
    match_of_event: dict[int, int] = {}
    for item in items:
        pair_id = match_id_of(item.payload)
        if pair_id is not None:
            match_of_event[item.id] = pair_id
    pairs = repository.pairs_by_id(session, list(match_of_event.values()))
    rows = assemble(homes, sources, carried, match_of_event, pairs)
    rows.sort(key=lambda r: (r.profile_id, r.system, r.record_key))
    next_after = homes.roots[-1] if len(homes.roots) == limit else None
    return ExportPage(rows, homes.roots, next_after)


FORMATS: Final = ("csv", "jsonl")


def _kind(join: Mapping[str, Any]) -> str:
    if join["kind"] == "match":
        return "match:reviewer" if join.get("decided_by") == "reviewer" else "match:model"
    return f"identifier:{join.get('identifier_type') or 'unknown'}"


def render(rows: Sequence[RecordRow], fmt: str, *, header: bool = False) -> str:
    """Rows as CSV (the joins' evidence as one JSON column; `header` first) or as JSON lines."""
    if fmt == "jsonl":
        return "".join(orjson.dumps(r.as_dict()).decode() + "\n" for r in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for r in rows:
        kinds = ";".join(_kind(j) for j in r.joins)
        writer.writerow([r.system, r.record_key, r.profile_id, len(r.joins), kinds, orjson.dumps(r.joins).decode()])
    return out.getvalue()


# What an edge does beside each page's read, in its transaction: its audit entry (the detail names what was read).
Audit = Callable[[Session, dict[str, Any]], None]


def export_stream(
    engine: Engine, ctx: MatchingContext, sources: Mapping[int, str], fmt: str, audit: Audit
) -> Iterator[str]:
    """The whole read-back, rendered page by page (one transaction each, audited with its read)."""

    def beside(session: Session, page: ExportPage) -> None:
        if page.profile_ids:
            audit(session, {"profiles": page.profile_ids})

    return stream_pages(
        engine,
        lambda session, after: export_page(session, ctx, sources, after=after),
        beside,
        lambda page, first: render(page.rows, fmt, header=first),
    )
