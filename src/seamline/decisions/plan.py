"""The catalog compiled for a vectorised arbitration pass, pure: every action's conditions become one array of
truth values evaluated level by level with numpy (each distinct simple condition asked once per decision), the
context's applicability a cached mask, and the contact policy a few verdicts per product, purpose and priority
class spread over the actions by index. Measured on 200 actions: the per-action loop cost ~1 ms a decision, most
of it Python calls per action and condition; here the Python work is per distinct condition, product, purpose and
class (tens), and the rest is a few dozen numpy calls."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from seamline.decisions.catalog import PRIORITIES, Action, Catalog
from seamline.decisions.conditions import Condition, Facts
from seamline.decisions.propensity import Tally

Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.intp]
_T = TypeVar("_T")
_CACHE_LIMIT = 512  # situations and lever settings remembered per catalog (user input names placements)


def _epoch(moment: datetime | None, default: float) -> float:
    if moment is None:
        return default
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


class _Tree:
    """Every action's eligibility as slots of one truth array: slot 0 is always true, then each distinct simple
    condition, then the combinations, evaluated in order of height (children before parents)."""

    def __init__(self, conditions: list[Condition]) -> None:
        self.leaves: list[Condition] = []
        leaf_slots: dict[tuple[str, str], int] = {}
        combos: list[tuple[int, str, list[int]]] = []  # (height, op, child slots), slot = 1 + leaves + position
        heights: dict[int, int] = {0: 0}
        pending: list[tuple[str, list[int], int]] = []

        def visit(condition: Condition) -> int:
            op, parts = condition.shape()
            if op == "leaf":
                key = (type(condition).__name__, condition.text)
                if key not in leaf_slots:
                    leaf_slots[key] = len(self.leaves) + 1
                    self.leaves.append(condition)
                    heights[leaf_slots[key]] = 0
                return leaf_slots[key]
            if not parts:  # `all` of nothing: always true
                return 0
            children = [visit(part) for part in parts]
            pending.append((op, children, 1 + max(heights[c] for c in children)))
            slot = -len(pending)  # numbered once every leaf is known
            heights[slot] = pending[-1][2]
            return slot

        roots = [visit(c) for c in conditions]
        base = len(self.leaves) + 1

        def real(slot: int) -> int:
            return slot if slot >= 0 else base + (-slot - 1)

        for op, children, height in pending:
            combos.append((height, op, [real(c) for c in children]))
        self.size = base + len(pending)
        self.roots: Ints = np.array([real(r) for r in roots], dtype=np.intp)
        self.steps: list[Callable[[Mask], None]] = []
        for height in sorted({h for h, _op, _c in combos}):
            for op in ("all", "any", "not"):
                group = [(base + i, children) for i, (h, o, children) in enumerate(combos) if h == height and o == op]
                if group:
                    self.steps.append(_step(op, group))

    def bits(self, facts: Facts) -> tuple[bool, ...]:
        """Whether each distinct simple condition holds: all the eligibility of every action depends on."""
        return tuple([leaf.is_met(facts) for leaf in self.leaves])

    def evaluate(self, bits: tuple[bool, ...]) -> Mask:
        """Each action's eligibility, given its simple conditions' truth."""
        values = np.empty(self.size, dtype=np.bool_)
        values[0] = True
        values[1 : len(self.leaves) + 1] = bits
        for step in self.steps:
            step(values)
        met: Mask = values[self.roots]
        return met


def _step(op: str, group: list[tuple[int, list[int]]]) -> Callable[[Mask], None]:
    targets = np.array([slot for slot, _children in group], dtype=np.intp)
    if op == "not":
        only = np.array([children[0] for _slot, children in group], dtype=np.intp)

        def negate(values: Mask) -> None:
            values[targets] = ~values[only]

        return negate
    flat = np.array([c for _slot, children in group for c in children], dtype=np.intp)
    starts = np.cumsum([0] + [len(children) for _slot, children in group[:-1]], dtype=np.intp)
    reduce = np.logical_and.reduceat if op == "all" else np.logical_or.reduceat

    def combine(values: Mask) -> None:
        values[targets] = reduce(values[flat], starts)

    return combine


@dataclass(frozen=True, slots=True)
class Model:
    """The propensity model's Beta parameters for every action of a catalog, in catalog order (one segment)."""

    alpha: Floats
    beta: Floats
    tallies: Mapping[str, Tally]

    @classmethod
    def of(cls, plan: Plan, tallies: Mapping[str, Tally]) -> Model:
        alpha, beta = plan.prior_alpha.copy(), plan.prior_beta.copy()
        for name, tally in tallies.items():
            index = plan.index.get(name)
            if index is not None:
                a, b = tally.posterior((float(plan.prior_alpha[index]), float(plan.prior_beta[index])))
                alpha[index], beta[index] = a, b
        return cls(alpha, beta, tallies)


