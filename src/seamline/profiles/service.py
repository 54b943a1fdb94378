"""Rules of the profiles domain: record what events say, move it on merge, and read the golden record."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.prepared import Reads
from seamline.profiles import card_reads, names, repository
from seamline.profiles.facts import CLOSED_STATUSES, HoldingFact, encode_value
from seamline.profiles.models import ProfileEvent
from seamline.profiles.survivorship import Candidate, Decision, SurvivorshipConfig, choose
from seamline.profiles.vocabulary import DEFAULT_VOCABULARY, Vocabulary


@dataclass(slots=True)
class EventFacts:
    """What one event says, and the profile it was resolved to."""

    event_id: int
    profile_id: int
    source_id: int
    type: str
    name: str | None
    channel: str | None
    occurred_at: datetime
    traits: Mapping[str, Any] = field(default_factory=dict)
    holdings: Sequence[HoldingFact] = ()


def record_facts(session: Session, facts: Sequence[EventFacts], vocabulary: Vocabulary = DEFAULT_VOCABULARY) -> None:
    """Append the events to their profiles' timelines and fold their traits (in the canonical vocabulary, each
    with the name its source gave it) and holdings in, batch-wise."""
    if not facts:
        return
    now = utcnow()
    repository.add_events(
        session,
        [
            {
                "event_id": f.event_id,
                "profile_id": f.profile_id,
                "source_id": f.source_id,
                "type": f.type,
                "name": f.name,
                "channel": f.channel,
                "occurred_at": f.occurred_at,
            }
            for f in facts
        ],
    )
    traits: dict[tuple[int, str, int, str], dict[str, Any]] = {}
    holdings: dict[tuple[int, int, str, str], dict[str, Any]] = {}
    for f in facts:
        if not f.traits:
            continue
        canonical = vocabulary.canonicalize(f.traits)
        for name, value in canonical.values.items():
            value_json, value_hash = encode_value(value)
            key = (f.profile_id, name, f.source_id, value_hash)
            row = traits.get(key)
            if row is None:
                traits[key] = {
                    "profile_id": f.profile_id,
                    "name": name,
                    "value_json": value_json,
                    "value_hash": value_hash,
                    "source_id": f.source_id,
                    "first_event_id": f.event_id,
                    "last_event_id": f.event_id,
                    "first_seen_at": f.occurred_at,
                    "last_seen_at": f.occurred_at,
                    "times_seen": 1,
                    "source_field": canonical.source_names.get(name),
                }
            else:
                row["times_seen"] += 1
                if f.occurred_at >= row["last_seen_at"]:
                    row["last_seen_at"], row["last_event_id"] = f.occurred_at, f.event_id
                    row["source_field"] = canonical.source_names.get(name)
    for f in facts:
        for h in f.holdings:
            hkey = (f.profile_id, f.source_id, h.type, h.external_id)
            is_closed = h.status in CLOSED_STATUSES
            previous = holdings.get(hkey)
            holdings[hkey] = {
                "profile_id": f.profile_id,
                "source_id": f.source_id,
                "type": h.type,
                "external_id": h.external_id,
                "status": h.status,
                "opened_at": h.opened_at
                or (previous["opened_at"] if previous else (None if is_closed else f.occurred_at)),
                "closed_at": f.occurred_at if is_closed else None,
                "attributes": {**(previous["attributes"] if previous else {}), **h.attributes},
                "first_event_id": previous["first_event_id"] if previous else f.event_id,
                "last_event_id": f.event_id,
                "updated_at": now,
            }
    repository.upsert_traits(session, list(traits.values()))
    repository.upsert_holdings(session, list(holdings.values()))


event_ids_of = repository.event_ids


profiles_of_events = repository.profile_of_events


def personal_facts(session: Session, profile_ids: Sequence[int]) -> tuple[list[int], list[str]]:
    """For erasure: the events on these profiles' timelines, and every trait value they hold (as JSON)."""
    return (
        sorted(set(repository.event_ids_of_profiles(session, profile_ids))),
        repository.trait_values_json(session, profile_ids),
    )


