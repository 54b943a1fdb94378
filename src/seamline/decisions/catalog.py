"""The action catalog: one YAML file per action (offers, service messages, next-step nudges, surveys), validated
when loaded. A bad file is refused with its file, line and field named; nothing in it is ever run as code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from seamline.decisions.conditions import (
    ALWAYS,
    Condition,
    ConditionError,
    compile_condition,
    reads_cases,
    reads_journeys,
    traits_read,
)

KINDS = ("offer", "service", "nudge", "survey")
PRIORITIES = ("critical", "service", "marketing")  # highest first
CHANNELS = ("email", "sms", "push", "phone", "postal", "web", "in_app", "call_center", "branch", "chat")
_FIELDS = (
    "version", "kind", "title", "description", "product", "channels", "placements", "journeys", "requires_case",
    "priority", "purpose", "topic", "value", "cooldown_days", "starts", "expires", "eligibility", "weights", "prior",
    "template",
)  # fmt: skip


class CatalogError(ValueError):
    """Files that cannot be loaded; each problem reads `FILE:LINE: FIELD: message`."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("bad action files:\n  " + "\n  ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class Action:
    """One thing Seamline may offer or say."""

    name: str
    kind: str
    title: str
    priority: str
    channels: tuple[str, ...]
    value: float = 1.0
    product: str | None = None
    description: str = ""
    placements: tuple[str, ...] = ()
    journeys: tuple[str, ...] = ()
    requires_case: bool | None = None
    purpose: str = "marketing"
    topic: str | None = None
    cooldown_days: float = 0.0
    starts: datetime | None = None
    expires: datetime | None = None
    eligibility: Condition = ALWAYS
    weights: Mapping[str, float] = field(default_factory=dict)
    prior: tuple[float, float] = (1.0, 1.0)
    template: str | None = None
    version: str = "1"

    @property
    def rank_of_priority(self) -> int:
        return PRIORITIES.index(self.priority)


def _plain(node: yaml.Node, path: str, lines: dict[str, int], loader: yaml.SafeLoader) -> Any:
    """The node as plain values, recording the line of every field so a problem can point at it."""
    lines[path] = node.start_mark.line + 1
    if not node.tag.startswith("tag:yaml.org,2002:") or node.tag.startswith("tag:yaml.org,2002:python"):
        raise ConditionError(path, f"the YAML tag {node.tag} is not allowed (action files hold plain values)")
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            lines[child] = key_node.start_mark.line + 1
            out[key] = _plain(value_node, child, lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, f"{path}[{i}]", lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node)  # a scalar, by the safe loader's own rules


def _line_of(path: str, lines: Mapping[str, int]) -> int:
    while path and path not in lines:
        path = path.rsplit(".", 1)[0] if "." in path else path.rsplit("[", 1)[0] if "[" in path else ""
    return lines.get(path, 1)


def _texts(raw: Any, name: str, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise ConditionError(name, "expected a list of names")
    for i, value in enumerate(raw):
        if allowed is not None and value not in allowed:
            raise ConditionError(f"{name}[{i}]", f"{value!r} is not one of: {', '.join(allowed)}")
    return tuple(raw)


def _when(raw: Any, name: str) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw))
    except ValueError:
        raise ConditionError(name, "expected a date or date-time (2027-03-31)") from None


def _number(raw: Any, name: str, default: float) -> float:
    if raw is None:
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ConditionError(name, "expected a number ≥ 0")
    return float(raw)


