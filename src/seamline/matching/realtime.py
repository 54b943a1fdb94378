"""Real-time matching: candidate profiles for one record (an agent's form, a new source's record), scored with the
trained model's m and u and explained field by field, fast enough for a live call.

No Splink pipeline per request: an in-process index maps blocking keys (the batch's, plus name-only keys for a
caller who knows no birth date) to profile ids; a request looks its keys up, scores the few candidates in Python
(scoring.py: the same levels and weights as the batch) and ranks them.

The index follows the profile change feed (identity's `profile_changes`), which every process's changes write to:
before each answer it reads what changed since its mark (one indexed query that finds nothing most of the time).
Erased profiles leave the index at once; the others (new events, merges, unmerges, corrections, imports) are
reloaded when the index is older than `realtime_refresh_seconds`, so a burst of worker batches costs one reload.
As a second guard, an answer's candidates are checked against the erasure mark in the database before they leave.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.core.db import unit_of_work
from seamline.core.errors import Conflict, FieldError, InvalidInput
from seamline.core.forgetting import register
from seamline.identity.service import changes_mark, erased_profiles, profile_changes
from seamline.matching.comparisons import BLOCKING_KEYS, COMPARISONS
from seamline.matching.model import TrainedModel, load_model
from seamline.matching.prepare import FIELDS, metaphone, name_form, nickname_forms, prepare, street_form
from seamline.matching.records import MatchingContext, profile_records
from seamline.matching.scoring import FieldScore, Scorer

# Keys only the real-time path uses: a caller often knows a name and a postcode or city, but no birth date.
REALTIME_KEYS: Final = (
    *BLOCKING_KEYS,
    ("first_name_metaphone", "last_name_metaphone"),
    ("first_name_metaphone", "postcode"),
    ("last_name_metaphone", "postcode_district"),
)
MAX_CANDIDATES: Final = 5_000
for _cached in (name_form, metaphone, nickname_forms, street_form):  # names and streets people typed: see forgetting
    register(_cached.cache_clear)
_TF_COLUMNS: Final = tuple(sorted({lv.column for c in COMPARISONS for lv in c.levels if lv.tf}))


@dataclass(frozen=True, slots=True)
class Candidate:
    profile_id: int
    probability: float
    match_weight: float
    fields: tuple[FieldScore, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile_id": self.profile_id,
            "probability": self.probability,
            "match_weight": round(self.match_weight, 4),
            "fields": [f.as_dict() for f in self.fields],
        }


def _keys(record: Mapping[str, Any]) -> Iterable[tuple[Any, ...]]:
    for index, columns in enumerate(REALTIME_KEYS):
        values = tuple(record.get(c) for c in columns)
        if all(v is not None for v in values):
            yield (index, *values)


@dataclass
class MatchIndex:
    """Prepared records of every active profile by blocking key, with term-frequency counts, and where it stands in
    the profile change feed. Thread-safe."""

    model: TrainedModel | None = None
    scorer: Scorer | None = None
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    buckets: dict[tuple[Any, ...], set[int]] = field(default_factory=dict)
    counts: dict[str, dict[Any, int]] = field(default_factory=lambda: {c: {} for c in _TF_COLUMNS})
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_TF_COLUMNS, 0))
    mark: int | None = None  # the change feed's mark; None until the first full load
    pending: set[int] = field(default_factory=set)  # profiles the feed named, reloaded at the next refresh
    must_reload: bool = False  # a rebuild re-derived every profile
    refreshed_at: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)
    # One refresh at a time: requests that find the index stale while another refresh (or the start-up warm-up)
    # runs wait for it instead of reading the same changes again.
    refresh_lock: threading.Lock = field(default_factory=threading.Lock)

    def is_stale(self, max_age: float) -> bool:
        return time.monotonic() - self.refreshed_at >= max_age

    def use_model(self, model: TrainedModel | None) -> None:
        self.model = model
        self.scorer = Scorer(model.settings) if model is not None else None

    def put(self, profile_id: int, record: dict[str, Any]) -> None:
        self.drop(profile_id)
        self.records[profile_id] = record
        for key in _keys(record):
            self.buckets.setdefault(key, set()).add(profile_id)
        for column in _TF_COLUMNS:
            value = record.get(column)
            if value is not None:
                self.counts[column][value] = self.counts[column].get(value, 0) + 1
                self.totals[column] += 1

    def drop(self, profile_id: int) -> None:
        record = self.records.pop(profile_id, None)
        if record is None:
            return
        for key in _keys(record):
            bucket = self.buckets.get(key)
            if bucket is not None:
                bucket.discard(profile_id)
                if not bucket:
                    del self.buckets[key]
        for column in _TF_COLUMNS:
            value = record.get(column)
            if value is not None:
                left = self.counts[column].get(value, 0) - 1
                if left > 0:
                    self.counts[column][value] = left
                else:
                    self.counts[column].pop(value, None)
                self.totals[column] -= 1

    def frequency(self, column: str, value: Any) -> float | None:
        count = self.counts.get(column, {}).get(value)
        total = self.totals.get(column, 0)
        return count / total if count and total else None

    def candidates(self, record: Mapping[str, Any]) -> set[int]:
        found: set[int] = set()
        for key in _keys(record):
            found.update(self.buckets.get(key, ()))
            if len(found) > MAX_CANDIDATES:
                break
        return found

    def match(self, record: Mapping[str, Any], limit: int) -> list[Candidate]:
        """The best-scoring profiles for a prepared record, best first."""
        if self.scorer is None:
            raise Conflict("no matching model is trained yet: run `seamline match train`")
        scored = []
        for profile_id in self.candidates(record):
            result = self.scorer.score(record, self.records[profile_id], self.frequency)
            scored.append(Candidate(profile_id, result.probability, result.weight, result.fields))
        scored.sort(key=lambda c: (-c.match_weight, c.profile_id))
        return scored[:limit]


@dataclass
class Matcher:
    """A process's real-time matcher: the context and the index every edge of the process shares (the API's match
    and review routes, the console's find and review pages), so the index is built and refreshed once."""

    ctx: MatchingContext
    index: MatchIndex


