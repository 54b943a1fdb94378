"""From scored pairs to outcomes: merge automatically, send to review, or keep apart; and the clusters merges
make. Pure: pairs and records in, decisions out.

The rules, in order:
- A pair a reviewer rejected stays apart, and so do two clusters holding different national ids (the identity
  graph refuses such a merge anyway: one person has one national id).
- Household guard: a household shares an address, a landline and usually a last name, which Fellegi-Sunter
  counts as independent evidence. So a pair whose first names or birth dates plainly differ never merges
  automatically, whatever its score (at most it goes to review), unless it agrees on something no household
  shares: a national id or an email address.
- Merges are taken strongest first (Kruskal), so every merge in a cluster is explained by a real pair's score and
  a cluster is never joined through a weaker pair when a stronger one already connects it.
- A review is asked once per pair of clusters: the strongest pair between them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from seamline.matching.comparisons import COMPARISONS, level_of, predicate

# Comparisons whose plain disagreement bars an automatic merge (see the household guard above).
PERSONAL_FIELDS: Final = ("first_name", "date_of_birth")
# Values no household shares: their agreement lifts the guard.
PERSONAL_IDS: Final = ("national_id", "email")
_GUARDED = {c.field: (c, [predicate(level) for level in c.levels]) for c in COMPARISONS if c.field in PERSONAL_FIELDS}


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
    clusters: dict[str, str] = field(default_factory=dict)  # record -> its cluster's representative


def differs_plainly(left: Mapping[str, Any], right: Mapping[str, Any]) -> str | None:
    """The personal field on which two prepared records plainly differ (when nothing personal agrees), or None."""
    for unique in PERSONAL_IDS:
        value = left.get(unique)
        if value is not None and value == right.get(unique):
            return None
    for name, (comparison, tests) in _GUARDED.items():
        level = level_of(comparison, tests, left, right)
        # "same year" is as good as differing for a birth date: partners are often born in one year.
        if level is not None and level >= len(comparison.levels) - (1 if name == "date_of_birth" else 0):
            return name
    return None


class _Clusters:
    """Union-find over records, each cluster carrying the national ids it holds."""

    def __init__(self, national_id: Callable[[str], str | None], refused: Iterable[frozenset[str]]) -> None:
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

    def conflict(self, a: str, b: str) -> bool:
        """Whether clusters a and b hold different national ids, or a pair a reviewer rejected."""
        left, right = self.held(a), self.held(b)
        if left and right and left != right:
            return True
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
) -> Decisions:
    """Outcomes for pairs scoring at least `review_threshold`; lower pairs were never asked for."""
    out = Decisions()
    refused = {frozenset(pair) for pair in rejected}
    clusters = _Clusters(lambda uid: records[uid].get("national_id"), refused)
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
            out.apart += 1
            continue
        clusters.union(a, b)
        out.merges.append(pair)
    asked: set[frozenset[str]] = set()
    for pair in maybe:
        a, b = clusters.find(pair.left), clusters.find(pair.right)
        key = frozenset((a, b))
        if a == b or key in asked:
            continue
        if clusters.conflict(a, b):
            out.apart += 1
            continue
        asked.add(key)
        out.reviews.append(pair)
    out.clusters = {uid: clusters.find(uid) for uid in clusters.parent}
    return out
