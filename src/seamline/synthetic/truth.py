"""Scoring a resolved clustering against the truth, by pair counting.

Two items (events, records) form a pair when they sit in one cluster. Precision is the share of predicted pairs
that are true pairs (wrong merges lower it); recall is the share of true pairs that were predicted (missed links
lower it). Pairs are counted from cluster sizes, never enumerated: a cluster of n items holds n*(n-1)/2 pairs, and
the pairs that prediction and truth agree on are the pairs inside each cell of their contingency table. So scoring
a million items costs one pass and one counter.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from seamline.synthetic.events import SyntheticEvent


@dataclass(frozen=True, slots=True)
class Scores:
    """Pairwise precision, recall and F1, with the pair counts they come from."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def pairwise_scores(predicted: Mapping[str, Hashable], truth: Mapping[str, Hashable]) -> Scores:
    """Pairwise scores of `predicted` (item -> cluster) against `truth`; an item absent from `predicted` is alone."""
    unknown = predicted.keys() - truth.keys()
    if unknown:
        raise ValueError(f"{len(unknown)} predicted item(s) have no truth, e.g. {sorted(unknown)[:3]}")
    truth_sizes: Counter[Hashable] = Counter(truth.values())
    predicted_sizes: Counter[Hashable] = Counter(predicted.values())
    cells: Counter[tuple[Hashable, Hashable]] = Counter((cluster, truth[item]) for item, cluster in predicted.items())
    true_pairs = _pairs(truth_sizes.values())
    predicted_pairs = _pairs(predicted_sizes.values())
    correct_pairs = _pairs(cells.values())
    # With nothing to find (or nothing claimed) there is nothing to get wrong.
    precision = correct_pairs / predicted_pairs if predicted_pairs else 1.0
    recall = correct_pairs / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, true_pairs, predicted_pairs, correct_pairs)


def truth_by_message_id(events: Iterable[SyntheticEvent]) -> dict[str, str]:
    """messageId -> person_key for generated events: the truth side of `pairwise_scores` over events."""
    return {event.message["messageId"]: event.person_key for event in events}


def _pairs(sizes: Iterable[int]) -> int:
    return sum(n * (n - 1) // 2 for n in sizes)
