"""Identity resolution for one event: which profile it belongs to, and which merges the evidence allows.

Pure: it reads a `GraphView` and returns a `Resolution`; the caller applies it. The rules:

- Identifiers are considered strongest first (lowest priority number).
- A non-shareable identifier (user_id, email, phone, crm_id, …) points at one person. The first one already
  known picks the profile; another one known on a different profile is evidence to merge the two, unless a
  guard forbids it: the union would exceed a per-type limit (two user_ids), the pair was unmerged before
  (blocked), or a merge or identifier cap is reached. A refused merge is a recorded conflict and the event stays
  with the stronger profile.
- A shareable identifier (anonymous_id, device_id) may be held by several people. It merges only profiles that
  are still anonymous (hold no non-shareable identifier); seen with a different known person, it is a shared
  device — a switch of person, linked to both, never merge evidence. An event that carries only shareable ids
  goes to the person who used the device most recently. A phone (a rule that may not join a known person) never
  takes an event with new strong identifiers of its own to the known person holding it: the event is a new person
  who shares the number, as a household shares a landline.
- An accepted match may declare that two values of a one-per-person type (two national ids one typo apart) are
  one person's id, one of them mistyped in a source (`tolerated`): for that event they count as one value, the
  merge proceeds, and the absorbed value is recorded as a conflict with reason `id_typo` (a data-quality finding).
  A profile that holds such a pair afterwards keeps it: its own count is its limit, so later events still place on
  it, but a third value is refused as before.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from seamline.identity.identifiers import Identifier
from seamline.identity.rules import IdentifierRule


@dataclass(slots=True)
class ProfileShape:
    """What resolution needs to know of a profile: its identifiers by type, and how many merges it absorbed."""

    id: int
    identifiers: dict[str, set[str]] = field(default_factory=dict)
    merges: int = 0

    @property
    def size(self) -> int:
        return sum(len(values) for values in self.identifiers.values())


class GraphView(Protocol):
    """Read access to the identity graph as resolution sees it."""

    def holders(self, identifier: Identifier) -> Sequence[int]:
        """Active profiles holding the identifier, most recently seen first."""
        ...

    def shape(self, profile_id: int) -> ProfileShape: ...

    def is_blocked(self, a: int, b: int) -> bool:
        """Whether an unmerge forbade these two profiles to merge again."""
        ...


# The reason recorded beside a merge that joined two values of a one-per-person type declared one typo apart.
ID_TYPO = "id_typo"


@dataclass(frozen=True, slots=True)
class Conflict:
    identifier: Identifier
    other_profile: int | None
    reason: str


@dataclass(slots=True)
class Resolution:
    """Where one event goes: an existing profile (or None for a new one), what merges into it, what it links."""

    profile_id: int | None = None
    merges: list[tuple[int, Identifier, str]] = field(default_factory=list)
    attach: list[Identifier] = field(default_factory=list)
    touch: list[Identifier] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    shared_devices: list[Identifier] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Limits:
    max_identifiers_per_profile: int
    max_merges_per_profile: int


class _Union:
    """The identifiers the event's profile would hold: the target, what merges into it, what the event adds."""

    def __init__(
        self, rules: Mapping[str, IdentifierRule], limits: Limits, tolerated: Mapping[str, frozenset[str]]
    ) -> None:
        self.rules = rules
        self.limits = limits
        self.tolerated = tolerated
        self.values: dict[str, set[str]] = {}
        # Per type, the most values one member profile already holds (a pair tolerated by an earlier match).
        self.held_by_one: dict[str, int] = {}
        self.total = 0
        self.merges = 0
        self.tolerance_used: set[str] = set()

    def _over_limit(self, t: str, held: Collection[str], fresh: Collection[str], own: int = 0) -> bool:
        """Whether holding `held` and `fresh` values of type t breaks its per-profile limit; a tolerated pair
        counts as one value (and is noted as used)."""
        rule = self.rules.get(t)
        limit = rule.max_per_profile if rule is not None else None
        if limit is None:
            return False
        allowed = max(limit, own, self.held_by_one.get(t, 0))
        if len(held) + len(fresh) <= allowed:
            return False
        tolerated = self.tolerated.get(t)
        if not tolerated:
            return True
        after = {*held, *fresh}
        if len(after - tolerated) + (1 if after & tolerated else 0) > allowed:
            return True
        self.tolerance_used.add(t)
        return False

    def _new_values(self, adding: Mapping[str, Collection[str]]) -> dict[str, set[str]]:
        """Per type, the values not held yet (checked without copying what is held: this runs per identifier)."""
        out: dict[str, set[str]] = {}
        for t, values in adding.items():
            held = self.values.get(t)
            fresh = set(values) if held is None else set(values).difference(held)
            if fresh:
                out[t] = fresh
        return out

    def join(self, adding: Mapping[str, Collection[str]], extra_merges: int = 0) -> str | None:
        """Take one profile's identifiers (and merges) in unless a guard forbids it; the guard it would break, or
        None."""
        fresh = self._new_values(adding)
        added = 0
        for t, values in fresh.items():
            if self._over_limit(t, self.values.get(t, ()), values, own=len(adding[t])):
                return f"limit:{t}"
            added += len(values)
        if self.total + added > self.limits.max_identifiers_per_profile:
            return "limit:identifiers_per_profile"
        if self.merges + extra_merges > self.limits.max_merges_per_profile:
            return "limit:merges_per_profile"
        for t, values in fresh.items():  # the fresh sets are new: the union may keep them
            held = self.values.get(t)
            if held is None:
                self.values[t] = values
            else:
                held.update(values)
        self.total += added
        self.merges += extra_merges
        for t, own in adding.items():
            if len(own) > self.held_by_one.get(t, 0):
                self.held_by_one[t] = len(own)
        return None

    def join_one(self, ident: Identifier) -> str | None:
        """`join` of a single identifier (the event's own new ones), without building the mapping."""
        held = self.values.get(ident.type)
        added = 0 if held is not None and ident.value in held else 1
        if added and self._over_limit(ident.type, held or (), (ident.value,)):
            return f"limit:{ident.type}"
        if self.total + added > self.limits.max_identifiers_per_profile:
            return "limit:identifiers_per_profile"
        if self.merges > self.limits.max_merges_per_profile:
            return "limit:merges_per_profile"
        if added:
            if held is None:
                self.values[ident.type] = {ident.value}
            else:
                held.add(ident.value)
            self.total += 1
        return None


