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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

    def __init__(self, rules: Mapping[str, IdentifierRule], limits: Limits) -> None:
        self.rules = rules
        self.limits = limits
        self.values: dict[str, set[str]] = {}
        self.total = 0
        self.merges = 0

    def _new_values(self, adding: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
        """Per type, the values not held yet (checked without copying what is held: this runs per identifier)."""
        out: dict[str, set[str]] = {}
        for t, values in adding.items():
            held = self.values.get(t)
            fresh = set(values) if held is None else set(values).difference(held)
            if fresh:
                out[t] = fresh
        return out

    def join(self, adding: Mapping[str, Iterable[str]], extra_merges: int = 0) -> str | None:
        """Take these identifiers (and merges) in unless a guard forbids it; the guard it would break, or None."""
        fresh = self._new_values(adding)
        added = 0
        for t, values in fresh.items():
            limit = self.rules[t].max_per_profile if t in self.rules else None
            if limit is not None and len(self.values.get(t, ())) + len(values) > limit:
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
        return None

    def join_one(self, ident: Identifier) -> str | None:
        """`join` of a single identifier (the event's own new ones), without building the mapping."""
        held = self.values.get(ident.type)
        added = 0 if held is not None and ident.value in held else 1
        if added:
            rule = self.rules.get(ident.type)
            limit = rule.max_per_profile if rule is not None else None
            if limit is not None and (len(held) if held is not None else 0) + 1 > limit:
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
) -> Resolution:
    """Decide where an event with these identifiers (strongest first) belongs."""
    result = Resolution()
    union = _Union(rules, limits)
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
        reason = union.join(shape.identifiers, shape.merges + 1)
        if reason is None:
            members.add(profile_id)
            result.merges.append((profile_id, ident, rule))
            result.touch.append(ident)
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
