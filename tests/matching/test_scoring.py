"""The Python scorer (real time, explanations) gives the weights Splink's SQL gives, pair for pair."""

from __future__ import annotations

import json

import pytest
from splink import DuckDBAPI

from seamline.matching.model import TrainedModel, predict_pairs, records_frame
from seamline.matching.prepare import prepare
from seamline.matching.scoring import Scorer, fill_untrained, probability, term_frequencies
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import generate_silo_records


def test_python_and_splink_agree_on_every_blocked_pair(trained_model: TrainedModel) -> None:
    records = generate_silo_records(generate_people(400, seed=61), seed=62)
    prepared = [{"unique_id": f"{r.system}:{r.record_key}", **prepare(r.fields())} for r in records]
    by_id = {r["unique_id"]: r for r in prepared}
    pairs = predict_pairs(records_frame(prepared), trained_model.settings, DuckDBAPI(), 0.0)
    scorer, tf = Scorer(trained_model.settings), term_frequencies(prepared)
    assert len(pairs) > 100
    for left, right, weight in zip(pairs.unique_id_l, pairs.unique_id_r, pairs.match_weight, strict=True):
        assert scorer.score(by_id[left], by_id[right], tf).weight == pytest.approx(weight, abs=1e-9)


def test_swapped_names_count_once_in_python_and_in_splink(trained_model: TrainedModel) -> None:
    """First and last names swapped is one event: the first name's comparison weighs it and the last name's adds
    nothing, in the SQL as in Python; first names that are equal keep both comparisons' evidence."""
    raw = [
        ("a", "Matthew", "Ryan"),
        ("b", "Ryan", "Matthew"),  # a's names swapped
        ("c", "Rian", "Mathew"),  # swapped, one typo each way
        ("d", "Ann", "Ann"),
        ("e", "Ann", "Anne"),  # first names equal: exact, not a swap
    ]
    prepared = [
        {"unique_id": uid, **prepare({"first_name": first, "last_name": last, "date_of_birth": "1980-01-02"})}
        for uid, first, last in raw
    ]
    by_id = {r["unique_id"]: r for r in prepared}
    pairs = predict_pairs(records_frame(prepared), trained_model.settings, DuckDBAPI(), 0.0)
    scorer, tf = Scorer(trained_model.settings), term_frequencies(prepared)
    weights = {
        frozenset((left, right)): weight
        for left, right, weight in zip(pairs.unique_id_l, pairs.unique_id_r, pairs.match_weight, strict=True)
    }
    assert {frozenset("ab"), frozenset("ac"), frozenset("de")} <= weights.keys()
    for pair, weight in weights.items():
        left, right = sorted(pair)
        assert scorer.score(by_id[left], by_id[right], tf).weight == pytest.approx(weight, abs=1e-9)
    for left, right in ("ab", "ac"):
        fields = {f.field: f for f in scorer.score(by_id[left], by_id[right], tf).fields}
        assert fields["first_name"].level == "first and last names swapped"
        assert fields["first_name"].weight > 0
        assert fields["last_name"].weight == 0
    kept = {f.field: f for f in scorer.score(by_id["d"], by_id["e"], tf).fields}
    assert kept["first_name"].level == "exact"
    assert kept["last_name"].level == "one typo"
    assert kept["last_name"].weight > 0


def test_each_field_explains_its_part(trained_model: TrainedModel) -> None:
    scorer = Scorer(trained_model.settings)
    left = prepare({"first_name": "William", "last_name": "Hartwell", "date_of_birth": "1970-03-14"})
    right = prepare({"first_name": "Bill", "last_name": "Hartwel", "date_of_birth": "1970-03-14", "email": "b@x.io"})
    score = scorer.score(left, right)
    fields = {f.field: f for f in score.fields}
    assert fields["first_name"].level == "nickname"
    assert fields["last_name"].level == "one typo"
    assert fields["email"].level == "missing"
    assert fields["email"].weight == 0
    assert score.weight == pytest.approx(scorer.prior_weight + sum(f.weight for f in score.fields))
    assert score.probability == probability(score.weight)
    # what the pair weighs on some fields alone (a typo'd-id pair judged on what no household shares)
    personal = scorer.evidence_weight(("first_name", "last_name"), left, right)
    assert personal == pytest.approx(scorer.prior_weight + fields["first_name"].weight + fields["last_name"].weight)


def test_levels_training_never_saw_count_for_a_match_not_against_it(trained_model: TrainedModel) -> None:
    """In a database the identity graph merged every shared email before training: the email's exact level has no
    m and no u. It must still count for a match (as rare as anything unsampled), never against it."""
    settings = json.loads(json.dumps(trained_model.settings))
    email = next(c for c in settings["comparisons"] if c["output_column_name"] == "email")
    exact = next(lv for lv in email["comparison_levels"] if not lv.get("is_null_level"))
    exact["m_probability"], exact["u_probability"] = None, None
    filled = fill_untrained(settings, 2e6)
    scorer = Scorer(filled)
    same = prepare({"first_name": "Ada", "email": "ada@example.com"})
    field = next(f for f in scorer.score(same, same).fields if f.field == "email")
    assert field.level == "exact"
    assert field.weight > 15


def test_a_model_trained_on_other_levels_asks_to_be_retrained(trained_model: TrainedModel) -> None:
    """A model file from before the names-swapped level left the last name's comparison (one level more there)."""
    settings = json.loads(json.dumps(trained_model.settings))
    last = next(c for c in settings["comparisons"] if c["output_column_name"] == "last_name")
    last["comparison_levels"].insert(2, dict(last["comparison_levels"][2]))
    with pytest.raises(ValueError, match="retrain"):
        Scorer(settings)