def _is_anonymous(shape: ProfileShape, rules: Mapping[str, IdentifierRule]) -> bool:
    return all(_rule_is_shareable(rules, t) for t, values in shape.identifiers.items() if values)


def _rule_is_shareable(rules: Mapping[str, IdentifierRule], identifier_type: str) -> bool:
    rule = rules.get(identifier_type)
    return rule is not None and rule.is_shareable


def resolve(
    identifiers: Sequence[Identifier],
    view: GraphView,
    rules: Mapping[str, IdentifierRule],
    limits: Limits,
    tolerated: Mapping[str, frozenset[str]] | None = None,
) -> Resolution:
    """Decide where an event with these identifiers (strongest first) belongs. `tolerated`: per type, values an
    accepted match declares are one person's (one mistyped), which count as one value for this event."""
    result = Resolution()
    union = _Union(rules, limits, tolerated or {})
    members: set[int] = set()  # the target and every profile merging into it

    def blocked_with_members(other: int) -> bool:
        return any(view.is_blocked(other, m) for m in members)

    def attach(ident: Identifier, *, shared: bool = False) -> None:
        """Link a new identifier to the event's profile, unless a per-profile limit forbids it."""
        reason = union.join_one(ident)
        if reason is not None:
            result.conflicts.append(Conflict(ident, result.profile_id, reason))
            return
        result.attach.append(ident)
        if shared:
            result.shared_devices.append(ident)

    def adopt(profile_id: int, ident: Identifier) -> str | None:
        """Make a known profile the event's profile; the reason it cannot be, or None."""
        shape = view.shape(profile_id)
        reason = union.join(shape.identifiers, shape.merges)
        if reason is None:
            result.profile_id = profile_id
            members.add(profile_id)
            result.touch.append(ident)
        return reason

    def merge_in(profile_id: int, ident: Identifier, rule: str) -> str | None:
        """Merge another profile into the event's profile; the reason it may not, or None."""
        shape = view.shape(profile_id)
        used = set(union.tolerance_used)
        reason = union.join(shape.identifiers, shape.merges + 1)
        if reason is None:
            members.add(profile_id)
            result.merges.append((profile_id, ident, rule))
            result.touch.append(ident)
            for t in union.tolerance_used - used:
                # The absorbed profile's value of the pair: kept, and recorded as a data-quality finding.
                for value in sorted(shape.identifiers.get(t, set()) & (tolerated or {}).get(t, frozenset())):
                    result.conflicts.append(Conflict(Identifier(t, value), profile_id, ID_TYPO))
        return reason

    strong = [i for i in identifiers if not _rule_is_shareable(rules, i.type)]
    shareable = [i for i in identifiers if _rule_is_shareable(rules, i.type)]

    for ident in strong:
        holders = view.holders(ident)
        owner = holders[0] if holders else None
        if owner is None:
            attach(ident)
        elif owner in members:
            result.touch.append(ident)
        elif result.profile_id is None:
            reason = adopt(owner, ident)
            if reason is not None:
                # A stronger identifier of this event is new and cannot live with this owner's identifiers:
                # the event is another person's, and this identifier stays where it is.
                result.conflicts.append(Conflict(ident, owner, reason))
        else:
            reason = "blocked:unmerged_before" if blocked_with_members(owner) else None
            reason = reason or merge_in(owner, ident, "shared_identifier")
            if reason is not None:
                result.conflicts.append(Conflict(ident, owner, reason))

    for ident in shareable:
        holders = view.holders(ident)
        if not holders:
            attach(ident)
        elif any(h in members for h in holders):
            result.touch.append(ident)
        elif result.profile_id is None:
            if (
                strong
                and not rules[ident.type].may_join_known_person
                and not _is_anonymous(view.shape(holders[0]), rules)
            ):
                attach(ident, shared=True)  # the event's own new identifiers say who it is: a new person
            elif adopt(holders[0], ident) is not None:
                attach(ident, shared=True)
        elif blocked_with_members(holders[0]):
            # The evidence that once joined these two was judged wrong: it links neither of them again.
            result.conflicts.append(Conflict(ident, holders[0], "blocked:unmerged_before"))
        elif _is_anonymous(view.shape(holders[0]), rules):
            reason = merge_in(holders[0], ident, "anonymous_stitch")
            if reason is not None:
                result.conflicts.append(Conflict(ident, holders[0], reason))
        else:
            attach(ident, shared=True)
    return result