# Erasure: delete everything recorded about these profiles (timeline, traits, holdings); counts per kind. Nothing is re-
# derived afterwards, unlike a replay's wipe: the events themselves are scrubbed by the caller.
erase_facts = repository.erase


@dataclass(frozen=True, slots=True)
class TraitView:
    name: str
    value: Any
    decision: Decision
    label: str = ""  # the canonical model's human label


def _candidate(row: Any, source_names: Mapping[int, str]) -> Candidate:
    """A stored trait value as a survivorship candidate, its source named."""
    return Candidate(
        value_json=row.value_json,
        source=source_names.get(row.source_id, str(row.source_id)),
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        times_seen=row.times_seen,
        last_event_id=row.last_event_id,
        source_field=row.source_field,
    )


def golden_traits(
    reads: Reads,
    profile_id: int,
    source_names: Mapping[int, str],
    config: SurvivorshipConfig,
    vocabulary: Vocabulary = DEFAULT_VOCABULARY,
) -> list[TraitView]:
    """Each trait's winning value with its human label, the rule, the reason and the alternatives."""
    grouped: dict[str, list[Candidate]] = {}
    for row in repository.traits(reads, profile_id):
        grouped.setdefault(row.name, []).append(_candidate(row, source_names))
    out = []
    for name, candidates in sorted(grouped.items(), key=lambda item: vocabulary.order(item[0])):
        decision = choose(name, candidates, config)
        out.append(TraitView(name, orjson.loads(decision.winner.value_json), decision, vocabulary.label(name)))
    return out


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What a profile card shows of the profiles domain: each trait's winning value, in `golden_traits`' order,
    and how many holdings and timeline events the profile has."""

    traits: dict[str, Any]
    holdings: int
    events: int


def card_facts(
    reads: Reads,
    profile_id: int,
    source_names: Mapping[int, str],
    config: SurvivorshipConfig,
    vocabulary: Vocabulary = DEFAULT_VOCABULARY,
) -> CardFacts:
    """The card's traits and counts in one read: a trait with one candidate (most) is read as its value alone, which
    wins under any rule; only when one has several are the candidates read whole and chosen among (`golden_traits`)."""
    rows = card_reads.card_rows(reads, profile_id)
    grouped: dict[str, list[str]] = {}
    for row in rows:
        if row.name is not None and row.value_json is not None:
            grouped.setdefault(row.name, []).append(row.value_json)
    if any(len(values) > 1 for values in grouped.values()):
        traits = {t.name: t.value for t in golden_traits(reads, profile_id, source_names, config, vocabulary)}
    else:
        ordered = sorted(grouped.items(), key=lambda item: vocabulary.order(item[0]))
        traits = {name: orjson.loads(values[0]) for name, values in ordered}
    return CardFacts(traits, int(rows[0].holdings), int(rows[0].events))


def winning_traits(
    reads: Reads, profile_id: int, names: Set[str], source_names: Mapping[int, str], config: SurvivorshipConfig
) -> dict[str, Any]:
    """The winning value of each of these traits of a profile, without `golden_traits`' words: a trait with one
    candidate (most) is read as its value alone; only when one has several are they read whole and chosen among."""
    grouped: dict[str, list[str]] = {}
    for name, value_json in repository.trait_values(reads, profile_id):
        if name in names:
            grouped.setdefault(name, []).append(value_json)
    if any(len(values) > 1 for values in grouped.values()):
        return {t.name: t.value for t in golden_traits(reads, profile_id, source_names, config) if t.name in names}
    return {name: orjson.loads(values[0]) for name, values in grouped.items()}


holdings_of = repository.holdings


def open_holding_names(reads: Reads, profile_id: int, closed: frozenset[str]) -> frozenset[str]:
    """The names of the products a profile holds open (any status but `closed`): each holding's type and its
    `product_type` attribute, in one hot read."""
    return frozenset(
        name
        for kind, status, attributes in repository.holding_kinds(reads, profile_id)
        if status not in closed
        for name in (kind, str((attributes or {}).get("product_type") or kind))
    )


def open_holding_names_of(
    reads: Reads, profile_ids: Sequence[int], closed: frozenset[str]
) -> dict[int, frozenset[str]]:
    """`open_holding_names` of many profiles in one read (every profile asked is in the answer)."""
    found: dict[int, set[str]] = {profile_id: set() for profile_id in profile_ids}
    for profile_id, kind, status, text in repository.holding_kinds_of(reads, profile_ids):
        if status not in closed:
            # Decoded only when it names a product type: most holdings' attributes do not.
            attributes = orjson.loads(text) if text and "product_type" in text else None
            found[profile_id].update((kind, str((attributes or {}).get("product_type") or kind)))
    return {profile_id: frozenset(names) for profile_id, names in found.items()}


def timeline(
    session: Session,
    profile_id: int,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
    source_ids: Sequence[int] | None = None,
    channels: Sequence[str] | None = None,
    types: Sequence[str] | None = None,
) -> Sequence[ProfileEvent]:
    """The profile's events across every source and channel, newest first (keyset-paginated)."""
    query = repository.timeline_query(profile_id, before=before, source_ids=source_ids, channels=channels, types=types)
    return repository.timeline(session, query, limit)


