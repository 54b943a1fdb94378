"""The eligibility language: structured conditions written in YAML, compiled into small objects that test a
person's facts. Nothing is evaluated as code; an unknown key or a value of the wrong kind is refused on load.

```yaml
eligibility:
  all:
    - trait: age
      gte: 18
    - not: {holds: mortgage}
    - any: [{trait: segment, in: [mass, affluent]}, {open_cases: {lt: 1}}]
    - bought: {product: credit_card, within_days: 30}
    - consent: {purpose: marketing, channel: email}
    - journey: {name: open-checking-account, open: true, step: income}
```
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda a, b: a in b,
    "not_in": lambda a, b: a not in b,
    "contains": lambda a, b: b in a if isinstance(a, str | list | tuple) else False,
}
_WORDS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "in", "not_in": "not in"}
KEYS = ("all", "any", "not", "trait", "holds", "bought", "open_cases", "consent", "journey")


class ConditionError(ValueError):
    """A condition that cannot be read: `path` names the field (`eligibility.all[1].gte`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# Not frozen: a batch of decisions builds one a person, and a frozen dataclass's __init__ costs ~3x a plain one's.
@dataclass(slots=True)
class Facts:
    """What the conditions may look at, gathered once per decision."""

    traits: Mapping[str, Any]
    holdings: frozenset[str]  # names of the products the person holds (open holdings, every silo)
    purchases: Sequence[tuple[str, datetime]]  # (product name, when)
    open_cases: int
    consents: Mapping[tuple[str, str], bool]  # (purpose, channel) → may contact
    now: datetime
    channel: str = "email"
    products: Mapping[str, frozenset[str]] = field(default_factory=dict)  # a product → every name it goes by
    journeys: Mapping[str, str | None] = field(default_factory=dict)  # open (or stalled) journey → its current step
    # Answers of simple conditions already asked in this decision: many actions share them (`age ≥ 18`).
    memo: dict[str, str | None] = field(default_factory=dict)

    def names(self, product: str) -> frozenset[str]:
        found = self.products.get(product)
        return found if found is not None else frozenset((product,))


class Condition:
    """A compiled condition: `failure(facts)` is None when it holds, else why not (in words)."""

    text: str = ""

    def failure(self, facts: Facts) -> str | None:
        raise NotImplementedError

    def consents(self) -> set[tuple[str, str | None]]:
        """The (purpose, channel) pairs it asks about (channel None: the context's)."""
        return set()

    def leaves(self) -> list[Condition]:
        """The simple conditions it is made of."""
        return [self]

    def shape(self) -> tuple[str, tuple[Condition, ...]]:
        """How it combines its parts (`all`, `any`, `not`), or `leaf`: what the vectorised pass compiles."""
        return "leaf", ()

    def is_met(self, facts: Facts) -> bool:
        """Whether a simple condition holds, without the words of `failure` (the hot path asks this)."""
        return self.failure(facts) is None


class _All(Condition):
    def __init__(self, parts: Sequence[Condition]) -> None:
        self.parts = tuple(parts)
        self.text = " and ".join(p.text for p in parts)
        self._memo_key = self._key  # asked for every action not chosen: built once

    @property
    def _key(self) -> str:
        return type(self).__name__ + self.text

    def failure(self, facts: Facts) -> str | None:
        # Actions share whole conditions (`adult and not a holder`): each is put in words once per decision.
        key = self._memo_key
        memo = facts.memo
        if key in memo:
            return memo[key]
        memo[key] = answer = self._failure(facts)
        return answer

    def _failure(self, facts: Facts) -> str | None:
        for part in self.parts:
            reason = part.failure(facts)
            if reason is not None:
                return reason
        return None

    def consents(self) -> set[tuple[str, str | None]]:
        return set().union(*(p.consents() for p in self.parts)) if self.parts else set()

    def leaves(self) -> list[Condition]:
        return [leaf for p in self.parts for leaf in p.leaves()]

    def shape(self) -> tuple[str, tuple[Condition, ...]]:
        return "all", self.parts


class _Any(_All):
    def __init__(self, parts: Sequence[Condition]) -> None:
        super().__init__(parts)
        self.text = "(" + " or ".join(p.text for p in parts) + ")"
        self._memo_key = self._key

    def _failure(self, facts: Facts) -> str | None:
        reasons = []
        for part in self.parts:
            reason = part.failure(facts)
            if reason is None:
                return None
            reasons.append(reason)
        return "none of: " + "; ".join(reasons)

    def shape(self) -> tuple[str, tuple[Condition, ...]]:
        return "any", self.parts


class _Not(Condition):
    def __init__(self, part: Condition) -> None:
        self.part = part
        self.text = f"not ({part.text})"

    def failure(self, facts: Facts) -> str | None:
        return f"{self.part.text} is true" if self.part.failure(facts) is None else None

    def consents(self) -> set[tuple[str, str | None]]:
        return self.part.consents()

    def leaves(self) -> list[Condition]:
        return self.part.leaves()

    def shape(self) -> tuple[str, tuple[Condition, ...]]:
        return "not", (self.part,)


def traits_read(condition: Condition) -> set[str]:
    """The traits a condition reads."""
    return {leaf.name for leaf in condition.leaves() if isinstance(leaf, _Trait)}


def reads_cases(condition: Condition) -> bool:
    """Whether a condition counts open cases."""
    return any(isinstance(leaf, _OpenCases) for leaf in condition.leaves())


class _Trait(Condition):
    def __init__(self, name: str, op: str, value: Any) -> None:
        self.name, self.op, self.value = name, op, value
        if op == "exists":
            self.text = f"{name} is {'known' if value else 'unknown'}"
        else:
            self.text = f"{name} {_WORDS.get(op, op)} {value!r}"

    def failure(self, facts: Facts) -> str | None:
        memo = facts.memo
        if self.text in memo:
            return memo[self.text]
        memo[self.text] = answer = self._failure(facts)
        return answer

    def is_met(self, facts: Facts) -> bool:
        actual = facts.traits.get(self.name)
        if self.op == "exists":
            return (actual is not None) == bool(self.value)
        if actual is None:
            return False
        try:
            return bool(_COMPARE[self.op](actual, self.value))
        except TypeError:
            return False

    def _failure(self, facts: Facts) -> str | None:
        actual = facts.traits.get(self.name)
        if self.op == "exists":
            ok = (actual is not None) == bool(self.value)
        elif actual is None:
            ok = False
        else:
            try:
                ok = _COMPARE[self.op](actual, self.value)
            except TypeError:  # a trait of another kind than the rule expects never matches
                ok = False
        return None if ok else f"needs {self.text} (is {actual!r})"


class _Holds(Condition):
    def __init__(self, product: str) -> None:
        self.product = product
        self.text = f"holds {product}"

    def failure(self, facts: Facts) -> str | None:
        return None if self.is_met(facts) else f"does not hold {self.product}"

    def is_met(self, facts: Facts) -> bool:
        return not facts.names(self.product).isdisjoint(facts.holdings)


class _Bought(Condition):
    def __init__(self, product: str, within_days: float) -> None:
        self.product, self.days = product, within_days
        self.text = f"bought {product} in the last {within_days:g} days"

    def failure(self, facts: Facts) -> str | None:
        since, names = facts.now - timedelta(days=self.days), facts.names(self.product)
        bought = any(p in names and at >= since for p, at in facts.purchases)
        return None if bought else f"did not buy {self.product} in the last {self.days:g} days"


class _OpenCases(Condition):
    def __init__(self, op: str, value: int) -> None:
        self.op, self.value = op, value
        self.text = f"open cases {_WORDS[op]} {value}"

    def failure(self, facts: Facts) -> str | None:
        ok = _COMPARE[self.op](facts.open_cases, self.value)
        return None if ok else f"needs {self.text} (has {facts.open_cases})"


class _Consent(Condition):
    def __init__(self, purpose: str, channel: str | None) -> None:
        self.purpose, self.channel = purpose, channel
        self.text = f"consents to {purpose} by {channel or 'the channel asked'}"

    def failure(self, facts: Facts) -> str | None:
        channel = self.channel or facts.channel
        return (
            None if facts.consents.get((self.purpose, channel), False) else f"no consent to {self.purpose} by {channel}"
        )

    def consents(self) -> set[tuple[str, str | None]]:
        return {(self.purpose, self.channel)}


class _Journey(Condition):
    """A journey the person has open (in progress or stalled), optionally at a step; or has not open."""

    def __init__(self, name: str, is_open: bool, step: str | None) -> None:
        self.name, self.is_open, self.step = name, is_open, step
        at = f" at step {step}" if step else ""
        self.text = f"journey {name} open{at}" if is_open else f"journey {name} not open"

    def is_met(self, facts: Facts) -> bool:
        if self.name not in facts.journeys:
            return not self.is_open
        return self.is_open and (self.step is None or facts.journeys[self.name] == self.step)

    def failure(self, facts: Facts) -> str | None:
        if self.is_met(facts):
            return None
        if self.name not in facts.journeys:
            return f"needs {self.text} (it is not open)"
        return f"needs {self.text} (it is open at step {facts.journeys[self.name] or '(none)'})"


def reads_journeys(condition: Condition) -> bool:
    """Whether a condition asks about open journeys."""
    return any(isinstance(leaf, _Journey) for leaf in condition.leaves())


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConditionError(path, "expected a non-empty text")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConditionError(path, "expected a number")
    return float(value)


def _only(raw: Mapping[str, Any], allowed: Sequence[str], path: str) -> None:
    for key in raw:
        if key not in allowed:
            raise ConditionError(f"{path}.{key}", f"unknown key; expected one of: {', '.join(allowed)}")


def _one_op(raw: Mapping[str, Any], path: str, ops: Sequence[str]) -> tuple[str, Any]:
    found = [k for k in raw if k in ops]
    if len(found) != 1:
        raise ConditionError(path, f"give exactly one comparison of: {', '.join(ops)}")
    return found[0], raw[found[0]]


def compile_condition(raw: Any, path: str = "eligibility") -> Condition:
    """Read a condition; ConditionError names the field at fault."""
    if not isinstance(raw, Mapping):
        raise ConditionError(path, f"a condition is a mapping with one of: {', '.join(KEYS)}")
    keys = [k for k in raw if k in KEYS]
    if len(keys) != 1:
        raise ConditionError(path, f"a condition has exactly one of: {', '.join(KEYS)}")
    key = keys[0]
    value = raw[key]
    here = f"{path}.{key}"
    if key in ("all", "any"):
        _only(raw, [key], path)
        if not isinstance(value, list) or not value:
            raise ConditionError(here, "expected a non-empty list of conditions")
        parts = [compile_condition(item, f"{here}[{i}]") for i, item in enumerate(value)]
        return _All(parts) if key == "all" else _Any(parts)
    if key == "not":
        _only(raw, [key], path)
        return _Not(compile_condition(value, here))
    if key == "trait":
        ops = [*_COMPARE, "exists"]
        _only(raw, ["trait", *ops], path)
        op, operand = _one_op(raw, path, ops)
        if op in ("in", "not_in") and not isinstance(operand, list):
            raise ConditionError(f"{path}.{op}", "expected a list")
        if op in ("gt", "gte", "lt", "lte"):
            operand = _number(operand, f"{path}.{op}")
        if op == "exists" and not isinstance(operand, bool):
            raise ConditionError(f"{path}.{op}", "expected true or false")
        return _Trait(_text(value, here), op, tuple(operand) if isinstance(operand, list) else operand)
    if key == "holds":
        _only(raw, [key], path)
        return _Holds(_text(value, here))
    if key == "bought":
        _only(raw, [key], path)
        if not isinstance(value, Mapping):
            raise ConditionError(here, "expected {product: NAME, within_days: N}")
        _only(value, ["product", "within_days"], here)
        days = _number(value.get("within_days"), f"{here}.within_days")
        return _Bought(_text(value.get("product"), f"{here}.product"), days)
    if key == "open_cases":
        _only(raw, [key], path)
        if not isinstance(value, Mapping):
            raise ConditionError(here, "expected a comparison such as {lt: 1}")
        ops = ["eq", "ne", "gt", "gte", "lt", "lte"]
        _only(value, ops, here)
        op, operand = _one_op(value, here, ops)
        return _OpenCases(op, int(_number(operand, f"{here}.{op}")))
    if key == "journey":
        _only(raw, [key], path)
        if not isinstance(value, Mapping):
            raise ConditionError(here, "expected {name: JOURNEY, open: true, step: STEP}")
        _only(value, ["name", "open", "step"], here)
        is_open = value.get("open", True)
        if not isinstance(is_open, bool):
            raise ConditionError(f"{here}.open", "expected true or false")
        step = value.get("step")
        if step is not None and not is_open:
            raise ConditionError(f"{here}.step", "a step is only asked of an open journey (open: true)")
        return _Journey(
            _text(value.get("name"), f"{here}.name"), is_open, None if step is None else _text(step, f"{here}.step")
        )
    _only(raw, [key], path)
    if not isinstance(value, Mapping):
        raise ConditionError(here, "expected {purpose: NAME, channel: NAME}")
    _only(value, ["purpose", "channel"], here)
    channel = value.get("channel")
    return _Consent(_text(value.get("purpose"), f"{here}.purpose"), None if channel is None else _text(channel, here))


ALWAYS: Condition = _All([])
