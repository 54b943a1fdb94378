"""Trigger rules: the shape of a rule and its parser. Pure: a YAML text in, rules (or errors naming file, line and
field) out. See docs/triggers.md for the file format."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seamline.communications.templates import CHANNELS as TEMPLATE_CHANNELS
from seamline.core.yamlfile import FileError, Reader, load_mapping

KINDS = ("event", "trait", "holding", "case", "schedule")
ACTIONS = ("send", "task", "call", "survey")
OPERATORS = ("eq", "ne", "in", "gt", "gte", "lt", "lte", "exists")
PRIORITIES = ("urgent", "high", "normal", "low")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_REFERENCE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_TOP = {"name", "description", "on", "count", "once", "once_every", "exit", "do"}
_STEP = {"send", "task", "call", "survey", "data", "delay", "window", "channel"}
LAST_USED = "last_used"  # a send's channel: the one the customer used for what fired the rule
_TASK = {"title", "detail", "queue", "skills", "priority", "due_minutes"}


class RuleError(FileError):
    """A rule file that cannot be used: `file`, `line` and `field` say where."""


@dataclass(frozen=True, slots=True)
class Condition:
    """`path` (a property, or `traits.NAME`) compared by `op` with `value`."""

    path: str
    op: str
    value: Any


@dataclass(frozen=True, slots=True)
class JourneyCondition:
    """The person has the journey open (in progress or stalled), at `step` if given; or, `is_open` false, has not."""

    name: str
    is_open: bool = True
    step: str | None = None


@dataclass(frozen=True, slots=True)
class Count:
    """Fire only on at least the Nth matching event within the window, counted per value of `by` if given."""

    at_least: int
    within: timedelta | None
    by: str | None


@dataclass(frozen=True, slots=True)
class Exit:
    """An event of the person that cancels the rule's waiting steps (those with the same `same` property)."""

    event: str
    same: str | None


@dataclass(frozen=True, slots=True)
class Window:
    """Local hours in which a step may happen; outside them it waits for the next opening."""

    opens: time
    closes: time
    zone: ZoneInfo | None  # None: the configured default zone


@dataclass(frozen=True, slots=True)
class Step:
    """One action of a rule: `send` a template, make a `task`, `call` a destination, or send a `survey`; after
    `delay`."""

    action: str
    target: str  # template, destination or survey name; the task's queue ("" for the default)
    data: Mapping[str, Any]  # template data, task fields or the call's data; strings may hold {references}
    delay: timedelta
    window: Window | None
    channel: str | None = None  # a send's channel: a template channel or `last_used` (None: the template's first)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    file: str
    kind: str  # event | trait | holding | case | schedule
    subject: str  # the event name, trait name, holding type ("*": any holding), case change or schedule period
    where: tuple[Condition, ...]
    traits: tuple[Condition, ...]
    steps: tuple[Step, ...]
    count: Count | None = None
    journey: JourneyCondition | None = None
    once: str = ""  # the occurrence key's template: one firing per person and rendered key
    once_every: timedelta | None = None
    exits: tuple[Exit, ...] = ()
    description: str = ""
    templates: frozenset[str] = field(default_factory=frozenset)
    trait_names: frozenset[str] = field(default_factory=frozenset)  # traits its conditions or steps read


def duration(value: Any) -> timedelta | None:
    """'1d', '2h30m', '45m', '10s' as a timedelta; None when it is not one."""
    found = _DURATION.fullmatch(str(value).strip()) if isinstance(value, str | int) else None
    if found is None or not any(found.groups()):
        return None
    d, h, m, s = (int(g or 0) for g in found.groups())
    return timedelta(days=d, hours=h, minutes=m, seconds=s)


