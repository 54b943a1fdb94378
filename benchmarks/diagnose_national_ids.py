"""The pairs whose national ids differ, and what the decisions made of them: the evidence behind the national-id
rules of `matching/decide.py` (docs/matching.md, "What decides is how the two ids differ").

For the synthetic bank (`bank`: 10,000 silo records, as `benchmarks/matching.py --sizes 10k` runs them) and the
public sets (`febrl1+id`, …, as `benchmarks/matching.py --sets` runs them), every pair scoring at least the review
threshold whose two records hold different national ids, grouped by how the ids differ (`in sequence`: fewer than
ten apart as numbers; `typo`: one typo apart and not in sequence; `differs`), whether the two are one person (on
the bank also: one household), and the outcome (merged, in review, or neither: apart, or joined through another
pair). Each pair's line gives its probability, its weight with and without the id's part and every field's level.

    .venv/bin/python benchmarks/diagnose_national_ids.py bank febrl1+id febrl2+id [--show 5]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from default_run import CONFIG, id_weight, personal_weight, run_default, scored_pairs  # sibling scripts
from matching import _records
from seamline.matching.decide import ScoredPair, decide, is_id_typo, is_in_sequence
from seamline.matching.model import duckdb_api, predict_pairs, records_frame, train_settings, training_memory
from seamline.matching.prepare import prepare
from seamline.matching.scoring import Scorer, term_frequencies

Run = tuple[dict[str, str], dict[str, str], dict[str, dict[str, Any]], dict[str, Any], list[ScoredPair]]


def _bank() -> Run:
    """Person and household of each record, the prepared records, the trained settings and the scored pairs."""
    records = _records(10_000, seed=101)
    person = {f"{r.system}:{r.record_key}": r.person_key for r in records}
    household = {f"{r.system}:{r.record_key}": r.household_key for r in records}
    prepared = {uid: {"unique_id": uid, **prepare(r.fields())} for uid, r in zip(person, records, strict=True)}
    frame = records_frame(list(prepared.values()))
    memory = training_memory(CONFIG.training_memory_limit, len(frame))
    settings = train_settings(frame, u_max_pairs=CONFIG.u_max_pairs, db_api=duckdb_api(memory))
    predicted = predict_pairs(frame, settings, duckdb_api(CONFIG.duckdb_memory_limit), CONFIG.review_threshold)
    return person, household, prepared, settings, scored_pairs(predicted)


def _public(spec: str) -> Run:
    run = run_default(spec)
    # A profile is the records the identity graph merged on one id at import: one person.
    person = {run.profile_of[uid]: who for uid, who in run.labelled.truth.items()}
    return person, {}, run.prepared, run.settings, run.pairs


def _kind(a: str, b: str) -> str:
    if is_in_sequence(a, b):
        return "in sequence"
    return "typo" if is_id_typo(a, b) else "differs"


def _distance(a: str, b: str) -> str:
    digits_a, digits_b = "".join(c for c in a if c.isdigit()), "".join(c for c in b if c.isdigit())
    if not digits_a or len(digits_a) != len(digits_b):
        return "?"
    return str(abs(int(digits_a) - int(digits_b)))


def diagnose(spec: str, show: int) -> None:
    person, household, prepared, settings, pairs = _bank() if spec == "bank" else _public(spec)
    listed = list(prepared.values())
    decided = decide(
        pairs,
        prepared,
        merge_threshold=CONFIG.merge_threshold,
        review_threshold=CONFIG.review_threshold,
        id_weight=id_weight(settings, listed),
        personal_weight=personal_weight(settings, listed),
    )
    merged = {frozenset((p.left, p.right)) for p in decided.merges}
    reviewed = {frozenset((p.left, p.right)) for p in decided.reviews}
    scorer, tf = Scorer(settings), term_frequencies(listed)
    groups: Counter[tuple[str, str, str]] = Counter()
    lines: dict[tuple[str, str, str], list[str]] = {}
    for pair in sorted(pairs, key=lambda p: -p.probability):
        left, right = prepared[pair.left], prepared[pair.right]
        a, b = left.get("national_id"), right.get("national_id")
        if pair.probability < CONFIG.review_threshold or not (a and b and a != b):
            continue
        truth = _truth(person, household, pair)
        key = frozenset((pair.left, pair.right))
        outcome = "merged" if key in merged else "in review" if key in reviewed else "neither"
        group = (_kind(a, b), truth, outcome)
        groups[group] += 1
        score = scorer.score(left, right, tf)
        weight_of = {f.field: f for f in score.fields}
        shown = ", ".join(f"{f.field} {f.left}/{f.right} {f.level} {f.weight:+.1f}" for f in score.fields)
        lines.setdefault(group, []).append(
            f"p={pair.probability:.3f} w={pair.weight:+.1f} without the id {pair.weight - _id(weight_of):+.1f} "
            f"| ids {a}/{b} {_distance(a, b)} apart | {shown}"
        )
    print(f"{spec}: {sum(groups.values())} pairs at p >= {CONFIG.review_threshold} whose national ids differ")
    for (kind, truth, outcome), count in sorted(groups.items()):
        print(f"  {count:5d}  ids {kind:<11} | {truth:<16} | {outcome}")
        for line in lines[(kind, truth, outcome)][:show]:
            print(f"           {line}")
    sys.stdout.flush()


def _truth(person: Mapping[str, str], household: Mapping[str, str], pair: ScoredPair) -> str:
    if person[pair.left] == person[pair.right]:
        return "one person"
    if household and household[pair.left] == household[pair.right]:
        return "one household"
    return "two people"


def _id(fields: Mapping[str, Any]) -> float:
    found = fields.get("national_id")
    return float(found.weight) if found is not None else 0.0


def main() -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+", help="bank, febrl1+id, febrl2+id, …")
    parser.add_argument("--show", type=int, default=3, help="pairs printed per group")
    args = parser.parse_args()
    for spec in args.sets:
        diagnose(spec, args.show)


if __name__ == "__main__":
    main()