def parse_action(name: str, raw: Any) -> Action:
    """One action from its file's content; ConditionError names the field at fault."""
    if not isinstance(raw, Mapping):
        raise ConditionError("", "an action file is a mapping of fields")
    for key in raw:
        if key not in _FIELDS:
            raise ConditionError(str(key), f"unknown field; expected one of: {', '.join(_FIELDS)}")
    for required in ("kind", "title", "priority", "channels"):
        if raw.get(required) in (None, ""):
            raise ConditionError(required, "required")
    kind, priority = raw["kind"], raw["priority"]
    if kind not in KINDS:
        raise ConditionError("kind", f"{kind!r} is not one of: {', '.join(KINDS)}")
    if priority not in PRIORITIES:
        raise ConditionError("priority", f"{priority!r} is not one of: {', '.join(PRIORITIES)}")
    weights = raw.get("weights") or {}
    if not isinstance(weights, Mapping):
        raise ConditionError("weights", "expected a mapping of channel or placement to a number")
    prior = raw.get("prior") or {}
    if not isinstance(prior, Mapping) or set(prior) - {"alpha", "beta"}:
        raise ConditionError("prior", "expected {alpha: N, beta: N}")
    starts, expires = _when(raw.get("starts"), "starts"), _when(raw.get("expires"), "expires")
    requires_case = raw.get("requires_case")
    if requires_case is not None and not isinstance(requires_case, bool):
        raise ConditionError("requires_case", "expected true or false")
    return Action(
        name=name,
        kind=kind,
        title=str(raw["title"]),
        priority=priority,
        channels=_texts(raw["channels"], "channels", CHANNELS),
        value=_number(raw.get("value"), "value", 1.0),
        product=None if raw.get("product") is None else str(raw["product"]),
        description=str(raw.get("description") or ""),
        placements=_texts(raw.get("placements") or [], "placements"),
        journeys=_texts(raw.get("journeys") or [], "journeys"),
        requires_case=requires_case,
        purpose=str(raw.get("purpose") or ("marketing" if priority == "marketing" else "service")),
        topic=None if raw.get("topic") is None else str(raw["topic"]),
        cooldown_days=_number(raw.get("cooldown_days"), "cooldown_days", 0.0),
        starts=starts,
        expires=expires,
        eligibility=compile_condition(raw["eligibility"]) if raw.get("eligibility") is not None else ALWAYS,
        weights={str(k): _number(v, f"weights.{k}", 1.0) for k, v in weights.items()},
        prior=(
            _number(prior.get("alpha"), "prior.alpha", 1.0) or 1.0,
            _number(prior.get("beta"), "prior.beta", 1.0) or 1.0,
        ),
        template=None if raw.get("template") is None else str(raw["template"]),
        version=str(raw.get("version") or "1"),
    )


def load_file(path: Path) -> Action:
    """One action file; CatalogError names the file, line and field."""
    lines: dict[str, int] = {}
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise CatalogError([f"{path.name}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if node is None:
        raise CatalogError([f"{path.name}:1: the file is empty"])
    try:
        return parse_action(path.stem, _plain(node, "", lines, yaml.SafeLoader("")))
    except ConditionError as exc:
        where = exc.path or "(file)"
        raise CatalogError([f"{path.name}:{_line_of(exc.path, lines)}: {where}: {exc.message}"]) from None


class Catalog:
    """Every action in a folder, loaded once; a bad file fails the whole load with every problem listed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        problems: list[str] = []
        actions: dict[str, Action] = {}
        files = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
        if not folder.is_dir():
            problems.append(f"{folder}: no such folder of action files")
        for path in files:
            try:
                actions[path.stem] = load_file(path)
            except CatalogError as exc:
                problems.extend(exc.problems)
        if problems:
            raise CatalogError(problems)
        self._index(tuple(actions.values()))

    @classmethod
    def of(cls, actions: Sequence[Action]) -> Catalog:
        """A catalog of actions made in code (benchmarks, tests)."""
        catalog = cls.__new__(cls)
        catalog.folder = Path()
        catalog._index(tuple(actions))
        return catalog

    def _index(self, actions: tuple[Action, ...]) -> None:
        # What every decision asks of the catalog, worked out once.
        self.actions: tuple[Action, ...] = actions
        self.by_name: dict[str, Action] = {a.name: a for a in actions}
        self.traits_read: frozenset[str] = frozenset().union(*(traits_read(a.eligibility) for a in actions))
        self.reads_cases: bool = any(reads_cases(a.eligibility) for a in actions)
        self.reads_journeys: bool = any(reads_journeys(a.eligibility) for a in actions)
        self.purposes: frozenset[str] = frozenset(a.purpose for a in actions)
        self.products: frozenset[str] = frozenset(a.product for a in actions if a.product)
        self._consents = frozenset().union(*(a.eligibility.consents() for a in actions))

    def consents_asked(self) -> frozenset[tuple[str, str | None]]:
        """Every (purpose, channel) pair the catalog's conditions ask about."""
        return self._consents
