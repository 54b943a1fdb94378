"""Which rules an event concerns, whether they hold, and when their steps are due. Pure: values in, values out.

Rules are indexed by what starts them (an event name, a trait name, a holding type), so an event costs one dict
lookup however many rules are loaded; conditions are only evaluated for the few rules the lookup returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from seamline.triggers.rules import Condition, Exit, JourneyCondition, Rule, Window

_REF_START = "{"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """Something that may start a rule: a tracked event, a trait an identify call set, a holding it reported."""

    kind: str  # event | trait | holding | case
    subject: str  # event name, trait name, holding type
    properties: Mapping[str, Any]


class RuleIndex:
    """The loaded rules, looked up by what starts them and by the events that end them."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._starts: dict[tuple[str, str], list[Rule]] = {}
        self._exits: dict[str, list[tuple[Rule, Exit]]] = {}
        for rule in rules:
            self._starts.setdefault((rule.kind, rule.subject), []).append(rule)
            for exit_ in rule.exits:
                self._exits.setdefault(exit_.event, []).append((rule, exit_))
        self.events = frozenset(s for k, s in self._starts if k == "event") | frozenset(self._exits)
        self.has_traits = any(r.kind == "trait" for r in rules)
        self.has_holdings = any(r.kind == "holding" for r in rules)
        self.has_cases = any(r.kind == "case" for r in rules)
        self.schedules = tuple(r for r in rules if r.kind == "schedule")

    def __len__(self) -> int:
        return len(self.rules)

    def starting(self, occurrence: Occurrence) -> list[Rule]:
        found = self._starts.get((occurrence.kind, occurrence.subject), [])
        if occurrence.kind == "holding":
            found = found + self._starts.get(("holding", "*"), [])
        return found

    def ending(self, event_name: str) -> list[tuple[Rule, Exit]]:
        return self._exits.get(event_name, [])


def lookup(properties: Mapping[str, Any], traits: Mapping[str, Any]) -> Callable[[str], Any]:
    """A reader of references: `traits.NAME` from the golden record, anything else from the properties."""

    def read(path: str) -> Any:
        if path.startswith("traits."):
            return traits.get(path[7:])
        return properties.get(path)

    return read


def holds(condition: Condition, read: Callable[[str], Any]) -> bool:
    """Whether one condition holds of the values `read` gives."""
    value = read(condition.path)
    op, operand = condition.op, condition.value
    if op == "exists":
        return (value is not None) == bool(operand)
    if op == "eq":
        return bool(value == operand)
    if op == "ne":
        return bool(value != operand)
    if op == "in":
        return value in operand
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False  # an ordering of a missing or non-numeric value never holds
    if op == "gt":
        return bool(value > operand)
    if op == "gte":
        return bool(value >= operand)
    if op == "lt":
        return bool(value < operand)
    return bool(value <= operand)


def journey_holds(condition: JourneyCondition, open_journeys: Mapping[str, str | None]) -> bool:
    """Whether a person's open journeys (name → current step) meet a rule's journey condition."""
    if condition.name not in open_journeys:
        return not condition.is_open
    return condition.is_open and (condition.step is None or open_journeys[condition.name] == condition.step)


def all_hold(conditions: Iterable[Condition], read: Callable[[str], Any]) -> bool:
    return all(holds(c, read) for c in conditions)


def render(value: Any, read: Callable[[str], Any]) -> Any:
    """A value with its {references} filled in: a string that is one reference keeps the value's type; a missing
    value is empty."""
    if isinstance(value, str):
        if _REF_START not in value:
            return value
        stripped = value.strip()
        if stripped.startswith("{") and stripped.endswith("}") and stripped.count("{") == 1:
            found = read(stripped[1:-1])
            return "" if found is None else found
        out, rest = [], value
        while _REF_START in rest:
            before, _, after = rest.partition("{")
            name, closing, tail = after.partition("}")
            if not closing:
                out.append(rest)
                rest = ""
                break
            found = read(name)
            out.extend([before, "" if found is None else str(found)])
            rest = tail
        return "".join(out) + rest
    if isinstance(value, Mapping):
        return {k: render(v, read) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, read) for v in value]
    return value


def occurrence_key(rule: Rule, read: Callable[[str], Any], at: datetime) -> str:
    """The key of one firing: the rendered `once` key, and the period of `once_every` (so at most once a period)."""
    key = str(render(rule.once, read)) if rule.once else ""
    if rule.once_every is not None:
        period = int(at.timestamp() // rule.once_every.total_seconds())
        key = f"{key}@{period}"
    return key[:200]


def in_window(moment: datetime, window: Window | None, default_zone: ZoneInfo) -> datetime:
    """`moment`, or the next opening of the window's local hours when it falls outside them."""
    if window is None:
        return moment
    zone = window.zone or default_zone
    local = moment.astimezone(zone)
    if window.opens <= local.time() < window.closes:
        return moment
    day = local.date() if local.time() < window.opens else local.date() + timedelta(days=1)
    return datetime.combine(day, window.opens, tzinfo=zone).astimezone(UTC)


def exit_matches(exit_: Exit, properties: Mapping[str, Any], fired_with: Mapping[str, Any]) -> bool:
    """Whether an exit event ends a waiting step that fired with `fired_with` (same value of `same`, if named)."""
    return exit_.same is None or properties.get(exit_.same) == fired_with.get(exit_.same)
