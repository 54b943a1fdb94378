"""What the event of an accepted match declares to the identity graph: that it is a match, and which values of a
one-per-person identifier type it says belong to one person (two national ids one typo apart). Pure."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import jellyfish


def is_match(payload: Mapping[str, Any]) -> bool:
    """Whether an event is an accepted match (it carries `context.match`)."""
    context = payload.get("context")
    if type(context) is not dict and not isinstance(context, Mapping):
        return False
    match = context.get("match")
    return match is not None and isinstance(match, Mapping)


def typo_linked(values: Collection[str]) -> bool:
    """Whether every one of these values is one typo (one character changed, added or dropped, or two adjacent ones
    swapped) from another of them: one id mistyped by each source that holds a wrong one."""
    distinct = set(values)
    return len(distinct) >= 2 and all(
        any(jellyfish.damerau_levenshtein_distance(v, w) <= 1 for w in distinct if w != v) for v in distinct
    )


def tolerated_values(payload: Mapping[str, Any], rules: Mapping[str, Any]) -> dict[str, frozenset[str]] | None:
    """The values of a one-per-person type an accepted match declares are one person's: `context.match.id_typo`
    `{"type": "national_id", "values": [a, b, …]}` (every value the two profiles hold), honoured for values each
    one typo from another (`typo_linked`) of a type that allows one value per profile, and for any two or more
    values when it says `"differs": true` (the matcher weighed the ids' difference as evidence, or a reviewer
    accepted it)."""
    if not is_match(payload):
        return None
    declared = payload["context"]["match"].get("id_typo")
    if not isinstance(declared, Mapping):
        return None
    type_, values = declared.get("type"), declared.get("values")
    if not isinstance(type_, str):
        return None
    rule = rules.get(type_)
    if rule is None or rule.max_per_profile != 1 or not isinstance(values, list):
        return None
    if not all(isinstance(v, str) for v in values) or len(set(values)) < 2 or len(set(values)) != len(values):
        return None
    if declared.get("differs") is not True and not typo_linked(values):
        return None
    return {type_: frozenset(values)}
