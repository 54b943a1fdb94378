"""Why matching missed the true pairs it missed, on the public labelled sets (benchmarks/public_sets.py).

Runs the same default configuration as `benchmarks/matching.py --sets` on one set, then sorts every true pair of
records left in two profiles by its first cause:

- `never blocked`: the two records agree on no blocking key, so they were never compared;
- `below review (vetoed by F)`: blocked, scored below the review threshold, and the field F's weight alone
  (below -5 bits) keeps it there: without it the pair would merge;
- `below review`: blocked, and the evidence as a whole is too weak;
- `in review` / `guarded to review` / `id conflict` / `merged elsewhere`: scored high enough, and the decisions
  sent it to review, the household guard held it, the two clusters hold different national ids, or nothing
  (a transitive miss: its clusters were kept apart through other pairs).

    .venv/bin/python benchmarks/diagnose_matching.py febrl1 febrl2+id febrl1names+dob [--show 5]
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from default_run import CONFIG, run_default  # a sibling script, not a package
from seamline.matching.comparisons import BLOCKING_KEYS
from seamline.matching.decide import differs_plainly
from seamline.matching.scoring import Scorer, probability, term_frequencies

VETO_BITS = -5.0


def _blocked(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return any(all(left.get(k) is not None and left.get(k) == right.get(k) for k in keys) for keys in BLOCKING_KEYS)


def diagnose(spec: str, show: int) -> None:
    run = run_default(spec)
    labelled, profile_of, by_id, decided = run.labelled, run.profile_of, run.prepared, run.decided
    scorer, tf = Scorer(run.settings), term_frequencies(list(by_id.values()))
    reviewed = {frozenset((p.left, p.right)) for p in decided.reviews}
    cluster = run.clusters()
    people: dict[str, list[str]] = {}
    for uid, person in labelled.truth.items():
        people.setdefault(person, []).append(uid)
    causes: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for members in people.values():
        for x, y in combinations(members, 2):
            if cluster[x] == cluster[y]:
                continue
            a, b = profile_of[x], profile_of[y]
            left, right = by_id[a], by_id[b]
            score = scorer.score(left, right, tf)
            if not _blocked(left, right):
                cause = "never blocked"
            elif score.probability < CONFIG.review_threshold:
                worst = min(score.fields, key=lambda f: f.weight)
                vetoed = worst.weight < VETO_BITS and probability(score.weight - worst.weight) >= CONFIG.merge_threshold
                cause = f"below review (vetoed by {worst.field}: {worst.level})" if vetoed else "below review"
            elif frozenset((a, b)) in reviewed or score.probability < CONFIG.merge_threshold:
                cause = "in review"
            elif differs_plainly(left, right) is not None:
                cause = "guarded to review"
            elif left.get("national_id") and right.get("national_id") and left["national_id"] != right["national_id"]:
                cause = "id conflict"
            else:
                cause = "merged elsewhere"
            causes[cause] += 1
            shown = ", ".join(f"{f.field} {f.left}/{f.right} {f.level} {f.weight:+.1f}" for f in score.fields)
            examples.setdefault(cause, []).append(f"p={score.probability:.3f} w={score.weight:+.1f} | {shown}")
    total = sum(1 for m in people.values() for _ in combinations(m, 2))
    print(f"{spec}: {sum(causes.values())} of {total} true pairs missed; prior {scorer.prior_weight:+.1f} bits")
    for cause, count in causes.most_common():
        print(f"  {count:5d}  {cause}")
        for line in examples[cause][:show]:
            print(f"         {line}")
    sys.stdout.flush()


def main() -> None:
    logging.getLogger("splink").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--show", type=int, default=3, help="examples printed per cause")
    args = parser.parse_args()
    for spec in args.sets:
        diagnose(spec, args.show)


if __name__ == "__main__":
    main()
