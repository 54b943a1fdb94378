"""What unsupervised training needs decided before and checked after Splink runs: the prior, which blocks EM
learns from (chosen from the fields the data has), and whether the model it made is fit to save.

A model trained on blocks that never hold a pair differing on a field learns m = 0 for that field's disagreement,
and one field then vetoes a pair; a model trained on no pairs at all scores nothing. Both happened silently on
data with fields the synthetic bank always has (no address; birth dates in another format), so blocks are chosen
per data set, and a degenerate model is refused with the reason and what to map.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import pandas as pd

from seamline.matching.comparisons import COMPARISONS, DETERMINISTIC_KEYS, TRAINING_BLOCKS, columns_of, conditions

# A field is "present" when at least this share of records has it: below it, a comparison has too little data to
# learn from and adds little to any pair.
MIN_PRESENT: Final = 0.01
# An agreement level EM gives less m than this has learned the wrong class (true matches that never agree
# exactly on a name or a birth date): the blocks held no real duplicates.
MIN_AGREEMENT_M: Final = 0.01
# Identity merges records sharing these at import, so no training pair agrees on them: their m is filled, not
# learned, and is not checked.
MERGED_AT_IMPORT: Final = frozenset({"email", "national_id"})
# The fewest present comparisons a training block must leave free for EM to learn from it.
MIN_FREE: Final = 2
_BY_FIELD = {c.field: c for c in COMPARISONS}


class TrainingRefused(ValueError):
    """The data cannot train a usable model; the message says why and what to map."""


def pairs_in_block(records: pd.DataFrame, keys: Sequence[str]) -> int:
    """How many pairs of records agree on all these columns (none missing)."""
    sizes = records.dropna(subset=list(keys)).groupby(list(keys)).size()
    return int((sizes * (sizes - 1) // 2).sum())


def present_fields(records: pd.DataFrame) -> set[str]:
    """The comparisons at least MIN_PRESENT of the records have a value for."""
    if records.empty:
        return set()
    return {c.field for c in COMPARISONS if records[c.missing_when].notna().mean() >= MIN_PRESENT}


def learns(keys: Sequence[str], present: set[str]) -> set[str]:
    """The present comparisons a block leaves free (reads none of its columns), which EM in it can learn."""
    return {field for field in present if not columns_of(_BY_FIELD[field]).intersection(keys)}


def training_blocks(present: set[str], pairs: Callable[[Sequence[str]], int]) -> list[tuple[str, ...]]:
    """The EM blocks to train on: in TRAINING_BLOCKS' order, each block that has pairs and learns a comparison no
    block chosen before it learns twice, until every present comparison is learned at least twice where possible.

    TrainingRefused when no block has a pair, or a present name or birth date comparison is learned by none.
    """
    learned: dict[str, int] = dict.fromkeys(present, 0)
    chosen: list[tuple[str, ...]] = []
    for keys in TRAINING_BLOCKS:
        free = learns(keys, present)
        # EM needs two free comparisons to tell the classes apart: with one, every split of its levels between
        # matches and non-matches fits the block equally well, and EM ends where it started (names and birth
        # dates alone: a birth date's m of "differs" 0.001, -10 bits, from the name-sound block).
        if len(free) < MIN_FREE or not any(learned[f] < 2 for f in free) or pairs(keys) == 0:
            # A small table may hold no pair in a block. Skipped before, not caught after: a failed EM session
            # leaves the linker's comparisons filtered to that session's.
            continue
        chosen.append(keys)
        for f in free:
            learned[f] += 1
    if not chosen:
        raise TrainingRefused(
            "no two records agree on a birth date and a name sound, nor on both name sounds (with a postcode "
            "district, or alone): training has no pairs to learn from. Map date_of_birth and the names (and "
            "street/postcode/city where the source has them), and check that birth dates were imported as dates"
        )
    unlearned = sorted(f for f in ("first_name", "last_name", "date_of_birth") if learned.get(f) == 0)
    if unlearned:
        raise TrainingRefused(
            f"no training block leaves {', '.join(unlearned)} free to learn from: every pair that could teach "
            "how often true matches differ on it also agrees on it. Map date_of_birth, or an address, besides "
            "the names"
        )
    return chosen


# One EM session's m of each comparison it estimated: per level (null level excluded, "differs" last), None where
# the block held no pair at that level.
SessionM = Mapping[str, Sequence[float | None]]


def m_from_unconditioned_blocks(
    settings: dict[str, Any], sessions: Sequence[tuple[Sequence[str], SessionM]]
) -> dict[str, Any]:
    """Each comparison's m taken, in place, from the EM sessions whose blocks leave it unconditioned: per level, the
    median of those sessions' estimates (Splink's own combination), where any of them saw the level.

    Splink leaves a comparison out of a block's EM only when the block reads one of its columns, and takes the
    median over every block that estimated it. A block on a name's initial reads none of the name's columns, but
    holds only true pairs whose names share an initial, so its "name differs" is far too rare (FEBRL's names and
    birth dates: first name differs m 0.004 there, 0.084 from the birth date alone) and, averaged in, halved the
    cost of a replaced name. Such a block still helps EM tell matches from non-matches; only its m of the name it
    conditions is left out. A level none of the unconditioned blocks saw keeps Splink's median (their absence is
    no measurement), and a comparison no unconditioned block estimated keeps Splink's values."""
    for comparison in settings["comparisons"]:
        field = comparison["output_column_name"]
        if field not in _BY_FIELD:
            continue
        free = [m[field] for keys, m in sessions if field in m and not conditions(keys, _BY_FIELD[field])]
        if not free:
            continue
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for index, level in enumerate(levels):
            seen = [m for values in free if (m := values[index]) is not None]
            if seen:
                level["m_probability"] = statistics.median(seen)
    return settings


