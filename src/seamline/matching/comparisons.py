"""The model's comparisons and blocking keys, defined once and read by both engines: Splink's SQL (batch, on DuckDB
or Spark) and the Python scorer (real time). Pure.

Each field compares through ordered levels; the first level a pair satisfies is its level, and each level has its
own m (how often true matches land there) and u (how often random pairs do). A missing value on either side is
the null level and adds no evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import jellyfish

LevelKind = Literal["exact", "forms", "jaro_winkler", "edits"]


@dataclass(frozen=True, slots=True)
class Level:
    """One way two values may agree: `exact` equality, shared nickname `forms`, Jaro-Winkler at least
    `threshold`, or at most `threshold` Damerau-Levenshtein `edits`, on `column`."""

    label: str
    kind: LevelKind
    column: str
    threshold: float = 0.0
    tf: bool = False  # adjust the weight by how common the value is (a shared "smith" says less than "kowalski")


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    levels: tuple[Level, ...]  # strongest first; "else" (they differ) is implied after the last
    null_column: str = ""  # the column whose absence makes the pair's level null; the field's own by default

    @property
    def missing_when(self) -> str:
        return self.null_column or self.field


COMPARISONS: Final = (
    Comparison(
        "first_name",
        (
            Level("exact", "exact", "first_name", tf=True),
            Level("nickname", "forms", "first_name_forms"),
            Level("one typo", "edits", "first_name", 1),
            Level("sounds alike", "exact", "first_name_metaphone"),
            Level("similar spelling (Jaro-Winkler >= 0.88)", "jaro_winkler", "first_name", 0.88),
        ),
    ),
    Comparison(
        "last_name",
        (
            Level("exact", "exact", "last_name", tf=True),
            Level("one typo", "edits", "last_name", 1),
            Level("sounds alike", "exact", "last_name_metaphone"),
            Level("similar spelling (Jaro-Winkler >= 0.88)", "jaro_winkler", "last_name", 0.88),
        ),
    ),
    Comparison(
        "date_of_birth",
        (
            Level("exact", "exact", "date_of_birth"),
            Level("one digit differs", "edits", "date_of_birth", 1),
            Level("day and month swapped", "exact", "birth_date_unordered"),
            Level("same year", "exact", "birth_year"),
        ),
    ),
    # Street and postcode are one comparison: they agree and differ together (a household, a move), and two
    # comparisons would count one fact twice.
    Comparison(
        "address",
        (
            Level("same street and postcode", "exact", "address"),
            Level("similar street (Jaro-Winkler >= 0.9)", "jaro_winkler", "street", 0.9),
            Level("same postcode", "exact", "postcode", tf=True),
            Level("same district", "exact", "postcode_district"),
        ),
        null_column="postcode",
    ),
    Comparison("phone", (Level("exact", "exact", "phone", tf=True),)),
    Comparison(
        "email",
        (
            Level("exact", "exact", "email"),
            Level("same user name", "exact", "email_local"),
        ),
    ),
    Comparison("national_id", (Level("exact", "exact", "national_id"),)),
)

# Pairs are only compared when they agree on at least one of these keys (the batch's blocking rules; the real-time
# index's lookup keys). Each tolerates different errors: a typo in a name, a move, a missing birth date.
BLOCKING_KEYS: Final[tuple[tuple[str, ...], ...]] = (
    ("date_of_birth", "last_name_metaphone"),
    ("date_of_birth", "first_name_metaphone"),
    ("date_of_birth", "postcode"),
    ("last_name_metaphone", "postcode"),
    ("first_name_metaphone", "last_name_metaphone", "birth_year"),
    ("phone",),
    ("email",),
    ("national_id",),
)
# Training blocks: expectation-maximisation learns m of the fields outside each rule from the pairs inside it.
# Each block holds nearly only true matches and leaves some fields free to learn from. Address-only blocks are left
# out on purpose: they hold mostly household members, and EM would learn "a household" as the match class. Nor
# national id or email: in a database the identity graph has already merged records sharing those.
TRAINING_BLOCKS: Final[tuple[tuple[str, ...], ...]] = (
    ("date_of_birth", "first_name_metaphone"),
    ("date_of_birth", "last_name_metaphone"),
    ("first_name_metaphone", "last_name_metaphone", "postcode_district"),
)
# Rules that hardly ever join two people, used to estimate how many records are duplicates.
DETERMINISTIC_KEYS: Final[tuple[tuple[str, ...], ...]] = (
    ("national_id",),
    ("email",),
    ("first_name", "last_name", "date_of_birth"),
)


def _exact(left: Any, right: Any) -> bool:
    return bool(left == right)


def _forms(left: Any, right: Any) -> bool:
    return not set(left).isdisjoint(right)


def _jaro_winkler(threshold: float) -> Callable[[Any, Any], bool]:
    return lambda left, right: jellyfish.jaro_winkler_similarity(left, right) >= threshold


def _edits(threshold: float) -> Callable[[Any, Any], bool]:
    return lambda left, right: jellyfish.damerau_levenshtein_distance(left, right) <= threshold


def predicate(level: Level) -> Callable[[Any, Any], bool]:
    """The level's test in Python: the same as the SQL Splink runs for it."""
    if level.kind == "exact":
        return _exact
    if level.kind == "forms":
        return _forms
    if level.kind == "jaro_winkler":
        return _jaro_winkler(level.threshold)
    return _edits(level.threshold)


def level_of(
    comparison: Comparison,
    tests: Sequence[Callable[[Any, Any], bool]],
    left: Mapping[str, Any],
    right: Mapping[str, Any],
) -> int | None:
    """Index of the first level the pair satisfies, len(levels) for "they differ", None when a value is missing."""
    if left.get(comparison.missing_when) is None or right.get(comparison.missing_when) is None:
        return None
    for index, (level, test) in enumerate(zip(comparison.levels, tests, strict=True)):
        a, b = left.get(level.column), right.get(level.column)
        if a is not None and b is not None and test(a, b):
            return index
    return len(comparison.levels)
