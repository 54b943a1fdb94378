"""Matching's rules and transaction steps: train a model, run a batch (merge, review, keep apart), and the review
queue. Accepted matches reach the identity graph only as events on the log (see message.py), so every merge is
made, explained and undone by identity's own rules."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from splink.internals.database_api import DatabaseAPISubClass
from sqlalchemy.orm import Session

from seamline.core.clock import utcnow
from seamline.core.errors import Conflict, FieldError, InvalidInput, NotFound
from seamline.core.views import view_of
from seamline.identity.matchevent import typo_linked
from seamline.identity.service import identifiers_by_profile, root_of, roots_of
from seamline.ingestion.service import append_messages
from seamline.ingestion.wire import Limits
from seamline.matching import repository
from seamline.matching.comparisons import COMPARISONS, level_of, predicate
from seamline.matching.decide import PERSONAL_EVIDENCE, ScoredPair, decide
from seamline.matching.message import chosen_identifier, match_message
from seamline.matching.model import (
    TrainedModel,
    apply_labels,
    duckdb_api,
    load_model,
    model_versions,
    predict_pairs,
    records_frame,
    save_model,
    train_settings,
    training_memory,
)
from seamline.matching.models import MatchPair
from seamline.matching.records import MatchingContext, iter_profile_records
from seamline.matching.scoring import Scorer, term_frequencies
from seamline.matching.table import FrameRecords
from seamline.matching.training import TrainingRefused
from seamline.sources.service import create_source, list_sources

MIN_TRAINING_RECORDS = 20
NATIONAL_ID = "national_id"
DECISIONS = ("accept", "reject")
STATUSES = ("pending", "accepted", "rejected", "merged")
ORDERS = ("oldest", "likeliest")
# A backend turns the prepared records into what its Splink API reads (DuckDB reads pandas as it is).
Backend = tuple[DatabaseAPISubClass, Callable[[pd.DataFrame], Any]]


@dataclass(frozen=True, slots=True)
class ReviewView:
    """A scored pair as a reviewer (and the API, CLI and console) sees it."""

    id: int
    left_profile_id: int
    right_profile_id: int
    probability: float
    match_weight: float
    model_version: int
    outcome: str
    status: str
    fields: list[dict[str, Any]]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None
    message_id: str | None

    @classmethod
    def of(cls, pair: MatchPair) -> ReviewView:
        return view_of(cls, pair, fields=list(pair.comparison or []))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "left_profile_id": self.left_profile_id,
            "right_profile_id": self.right_profile_id,
            "probability": self.probability,
            "match_weight": self.match_weight,
            "model_version": self.model_version,
            "outcome": self.outcome,
            "status": self.status,
            "fields": self.fields,
            "created_at": self.created_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "decided_by": self.decided_by,
            "note": self.note,
            "message_id": self.message_id,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    model_version: int
    records: int
    pairs_scored: int
    merges: int
    reviews: int
    apart: int
    guarded: int
    seconds: float
    id_typos: int = 0  # merges and reviews whose national ids differ by one typo: data-quality findings
    id_differs: int = 0  # … and those whose national ids differ outright (one source replaced the id)


ID_TYPO_NOTE = (
    "data-quality finding: the national ids differ by one typo; correct the mistyped one in its source system. "
    "The pair is not certain without the id; accepting it merges the two, keeping both ids"
)
ID_TYPO_MERGED = (
    "data-quality finding: the national ids differ by one typo; merged because the pair is certain without the id "
    "(both ids kept, the absorbed one recorded as an id_typo conflict); correct the mistyped one in its source system"
)

ID_DIFFERS_NOTE = (
    "data-quality finding: the national ids differ (one source holds another id for this person, or these are two "
    "people); accepting the pair merges the two, keeping both ids"
)
ID_DIFFERS_MERGED = (
    "data-quality finding: the national ids differ; merged because the pair is certain with the ids' difference "
    "weighed (both ids kept, the absorbed one recorded as an id_typo conflict); correct the wrong one at its source"
)


def current_model(ctx: MatchingContext) -> TrainedModel | None:
    """The newest trained model, or None."""
    return load_model(ctx.model_dir)


def train_model(session: Session, ctx: MatchingContext) -> TrainedModel:
    """Train a new model version on the current profiles (u by random sampling, m by EM), then let reviewers'
    accepted pairs update m; saved as the next versioned file."""
    frame = records_frame(iter_profile_records(session, ctx))
    if len(frame) < MIN_TRAINING_RECORDS:
        raise Conflict(f"{len(frame)} profile(s) with a name; training needs at least {MIN_TRAINING_RECORDS}")
    try:
        settings = train_settings(
            frame,
            u_max_pairs=ctx.config.u_max_pairs,
            db_api=duckdb_api(training_memory(ctx.config.training_memory_limit, len(frame))),
            u_without_true_matches=ctx.config.u_without_true_matches,
        )
    except TrainingRefused as refused:
        raise Conflict(f"no model was saved: {refused}") from None
    accepted = repository.pairs(session, ["accepted"])
    if accepted:
        settings = apply_labels(settings, label_level_counts([(p.left_values, p.right_values) for p in accepted]))
    versions = model_versions(ctx.model_dir)
    model = TrainedModel(settings, (versions[-1] + 1) if versions else 1, utcnow(), len(frame), len(accepted))
    save_model(ctx.model_dir, model)
    return model


def label_level_counts(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> list[list[int]]:
    """Per comparison, how many labelled pairs fall on each level (the "differs" level last; missing not counted)."""
    counts = [[0] * (len(c.levels) + 1) for c in COMPARISONS]
    tests = [[predicate(level) for level in c.levels] for c in COMPARISONS]
    for left, right in pairs:
        for index, comparison in enumerate(COMPARISONS):
            level = level_of(comparison, tests[index], left, right)
            if level is not None:
                counts[index][level] += 1
    return counts


def run_batch(session: Session, ctx: MatchingContext, *, backend: Backend | None = None) -> RunSummary:
    """Score every blocked pair of active profiles; merge, queue for review or keep apart by the thresholds.

    Trains a first model when none exists. Merges are written as match events for the worker to apply.
    """
    started = time.perf_counter()
    model = current_model(ctx) or train_model(session, ctx)
    frame = records_frame(iter_profile_records(session, ctx))
    db_api, as_input = backend or (duckdb_api(ctx.config.duckdb_memory_limit), lambda frame: frame)
    predictions = predict_pairs(as_input(frame), model.settings, db_api, ctx.config.review_threshold)
    scored = [
        ScoredPair(str(a), str(b), float(p), float(w))
        for a, b, p, w in zip(
            predictions.unique_id_l,
            predictions.unique_id_r,
            predictions.match_probability,
            predictions.match_weight,
            strict=True,
        )
    ]
    by_id = FrameRecords(frame)
    earlier = {status: repository.profile_pairs(session, [status]) for status in ("rejected", "pending", "merged")}
    roots = roots_of(session, [pid for rows in earlier.values() for _, a, b in rows for pid in (a, b)])

    def current(rows: Sequence[tuple[int, int, int]]) -> set[frozenset[int]]:
        return {frozenset((roots[a], roots[b])) for _, a, b in rows if roots[a] != roots[b]}

    rejected = [tuple(str(pid) for pid in pair) for pair in current(earlier["rejected"])]
    writer = _PairWriter(session, ctx, model, by_id, str(uuid.uuid4()))
    decisions = decide(
        scored,
        by_id,
        merge_threshold=ctx.config.merge_threshold,
        review_threshold=ctx.config.review_threshold,
        rejected=[(a, b) for a, b in rejected],
        id_weight=lambda left, right: writer.scorer.field_weight(NATIONAL_ID, left, right, writer.tf),
        personal_weight=lambda left, right: writer.scorer.evidence_weight(PERSONAL_EVIDENCE, left, right, writer.tf),
    )
    # A merge sent earlier that the worker has not applied yet, or a pair already waiting for a reviewer, is not
    # written again.
    open_pairs = current(earlier["pending"]) | current(earlier["merged"])
    merged = apart = 0
    typos = {(p.left, p.right) for p in decisions.id_typos}
    differs = {(p.left, p.right) for p in decisions.id_differs}
    writer.prefetch(decisions.merges)
    for pair in decisions.merges:
        if frozenset((int(pair.left), int(pair.right))) in open_pairs:
            continue
        if writer.write(pair, "merge", _note(pair, typos, ID_TYPO_MERGED, differs, ID_DIFFERS_MERGED)):
            merged += 1
        else:
            apart += 1
    reviews = 0
    for pair in decisions.reviews:
        if frozenset((int(pair.left), int(pair.right))) not in open_pairs:
            writer.write(pair, "review", _note(pair, typos, ID_TYPO_NOTE, differs, ID_DIFFERS_NOTE))
            reviews += 1
    writer.flush()
    return RunSummary(
        run_id=writer.run_id,
        model_version=model.version,
        records=len(frame),
        pairs_scored=len(scored),
        merges=merged,
        reviews=reviews,
        apart=decisions.apart + apart,
        guarded=decisions.guarded,
        seconds=time.perf_counter() - started,
        id_typos=len(typos),
        id_differs=len(differs),
    )


def _note(
    pair: ScoredPair, typos: set[tuple[str, str]], typo_note: str, differs: set[tuple[str, str]], differs_note: str
) -> str | None:
    key = (pair.left, pair.right)
    return typo_note if key in typos else differs_note if key in differs else None


class _PairWriter:
    """Stores pairs with their field-by-field explanation, and sends merges to the log as match events."""

    def __init__(
        self,
        session: Session,
        ctx: MatchingContext,
        model: TrainedModel,
        records: Mapping[str, Mapping[str, Any]],
        run_id: str,
    ) -> None:
        self.session, self.ctx, self.model, self.records, self.run_id = session, ctx, model, records, run_id
        self.scorer = Scorer(model.settings)
        self.tf = term_frequencies(list(records.values()))
        self.messages: list[dict[str, Any]] = []
        self.links: dict[int, list[tuple[str, str]]] = {}

    def prefetch(self, pairs: Sequence[ScoredPair]) -> None:
        """Read the identifiers of every profile these merges touch in one pass (they are all active now)."""
        ids = sorted({int(pid) for pair in pairs for pid in (pair.left, pair.right)})
        self.links = {pid: [] for pid in ids}
        self.links.update(identifiers_by_profile(self.session, ids))

    def write(self, pair: ScoredPair, outcome: str, note: str | None = None) -> bool:
        """Store the pair; for a merge, queue its event. False when identity would refuse the merge."""
        left, right = self.records[pair.left], self.records[pair.right]
        explained = self.scorer.score(left, right, self.tf)
        row = repository.add_pair(
            self.session,
            run_id=self.run_id,
            left_profile_id=int(pair.left),
            right_profile_id=int(pair.right),
            probability=pair.probability,
            match_weight=pair.weight,
            model_version=self.model.version,
            outcome=outcome,
            status="pending" if outcome == "review" else "merged",
            comparison=[f.as_dict() for f in explained.fields],
            left_values=dict(left),
            right_values=dict(right),
            created_at=utcnow(),
            note=note,
        )
        if outcome == "merge":
            message = merge_message(self.session, self.ctx, row, decided_by="model", known_links=self.links)
            if message is None:
                row.status, row.note = "rejected", "identity would refuse: the profiles hold different unique ids"
                return False
            self.messages.append(message)
        return True

    def flush(self) -> None:
        send_messages(self.session, self.ctx, self.messages)
        self.messages = []


def merge_message(
    session: Session,
    ctx: MatchingContext,
    row: MatchPair,
    *,
    decided_by: str,
    known_links: Mapping[int, list[tuple[str, str]]] | None = None,
) -> dict[str, Any] | None:
    """The match event for a pair (and its message id on the row); None when the two hold different unique ids.

    `known_links` are the identifiers of active profiles read in bulk beforehand (a batch run's merges).
    """
    if known_links is not None and row.left_profile_id in known_links and row.right_profile_id in known_links:
        left, right, links = row.left_profile_id, row.right_profile_id, known_links
    else:
        left, right = root_of(session, row.left_profile_id), root_of(session, row.right_profile_id)
        links = identifiers_by_profile(session, [left, right])
    rules = ctx.identity.rules
    left_links, right_links = links.get(left, []), links.get(right, [])
    typo = national_id_values(left_links, right_links)
    conflict = _unique_conflict(left_links, right_links, rules)
    if conflict and (typo is None or conflict != {NATIONAL_ID}):
        return None
    left_id, right_id = chosen_identifier(left_links, rules), chosen_identifier(right_links, rules)
    if left_id is None or right_id is None:
        return None
    anonymous = sorted(v for t, v in [*left_links, *right_links] if t == "anonymous_id")
    match = {
        "match_id": row.id,
        "model_version": row.model_version,
        "probability": round(row.probability, 6),
        "match_weight": round(row.match_weight, 4),
        "decided_by": decided_by,
        "profiles": [left, right],
    }
    if typo is not None:
        # The identity graph holds one national id per person: the match declares the two are one person's, one of
        # them mistyped (or replaced) in a source, and the graph records the absorbed one as a data-quality finding
        # (`id_typo`). `differs` says one is more than one typo from the others: weighed by the model, or by a
        # reviewer.
        declared: dict[str, Any] = {"type": NATIONAL_ID, "values": list(typo)}
        if not typo_linked(typo):
            declared["differs"] = True
        match["id_typo"] = declared
    message = match_message(match, left_id, right_id, rules, anonymous)
    row.message_id = str(message["messageId"])
    return message


def _unique_conflict(
    left: Sequence[tuple[str, str]], right: Sequence[tuple[str, str]], rules: Mapping[str, Any]
) -> set[str]:
    """The identifier types a person holds one of (national id, user id…) of which the two hold different values."""
    types = set()
    for type_, rule in rules.items():
        if rule.max_per_profile != 1:
            continue
        a = {v for t, v in left if t == type_}
        b = {v for t, v in right if t == type_}
        if a and b and a != b:
            types.add(type_)
    return types


def national_id_values(left: Sequence[tuple[str, str]], right: Sequence[tuple[str, str]]) -> tuple[str, ...] | None:
    """Every national id the two profiles hold, when each holds one or more and neither holds all of the other's
    (two, or more where an earlier match already joined a mistyped one), else None. The decisions (decide.py) sent
    the pair only when its score or a reviewer weighed the difference."""
    a = {v for t, v in left if t == NATIONAL_ID}
    b = {v for t, v in right if t == NATIONAL_ID}
    if not a or not b or a <= b or b <= a:
        return None
    return tuple(sorted(a | b))


def send_messages(session: Session, ctx: MatchingContext, messages: Sequence[dict[str, Any]]) -> None:
    """Append match events to the inbox from the matching source (created on first use)."""
    if not messages:
        return
    name = ctx.config.source_name
    source = next((s for s in list_sources(session) if s.name == name), None)
    if source is None:
        source, _key = create_source(session, name, "server")  # nobody sends with its key: it is never shown
    limits = Limits(max_batch_events=max(Limits().max_batch_events, len(messages)))
    append_messages(session.connection(), source.id, utcnow(), list(messages), limits)


def list_reviews(
    session: Session, *, status: str = "pending", limit: int = 50, after_id: int = 0, order: str = "oldest"
) -> list[ReviewView]:
    """Pairs in a status (pending: the review queue), keyset-paginated after the pair `after_id`: oldest first, or
    (order "likeliest") highest probability first, so a reviewer clears the near-certain pairs first."""
    errors = []
    if status not in STATUSES:
        errors.append(FieldError("status", "invalid", f"status must be one of: {', '.join(STATUSES)}"))
    if not 1 <= limit <= 500:
        errors.append(FieldError("limit", "invalid", "limit must be between 1 and 500"))
    if order not in ORDERS:
        errors.append(FieldError("order", "invalid", f"order must be one of: {', '.join(ORDERS)}"))
    if errors:
        raise InvalidInput(errors, "the review listing was not valid")
    if order == "likeliest":
        found = repository.pairs_by_probability(session, status, limit=limit, after_id=after_id)
    else:
        found = repository.pairs(session, [status], limit=limit, after_id=after_id)
    return [ReviewView.of(p) for p in found]


def get_review(session: Session, review_id: int) -> ReviewView:
    """One scored pair with its field-by-field comparison."""
    pair = repository.get_pair(session, review_id)
    if pair is None:
        raise NotFound(f"no match pair {review_id}")
    return ReviewView.of(pair)


def decide_review(
    session: Session,
    ctx: MatchingContext,
    review_id: int,
    decision: str,
    reviewer: str,
    note: str | None = None,
) -> ReviewView:
    """Accept (merge through the identity graph, as an automatic merge does) or reject (keep apart) a pending pair;
    either way the decision is kept as a label for training."""
    if decision not in DECISIONS:
        raise InvalidInput([FieldError("decision", "invalid", "decision must be accept or reject")])
    if note is not None and len(note) > 1000:
        raise InvalidInput([FieldError("note", "too_long", "a note is at most 1,000 characters")])
    pair = repository.get_pair(session, review_id, lock=True)
    if pair is None:
        raise NotFound(f"no match pair {review_id}")
    if pair.status != "pending":
        raise Conflict(f"match pair {review_id} was already decided: {pair.status}")
    if decision == "accept":
        left, right = root_of(session, pair.left_profile_id), root_of(session, pair.right_profile_id)
        if left != right:
            message = merge_message(session, ctx, pair, decided_by=f"reviewer:{reviewer}"[:200])
            if message is None:
                raise Conflict(
                    "these profiles hold different unique identifiers: the identity graph will not merge them"
                )
            send_messages(session, ctx, [message])
    pair.status = "accepted" if decision == "accept" else "rejected"
    pair.decided_at, pair.decided_by, pair.note = utcnow(), reviewer[:200], note
    session.flush()
    return ReviewView.of(pair)