def warm_index(engine: Engine, matcher: Matcher) -> None:
    """Fill a process's index from every active profile, off the request path (start-up, in a thread), so the
    first search after a start does not build it while a caller waits."""
    with matcher.index.refresh_lock, unit_of_work(engine, write=False) as session:
        refresh_index(session, matcher.ctx, matcher.index, full=True)


def build_index(session: Session, ctx: MatchingContext) -> MatchIndex:
    """An index of every active profile under the newest model."""
    index = MatchIndex()
    refresh_index(session, ctx, index, full=True)
    return index


def forget_profiles(index: MatchIndex, profile_ids: set[int]) -> None:
    """Drop profiles from the index at once (erased ones, told by the process's erasure follower)."""
    with index.lock:
        for profile_id in profile_ids:
            index.drop(profile_id)
        index.pending -= profile_ids


def _use_newest_model(ctx: MatchingContext, index: MatchIndex) -> None:
    model = load_model(ctx.model_dir)
    with index.lock:
        if model is not None and (index.model is None or index.model.version != model.version):
            index.use_model(model)


def follow_changes(session: Session, index: MatchIndex) -> None:
    """Read the change feed after the index's mark: erased profiles leave the index now, the rest wait for the
    next refresh. Call with `refresh_lock` held."""
    if index.mark is None:
        return
    changes = profile_changes(session, index.mark)
    forget_profiles(index, set(changes.erased))
    with index.lock:
        index.pending |= changes.changed
        index.must_reload = index.must_reload or changes.is_rebuilt
        index.mark = changes.mark


def refresh_index(session: Session, ctx: MatchingContext, index: MatchIndex, *, full: bool = False) -> int:
    """Bring the index up to date with the change feed (everything when `full`, never loaded, or after a rebuild);
    returns how many profiles were reloaded. A newer model file is picked up too."""
    follow_changes(session, index)
    _use_newest_model(ctx, index)
    if full or index.mark is None or index.must_reload:
        mark = changes_mark(session)  # before the read: a change made meanwhile is read again from the feed
        fresh = {int(r["unique_id"]): r for r in profile_records(session, ctx)}
        with index.lock:
            index.records.clear()
            index.buckets.clear()
            index.counts = {c: {} for c in _TF_COLUMNS}
            index.totals = dict.fromkeys(_TF_COLUMNS, 0)
            for profile_id, record in fresh.items():
                index.put(profile_id, record)
            index.mark, index.pending, index.must_reload = mark, set(), False
            index.refreshed_at = time.monotonic()
        return len(fresh)
    with index.lock:
        touched, index.pending = index.pending, set()
    records = profile_records(session, ctx, sorted(touched)) if touched else []
    fresh = {int(r["unique_id"]): r for r in records}
    with index.lock:
        for profile_id in touched:
            if profile_id in fresh:
                index.put(profile_id, fresh[profile_id])
            else:
                index.drop(profile_id)  # merged away, erased, or no longer has a name
        index.refreshed_at = time.monotonic()
    return len(touched)


def validate_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The record's fields, each text or absent; InvalidInput naming any other field or value."""
    errors = []
    for name, value in raw.items():
        if name not in FIELDS:
            errors.append(FieldError(f"record.{name}", "unknown", f"known fields: {', '.join(FIELDS)}"))
        elif value is not None and not isinstance(value, str):
            errors.append(FieldError(f"record.{name}", "invalid", "must be text"))
        elif isinstance(value, str) and len(value) > 200:
            errors.append(FieldError(f"record.{name}", "too_long", "at most 200 characters"))
    if not errors and not any(isinstance(v, str) and v.strip() for v in raw.values()):
        errors.append(FieldError("record", "required", "give at least one field"))
    if errors:
        raise InvalidInput(errors, "the record is not valid")
    return dict(raw)


def match_record(
    session: Session, ctx: MatchingContext, index: MatchIndex, raw: Mapping[str, Any], *, limit: int | None = None
) -> list[Candidate]:
    """Candidate profiles for a record (fields: first_name, last_name, date_of_birth, street, city, postcode, phone,
    email, national_id), best first, each with its probability and per-field reasons. Refreshes a stale index."""
    wanted = limit if limit is not None else ctx.config.realtime_candidates
    if not 1 <= wanted <= 100:
        raise InvalidInput([FieldError("limit", "invalid", "limit must be between 1 and 100")])
    record = prepare(validate_record(raw), ctx.region)
    with index.refresh_lock:
        if index.mark is None or index.is_stale(ctx.config.realtime_refresh_seconds):
            refresh_index(session, ctx, index)
        else:
            follow_changes(session, index)  # every answer: an erasure made by any process is seen first
    with index.lock:
        found = index.match(record, wanted)
    # The second guard: a profile erased by a transaction the feed read above could not see yet never leaves.
    erased = erased_profiles(session, [c.profile_id for c in found])
    if erased:
        with index.lock:
            for profile_id in erased:
                index.drop(profile_id)
        found = [c for c in found if c.profile_id not in erased]
    return found
