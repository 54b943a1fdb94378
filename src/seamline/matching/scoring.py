"""Scoring one pair in Python with a trained model's parameters: the real-time path, and the field-by-field
explanation stored with every merge and review. Pure.

It reads m and u per comparison level from Splink's settings and applies the same levels (comparisons.py) and the
same term-frequency adjustment as Splink's SQL: an exact match on a tf column weighs (u_exact / tf)^w instead of
u_exact, where tf is the larger of the two values' frequencies among the records. So a pair scores the same here as
in the batch (the tests check it against Splink's predictions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seamline.matching.comparisons import COMPARISONS, Comparison, level_of, predicate

# The smallest m training gives a level: one true match in a thousand lands on it. A level no training pair landed
# on (a birth date that differs, when every training pair agreed on it) is rare among true matches, not impossible:
# at 1e-6 a mistyped birth date cost -20 bits and vetoed a pair identical in every other field; at 1e-3 it costs
# about -10, which the other fields' agreement outweighs and a household's does not.
M_FLOOR = 1e-3
# What the scorer takes for an m a model file lacks or gives as 0 (older files; Splink divides by zero).
_M_MISSING = 1e-6
STRONGEST_M = 0.9
TermFrequency = Callable[[str, Any], float | None]


@dataclass(frozen=True, slots=True)
class FieldScore:
    """One field's part in a pair's score: both values, the level they met and its weight (log2 Bayes factor)."""

    field: str
    left: Any
    right: Any
    level: str
    weight: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "left": self.left,
            "right": self.right,
            "level": self.level,
            "weight": round(self.weight, 4),
        }


@dataclass(frozen=True, slots=True)
class PairScore:
    weight: float
    probability: float
    fields: tuple[FieldScore, ...]


@dataclass(frozen=True, slots=True)
class _LevelParams:
    label: str
    m: float
    u: float
    tf_column: str | None
    tf_weight: float


def fill_untrained(settings: dict[str, Any], sampled_pairs: float) -> dict[str, Any]:
    """Give the levels training could not estimate a value, in place.

    In a database the identity graph has already merged the records sharing an email or a national id, so no
    training pair agrees on them: their exact levels get neither u (no random pair agreed either) nor m. Such a
    level's u is taken as rarer than anything the random sample saw (1 / pairs sampled), and a strongest level's m
    as 0.9, the usual share of true matches agreeing exactly; any other untrained or zero m gets the floor (a level
    training never saw is rare, not impossible). Without this an exact email would count against a match.
    """
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for index, level in enumerate(levels):
            is_else = index == len(levels) - 1
            m, u = level.get("m_probability"), level.get("u_probability")
            if u is None or u <= 0:
                level["u_probability"] = 1.0 if is_else else 1.0 / sampled_pairs
            if m is None or m < M_FLOOR:
                level["m_probability"] = STRONGEST_M if index == 0 and not is_else and u is None else M_FLOOR
    return settings


class Scorer:
    """A trained model's parameters, ready to score prepared records."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        prior = float(settings["probability_two_random_records_match"])
        self.prior_weight = math.log2(prior / (1.0 - prior))
        by_name = {c["output_column_name"]: c for c in settings["comparisons"]}
        self.comparisons: list[tuple[Comparison, list[Callable[[Any, Any], bool]], list[_LevelParams]]] = []
        for comparison in COMPARISONS:
            levels = [lv for lv in by_name[comparison.field]["comparison_levels"] if not lv.get("is_null_level")]
            if len(levels) != len(comparison.levels) + 1:
                raise ValueError(
                    f"the model's {comparison.field} levels do not match this version's comparisons: "
                    "retrain it (seamline match train)"
                )
            params = [
                _LevelParams(
                    label=str(lv.get("label_for_charts", "")),
                    m=max(float(lv.get("m_probability") or _M_MISSING), _M_MISSING),
                    u=float(lv.get("u_probability") or _M_MISSING),
                    tf_column=lv.get("tf_adjustment_column"),
                    tf_weight=float(lv.get("tf_adjustment_weight", 1.0)),
                )
                for lv in levels
            ]
            self.comparisons.append((comparison, [predicate(level) for level in comparison.levels], params))

    def score(self, left: Mapping[str, Any], right: Mapping[str, Any], tf: TermFrequency | None = None) -> PairScore:
        """The pair's match weight, probability and each field's part in it."""
        total = self.prior_weight
        fields: list[FieldScore] = []
        for comparison, tests, params in self.comparisons:
            index = level_of(comparison, tests, left, right)
            shown_left, shown_right = _shown(comparison, left), _shown(comparison, right)
            if index is None:
                fields.append(
                    FieldScore(comparison.field, shown_left, shown_right, _null_label(comparison, left, right), 0.0)
                )
                continue
            level = params[index]
            factor = level.m / level.u
            if level.tf_column is not None and tf is not None and level.tf_weight:
                frequency = _larger(
                    tf(level.tf_column, left.get(level.tf_column)), tf(level.tf_column, right.get(level.tf_column))
                )
                if frequency:
                    factor *= (level.u / frequency) ** level.tf_weight
            weight = math.log2(factor)
            total += weight
            fields.append(FieldScore(comparison.field, shown_left, shown_right, level.label, weight))
        return PairScore(total, probability(total), tuple(fields))

    def evidence_weight(
        self, fields: Sequence[str], left: Mapping[str, Any], right: Mapping[str, Any], tf: TermFrequency | None = None
    ) -> float:
        """The prior's and these comparisons' parts in the pair's match weight: what the pair weighs on them alone."""
        return self.prior_weight + sum(f.weight for f in self.score(left, right, tf).fields if f.field in fields)

    def field_weight(
        self, field: str, left: Mapping[str, Any], right: Mapping[str, Any], tf: TermFrequency | None = None
    ) -> float:
        """One comparison's part in the pair's match weight (0 when a value is missing)."""
        return next(f.weight for f in self.score(left, right, tf).fields if f.field == field)


def _null_label(comparison: Comparison, left: Mapping[str, Any], right: Mapping[str, Any]) -> str:
    column, elsewhere = comparison.missing_when, comparison.counted_elsewhere
    if elsewhere is None or left.get(column) is None or right.get(column) is None:
        return "missing"
    return f"{elsewhere.label} (counted in another comparison)"


def _larger(a: float | None, b: float | None) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _shown(comparison: Comparison, record: Mapping[str, Any]) -> Any:
    if comparison.field == "address":
        parts = (record.get("street"), record.get("postcode"), record.get("city"))
        return ", ".join(v for v in parts if v) or None
    return record.get(comparison.field)


def probability(weight: float) -> float:
    """Match probability of a match weight (log2 of the odds)."""
    if weight > 60:
        return 1.0
    if weight < -60:
        return 0.0
    return 1.0 - 1.0 / (1.0 + math.pow(2.0, weight))


def term_frequencies(records: Sequence[Mapping[str, Any]]) -> TermFrequency:
    """Term frequencies of the tf columns among these records, as Splink computes them (share of non-null)."""
    columns = {level.column for c in COMPARISONS for level in c.levels if level.tf}
    counts: dict[str, dict[Any, int]] = {c: {} for c in columns}
    totals = dict.fromkeys(columns, 0)
    for record in records:
        for column in columns:
            value = record.get(column)
            if value is not None:
                counts[column][value] = counts[column].get(value, 0) + 1
                totals[column] += 1

    def frequency(column: str, value: Any) -> float | None:
        count = counts.get(column, {}).get(value)
        return count / totals[column] if count else None

    return frequency