def references(value: Any) -> set[str]:
    """The {references} a value's strings hold, nested values included."""
    if isinstance(value, str):
        return set(_REFERENCE.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(references(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(references(v) for v in value)) if value else set()
    return set()


class _Reader(Reader):
    """Reads one rule file's mapping, raising RuleError at the first problem with its line."""

    def __init__(self, file: str) -> None:
        super().__init__(file, RuleError)

    def conditions(self, parent: Mapping[str, Any], key: str, path: str, prefix: str = "") -> tuple[Condition, ...]:
        if key not in parent:
            return ()
        value = parent[key]
        if not isinstance(value, Mapping):
            raise self.fail(parent, key, path, "must be a mapping of property: value or property: {operator: value}")
        out = []
        for name, test in value.items():
            if isinstance(test, Mapping):
                if len(test) != 1 or next(iter(test)) not in OPERATORS:
                    raise self.fail(value, name, f"{path}.{name}", f"one operator of {', '.join(OPERATORS)}")
                op, operand = next(iter(test.items()))
                if op == "in" and not isinstance(operand, list):
                    raise self.fail(value, name, f"{path}.{name}.in", "must be a list")
                if op in ("gt", "gte", "lt", "lte") and not isinstance(operand, int | float):
                    raise self.fail(value, name, f"{path}.{name}.{op}", "must be a number")
                out.append(Condition(prefix + str(name), str(op), operand))
            else:
                out.append(Condition(prefix + str(name), "eq", test))
        return tuple(out)

    def duration(self, parent: Mapping[str, Any], key: str, path: str) -> timedelta:
        found = duration(parent[key])
        if found is None:
            raise self.fail(parent, key, path, f"a duration such as 30m, 2h or 1d, not {parent[key]!r}")
        return found

    def window(self, parent: Mapping[str, Any], path: str) -> Window:
        raw = self.mapping(parent, "window", path, {"from", "to", "timezone"})
        bounds = []
        for key in ("from", "to"):
            found = _CLOCK.fullmatch(str(raw.get(key, "")))
            if found is None:
                raise self.fail(raw, key if key in raw else None, f"{path}.{key}", "a local time HH:MM is needed")
            bounds.append(time(int(found.group(1)), int(found.group(2))))
        if bounds[1] <= bounds[0]:
            raise self.fail(raw, "to", f"{path}.to", "must be after from")
        zone = None
        if "timezone" in raw:
            try:
                zone = ZoneInfo(str(raw["timezone"]))
            except (ZoneInfoNotFoundError, ValueError):
                raise self.fail(raw, "timezone", f"{path}.timezone", "not an IANA time zone") from None
        return Window(bounds[0], bounds[1], zone)

    def step(
        self,
        raw: Any,
        where: Mapping[str, Any],
        key: str,
        path: str,
        templates: frozenset[str] | None,
        surveys: frozenset[str] | None = None,
    ) -> Step:
        if not isinstance(raw, Mapping):
            raise self.fail(where, key, path, "a step is a mapping with one of send, task, call or survey")
        unknown = sorted(set(raw) - _STEP)
        if unknown:
            raise self.fail(raw, unknown[0], f"{path}.{unknown[0]}", f"unknown field; use {', '.join(sorted(_STEP))}")
        actions = [a for a in ACTIONS if a in raw]
        if len(actions) != 1:
            raise self.fail(raw, None, path, "a step has exactly one of send, task, call or survey")
        [action] = actions
        data = raw.get("data", {})
        if not isinstance(data, Mapping):
            raise self.fail(raw, "data", f"{path}.data", "must be a mapping")
        delay = self.duration(raw, "delay", f"{path}.delay") if "delay" in raw else timedelta(0)
        window = self.window(raw, f"{path}.window") if "window" in raw else None
        channel = raw.get("channel")
        if channel is not None and (action != "send" or channel not in (LAST_USED, *TEMPLATE_CHANNELS)):
            raise self.fail(
                raw,
                "channel",
                f"{path}.channel",
                f"a send's channel: {LAST_USED} or one of {', '.join(TEMPLATE_CHANNELS)}",
            )
        if action == "task":
            task = self.mapping(raw, "task", f"{path}.task", _TASK)
            if not isinstance(task.get("title"), str) or not task["title"].strip():
                raise self.fail(task, "title" if "title" in task else None, f"{path}.task.title", "a title is needed")
            if task.get("priority", "normal") not in PRIORITIES:
                raise self.fail(task, "priority", f"{path}.task.priority", f"one of {', '.join(PRIORITIES)}")
            skills = task.get("skills", [])
            if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
                raise self.fail(task, "skills", f"{path}.task.skills", "a list of skill names")
            minutes = task.get("due_minutes")
            if minutes is not None and (not isinstance(minutes, int) or minutes < 1):
                raise self.fail(task, "due_minutes", f"{path}.task.due_minutes", "a whole number of minutes, >= 1")
            return Step("task", str(task.get("queue", "")), {**task, **data}, delay, window)
        target = raw[action]
        if not isinstance(target, str) or not _NAME.fullmatch(target.replace("_", "-")):
            raise self.fail(raw, action, f"{path}.{action}", "the name of a template, destination or survey")
        if action == "send" and templates is not None and target not in templates:
            raise self.fail(
                raw, action, f"{path}.send", f"no template {target!r}; known: {', '.join(sorted(templates))}"
            )
        if action == "survey" and surveys is not None and target not in surveys:
            raise self.fail(raw, action, f"{path}.survey", f"no survey {target!r}; known: {', '.join(sorted(surveys))}")
        return Step(action, target, dict(data), delay, window, channel)


def parse_rule(
    text: str,
    file: str,
    *,
    templates: frozenset[str] | None = None,
    surveys: frozenset[str] | None = None,
    segments: Mapping[str, tuple[Condition, ...]] | None = None,
) -> Rule:
    """One rule from a YAML text; RuleError naming the file, line and field at its first problem.

    `templates`, when given, are the template names a `send` may use; `surveys` the survey keys a `survey` may;
    `segments` the customer segments (segments.py) an `on.segment` may name.
    """
    reader = _Reader(file)
    raw = load_mapping(text, file, RuleError, "rule", "a rule file is a mapping with on and do")
    reader.known(raw, _TOP)
    stem = file.rsplit("/", 1)[-1].removesuffix(".yaml").removesuffix(".yml")
    name = str(raw.get("name", stem))
    if not _NAME.fullmatch(name):
        raise reader.fail(raw, "name", "name", "1-100 of a-z 0-9 . _ -, starting with a letter or digit")
    for required in ("on", "do"):
        if required not in raw:
            raise reader.fail(raw, None, required, "is required")
    on = reader.mapping(raw, "on", "on", {*KINDS, "where", "traits", "journey", "segment"})
    kinds = [k for k in KINDS if k in on]
    if len(kinds) != 1:
        raise reader.fail(on, None, "on", f"exactly one of {', '.join(KINDS)}")
    [kind] = kinds
    subject = on[kind]
    if not isinstance(subject, str) or not subject.strip():
        raise reader.fail(on, kind, f"on.{kind}", "a name is needed")
    where = reader.conditions(on, "where", "on.where")
    traits = reader.conditions(on, "traits", "on.traits", "traits.")
    if "segment" in on:  # a segment of the segments file: its conditions, written once, before the rule's own
        known = segments or {}
        if not isinstance(on["segment"], str) or on["segment"] not in known:
            raise reader.fail(on, "segment", "on.segment",
                              f"no segment {on['segment']!r}; known: {', '.join(sorted(known)) or 'none'}")  # fmt: skip
        traits = (*known[on["segment"]], *traits)
    if kind == "schedule":  # a period (1d, 7d), over the segment its golden-record conditions define
        if reader.duration(on, "schedule", "on.schedule") < timedelta(minutes=1):
            raise reader.fail(on, "schedule", "on.schedule", "at least 1m between runs")
        if not traits:
            raise reader.fail(
                on,
                None,
                "on.traits",
                "a rule on a schedule needs on.segment or its segment's golden-record conditions",
            )
    journey = None
    if "journey" in on:
        spec = reader.mapping(on, "journey", "on.journey", {"name", "open", "step"})
        name_, is_open, step = spec.get("name"), spec.get("open", True), spec.get("step")
        if not isinstance(name_, str) or not name_.strip():
            raise reader.fail(spec, "name" if "name" in spec else None, "on.journey.name", "a journey name is needed")
        if not isinstance(is_open, bool):
            raise reader.fail(spec, "open", "on.journey.open", "true or false")
        if step is not None and (not isinstance(step, str) or not is_open):
            raise reader.fail(spec, "step", "on.journey.step", "a step name, asked only of an open journey")
        journey = JourneyCondition(name_.strip(), is_open, step)
    count = None
    if "count" in raw:
        spec = reader.mapping(raw, "count", "count", {"at_least", "within", "by"})
        at_least = spec.get("at_least")
        if not isinstance(at_least, int) or isinstance(at_least, bool) or at_least < 1:
            raise reader.fail(spec, "at_least" if "at_least" in spec else None, "count.at_least", "a whole number >= 1")
        within = reader.duration(spec, "within", "count.within") if "within" in spec else None
        by = spec.get("by")
        if by is not None and not isinstance(by, str):
            raise reader.fail(spec, "by", "count.by", "a property name")
        count = Count(at_least, within, by)
    once = raw.get("once", "person")
    if not isinstance(once, str):
        raise reader.fail(raw, "once", "once", "'person', or a key such as '{instance_id}'")
    once_every = reader.duration(raw, "once_every", "once_every") if "once_every" in raw else None
    exits = []
    if "exit" in raw:
        items = raw["exit"]
        if not isinstance(items, list):
            raise reader.fail(raw, "exit", "exit", "a list of event names or {event, same}")
        for i, item in enumerate(items):
            if isinstance(item, str):
                exits.append(Exit(item, None))
            elif isinstance(item, Mapping) and isinstance(item.get("event"), str) and set(item) <= {"event", "same"}:
                exits.append(Exit(item["event"], str(item["same"]) if item.get("same") else None))
            else:
                raise reader.fail(raw, "exit", f"exit[{i}]", "an event name, or {event: NAME, same: PROPERTY}")
    steps_raw = raw["do"] if isinstance(raw["do"], list) else [raw["do"]]
    if not steps_raw:
        raise reader.fail(raw, "do", "do", "at least one step")
    steps = tuple(reader.step(s, raw, "do", f"do[{i}]", templates, surveys) for i, s in enumerate(steps_raw))
    description = raw.get("description", "")
    return Rule(
        name=name, file=file, kind=kind, subject=subject.strip(), where=where, traits=traits, steps=steps,
        count=count, journey=journey, once="" if once == "person" else once, once_every=once_every, exits=tuple(exits),
        description=str(description), templates=frozenset(s.target for s in steps if s.action == "send"),
        trait_names=frozenset({c.path[7:] for c in traits} | {r[7:] for r in references([s.data for s in steps])
                                                               if r.startswith("traits.")}),
    )  # fmt: skip


def check_unique(rules: Sequence[Rule]) -> None:
    """Two files may not name the same rule (its firings are keyed by name)."""
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.name in seen:
            raise RuleError(rule.file, None, "name", f"rule {rule.name!r} is also defined in {seen[rule.name]}")
        seen[rule.name] = rule.file
