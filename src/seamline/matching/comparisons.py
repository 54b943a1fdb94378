"""The model's comparisons and blocking keys, defined once and read by both engines: Splink's SQL (batch, on DuckDB
or Spark) and the Python scorer (real time). Pure.

Each field compares through ordered levels; the first level a pair satisfies is its level, and each level has its
own m (how often true matches land there) and u (how often random pairs do). A missing value on either side is
the null level and adds no evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

import jellyfish

LevelKind = Literal["exact", "forms", "jaro_winkler", "edits", "levenshtein", "swapped"]


@dataclass(frozen=True, slots=True)
class Level:
    """One way two values may agree: `exact` equality, shared nickname `forms`, Jaro-Winkler at least
    `threshold`, at most `threshold` Damerau-Levenshtein `edits` (a transposition is one) or `levenshtein` edits (a
    transposition is two), on `column`; or `swapped`: `column` of each side within `threshold` edits of `other` of
    the other side, both ways, and the two `column` values not equal (first and last names swapped)."""

    label: str
    kind: LevelKind
    column: str
    threshold: float = 0.0
    tf: bool = False  # adjust the weight by how common the value is (a shared "smith" says less than "kowalski")
    other: str = ""


@dataclass(frozen=True, slots=True)
class Comparison:
    field: str
    levels: tuple[Level, ...]  # strongest first; "else" (they differ) is implied after the last
    null_column: str = ""  # the column whose absence makes the pair's level null; the field's own by default
    # Pairs meeting this level carry no evidence here (the null level) because another comparison counts the same
    # event: first and last names swapped is one event, counted once, in the first name's comparison.
    counted_elsewhere: Level | None = None
    # Prepared columns derived from this field that no level reads: a training block on one of them (a name's
    # initial) holds only pairs agreeing on part of the field, so EM in it learns the field's m conditioned on that
    # agreement (too few true pairs differing) and training takes this comparison's m from other blocks.
    derived: tuple[str, ...] = ()

    @property
    def missing_when(self) -> str:
        return self.null_column or self.field


# Each side's first name within one edit of the other side's last name, both ways, the first names not equal.
NAMES_SWAPPED: Final = Level("first and last names swapped", "swapped", "first_name", 1, other="last_name")

COMPARISONS: Final = (
    Comparison(
        "first_name",
        (
            Level("exact", "exact", "first_name", tf=True),
            NAMES_SWAPPED,
            Level("nickname", "forms", "first_name_forms"),
            Level("one typo", "edits", "first_name", 1),
            Level("sounds alike", "exact", "first_name_metaphone"),
            Level("similar spelling (Jaro-Winkler >= 0.88)", "jaro_winkler", "first_name", 0.88),
        ),
        derived=("first_initial", "initials", "name_sounds"),
    ),
    # A swap is one event: counted in both name comparisons it weighed twice (2 x 13-15 bits on FEBRL) and merged
    # different people whose names are each other's swapped ("ryan matthew" / "matthew ryan"). The first name's
    # level weighs it (its u is how often a random pair's names are each other's swapped); the last name's
    # comparison treats a pair at that level as null (the same level: first names not equal, so a pair the first
    # name's comparison puts at "exact" keeps its last-name evidence).
    Comparison(
        "last_name",
        (
            Level("exact", "exact", "last_name", tf=True),
            Level("one typo", "edits", "last_name", 1),
            Level("sounds alike", "exact", "last_name_metaphone"),
            Level("similar spelling (Jaro-Winkler >= 0.88)", "jaro_winkler", "last_name", 0.88),
        ),
        counted_elsewhere=NAMES_SWAPPED,
        derived=("last_initial", "initials", "name_sounds"),
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
    # Street, postcode and city are one comparison: they agree and differ together (a household, a move), and
    # separate comparisons would count one fact twice. Missing only when all three are.
    Comparison(
        "address",
        (
            Level("same street and postcode", "exact", "address"),
            Level("similar street (Jaro-Winkler >= 0.9)", "jaro_winkler", "street", 0.9),
            Level("same postcode", "exact", "postcode", tf=True),
            Level("same district", "exact", "postcode_district"),
            Level("same city", "exact", "city"),
        ),
        null_column="address_known",
    ),
    Comparison("phone", (Level("exact", "exact", "phone", tf=True),)),
    Comparison(
        "email",
        (
            Level("exact", "exact", "email"),
            Level("same user name", "exact", "email_local"),
        ),
    ),
    # A national id is evidence as well as a key: the identity graph merges exact ids at import; a mistyped id (one
    # digit, or two digits swapped) beside an otherwise certain pair is a duplicate with a data-quality problem.
    Comparison(
        "national_id",
        (
            Level("exact", "exact", "national_id"),
            Level("one digit differs", "levenshtein", "national_id", 1),
            Level("two digits transposed", "edits", "national_id", 1),
        ),
    ),
)

# Pairs are only compared when they agree on at least one of these keys (the batch's blocking rules; the real-time
# index's lookup keys): a union that compares every pair agreeing strongly on any two of name, birth date,
# address, phone, email or national id (the last three alone suffice). "Name" is both name sounds in either order
# (`name_sounds`), or one name's sound beside a birth date or postcode, so a typo, swapped first and last names, a
# missing birth date or a postcode typo each leave another key to meet on. A name's initial beside the birth date
# covers a typo that changes the name's sound when the other name is missing or replaced (Splink's examples block
# on the birth date alone: ~14M pairs at a million records, against a few hundred thousand here).
BLOCKING_KEYS: Final[tuple[tuple[str, ...], ...]] = (
    ("date_of_birth", "last_name_metaphone"),
    ("date_of_birth", "first_name_metaphone"),
    ("date_of_birth", "last_initial"),
    ("date_of_birth", "first_initial"),
    ("date_of_birth", "initials"),
    ("date_of_birth", "postcode"),
    ("date_of_birth", "street"),
    ("date_of_birth", "postcode_district"),
    ("date_of_birth", "city"),
    ("last_name_metaphone", "postcode"),
    ("last_name_metaphone", "street"),
    ("last_name_metaphone", "city"),
    ("first_name_metaphone", "street"),
    ("first_name_metaphone", "postcode"),
    ("name_sounds", "postcode"),
    ("name_sounds", "city"),
    ("name_sounds", "birth_year"),
    ("initials", "postcode"),
    ("first_name", "last_initial", "city"),
    ("first_name", "last_name"),
    ("phone",),
    ("email",),
    ("national_id",),
)
# Training blocks, in order of preference: expectation-maximisation learns the m of every comparison that does not
# use a block's columns from the pairs inside it (Splink's own rule), and averages over blocks. Each block holds
# nearly only true matches. Which ones run is chosen from the fields the data has (model.py), so that every
# comparison with data is learned by a block that leaves it free; the last two are for data without an address.
# Address-only blocks are left out on purpose: they hold mostly household members, and EM would learn "a household"
# as the match class. Nor national id or email: the identity graph has already merged records sharing those.
TRAINING_BLOCKS: Final[tuple[tuple[str, ...], ...]] = (
    ("date_of_birth", "first_name_metaphone"),
    ("date_of_birth", "last_name_metaphone"),
    ("date_of_birth", "postcode"),
    ("first_name_metaphone", "last_name_metaphone", "postcode_district"),
    ("first_name_metaphone", "last_name_metaphone", "phone"),
    ("first_name_metaphone", "last_name_metaphone"),
    # Without an address, phone or email the blocks above leave one comparison free each, which EM cannot learn
    # from: these leave two of names and birth date free (an initial is no column of a name's comparison). The
    # names are learned first from the birth date alone: a block on a name's initial or sound holds no true pair
    # whose name was replaced or swapped, and taught FEBRL's names and birth dates that a surname differing costs
    # -7 bits (-4.9 from the birth date) and a swap +5 (+12). At a million records it holds ~14M pairs, as
    # Splink's own examples do; with an address it is never chosen (the blocks above learn the names twice).
    ("date_of_birth",),
    ("last_name_metaphone", "first_initial"),
    ("first_name_metaphone", "last_initial"),
)
# Rules that hardly ever join two people, used to estimate how many records are duplicates.
DETERMINISTIC_KEYS: Final[tuple[tuple[str, ...], ...]] = (
    ("national_id",),
    ("email",),
    ("first_name", "last_name", "date_of_birth"),
)


def columns_of(comparison: Comparison) -> frozenset[str]:
    """Every prepared column the comparison reads (a training block using one of them cannot learn it)."""
    levels = (*comparison.levels, *((comparison.counted_elsewhere,) if comparison.counted_elsewhere else ()))
    return frozenset({comparison.missing_when, *(lv.column for lv in levels), *(lv.other for lv in levels if lv.other)})


def conditions(keys: Sequence[str], comparison: Comparison) -> bool:
    """Whether a block on these columns holds only pairs agreeing on some of the comparison's field (a column it
    reads, or one derived from it), so that EM in the block cannot learn how often true matches differ on it."""
    return not columns_of(comparison).union(comparison.derived).isdisjoint(keys)


def _exact(left: Any, right: Any) -> bool:
    return bool(left == right)


def _forms(left: Any, right: Any) -> bool:
    return not set(left).isdisjoint(right)


def _jaro_winkler(threshold: float) -> Callable[[Any, Any], bool]:
    return lambda left, right: jellyfish.jaro_winkler_similarity(left, right) >= threshold


def _edits(threshold: float) -> Callable[[Any, Any], bool]:
    return lambda left, right: jellyfish.damerau_levenshtein_distance(left, right) <= threshold


def _levenshtein(threshold: float) -> Callable[[Any, Any], bool]:
    return lambda left, right: jellyfish.levenshtein_distance(left, right) <= threshold


def _swapped(threshold: float) -> Callable[[Any, Any], bool]:
    def test(left: Any, right: Any) -> bool:
        (a, a_other), (b, b_other) = left, right
        distance = jellyfish.damerau_levenshtein_distance
        return a != b and distance(a, b_other) <= threshold and distance(a_other, b) <= threshold

    return test


def _values(level: Level, record: Mapping[str, Any]) -> Any:
    """The level's value of one side: its column, or (column, other) for a swap; None when any is missing."""
    value = record.get(level.column)
    if not level.other or value is None:
        return value
    other = record.get(level.other)
    return None if other is None else (value, other)