# (holdings, timeline events) of a profile.
fact_counts = repository.fact_counts


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A profile whose names match a search, how well (0-100), and the names it holds (most recent first)."""

    profile_id: int
    score: float
    names: tuple[str, ...]


MAX_NAME_CANDIDATES = 2_000
MIN_NAME_SCORE = 75.0


def find_by_name(session: Session, query: str, *, limit: int = 20) -> list[NameMatch]:
    """Profiles whose name traits match a possibly misspelt name, best first (ties: lowest id)."""
    heads, tails = names.lookup_keys(query)
    candidates = repository.name_candidates(
        session, names.NAME_TRAITS, sorted(heads), sorted(tails), MAX_NAME_CANDIDATES
    )
    held: dict[int, list[tuple[datetime, str]]] = {}
    for row in repository.name_values(session, candidates, names.NAME_TRAITS):
        value = orjson.loads(row.value_json)
        if isinstance(value, str):
            held.setdefault(int(row.profile_id), []).append((row.last_seen_at, value))
    matches = []
    for profile_id, values in held.items():
        ordered = tuple(dict.fromkeys(v for _, v in sorted(values, key=lambda x: x[0], reverse=True)))
        found = names.score(query, ordered)
        if found >= MIN_NAME_SCORE:
            matches.append(NameMatch(profile_id, round(found, 1), ordered))
    matches.sort(key=lambda m: (-m.score, m.profile_id))
    return matches[:limit]


def display_names(session: Session, profile_ids: Sequence[int]) -> dict[int, str]:
    """A name to show for each profile that has one: its latest full name, else its latest first and last names."""
    latest: dict[tuple[int, str], tuple[datetime, str]] = {}
    for row in repository.name_values(session, profile_ids, names.NAME_TRAITS):
        value = orjson.loads(row.value_json)
        key = (int(row.profile_id), row.name)
        if isinstance(value, str) and value.strip() and (key not in latest or row.last_seen_at > latest[key][0]):
            latest[key] = (row.last_seen_at, value.strip())
    out: dict[int, str] = {}
    for profile_id in profile_ids:
        full = latest.get((profile_id, "name")) or latest.get((profile_id, "full_name"))
        parts = [
            next((latest[(profile_id, n)][1] for n in names_ if (profile_id, n) in latest), "")
            for names_ in (("first_name", "firstName"), ("last_name", "lastName"))
        ]
        shown = full[1] if full else " ".join(p for p in parts if p)
        if shown:
            out[profile_id] = shown
    return out


def profiles_holding_product(session: Session, external_id: str, *, limit: int = 20) -> list[int]:
    """Profiles holding a product (account, card, loan, order…) by its external id."""
    return repository.profiles_with_holding(session, external_id, limit)


def products_numbered(session: Session, external_id: str, *, limit: int = 20) -> list[tuple[int, str]]:
    """(profile, product type) of every holding with this number (account, card, loan, order…)."""
    return repository.holdings_numbered(session, external_id, limit)


@dataclass(frozen=True, slots=True)
class TimelineFacets:
    """The channels, source ids and event types a profile's timeline holds (for its filters)."""

    channels: tuple[str, ...]
    source_ids: tuple[int, ...]
    types: tuple[str, ...]


