"""Pairwise scores from cluster contingency, checked by hand and against counting every pair."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seamline.synthetic.events import SyntheticEvent
from seamline.synthetic.truth import Scores, pairwise_scores, truth_by_message_id

# Two people: a has four events, b has two. True pairs: 6 + 1 = 7.
TRUTH = {"e1": "a", "e2": "a", "e3": "a", "e4": "a", "e5": "b", "e6": "b"}


def test_a_perfect_clustering_scores_one_whatever_the_labels() -> None:
    predicted = {item: f"cluster-{person}" for item, person in TRUTH.items()}
    assert pairwise_scores(predicted, TRUTH) == Scores(1.0, 1.0, 1.0, 7, 7, 7)


def test_one_wrong_merge_lowers_precision_only() -> None:
    # Everything in one cluster: 15 predicted pairs, of which the 7 true ones are right.
    scores = pairwise_scores(dict.fromkeys(TRUTH, "one"), TRUTH)
    assert scores == Scores(7 / 15, 1.0, 2 * (7 / 15) / (7 / 15 + 1), 7, 15, 7)


def test_one_event_merged_into_the_wrong_person() -> None:
    # e5 joins a's cluster: a-cluster holds 5 items (10 pairs, 6 right), b keeps e6 alone.
    predicted = {**TRUTH, "e5": "a"}
    scores = pairwise_scores(predicted, TRUTH)
    assert (scores.predicted_pairs, scores.correct_pairs, scores.true_pairs) == (10, 6, 7)
    assert scores.precision == pytest.approx(0.6)
    assert scores.recall == pytest.approx(6 / 7)
    assert scores.f1 == pytest.approx(2 * 0.6 * (6 / 7) / (0.6 + 6 / 7))


def test_a_split_lowers_recall_only() -> None:
    # a split into {e1, e2} and {e3, e4}: 2 + 1 = 3 predicted pairs, all right, of 7 true.
    predicted = {"e1": 1, "e2": 1, "e3": 2, "e4": 2, "e5": 3, "e6": 3}
    assert pairwise_scores(predicted, TRUTH) == Scores(1.0, 3 / 7, 2 * (3 / 7) / (1 + 3 / 7), 7, 3, 3)


def test_items_missing_from_the_prediction_stand_alone() -> None:
    scores = pairwise_scores({}, TRUTH)
    assert scores == Scores(1.0, 0.0, 0.0, 7, 0, 0)


def test_nothing_to_find_and_nothing_claimed_is_perfect() -> None:
    assert pairwise_scores({"x": 1, "y": 2}, {"x": "a", "y": "b"}) == Scores(1.0, 1.0, 1.0, 0, 0, 0)


def test_predicted_items_without_truth_are_refused() -> None:
    with pytest.raises(ValueError, match="no truth"):
        pairwise_scores({"e1": 1, "stray": 1}, TRUTH)


def test_truth_by_message_id() -> None:
    events = [
        SyntheticEvent({"messageId": "m1"}, "p-000001", "web", "browse"),
        SyntheticEvent({"messageId": "m2"}, "p-000002", "crm", "crm"),
    ]
    assert truth_by_message_id(events) == {"m1": "p-000001", "m2": "p-000002"}


def test_pairs_are_counted_from_group_sizes_not_enumerated() -> None:
    # Groups of 10 inside groups of 20: C(10,2)·1,000 true pairs, C(20,2)·500 predicted, every true pair predicted.
    # The same at a million items (in one pass, in seconds) is timed by benchmarks/scoring.py.
    truth = {str(i): i // 10 for i in range(10_000)}
    predicted = {str(i): i // 20 for i in range(10_000)}
    scores = pairwise_scores(predicted, truth)
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (45_000, 95_000, 45_000)


@given(
    st.dictionaries(
        st.integers(0, 30).map(str),
        st.tuples(st.integers(0, 4), st.integers(0, 4) | st.none()),
        max_size=31,
    )
)
def test_contingency_counts_equal_counting_every_pair(labels: dict[str, tuple[int, int | None]]) -> None:
    truth = {item: t for item, (t, _) in labels.items()}
    predicted = {item: p for item, (_, p) in labels.items() if p is not None}
    pairs = list(combinations(sorted(labels), 2))
    true_pairs = {pair for pair in pairs if truth[pair[0]] == truth[pair[1]]}
    predicted_pairs = {
        pair for pair in pairs if pair[0] in predicted and predicted.get(pair[0]) == predicted.get(pair[1])
    }
    scores = pairwise_scores(predicted, truth)
    assert scores.true_pairs == len(true_pairs)
    assert scores.predicted_pairs == len(predicted_pairs)
    assert scores.correct_pairs == len(true_pairs & predicted_pairs)
