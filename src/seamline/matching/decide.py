"""From scored pairs to outcomes: merge automatically, send to review, or keep apart; and the clusters merges
make. Pure: pairs and records in, decisions out.

The rules, in order:
- A pair a reviewer rejected stays apart, and so do two clusters holding different national ids (one person has
  one national id) — except where the pair holds the two ids itself, each cluster holding one. Then what the two
  ids' difference says decides, by how it arose:
  - **issued in sequence** (`is_in_sequence`: read as numbers, fewer than ten apart — a change in the last digit,
    a carry into the one before, the last two swapped when a step apart): a family's ids issued together, twins'
    ids, look so. The ids are no evidence of one person, so the pair merges only when it is certain without the
    ids' support (its probability with the id's weight taken out where that weight is positive is at or above the
    merge threshold) and both first names and birth dates are there and agree (first names not plainly
    different, birth dates exact, one digit off or day and month swapped) — or, with a first name or a birth date
    missing and the other not contradicting, when it is certain on the prior, names and birth date alone, which
    no household shares. Otherwise it goes to review. Without the id's weight (`id_weight` not given) it goes to
    review;
  - **one typo apart, not in sequence** (one character changed, added or dropped, or two adjacent ones swapped,
    moving the number by ten or more): no household is issued such ids, and two people hold them by
    chance about as rarely as the model's typo level says, so the level counts like any other evidence: the pair
    merges on its score unless the household guard holds it;
  - **different outright, not in sequence**: weighed like any other field (the score counts their difference at
    the weight training learned for it): the pair merges on its score when its birth dates do not contradict it
    (exact, one digit off or day and month swapped, or in one year beside one first name: no father and son nor
    partners share both) and at least one of first name and birth date is there, else it goes to review. A first
    name that plainly differs is weighed by the score too, as it is without ids: twins (one birth date, two first
    names) with two unrelated ids lose the ids' learned weight besides the first name's, about 10 bits where
    sources never replace an id, so they stay below the merge threshold; where sources often replace ids (about
    -1 bit) the ids say little either way.
  Each is a data-quality finding (`id_typos` for ids one typo apart, `id_differs` for the rest): one of the two
  source systems holds a wrong id. The merged cluster holds both ids (the identity graph keeps the absorbed one
  and records it as an `id_typo` conflict).
- A cluster that already holds several ids (one of them mistyped or replaced in a source) is judged the same way,
  by the ids the pair itself holds (one from each side), as long as no other id of one side could have been
  issued in sequence with an id of the other (a relative's): then a person decides. Sources that mistype or
  replace ids independently leave one person with three ids or more (a person in five silos).
- Household guard: a household shares an address, a landline and usually a last name, which Fellegi-Sunter
  counts as independent evidence. It is kept apart by what tells its members apart: first names that plainly
  differ (not a typo, a nickname, a sound-alike or the names swapped) beside birth dates that differ (at most the
  same year: partners, parents and children) or are missing, or beside one birth date and one phone (twins at
  home).
  Such a pair never merges automatically, whatever its score (at most it goes to review), unless it agrees on
  something no household shares: a national id or an email address, or national ids one typo apart that are not
  in sequence (one id mistyped: relatives are not issued such ids). One personal field alone does not hold a
  pair: a mistyped birth date beside the same name, or a first name replaced in one silo beside the same birth
  date, street and surname and no shared phone, is a duplicate far more often than a relative, and the score
  weighs it.
- Merges are taken strongest first (Kruskal), so every merge in a cluster is explained by a real pair's score and
  a cluster is never joined through a weaker pair when a stronger one already connects it.
- A review is asked once per pair of clusters: the strongest pair between them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import jellyfish

from seamline.matching.comparisons import COMPARISONS, level_of, predicate
from seamline.matching.scoring import probability

# Comparisons whose plain disagreement bars an automatic merge (see the household guard above).
PERSONAL_FIELDS: Final = ("first_name", "date_of_birth")
# What a typo'd-id pair with a first name or birth date missing must be certain on (with the prior): a household
# shares an address and a landline, and its ids are often issued in sequence, one digit apart.
PERSONAL_EVIDENCE: Final = ("first_name", "last_name", "date_of_birth")
# Values no household shares: their agreement lifts the guard.
PERSONAL_IDS: Final = ("national_id", "email")
# Ids closer than this, read as numbers, may have been issued in sequence: to one family in one visit, to twins.
SEQUENCE_SPAN: Final = 10
_GUARDED = {c.field: (c, [predicate(level) for level in c.levels]) for c in COMPARISONS if c.field in PERSONAL_FIELDS}
# Levels at or past these say the field contradicts the pair: no first-name level met (plainly different), or
# birth dates past "one digit off or day and month swapped" (the last level).
_FIRST_NAME_DIFFERS = len(_GUARDED["first_name"][0].levels)
_BIRTH_DATE_DIFFERS = len(_GUARDED["date_of_birth"][0].levels) - 1
# The birth-date level of two dates in one year: past a typo, short of another generation.
_SAME_YEAR = _BIRTH_DATE_DIFFERS
_DIGITS, _NOT_DIGITS = re.compile(r"[0-9]"), re.compile(r"[^0-9]")


@dataclass(frozen=True, slots=True)
class ScoredPair:
    left: str
    right: str
    probability: float
    weight: float


@dataclass(slots=True)
class Decisions:
    merges: list[ScoredPair] = field(default_factory=list)
    reviews: list[ScoredPair] = field(default_factory=list)
    apart: int = 0
    guarded: int = 0
    id_typos: list[ScoredPair] = field(default_factory=list)  # merges and reviews whose national ids differ by a typo
    id_differs: list[ScoredPair] = field(default_factory=list)  # … and those whose national ids differ outright
    clusters: dict[str, str] = field(default_factory=dict)  # record -> its cluster's representative


def is_id_typo(a: str, b: str) -> bool:
    """Whether two different ids differ by one typo: one character changed, added or dropped, or two adjacent
    characters swapped."""
    return a != b and jellyfish.damerau_levenshtein_distance(a, b) <= 1


def is_in_sequence(a: str, b: str) -> bool:
    """Whether two different ids could have been issued one after the other: the same letters in the same places,
    and their digits, read as one number, fewer than `SEQUENCE_SPAN` apart."""
    if a == b or len(a) != len(b) or _DIGITS.sub("", a) != _DIGITS.sub("", b):
        return False
    left, right = _NOT_DIGITS.sub("", a), _NOT_DIGITS.sub("", b)
    return bool(left) and abs(int(left) - int(right)) < SEQUENCE_SPAN


def _differing_ids_personal_levels(
    left: Mapping[str, Any], right: Mapping[str, Any]
) -> tuple[int | None, int | None] | None:
    """The first-name and birth-date comparison levels of a pair whose own national ids differ (None for a field
    missing on either side); None when the pair does not hold two different ids."""
    a, b = left.get("national_id"), right.get("national_id")
    if not (isinstance(a, str) and isinstance(b, str) and a != b):
        return None
    first, first_tests = _GUARDED["first_name"]
    dob, dob_tests = _GUARDED["date_of_birth"]
    return level_of(first, first_tests, left, right), level_of(dob, dob_tests, left, right)


def _differing_pair_may_merge(left: Mapping[str, Any], right: Mapping[str, Any], *, outright: bool = False) -> bool:
    """Whether a pair whose national ids differ may merge on its score, which has counted the ids' difference at
    the weight training learned for it: the pair itself holds the two ids, at least one of first name and birth
    date is there on both sides, and neither contradicts it where both sides have it: birth dates exact, one digit
    off or day and month swapped; first names not plainly different.

    For ids that differ `outright` (not in sequence: not a family's) the score weighs a replaced first name, as it
    does without ids, and birth dates of one year beside one first name do not contradict (a date mistyped in two
    places; no father and son, no partners, share a first name and a birth year). A missing birth date or first
    name is no evidence either way: the score weighs the rest, and where duplicates never carry another id (the
    synthetic bank) the learned difference costs ~10 bits."""
    levels = _differing_ids_personal_levels(left, right)
    if levels is None or levels == (None, None):
        return False
    named, born = levels
    one_first_name = named is not None and named < _FIRST_NAME_DIFFERS
    if not (outright or named is None or one_first_name):
        return False
    return born is None or born < _BIRTH_DATE_DIFFERS or (outright and one_first_name and born == _SAME_YEAR)


def _typo_pair_may_merge(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Whether a pair of clusters whose national ids differ may merge on its score: the pair itself holds the two
    ids (on other records of the clusters the pair's evidence says nothing of them), and both personal fields are
    there and agree (first names not plainly different; birth dates exact, one digit off or day and month
    swapped) — a relative at the same address with the same name and a neighbouring id is not a typo."""
    levels = _differing_ids_personal_levels(left, right)
    if levels is None:
        return False
    named, born = levels
    return named is not None and named < _FIRST_NAME_DIFFERS and born is not None and born < _BIRTH_DATE_DIFFERS


def differs_plainly(left: Mapping[str, Any], right: Mapping[str, Any]) -> str | None:
    """Why two prepared records look like two members of one household ("first_name and date_of_birth": the first
    names plainly differ and the birth dates differ or are missing; "first_name beside one birth date and phone":
    twins), or None (also when something no household shares agrees, or national ids one typo apart that no
    sequence explains: one id mistyped, not two relatives')."""
    for unique in PERSONAL_IDS:
        value = left.get(unique)
        if value is not None and value == right.get(unique):
            return None
    a, b = left.get("national_id"), right.get("national_id")
    if isinstance(a, str) and isinstance(b, str) and is_id_typo(a, b) and not is_in_sequence(a, b):
        return None
    first, first_tests = _GUARDED["first_name"]
    level = level_of(first, first_tests, left, right)
    if level is None or level < len(first.levels):
        return None
    dob, dob_tests = _GUARDED["date_of_birth"]
    born = level_of(dob, dob_tests, left, right)
    # "same year" is as good as differing for a birth date: partners are often born in one year.
    if born is None or born >= len(dob.levels) - 1:
        return "first_name and date_of_birth"
    phone = left.get("phone")
    if phone is not None and phone == right.get("phone"):
        return "first_name beside one birth date and phone"
    return None


def _conflict_may_merge(
    pair: ScoredPair,
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    merge_threshold: float,
    id_weight: Callable[[Mapping[str, Any], Mapping[str, Any]], float] | None,
    personal_weight: Callable[[Mapping[str, Any], Mapping[str, Any]], float] | None,
) -> bool:
    """Whether a certain pair between two clusters holding different national ids (one each) may merge, by how the
    pair's own two ids differ (see the module's rules); False when the ids are not the pair's own."""
    a, b = left.get("national_id"), right.get("national_id")
    if not (isinstance(a, str) and isinstance(b, str) and a != b):
        return False
    if not is_in_sequence(a, b):
        # One typo away and not in sequence: the model weighed the typo level, as rare among two people as it says.
        return is_id_typo(a, b) or _differing_pair_may_merge(left, right, outright=True)
    # Possibly relatives' ids issued in sequence: the ids must not vouch for the pair, the rest must make it certain.
    if id_weight is None or probability(pair.weight - max(id_weight(left, right), 0.0)) < merge_threshold:
        return False
    return _typo_pair_may_merge(left, right) or (
        # a first name or birth date missing: certain on what no household shares (names, birth date)
        personal_weight is not None
        and _differing_pair_may_merge(left, right)
        and probability(personal_weight(left, right)) >= merge_threshold
    )


class _Clusters:
    """Union-find over records, each cluster carrying the national ids it holds."""

    def __init__(
        self, national_id: Callable[[str], str | None], refused: Iterable[frozenset[str]], out: Decisions
    ) -> None:
        self.out = out
        self.parent: dict[str, str] = {}
        self.ids: dict[str, set[str]] = {}
        self.national_id = national_id
        # Per cluster root, the records a reviewer said are someone else.
        self.refused: dict[str, set[str]] = {}
        for pair in refused:
            x, y = tuple(pair)
            self.refused.setdefault(x, set()).add(y)
            self.refused.setdefault(y, set()).add(x)

    def find(self, item: str) -> str:
        parent = self.parent
        root = item
        while parent.get(root, root) != root:
            root = parent[root]
        while item != root:
            item, parent[item] = parent.get(item, item), root
        return root

    def held(self, root: str) -> set[str]:
        found = self.ids.get(root)
        if found is None:
            value = self.national_id(root)
            found = {value} if value else set()
            self.ids[root] = found
        return found

    def id_typo(self, a: str, b: str) -> bool:
        """Whether clusters a and b each hold one national id, and the two differ by one typo."""
        left, right = self.held(a), self.held(b)
        if len(left) != 1 or len(right) != 1:
            return False
        return is_id_typo(next(iter(left)), next(iter(right)))

    def id_finding(self, a: str, b: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> list[ScoredPair] | None:
        """Where a pair between clusters a and b in conflict is a data-quality finding (`out.id_typos` or
        `out.id_differs`), or None when they stay apart: a reviewer rejected them, or the pair does not hold an id
        of each side itself (its score has not weighed them; clusters of one id each one typo apart excepted)."""
        held_a, held_b = self.held(a), self.held(b)
        if self.is_refused(a, b) or not held_a or not held_b or held_a == held_b:
            return None
        if len(held_a) == 1 and len(held_b) == 1 and self.id_typo(a, b):
            return self.out.id_typos
        own_a, own_b = left.get("national_id"), right.get("national_id")
        if own_a not in held_a or own_b not in held_b or own_a == own_b:
            return None
        return self.out.id_typos if is_id_typo(own_a, own_b) else self.out.id_differs

    def related(self, a: str, b: str, left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
        """Whether an id of cluster a, other than the pair's own, could have been issued in sequence with one of
        cluster b (or the other way): a relative's id, which the pair's score never weighed."""
        own = (left.get("national_id"), right.get("national_id"))
        return any((x, y) != own and is_in_sequence(x, y) for x in self.held(a) for y in self.held(b))

    def conflict(self, a: str, b: str) -> bool:
        """Whether clusters a and b hold different national ids, or a pair a reviewer rejected."""
        left, right = self.held(a), self.held(b)
        if left and right and not (left <= right or right <= left):
            return True
        return self.is_refused(a, b)

    def is_refused(self, a: str, b: str) -> bool:
        """Whether clusters a and b hold a pair a reviewer rejected."""
        return any(self.find(x) == b for x in self.refused.get(a, ())) or any(
            self.find(x) == a for x in self.refused.get(b, ())
        )

    def union(self, a: str, b: str) -> None:
        merged = self.held(a) | self.held(b)
        self.parent[a] = b
        self.parent.setdefault(b, b)
        self.ids[b] = merged
        self.ids.pop(a, None)
        partners = self.refused.pop(a, None)
        if partners:
            self.refused.setdefault(b, set()).update(partners)


def decide(
    pairs: Iterable[ScoredPair],
    records: Mapping[str, Mapping[str, Any]],
    *,
    merge_threshold: float,
    review_threshold: float,
    rejected: Iterable[tuple[str, str]] = (),
    id_weight: Callable[[Mapping[str, Any], Mapping[str, Any]], float] | None = None,
    personal_weight: Callable[[Mapping[str, Any], Mapping[str, Any]], float] | None = None,
) -> Decisions:
    """Outcomes for pairs scoring at least `review_threshold`; lower pairs were never asked for. `id_weight`
    gives the national id comparison's part in a pair's match weight (the model's), to judge a pair whose ids
    may have been issued in sequence on the rest of its evidence; `personal_weight` the prior and the names' and
    birth date's parts (`PERSONAL_EVIDENCE`), to judge such a pair whose first name or birth date is missing on
    what no household shares."""
    out = Decisions()
    refused = {frozenset(pair) for pair in rejected}
    clusters = _Clusters(lambda uid: records[uid].get("national_id"), refused, out)
    candidates: list[ScoredPair] = []
    maybe: list[ScoredPair] = []
    for pair in sorted(pairs, key=lambda p: (-p.probability, p.left, p.right)):
        if pair.probability < review_threshold:
            continue
        if frozenset((pair.left, pair.right)) in refused:
            out.apart += 1
            continue
        if pair.probability >= merge_threshold:
            if differs_plainly(records[pair.left], records[pair.right]) is None:
                candidates.append(pair)
                continue
            out.guarded += 1
        maybe.append(pair)
    for pair in candidates:
        a, b = clusters.find(pair.left), clusters.find(pair.right)
        if a == b:
            continue
        if clusters.conflict(a, b):
            finding = clusters.id_finding(a, b, records[pair.left], records[pair.right])
            if finding is None:
                out.apart += 1
                continue
            left, right = records[pair.left], records[pair.right]
            if clusters.related(a, b, left, right) or not _conflict_may_merge(
                pair, left, right, merge_threshold, id_weight, personal_weight
            ):
                maybe.append(pair)
                continue
            finding.append(pair)
        clusters.union(a, b)
        out.merges.append(pair)
    asked: set[frozenset[str]] = set()
    for pair in sorted(maybe, key=lambda p: (-p.probability, p.left, p.right)):
        a, b = clusters.find(pair.left), clusters.find(pair.right)
        key = frozenset((a, b))
        if a == b or key in asked:
            continue
        finding = None
        if clusters.conflict(a, b):
            finding = clusters.id_finding(a, b, records[pair.left], records[pair.right])
            if finding is None:
                out.apart += 1
                continue
        asked.add(key)
        out.reviews.append(pair)
        if finding is not None:
            finding.append(pair)
    out.clusters = {uid: clusters.find(uid) for uid in clusters.parent}
    return out
