"""Scoring a clustering against the truth at scale: `pairwise_scores` over a million items in one pass.

Pairs are counted from group sizes (a contingency table), never enumerated: a million items in groups of 10 and 20
hold 4.5M and 9.5M pairs, which a pair-by-pair count would have to build. Prints the counts and the time.

    .venv/bin/python benchmarks/scoring.py [--items 1000000]
"""

from __future__ import annotations

import argparse
import time

from seamline.synthetic.truth import pairwise_scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    items = parser.parse_args().items
    truth = {str(i): i // 10 for i in range(items)}
    predicted = {str(i): i // 20 for i in range(items)}
    started = time.perf_counter()
    scores = pairwise_scores(predicted, truth)
    seconds = time.perf_counter() - started
    print(
        f"{items:,} items: {scores.true_pairs:,} true pairs, {scores.predicted_pairs:,} predicted, "
        f"{scores.correct_pairs:,} correct, F1 {scores.f1:.3f} in {seconds:.2f} s"
    )


if __name__ == "__main__":
    main()