class Plan:
    """A catalog's actions as arrays, built once per catalog (`plan_of`)."""

    def __init__(self, actions: tuple[Action, ...]) -> None:
        self.actions = actions
        self.index = {a.name: i for i, a in enumerate(actions)}
        self.tree = _Tree([a.eligibility for a in actions])
        self.priority: Ints = np.array([a.rank_of_priority for a in actions], dtype=np.intp)
        self.name_rank: Ints = np.argsort(np.argsort(np.array([a.name for a in actions], dtype=object)))
        self.value: Floats = np.array([a.value for a in actions], dtype=np.float64)
        self.cooldown = [a.cooldown_days for a in actions]
        self.prior_alpha: Floats = np.array([a.prior[0] for a in actions], dtype=np.float64)
        self.prior_beta: Floats = np.array([a.prior[1] for a in actions], dtype=np.float64)
        self.starts: Floats = np.array([_epoch(a.starts, -np.inf) for a in actions], dtype=np.float64)
        self.expires: Floats = np.array([_epoch(a.expires, np.inf) for a in actions], dtype=np.float64)
        self.is_dated = bool(np.isfinite(self.starts).any() or np.isfinite(self.expires).any())
        self.products = sorted({a.product for a in actions if a.product})
        # The product each marketing action promotes (-1: none, or not marketing: never suppressed by holdings).
        self.product_of: Ints = np.array(
            [self.products.index(a.product) if a.product and a.priority == "marketing" else -1 for a in actions],
            dtype=np.intp,
        )
        self.purposes = sorted({a.purpose for a in actions})
        self.purpose_of: Ints = np.array([self.purposes.index(a.purpose) for a in actions], dtype=np.intp)
        self.is_critical: Mask = self.priority == PRIORITIES.index("critical")
        self._situations: dict[tuple[str, str | None, str | None, bool], Mask] = {}
        self._weights: dict[tuple[str, str], Floats] = {}
        self._stages: dict[Any, tuple[Mask, Mask, Mask, Ints]] = {}
        self._worth: dict[Any, Floats] = {}
        self._inapplicable: dict[Any, dict[int, Any]] = {}
        self._levers: dict[tuple[tuple[str, float], ...], Floats] = {}
        self._names: dict[int, tuple[Mapping[str, frozenset[str]], list[frozenset[str]]]] = {}

    def applicable(
        self, channel: str, placement: str | None, journey: str | None, has_case: bool, now: datetime
    ) -> Mask:
        """Which actions apply to the context (channel, placement, journey, case, start and expiry dates)."""
        key = (channel, placement, journey, has_case)
        fixed = self._situations.get(key)
        if fixed is None:
            fixed = np.array(
                [
                    channel in a.channels
                    and (not a.placements or placement in a.placements)
                    and (not a.journeys or journey in a.journeys)
                    and (a.requires_case is None or a.requires_case == has_case)
                    for a in self.actions
                ],
                dtype=np.bool_,
            )
            if len(self._situations) >= _CACHE_LIMIT:
                self._situations.clear()
            self._situations[key] = fixed
        if not self.is_dated:
            return fixed
        moment = now.timestamp()
        dated: Mask = fixed & (self.starts <= moment) & (moment < self.expires)
        return dated

    def product_names(self, facts: Facts) -> list[frozenset[str]]:
        """Every name each product of the catalog goes by (the facts carry the configured aliases, the same
        mapping for every decision of a setup: worked out once per mapping)."""
        aliases = facts.products
        found = self._names.get(id(aliases))
        if found is None or found[0] is not aliases:  # the mapping is kept beside its id, so an id is never reused
            if len(self._names) >= _CACHE_LIMIT:
                self._names.clear()
            found = self._names[id(aliases)] = (aliases, [facts.names(p) for p in self.products])
        return found[1]

    def stages(
        self,
        bits: tuple[bool, ...],
        situation: tuple[str, str | None, str | None, bool],
        policy: tuple[tuple[bool, ...], ...],
        policy_mask: Callable[[Plan], Mask],
        now: datetime,
    ) -> tuple[Mask, Mask, Mask, Ints]:
        """(eligible, applicable, suitable, survivors in priority order): the masks depend only on which simple
        conditions hold, the context and the policy's verdicts, and many people share them, so they are kept."""
        key = (bits, situation, policy)
        found = self._stages.get(key) if not self.is_dated else None
        if found is None:
            eligible = self.tree.evaluate(bits)
            applicable = self.applicable(*situation, now)
            suitable = policy_mask(self)
            alive = np.flatnonzero(eligible & applicable & suitable)
            survivors: Ints = alive[np.argsort(self.priority[alive], kind="stable")]
            found = (eligible, applicable, suitable, survivors)
            if not self.is_dated:
                if len(self._stages) >= _CACHE_LIMIT * 8:
                    self._stages.clear()
                self._stages[key] = found
        return found

    def inapplicable(self, situation: Any, why: Callable[[Action, Any, datetime], _T]) -> Callable[[int, datetime], _T]:
        """Why each action does not apply to a context (`why`'s answer): the same for everyone asking in that
        context, so worked out once per context (dated actions aside: their words depend on the time)."""
        key = (situation.channel, situation.placement, situation.journey, situation.case is not None, why)
        words: dict[int, Any] | None = self._inapplicable.get(key)
        if words is None:
            if len(self._inapplicable) >= _CACHE_LIMIT:
                self._inapplicable.clear()
            words = self._inapplicable[key] = {}

        def answer(index: int, now: datetime) -> _T:
            found: _T | None = words.get(index)
            if found is None:
                found = why(self.actions[index], situation, now)
                if not self.is_dated:
                    words[index] = found
            return found

        return answer

    def enough(self, survivors: Ints, limit: int) -> int:
        """How many of the survivors (in priority order) to draw for: whole classes until `limit` are in."""
        if len(survivors) <= limit:
            return len(survivors)
        last = self.priority[survivors[limit - 1]]
        return int(np.searchsorted(self.priority[survivors], last, side="right"))

    def weights(self, place: str, channel: str) -> Floats:
        """Each action's own weight for a placement (`channel:placement`) or else its channel."""
        key = (place, channel)
        found = self._weights.get(key)
        if found is None:
            found = np.array([a.weights.get(place, a.weights.get(channel, 1.0)) for a in self.actions])
            if len(self._weights) >= _CACHE_LIMIT:
                self._weights.clear()
            self._weights[key] = found
        return found

    def worth(self, place: str, channel: str, context_weight: float, levers: Floats | None) -> Floats:
        """value x weight x lever of every action in a context (what the sampled propensity is multiplied by)."""
        key = (place, channel, context_weight, None if levers is None else levers.tobytes())
        found = self._worth.get(key)
        if found is None:
            found = self.value * context_weight * self.weights(place, channel)
            if levers is not None:
                found = found * levers
            if len(self._worth) >= _CACHE_LIMIT:
                self._worth.clear()
            self._worth[key] = found
        return found

    def levers(self, levers: Mapping[str, float]) -> Floats:
        """The business lever of each action: by its name, else its priority class, else 1."""
        key = tuple(sorted(levers.items()))
        found = self._levers.get(key)
        if found is None:
            found = np.array([levers.get(a.name, levers.get(a.priority, 1.0)) for a in self.actions])
            if len(self._levers) >= _CACHE_LIMIT:
                self._levers.clear()
            self._levers[key] = found
        return found


_PLANS: weakref.WeakKeyDictionary[Catalog, Plan] = weakref.WeakKeyDictionary()


def plan_of(catalog: Catalog) -> Plan:
    """The catalog's compiled plan, built on first use and kept as long as the catalog."""
    plan = _PLANS.get(catalog)
    if plan is None:
        plan = _PLANS[catalog] = Plan(catalog.actions)
    return plan
