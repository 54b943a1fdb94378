"""Data-quality findings of matching, per source system: pairs whose records hold national ids that differ.

One person has one national id, so two records of one person holding two ids mean a source system holds a wrong
one (`id_typo`: one character changed, added or dropped, or two adjacent ones swapped; `id_differs`: another id
altogether), and two people with ids one typo apart are a near miss worth a look. Each stored match pair whose two
records, as compared, hold different national ids is a finding, whatever was decided (merged by the model, waiting
for a reviewer, accepted or rejected). For each of the two ids the finding names the import systems and records
that hold it now (the identifiers of the active profiles the pair's two profiles live in), so the owner of each
system can correct it at the source.

`holders_of` and `finding_of` are pure (identity links in, where each id is held; a pair in, a finding out);
`findings_page` reads one page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.paging import stream_pages
from seamline.identity.service import links_with_origin, roots_of
from seamline.matching import repository
from seamline.matching.decide import is_id_typo
from seamline.matching.message import ANONYMOUS_ID
from seamline.matching.models import MatchPair
from seamline.matching.prepare import national_id_form
from seamline.matching.readback import Audit

NATIONAL_ID: Final = "national_id"
PAGE: Final = 200  # pairs read per page (one read of pairs, roots and links, and one audit entry, per page)
CSV_COLUMNS: Final = ("match_id", "kind", "status", "found_at", "national_id", "systems", "records", "profile_id")

# (profile, type, value, source id, first event) of one identifier link, as identity reads them.
Link = tuple[int, str, str, int | None, int | None]


@dataclass(frozen=True, slots=True)
class HeldId:
    """One of a finding's two national ids: where it is held now."""

    value: str
    profile_id: int  # the active profile holding it
    systems: list[str] = field(default_factory=list)  # import systems that sent it
    records: list[str] = field(default_factory=list)  # their records that carried it (SYSTEM:KEY)

    def as_dict(self) -> dict[str, Any]:
        return {"national_id": self.value, "profile_id": self.profile_id, "systems": self.systems,
                "records": self.records}  # fmt: skip


@dataclass(frozen=True, slots=True)
class IdFinding:
    """A stored pair whose records hold different national ids, and where each id is held."""

    match_id: int
    kind: str  # "id_typo" or "id_differs"
    status: str  # the pair's: merged, pending, accepted, rejected
    found_at: datetime
    ids: tuple[HeldId, HeldId]

    def systems(self) -> set[str]:
        return {s for held in self.ids for s in held.systems}

    def as_dict(self) -> dict[str, Any]:
        return {
            "match_id": self.match_id,
            "kind": self.kind,
            "status": self.status,
            "found_at": self.found_at.isoformat(),
            "ids": [held.as_dict() for held in self.ids],
        }


def holders_of(links: Sequence[Link], sources: Mapping[int, str]) -> dict[tuple[int, str], tuple[set[str], set[str]]]:
    """Per (active profile, national id in matching's form), the systems that sent it and the source records that
    carried it, from the identifier links of those profiles (pure): a record is the anonymous id `SYSTEM:KEY` of a
    source that arrived in the same event as the id. Read once per page, for all its pairs."""
    records_of_event: dict[int, list[str]] = {}
    for _profile, kind, value, source, event in links:
        if kind == ANONYMOUS_ID and event is not None and source in sources:
            records_of_event.setdefault(event, []).append(value)
    holders: dict[tuple[int, str], tuple[set[str], set[str]]] = {}
    for profile, kind, value, source, event in links:
        form = national_id_form(value) if kind == NATIONAL_ID else None
        if form is None:
            continue
        systems, records = holders.setdefault((profile, form), (set(), set()))
        if source is not None and source in sources:
            systems.add(sources[source])
        if event is not None:
            records.update(records_of_event.get(event, []))
    return holders


def finding_of(
    pair: MatchPair, roots: Mapping[int, int], holders: Mapping[tuple[int, str], tuple[set[str], set[str]]]
) -> IdFinding:
    """The finding of one pair whose records hold different national ids (pure): `roots` maps each profile to the
    active profile it lives in now, `holders` is `holders_of` those active profiles' links."""
    left, right = str(pair.left_values[NATIONAL_ID]), str(pair.right_values[NATIONAL_ID])
    held = []
    for value, profile in ((left, pair.left_profile_id), (right, pair.right_profile_id)):
        root = roots.get(profile, profile)
        systems, records = holders.get((root, value), (set(), set()))
        held.append(HeldId(value, root, sorted(systems), sorted(records)))
    kind = "id_typo" if is_id_typo(left, right) else "id_differs"
    return IdFinding(pair.id, kind, pair.status, pair.created_at, (held[0], held[1]))


@dataclass(frozen=True, slots=True)
class FindingsPage:
    findings: list[IdFinding]
    profile_ids: list[int]  # the active profiles whose identifiers were read (for the audit entry)
    next_after: int | None  # the keyset of the next page; None after the last


def findings_page(
    session: Session, sources: Mapping[int, str], *, system: str | None = None, after: int = 0, limit: int = PAGE
) -> FindingsPage:
    """One page of findings: the next `limit` pairs (ids above `after`) whose records hold different national ids,
    those of `system` only when given (a page may then hold fewer, even none, with more to come)."""
    pairs = repository.pairs_with_differing_ids(session, after_id=after, limit=limit)
    if not pairs:
        return FindingsPage([], [], None)
    roots = roots_of(session, [p for pair in pairs for p in (pair.left_profile_id, pair.right_profile_id)])
    active = sorted(set(roots.values()))
    holders = holders_of(links_with_origin(session, active), sources)
    found = [finding_of(pair, roots, holders) for pair in pairs]
    if system is not None:
        found = [f for f in found if system in f.systems()]
    next_after = pairs[-1].id if len(pairs) == limit else None
    return FindingsPage(found, active, next_after)


FORMATS: Final = ("csv", "jsonl")


def render(findings: Sequence[IdFinding], fmt: str, *, header: bool = False) -> str:
    """Findings as JSON lines, or as CSV with one line per id (two per finding; `header` first)."""
    if fmt == "jsonl":
        return "".join(orjson.dumps(f.as_dict()).decode() + "\n" for f in findings)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_COLUMNS)
    for f in findings:
        for held in f.ids:
            writer.writerow([f.match_id, f.kind, f.status, f.found_at.isoformat(), held.value,
                             ";".join(held.systems), ";".join(held.records), held.profile_id])  # fmt: skip
    return out.getvalue()


def findings_stream(
    engine: Engine, sources: Mapping[int, str], system: str | None, fmt: str, audit: Audit
) -> Iterator[str]:
    """Every finding (of `system` only when given), rendered page by page (one transaction each, audited with its
    read)."""

    def beside(session: Session, page: FindingsPage) -> None:
        if page.findings:
            audit(session, {"findings": [f.match_id for f in page.findings], "profiles": page.profile_ids})

    return stream_pages(
        engine,
        lambda session, after: findings_page(session, sources, system=system, after=after),
        beside,
        lambda page, first: render(page.findings, fmt, header=first),
    )