def estimated_prior(records: pd.DataFrame, recall: float = 0.8) -> float:
    """How likely two random records are one person: pairs agreeing on a near-certain key (national id, email, full
    name and birth date), scaled up by the keys' assumed recall, over all pairs.

    Splink's own estimate does the same but gives 0 when no such pair exists, which is the normal state of a
    database whose identity graph already merged records sharing a national id or an email: then every second
    record is assumed to have a duplicate somewhere.
    """
    n = len(records)
    if n < 2:
        return 0.5
    observed = sum(pairs_in_block(records, keys) for keys in DETERMINISTIC_KEYS)
    expected = observed / recall if observed else n / 2
    return float(min(max(expected / (n * (n - 1) / 2), 1e-12), 0.5))


# The near-certain key whose recall training itself measures: a true pair agrees on it when it agrees exactly on
# each of these comparisons, which EM has just learned the m of.
FULL_NAME_AND_BIRTH_DATE: Final = ("first_name", "last_name", "date_of_birth")


def _exact_m(settings: Mapping[str, Any], field: str) -> float | None:
    comparison = next(c for c in settings["comparisons"] if c["output_column_name"] == field)
    exact = next(lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level"))
    m = exact.get("m_probability")
    return float(m) if m else None


def measured_prior(records: pd.DataFrame, settings: Mapping[str, Any]) -> float | None:
    """The prior from pairs agreeing exactly on full name and birth date, over the share of true pairs that do (the
    product of the three exact levels' trained m), among the pairs of records that have all three; None when no
    such pair exists or the m are not trained.

    Better than an assumed recall: how often a true duplicate keeps its name and birth date intact differs from
    one data set to the next by a factor of two or more (0.8 on the synthetic bank, about 0.4 on FEBRL). A level's
    m is its share among true pairs that have the field on both sides (a missing value is the null level, outside
    m), so only pairs of records holding all three can agree on the key: counted over every pair, the prior was
    low by the share of pairs that cannot (0.80 of FEBRL1's pairs are complete: -10.27 bits against the labels'
    -9.96; the synthetic bank 0.92: -13.53 against -13.42).
    """
    observed = pairs_in_block(records, FULL_NAME_AND_BIRTH_DATE)
    complete = int(records[list(FULL_NAME_AND_BIRTH_DATE)].notna().all(axis=1).sum())
    recall = 1.0
    for field in FULL_NAME_AND_BIRTH_DATE:
        m = _exact_m(settings, field)
        if m is None:
            return None
        recall *= m
    if observed == 0 or complete < 2 or recall <= 0:
        return None
    return float(min(observed / recall / (complete * (complete - 1) / 2), 0.5))


def check_trained(settings: Mapping[str, Any], present: set[str], records: int) -> None:
    """TrainingRefused when the trained settings are degenerate: an absurd prior, or an agreement level of a
    present comparison that EM gave (almost) no true matches."""
    prior = float(settings["probability_two_random_records_match"])
    all_pairs = records * (records - 1) / 2
    if not 0 < prior <= 0.5 or prior * all_pairs < 1:
        raise TrainingRefused(
            f"the estimated share of matching pairs ({prior:.3g}) says fewer than one pair of the {records:,} "
            "records is the same person; map the fields the sources share (names, date_of_birth, address, "
            "email, phone, national_id)"
        )
    for comparison in settings["comparisons"]:
        field = comparison["output_column_name"]
        if field not in present or field in MERGED_AT_IMPORT:
            continue
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        strongest = levels[0]
        m, u = strongest.get("m_probability"), strongest.get("u_probability")
        if m is not None and u and m < MIN_AGREEMENT_M:
            raise TrainingRefused(
                f"training learned that true matches almost never agree exactly on {field} (m = {m:.2g}): the "
                "training blocks held no real duplicates. Check that the field is mapped to the right column "
                "and in the right format"
            )


# The comparisons whose u training always corrects for the true matches among random pairs: what no household
# shares. Fellegi-Sunter takes an address, a landline and a surname as independent evidence though a household
# shares all three, so sharpening the address's or phone's u as well lets namesakes at one address (a father and a
# son) merge: on the synthetic bank three did (`u_without_true_matches` corrects every comparison).
PERSONAL_COMPARISONS: Final = frozenset({"first_name", "last_name", "date_of_birth"})


def without_true_matches(
    settings: dict[str, Any], records: int, sampled_pairs: float, fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """u of every level (of `fields`' comparisons, when given) with the true matches' share taken out, in place:
    the random pairs u is sampled from hold true matches in the model's own proportion (the prior λ), so what was
    measured is λ·m + (1 - λ)·u. On a table where duplicates are common (FEBRL: one record in two; a small silo)
    λ·m is most of an exact level's measured u and every agreement counted 4-5 bits too little; at a million
    records it is nothing.

    Taken only as far as the sample resolves it: u stays at least one standard deviation of the sampled count
    (√count pairs of those sampled), and at least one pair. Where λ·m explains nearly all of a rare level's few
    sampled pairs, the difference is noise: floored at one pair, the names-swapped level of FEBRL4 (two files,
    one duplicate each) went to +15 bits in each name comparison and merged different people ("ryan matthew" /
    "matthew ryan") at 0.99."""
    prior = float(settings["probability_two_random_records_match"])
    sampled = max(min(sampled_pairs, records * (records - 1) / 2), 1.0)
    for comparison in settings["comparisons"]:
        if fields is not None and comparison["output_column_name"] not in fields:
            continue
        for level in comparison["comparison_levels"]:
            m, u = level.get("m_probability"), level.get("u_probability")
            if level.get("is_null_level") or m is None or u is None:
                continue
            measured = float(u)
            floor = max(math.sqrt(measured * sampled), 1.0) / sampled
            level["u_probability"] = max((measured - prior * float(m)) / (1.0 - prior), min(floor, measured))
    return settings