def timeline_facets(session: Session, profile_id: int) -> TimelineFacets:
    rows = repository.timeline_facets(session, profile_id)
    return TimelineFacets(
        tuple(sorted({r[0] for r in rows if r[0]})),
        tuple(sorted({int(r[1]) for r in rows})),
        tuple(sorted({r[2] for r in rows})),
    )


def golden_values(
    session: Session,
    names: Sequence[str],
    source_names: Mapping[int, str],
    config: SurvivorshipConfig,
    profile_ids: Sequence[int] | None = None,
) -> dict[int, dict[str, Any]]:
    """Per profile, the winning value of each of these traits (all profiles when None), in bulk."""
    grouped: dict[tuple[int, str], list[Candidate]] = {}
    for row in repository.trait_candidates(session, names, profile_ids):
        grouped.setdefault((row.profile_id, row.name), []).append(_candidate(row, source_names))
    out: dict[int, dict[str, Any]] = {}
    for (profile_id, name), candidates in grouped.items():
        winner = candidates[0] if len(candidates) == 1 else choose(name, candidates, config).winner
        out.setdefault(profile_id, {})[name] = orjson.loads(winner.value_json)
    return out


def winning_values(
    session: Session,
    names: Sequence[str],
    source_names: Mapping[int, str],
    config: SurvivorshipConfig,
    profile_ids: Sequence[int],
) -> dict[int, dict[str, Any]]:
    """`golden_values` of a batch, read lean: every candidate's value alone first (a trait with one candidate, the
    common case, has its winner), then the traits with several candidates read whole and chosen among by
    survivorship. For a batch of decisions the timestamps' conversion and candidates cost more than the query."""
    out: dict[int, dict[str, Any]] = {}
    several: set[tuple[int, str]] = set()  # (profile, trait) with more than one candidate
    for profile_id, name, value_json in repository.trait_values_of(session, names, profile_ids):
        traits = out.get(profile_id)
        if traits is None:
            traits = out[profile_id] = {}
        if name in traits:
            several.add((profile_id, name))
        else:
            traits[name] = value_json
    contested = {profile_id for profile_id, _name in several}
    chosen = golden_values(session, names, source_names, config, sorted(contested)) if contested else {}
    loads = orjson.loads
    for profile_id, traits in out.items():
        if profile_id in contested:
            for name, value_json in traits.items():
                traits[name] = chosen[profile_id][name] if (profile_id, name) in several else loads(value_json)
        else:
            for name, value_json in traits.items():
                traits[name] = loads(value_json)
    return out


def golden_values_page(
    session: Session,
    condition_names: Sequence[str],
    names: Sequence[str],
    source_names: Mapping[int, str],
    config: SurvivorshipConfig,
    *,
    after: int,
    limit: int,
) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """A keyset page of the profiles holding any of `condition_names`: the first `limit` after the profile id
    `after`, in id order, with the winning values of `names` of each (a segment read a page per transaction)."""
    page = repository.profiles_with_traits(session, sorted(condition_names), after, limit)
    return page, golden_values(session, sorted(names), source_names, config, page) if page else {}
