"""Our default matching configuration run on one public labelled set, as `seamline import` → `match train` →
`match run` would: shared by benchmarks/matching.py (figures) and benchmarks/diagnose_matching.py (why pairs were
missed), so both judge exactly the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from public_sets import LabelledSet, load, merged_at_import  # a sibling script, not a package
from seamline.matching.config import MatchingConfig
from seamline.matching.decide import PERSONAL_EVIDENCE, Decisions, ScoredPair, decide
from seamline.matching.model import duckdb_api, predict_pairs, records_frame, train_settings, training_memory
from seamline.matching.prepare import prepare
from seamline.matching.scoring import Scorer, term_frequencies

CONFIG = MatchingConfig()
IdWeight = Callable[[Mapping[str, Any], Mapping[str, Any]], float]


@dataclass(frozen=True, slots=True)
class DefaultRun:
    labelled: LabelledSet
    profiles: list[dict[str, Any]]  # after the identity graph's merges at import
    profile_of: dict[str, str]  # record -> its profile
    prepared: dict[str, dict[str, Any]]  # profile -> its prepared record
    settings: dict[str, Any]
    pairs: list[ScoredPair]
    decided: Decisions
    train_seconds: float
    run_seconds: float

    def clusters(self) -> dict[str, str]:
        """Each labelled record's final profile."""
        of, merged = self.profile_of, self.decided.clusters
        return {uid: merged.get(of[uid], of[uid]) for uid in self.labelled.truth}


def id_weight(settings: dict[str, Any], prepared: Sequence[Mapping[str, Any]]) -> IdWeight:
    """The national id comparison's weight of a pair, as `match run` gives it to the decisions."""
    scorer, tf = Scorer(settings), term_frequencies(prepared)
    return lambda left, right: scorer.field_weight("national_id", left, right, tf)


def personal_weight(settings: dict[str, Any], prepared: Sequence[Mapping[str, Any]]) -> IdWeight:
    """The prior's, names' and birth date's parts of a pair's weight, as `match run` gives them to the decisions."""
    scorer, tf = Scorer(settings), term_frequencies(prepared)
    return lambda left, right: scorer.evidence_weight(PERSONAL_EVIDENCE, left, right, tf)


def scored_pairs(predictions: pd.DataFrame) -> list[ScoredPair]:
    return [
        ScoredPair(a, b, p, w)
        for a, b, p, w in zip(
            predictions.unique_id_l,
            predictions.unique_id_r,
            predictions.match_probability,
            predictions.match_weight,
            strict=True,
        )
    ]


def run_default(spec: str, *, u_without_true_matches: bool = CONFIG.u_without_true_matches) -> DefaultRun:
    """Train and run the default configuration on the set; TrainingRefused as `match train` would refuse."""
    labelled = load(spec)
    started = time.perf_counter()
    profiles, profile_of = merged_at_import(labelled.records)
    prepared = [{"unique_id": r["unique_id"], **prepare(r)} for r in profiles]
    frame = records_frame(prepared)
    settings = train_settings(
        frame,
        u_max_pairs=CONFIG.u_max_pairs,
        db_api=duckdb_api(training_memory(CONFIG.training_memory_limit, len(frame))),
        u_without_true_matches=u_without_true_matches,
    )
    trained_at = time.perf_counter()
    predictions = predict_pairs(frame, settings, duckdb_api(CONFIG.duckdb_memory_limit), CONFIG.review_threshold)
    pairs = scored_pairs(predictions)
    decided = decide(
        pairs,
        {r["unique_id"]: r for r in prepared},
        merge_threshold=CONFIG.merge_threshold,
        review_threshold=CONFIG.review_threshold,
        id_weight=id_weight(settings, prepared),
        personal_weight=personal_weight(settings, prepared),
    )
    done = time.perf_counter()
    return DefaultRun(
        labelled,
        profiles,
        profile_of,
        {r["unique_id"]: r for r in prepared},
        settings,
        pairs,
        decided,
        trained_at - started,
        done - trained_at,
    )
