"""Training that learns every comparison, refuses a degenerate model, and blocking that covers missing and swapped
values."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from seamline.matching.comparisons import BLOCKING_KEYS, COMPARISONS, conditions
from seamline.matching.config import MatchingConfig
from seamline.matching.model import (
    TrainedModel,
    duckdb_api,
    predict_pairs,
    records_frame,
    train_settings,
    training_memory,
)
from seamline.matching.prepare import prepare
from seamline.matching.scoring import M_FLOOR, Scorer
from seamline.matching.training import (
    PERSONAL_COMPARISONS,
    TrainingRefused,
    learns,
    m_from_unconditioned_blocks,
    measured_prior,
    training_blocks,
    without_true_matches,
)
from seamline.synthetic.people import generate_people
from seamline.synthetic.silos import generate_silo_records

# One person's strong agreement on each field, and another person's values of it.
STRONG: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "name": ({"first_name": "Ada", "last_name": "Lovelace"}, {"first_name": "Grace", "last_name": "Hopper"}),
    "birth date": ({"date_of_birth": "1815-12-10"}, {"date_of_birth": "1906-12-09"}),
    "address": ({"street": "12 St James Square", "postcode": "SW1Y 4JH"}, {"street": "1 Elm St", "postcode": "90210"}),
    "phone": ({"phone": "+442079460000"}, {"phone": "+14155550123"}),
    "email": ({"email": "ada@example.org"}, {"email": "grace@example.org"}),
    "national id": ({"national_id": "AB123456C"}, {"national_id": "ZX987654A"}),
}


def _records(fields: tuple[str, ...]) -> list[dict[str, Any]]:
    records = generate_silo_records(generate_people(700, seed=71), seed=72)
    return [
        {"unique_id": f"{r.system}:{r.record_key}", **prepare({k: v for k, v in r.fields().items() if k in fields})}
        for r in records
    ]


def _blocked(left: dict[str, Any], right: dict[str, Any]) -> bool:
    return any(all(left.get(c) is not None and left.get(c) == right.get(c) for c in keys) for keys in BLOCKING_KEYS)


@pytest.mark.parametrize("pair", list(itertools.combinations(STRONG, 2)), ids=" + ".join)
def test_any_two_strongly_agreeing_fields_are_compared(pair: tuple[str, str]) -> None:
    """Every pair agreeing on two of the six fields meets on a blocking key, whatever else is missing or differs —
    names included when one record has first and last swapped."""
    same = {k: v for field in pair for k, v in STRONG[field][0].items()}
    for missing in [f for f in STRONG if f not in pair]:
        other = {**same, **STRONG[missing][1]}
        assert _blocked(prepare(same), prepare(other)), (pair, missing)
    if "name" in pair:
        swapped = {**same, "first_name": "Lovelace", "last_name": "Ada"}
        assert _blocked(prepare(same), prepare(swapped)), pair


def test_names_swapped_with_a_typo_that_changes_a_sound_meet_at_one_postcode() -> None:
    """First and last name swapped in one source, one of them mistyped so its sound changes, and the birth date
    mistyped too: the two still share both initials, in either order, and the postcode."""
    left = prepare({"first_name": "Lauren", "last_name": "Frahn", "date_of_birth": "1918-07-01", "postcode": "2570"})
    right = prepare({"first_name": "Frahn", "last_name": "Laurex", "date_of_birth": "1981-07-01", "postcode": "2570"})
    assert left["first_name_metaphone"] != right["last_name_metaphone"]  # lauren / laurex: LRN / LRKS
    assert _blocked(left, right)


def _pairs_without(*absent: str) -> Callable[[Sequence[str]], int]:
    """Pairs per block when the data lacks these columns: none in a block using one, some in any other."""
    return lambda keys: 0 if set(absent) & set(keys) else 10


def test_blocks_are_chosen_so_every_comparison_is_learned_where_it_is_free() -> None:
    everything = {"first_name", "last_name", "date_of_birth", "address", "phone"}
    chosen = training_blocks(everything, lambda keys: 10)
    for field in everything:
        assert any(field in learns(keys, everything) for keys in chosen), field
    # every block leaves two comparisons free: with one, EM cannot tell matches from non-matches
    assert all(len(learns(keys, everything)) >= 2 for keys in chosen)
    # no address: blocks on a birth date or a name's sound beside the other name's initial leave two free
    names_and_dob = {"first_name", "last_name", "date_of_birth"}
    chosen = training_blocks(names_and_dob, _pairs_without("postcode", "postcode_district", "phone"))
    assert ("date_of_birth", "first_name_metaphone") not in chosen  # it leaves the last name alone free
    # the names are learned from the birth date alone, a block that holds true pairs whatever their names: one on
    # a name's initial holds no pair whose name was replaced or swapped, and taught "differs" at -7 bits, not -5
    assert chosen[0] == ("date_of_birth",)
    assert ("date_of_birth",) not in training_blocks(everything, lambda keys: 10)  # with an address: unbiased anyway
    assert all(len(learns(keys, names_and_dob)) >= 2 for keys in chosen)
    for field in names_and_dob:
        assert any(field in learns(keys, names_and_dob) for keys in chosen), field
    # nothing but names: nothing can teach how often a true pair's names differ
    with pytest.raises(TrainingRefused, match="date_of_birth"):
        training_blocks({"first_name", "last_name"}, _pairs_without("date_of_birth", "postcode", "phone"))
    with pytest.raises(TrainingRefused, match="no pairs to learn from"):
        training_blocks(everything, lambda keys: 0)


def _levels(field: str, m: Sequence[float | None]) -> dict[str, Any]:
    return {
        "output_column_name": field,
        "comparison_levels": [{"is_null_level": True}, *({"m_probability": v} if v is not None else {} for v in m)],
    }


def test_a_names_m_is_taken_from_blocks_that_leave_it_unconditioned() -> None:
    """A block on a name's initial holds only true pairs whose names share an initial: its "name differs" is far
    too rare, and averaged in (Splink's median of two is their mean) it halved what a replaced name costs."""
    by_field = {c.field: c for c in COMPARISONS}
    assert conditions(("last_name_metaphone", "first_initial"), by_field["first_name"])
    assert conditions(("date_of_birth", "initials"), by_field["last_name"])
    assert not conditions(("date_of_birth",), by_field["first_name"])
    assert not conditions(("first_name_metaphone", "last_initial"), by_field["date_of_birth"])
    # levels of first_name: exact, swapped, nickname, one typo, sounds alike, similar spelling, differs
    splink_median = [0.775, 0.09, 0.016, 0.12, 0.0096, 0.0031, 0.044]
    dob_block = [0.714, 0.092, None, 0.109, None, None, 0.084]
    initial_block = [0.835, None, 0.016, 0.133, 0.0096, 0.0031, 0.0036]
    dob_m = [0.92, 0.003, None, None, 0.077]
    settings = {"comparisons": [_levels("first_name", splink_median), _levels("date_of_birth", dob_m)]}
    m_from_unconditioned_blocks(
        settings,
        [
            (("date_of_birth",), {"first_name": dob_block}),
            (("last_name_metaphone", "first_initial"), {"first_name": initial_block, "date_of_birth": dob_m}),
        ],
    )
    first = [lv.get("m_probability") for lv in settings["comparisons"][0]["comparison_levels"][1:]]
    # from the birth-date block where it saw the level; Splink's median where it did not (absence is no measure)
    assert first == [0.714, 0.092, 0.016, 0.109, 0.0096, 0.0031, 0.084]
    # a comparison only the initial's block estimates, and leaves unconditioned, keeps its values
    assert [lv.get("m_probability") for lv in settings["comparisons"][1]["comparison_levels"][1:]] == dob_m


def test_names_and_birth_dates_alone_train_a_model_that_finds_pairs() -> None:
    """The set that once trained silently into a model scoring nothing: no address, no contact details."""
    prepared = _records(("first_name", "last_name", "date_of_birth"))
    frame = records_frame(prepared)
    settings = train_settings(frame, u_max_pairs=2e5, db_api=duckdb_api())
    dob = next(c for c in settings["comparisons"] if c["output_column_name"] == "date_of_birth")
    assert all(lv["m_probability"] >= M_FLOOR for lv in dob["comparison_levels"] if not lv.get("is_null_level"))
    assert len(predict_pairs(frame, settings, duckdb_api(), 0.95)) > 100


def test_u_is_measured_without_the_true_matches_share() -> None:
    """Random pairs hold true matches in the prior's proportion: u measured = prior·m + (1 - prior)·u."""
    level = {"m_probability": 0.9, "u_probability": 0.001}
    settings = {"probability_two_random_records_match": 0.001, "comparisons": [{"comparison_levels": [level]}]}
    without_true_matches(settings, 1_000, 2e6)
    assert level["u_probability"] == pytest.approx((0.001 - 0.0009) / 0.999)
    # never below what the sample resolves: one standard deviation of the sampled count (here all 499,500 pairs of
    # a thousand records; 0.0008 of them is ~400 pairs, ±20), nor below one pair
    level.update(m_probability=0.9, u_probability=0.0008)
    without_true_matches(settings, 1_000, 2e6)
    assert level["u_probability"] == pytest.approx((0.0008 * 499_500) ** 0.5 / 499_500)
    level.update(m_probability=0.9, u_probability=1e-7)
    without_true_matches(settings, 1_000, 2e6)
    assert level["u_probability"] == pytest.approx(1e-7)  # less than one pair: left as measured


def test_by_default_u_is_corrected_for_what_no_household_shares() -> None:
    """Names and birth date get the true matches' share out of u; the address (which a household shares, beside
    its surname) keeps what sampling measured, so namesakes at one address gain nothing from the correction."""
    born, lives = {"m_probability": 0.9, "u_probability": 0.001}, {"m_probability": 0.9, "u_probability": 0.001}
    settings = {
        "probability_two_random_records_match": 0.001,
        "comparisons": [
            {"output_column_name": "date_of_birth", "comparison_levels": [born]},
            {"output_column_name": "address", "comparison_levels": [lives]},
        ],
    }
    without_true_matches(settings, 1_000, 2e6, PERSONAL_COMPARISONS)
    assert born["u_probability"] == pytest.approx((0.001 - 0.0009) / 0.999)
    assert lives["u_probability"] == 0.001


def _exact(field: str, m: float) -> dict[str, Any]:
    return {"output_column_name": field, "comparison_levels": [{"is_null_level": True}, {"m_probability": m}]}


def test_the_prior_counts_only_the_pairs_that_could_agree_on_full_name_and_birth_date() -> None:
    """A level's m is its share among true pairs holding the field on both sides, so the pairs agreeing exactly on
    full name and birth date are a share (the product of the exact levels' m) of the true pairs among records that
    hold all three: a record missing one can agree with none, and counting its pairs put the prior too low."""
    people = [("ann", "lee", "1980-01-02"), ("bob", "ray", "1970-03-04"), ("cy", "orr", "1960-05-06")]
    rows = [*people, *people, ("dan", None, "1950-07-08"), ("eve", "fox", None), (None, "gil", "1940-09-10")]
    records = pd.DataFrame(rows, columns=["first_name", "last_name", "date_of_birth"])
    settings = {"comparisons": [_exact("first_name", 0.8), _exact("last_name", 0.9), _exact("date_of_birth", 0.75)]}
    # 3 pairs agree, 0.54 of true pairs do: 5.6 true pairs among the 6 complete records' 15 pairs (not all 36)
    assert measured_prior(records, settings) == pytest.approx(3 / 0.54 / 15)
    settings["comparisons"][2] = _exact("date_of_birth", 0.05)
    assert measured_prior(records, settings) == 0.5  # a prior is at most one pair in two


def test_birth_dates_imported_as_text_are_refused_with_what_to_map() -> None:
    """Birth dates written as something matching cannot read are missing; with no address or contact details
    either, no block leaves two comparisons free to learn from: it is refused, not saved to score nothing. (With
    an email beside the names, blocks on a name's sound and the other's initial learn names and email.)"""
    prepared = _records(("first_name", "last_name"))
    with pytest.raises(TrainingRefused, match="date_of_birth"):
        train_settings(records_frame(prepared), u_max_pairs=2e5, db_api=duckdb_api())


def test_a_mistyped_birth_date_costs_what_it_should_not_a_veto(trained_model: TrainedModel) -> None:
    scorer = Scorer(trained_model.settings)
    ada = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1815-12-10"}
    ada |= {"street": "12 St James Square", "postcode": "SW1Y 4JH", "phone": "+442079460000"}
    mistyped = prepare({**ada, "date_of_birth": "1851-02-01"})
    score = scorer.score(prepare(ada), mistyped)
    dob = next(f for f in score.fields if f.field == "date_of_birth")
    assert dob.level == "differs"
    assert -15 < dob.weight < 0
    assert score.probability > 0.99
    swapped = scorer.score(prepare(ada), prepare({**ada, "first_name": "Lovelace", "last_name": "Ada"}))
    names = {f.field: f for f in swapped.fields if f.field in ("first_name", "last_name")}
    # one event, counted once: in the first name's comparison; the last name's says where it went
    assert names["first_name"].level == "first and last names swapped"
    assert names["first_name"].weight > 0
    assert names["last_name"].level == "first and last names swapped (counted in another comparison)"
    assert names["last_name"].weight == 0


def test_duckdb_is_bounded_and_spills_to_a_folder_of_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # DuckDB's own default would spill into `.tmp` here
    api = duckdb_api("64MB")
    limit, folder = api._con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()
    assert limit.endswith("MiB")
    assert float(limit.split()[0]) < 65
    assert Path(folder).is_dir()
    assert not Path(folder).is_relative_to(tmp_path)
    assert duckdb_api()._con.execute("SELECT current_setting('memory_limit')").fetchone()[0].endswith("MiB")
    del api
    gc.collect()
    assert not Path(folder).exists()


def test_training_memory_grows_with_the_table_above_its_floor() -> None:
    assert training_memory("128MB", 10_000) == "122MiB"  # the floor (DuckDB reads MB as 10^6 bytes)
    assert training_memory("128MB", 1_000_000) == "977MiB"
    assert training_memory("2GiB", 1_000) == "2048MiB"
    with pytest.raises(ValueError, match="memory size"):
        training_memory("lots", 10)


# Pairs FEBRL2 and FEBRL1 hold that no key met before 2026-12-06 (each scores above the merge threshold).
SOUND_CHANGING_TYPOS = {
    # first and last names swapped, one of them with a typo that changes its sound, the same birth date
    "swapped with a typo": (
        {"first_name": "Timothy", "last_name": "McCarthy", "date_of_birth": "1953-06-07"},
        {"first_name": "Mccarrhy", "last_name": "Timothy", "date_of_birth": "1953-06-07"},
    ),
    # both names with a typo that changes their sound, birth dates replaced, the same postcode
    "both names, one postcode": (
        {"first_name": "Emiily", "last_name": "Negent", "date_of_birth": "1912-01-13", "postcode": "3254"},
        {"first_name": "Emiiy", "last_name": "Negenht", "date_of_birth": "1908-10-20", "postcode": "3254"},
    ),
    # the same first name, the last name's sound changed, a postcode typo and another street, one town
    "one first name, one town": (
        {"first_name": "Naomi", "last_name": "Hanigan", "postcode": "3216", "city": "Albion Park"},
        {"first_name": "Naomi", "last_name": "Haniagn", "postcode": "3212", "city": "Albion Park"},
    ),
}


@pytest.mark.parametrize("case", list(SOUND_CHANGING_TYPOS))
def test_typos_that_change_a_names_sound_still_meet_on_a_key(case: str) -> None:
    left, right = (prepare(r) for r in SOUND_CHANGING_TYPOS[case])
    assert (left["first_name_metaphone"], left["last_name_metaphone"]) != (
        right["first_name_metaphone"],
        right["last_name_metaphone"],
    )
    assert _blocked(left, right), case


def test_the_names_and_birth_dates_correction_rescues_a_mover_and_not_namesakes_at_home(
    trained_model: TrainedModel,
) -> None:
    """With the true matches' share out of the names' and birth date's u, a woman who moved town, both names
    mistyped in one silo and her birth date intact, is certain (0.98; 0.83 with two emails that differ, the review
    fixture); a father and a son of one name at one address, born decades apart, stay below the merge threshold:
    the address's u is not sharpened."""
    scorer = Scorer(trained_model.settings)
    born = {"date_of_birth": "1985-07-02"}
    mover = scorer.score(
        prepare({**born, "first_name": "Katherine", "last_name": "Morrison", "postcode": "10001"}),
        prepare({**born, "first_name": "Katharine", "last_name": "Morrisson", "postcode": "60601"}),
    )
    assert mover.probability >= MatchingConfig().merge_threshold
    home = {"first_name": "Michael", "last_name": "Miller", "street": "1444 Cedar St", "postcode": "32806"}
    father = prepare({**home, "date_of_birth": "1947-04-09", "city": "Orlando"})
    son = prepare({**home, "date_of_birth": "1981-10-14", "city": "Orlando"})
    assert scorer.score(father, son).probability < MatchingConfig().merge_threshold