@cache
def predicate(level: Level) -> Callable[[Any, Any], bool]:
    """The level's test in Python: the same as the SQL Splink runs for it."""
    if level.kind == "exact":
        return _exact
    if level.kind == "forms":
        return _forms
    if level.kind == "jaro_winkler":
        return _jaro_winkler(level.threshold)
    if level.kind == "swapped":
        return _swapped(level.threshold)
    if level.kind == "levenshtein":
        return _levenshtein(level.threshold)
    return _edits(level.threshold)


def level_of(
    comparison: Comparison,
    tests: Sequence[Callable[[Any, Any], bool]],
    left: Mapping[str, Any],
    right: Mapping[str, Any],
) -> int | None:
    """Index of the first level the pair satisfies, len(levels) for "they differ", None when a value is missing or
    the pair's evidence is counted in another comparison."""
    if left.get(comparison.missing_when) is None or right.get(comparison.missing_when) is None:
        return None
    elsewhere = comparison.counted_elsewhere
    if elsewhere is not None:
        a, b = _values(elsewhere, left), _values(elsewhere, right)
        if a is not None and b is not None and predicate(elsewhere)(a, b):
            return None
    for index, (level, test) in enumerate(zip(comparison.levels, tests, strict=True)):
        a, b = _values(level, left), _values(level, right)
        if a is not None and b is not None and test(a, b):
            return index
    return len(comparison.levels)
