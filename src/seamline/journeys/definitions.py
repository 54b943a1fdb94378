"""Journey definitions: YAML files read into typed definitions, with errors naming file, line and field. Pure.

A file holds one journey:

```yaml
journey: apply_for_mortgage          # its key: lower-case letters, digits, '_'
name: Apply for a mortgage
multiple: false                      # one open instance per person (the default), or several
stall_after: 3d                      # no activity this long: stalled (m, h, d)
abandon_after: 30d                   # no activity this long: abandoned
completes_on: Mortgage Offer Accepted   # optional: an event that completes the whole journey
on_stall: {case: {queue: lending, priority: high}}   # optional: a stall opens a case (or just `on_stall: case`)
steps:
  - key: income
    name: Your income
    agent: true                      # an agent may complete it in the console
    optional: false
    when: {field: applicants, equals: joint}   # only applies when an earlier field has this value
    completes_on: Income Verified    # optional: an event that completes this step
    sla: {business_days: 2}          # a person at the bank must act within this (business_hours also)
    fields:
      - {key: annual_income, trait: annual_income, required: true}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from seamline.cases.lifecycle import PRIORITIES, QUEUE_NAME

KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DURATION = re.compile(r"^(\d+)\s*([mhd])$")
_UNITS = {"m": 60, "h": 3600, "d": 86400}
MAX_FIELDS = 50
MAX_STEPS = 30


@dataclass(frozen=True, slots=True)
class FieldDef:
    key: str
    trait: str | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    equals: Any


@dataclass(frozen=True, slots=True)
class StepDef:
    key: str
    name: str
    fields: tuple[FieldDef, ...] = ()
    optional: bool = False
    agent: bool = False
    when: Condition | None = None
    completes_on: str | None = None
    sla_business_hours: float | None = None
    sla_business_days: float | None = None

    def field_named(self, key: str) -> FieldDef | None:
        """The field of this step with this key."""
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True, slots=True)
class StallCase:
    """A stalled instance opens a case by itself: in this queue (None: the cases' default) at this priority."""

    queue: str | None = None
    priority: str = "normal"


@dataclass(frozen=True, slots=True)
class JourneyDef:
    key: str
    name: str
    steps: tuple[StepDef, ...]
    stall_after: timedelta = timedelta(days=3)
    abandon_after: timedelta = timedelta(days=30)
    multiple: bool = False
    completes_on: str | None = None
    source_file: str = ""
    stall_case: StallCase | None = None

    def step(self, key: str) -> StepDef | None:
        """The step with this key."""
        return next((s for s in self.steps if s.key == key), None)


@dataclass(frozen=True, slots=True)
class DefinitionError:
    """One problem of a definition file: where (file, line) and which field."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class DefinitionsInvalid(Exception):
    """Some definition files are wrong; none of them was loaded."""

    def __init__(self, errors: Sequence[DefinitionError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = list(errors)


@dataclass
class _Reader:
    """Walks a composed YAML node tree, collecting errors with the line each value stands on."""

    file: str
    errors: list[DefinitionError] = field(default_factory=list)

    def fail(self, node: yaml.Node | None, where: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.errors.append(DefinitionError(self.file, line, where, message))

    def mapping(self, node: yaml.Node, where: str) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, where, "must be a mapping of names to values")
            return {}
        out: dict[str, yaml.Node] = {}
        for key, value in node.value:
            out[str(key.value)] = value
        return out

    def known(self, node: yaml.Node, items: Mapping[str, yaml.Node], where: str, allowed: Sequence[str]) -> None:
        for name, value in items.items():
            if name not in allowed:
                self.fail(value, f"{where}.{name}" if where else name, f"unknown; allowed: {', '.join(allowed)}")

    def text(self, items: Mapping[str, yaml.Node], name: str, where: str, *, required: bool = False) -> str | None:
        node = items.get(name)
        path = f"{where}.{name}" if where else name
        if node is None:
            if required:
                self.fail(None if not items else next(iter(items.values())), path, "is required")
            return None
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.fail(node, path, "must be a non-empty text")
            return None
        return str(node.value).strip()

    def key(self, items: Mapping[str, yaml.Node], name: str, where: str) -> str | None:
        value = self.text(items, name, where, required=True)
        if value is not None and not KEY.fullmatch(value):
            self.fail(items[name], f"{where}.{name}" if where else name, f"{value!r}: use 1-64 of a-z, 0-9, _")
            return None
        return value

    def flag(self, items: Mapping[str, yaml.Node], name: str, where: str) -> bool:
        node = items.get(name)
        if node is None:
            return False
        value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.fail(node, f"{where}.{name}" if where else name, "must be true or false")
            return False
        return value

    def duration(self, items: Mapping[str, yaml.Node], name: str, default: timedelta) -> timedelta:
        text = self.text(items, name, "")
        if text is None:
            return default
        found = _DURATION.fullmatch(text)
        if found is None or int(found.group(1)) == 0:
            self.fail(items[name], name, f"{text!r}: write a positive duration such as 30m, 4h or 3d")
            return default
        return timedelta(seconds=int(found.group(1)) * _UNITS[found.group(2)])

    def number(self, node: yaml.Node, where: str) -> float | None:
        value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(node, where, "must be a positive number")
            return None
        return float(value)


def _field(reader: _Reader, node: yaml.Node, where: str) -> FieldDef | None:
    items = reader.mapping(node, where)
    reader.known(node, items, where, ("key", "trait", "required"))
    key = reader.key(items, "key", where)
    trait = reader.text(items, "trait", where)
    required = reader.flag(items, "required", where)
    return FieldDef(key, trait, required) if key is not None else None


def _step(reader: _Reader, node: yaml.Node, where: str, earlier_fields: set[str]) -> StepDef | None:
    items = reader.mapping(node, where)
    allowed = ("key", "name", "fields", "optional", "agent", "when", "completes_on", "sla")
    reader.known(node, items, where, allowed)
    key = reader.key(items, "key", where)
    name = reader.text(items, "name", where) or key or ""
    fields: list[FieldDef] = []
    fields_node = items.get("fields")
    if fields_node is not None:
        if not isinstance(fields_node, yaml.SequenceNode):
            reader.fail(fields_node, f"{where}.fields", "must be a list of fields")
        else:
            for i, item in enumerate(fields_node.value[:MAX_FIELDS]):
                found = _field(reader, item, f"{where}.fields[{i}]")
                if found is not None and any(f.key == found.key for f in fields):
                    reader.fail(item, f"{where}.fields[{i}].key", f"{found.key!r} appears twice in this step")
                elif found is not None:
                    fields.append(found)
    when: Condition | None = None
    if (when_node := items.get("when")) is not None:
        parts = reader.mapping(when_node, f"{where}.when")
        reader.known(when_node, parts, f"{where}.when", ("field", "equals"))
        on = reader.text(parts, "field", f"{where}.when")
        if on is None or "equals" not in parts:
            reader.fail(when_node, f"{where}.when", "needs a field and the value it equals")
        elif on not in earlier_fields:
            reader.fail(parts["field"], f"{where}.when.field", f"{on!r} is not a field of an earlier step")
        else:
            when = Condition(on, yaml.safe_load(yaml.serialize(parts["equals"])))
    hours = days = None
    if (sla_node := items.get("sla")) is not None:
        parts = reader.mapping(sla_node, f"{where}.sla")
        reader.known(sla_node, parts, f"{where}.sla", ("business_hours", "business_days"))
        if len(parts) != 1:
            reader.fail(sla_node, f"{where}.sla", "give business_hours or business_days")
        elif "business_hours" in parts:
            hours = reader.number(parts["business_hours"], f"{where}.sla.business_hours")
        elif "business_days" in parts:
            days = reader.number(parts["business_days"], f"{where}.sla.business_days")
    if key is None:
        return None
    return StepDef(
        key=key,
        name=name,
        fields=tuple(fields),
        optional=reader.flag(items, "optional", where),
        agent=reader.flag(items, "agent", where),
        when=when,
        completes_on=reader.text(items, "completes_on", where),
        sla_business_hours=hours,
        sla_business_days=days,
    )


def _on_stall(reader: _Reader, node: yaml.Node) -> StallCase | None:
    """`on_stall: case`, or `on_stall: {case: {queue: …, priority: …}}` (both optional)."""
    if isinstance(node, yaml.ScalarNode):
        if str(node.value).strip() != "case":
            reader.fail(node, "on_stall", "write `case`, or {case: {queue: …, priority: …}}")
            return None
        return StallCase()
    items = reader.mapping(node, "on_stall")
    reader.known(node, items, "on_stall", ("case",))
    case_node = items.get("case")
    if case_node is None:
        if items:
            return None  # the unknown keys were named above
        reader.fail(node, "on_stall", "write `case`, or {case: {queue: …, priority: …}}")
        return None
    parts = reader.mapping(case_node, "on_stall.case")
    reader.known(case_node, parts, "on_stall.case", ("queue", "priority"))
    queue = reader.text(parts, "queue", "on_stall.case")
    if queue is not None and not QUEUE_NAME.fullmatch(queue):
        reader.fail(parts["queue"], "on_stall.case.queue", f"{queue!r}: 1-64 of a-z, 0-9, '.', '_', '-'")
    priority = reader.text(parts, "priority", "on_stall.case") or "normal"
    if priority not in PRIORITIES:
        reader.fail(parts["priority"], "on_stall.case.priority", f"{priority!r}: one of {', '.join(PRIORITIES)}")
    return StallCase(queue, priority)


def parse_definition(text: str, file: str) -> JourneyDef:
    """One definition file's text as a definition; raises DefinitionsInvalid naming each problem's line and field."""
    reader = _Reader(file)
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise DefinitionsInvalid([DefinitionError(file, line, "(file)", f"not valid YAML: {exc}")]) from None
    if root is None:
        raise DefinitionsInvalid([DefinitionError(file, 1, "(file)", "the file is empty")])
    items = reader.mapping(root, "(file)")
    allowed = ("journey", "name", "multiple", "stall_after", "abandon_after", "completes_on", "on_stall", "steps")
    reader.known(root, items, "", allowed)
    key = reader.key(items, "journey", "")
    name = reader.text(items, "name", "") or key or ""
    stall = reader.duration(items, "stall_after", timedelta(days=3))
    abandon = reader.duration(items, "abandon_after", timedelta(days=30))
    if abandon <= stall:
        reader.fail(items.get("abandon_after") or root, "abandon_after", "must be longer than stall_after")
    steps: list[StepDef] = []
    steps_node = items.get("steps")
    if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
        reader.fail(steps_node or root, "steps", "a journey needs a list of at least one step")
    else:
        if len(steps_node.value) > MAX_STEPS:
            reader.fail(steps_node, "steps", f"at most {MAX_STEPS} steps")
        seen_fields: set[str] = set()
        for i, item in enumerate(steps_node.value[:MAX_STEPS]):
            step = _step(reader, item, f"steps[{i}]", seen_fields)
            if step is None:
                continue
            if any(s.key == step.key for s in steps):
                reader.fail(item, f"steps[{i}].key", f"{step.key!r} appears twice")
                continue
            steps.append(step)
            seen_fields.update(f.key for f in step.fields)
        if steps and all(s.optional or s.when is not None for s in steps):
            reader.fail(steps_node, "steps", "at least one step must be required and unconditional")
    multiple = reader.flag(items, "multiple", "")
    completes_on = reader.text(items, "completes_on", "")
    stall_case = _on_stall(reader, items["on_stall"]) if "on_stall" in items else None
    if reader.errors or key is None:
        raise DefinitionsInvalid(reader.errors)
    return JourneyDef(key, name, tuple(steps), stall, abandon, multiple, completes_on, file, stall_case)


def load_folder(folder: Path) -> list[JourneyDef]:
    """Every `*.yaml`/`*.yml` definition in a folder, all or none: DefinitionsInvalid lists every problem."""
    if not folder.is_dir():
        raise DefinitionsInvalid([DefinitionError(str(folder), 1, "(folder)", "is not a folder")])
    errors: list[DefinitionError] = []
    found: list[JourneyDef] = []
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        try:
            definition = parse_definition(path.read_text(encoding="utf-8"), path.name)
        except DefinitionsInvalid as bad:
            errors.extend(bad.errors)
            continue
        if any(d.key == definition.key for d in found):
            errors.append(DefinitionError(path.name, 1, "journey", f"{definition.key!r} is defined in two files"))
            continue
        found.append(definition)
    if errors:
        raise DefinitionsInvalid(errors)
    return found


def as_json(definition: JourneyDef) -> dict[str, Any]:
    """The stored form of a definition (read back by `from_json`)."""
    return {
        "key": definition.key,
        "name": definition.name,
        "multiple": definition.multiple,
        "stall_after": definition.stall_after.total_seconds(),
        "abandon_after": definition.abandon_after.total_seconds(),
        "completes_on": definition.completes_on,
        "source_file": definition.source_file,
        "stall_case": (
            {"queue": definition.stall_case.queue, "priority": definition.stall_case.priority}
            if definition.stall_case
            else None
        ),
        "steps": [
            {
                "key": s.key,
                "name": s.name,
                "optional": s.optional,
                "agent": s.agent,
                "when": {"field": s.when.field, "equals": s.when.equals} if s.when else None,
                "completes_on": s.completes_on,
                "sla_business_hours": s.sla_business_hours,
                "sla_business_days": s.sla_business_days,
                "fields": [{"key": f.key, "trait": f.trait, "required": f.required} for f in s.fields],
            }
            for s in definition.steps
        ],
    }


def from_json(body: Mapping[str, Any]) -> JourneyDef:
    """A stored definition back as its dataclass."""
    steps = tuple(
        StepDef(
            key=s["key"],
            name=s["name"],
            fields=tuple(FieldDef(f["key"], f["trait"], f["required"]) for f in s["fields"]),
            optional=s["optional"],
            agent=s["agent"],
            when=Condition(s["when"]["field"], s["when"]["equals"]) if s["when"] else None,
            completes_on=s["completes_on"],
            sla_business_hours=s["sla_business_hours"],
            sla_business_days=s["sla_business_days"],
        )
        for s in body["steps"]
    )
    return JourneyDef(
        key=body["key"],
        name=body["name"],
        steps=steps,
        stall_after=timedelta(seconds=body["stall_after"]),
        abandon_after=timedelta(seconds=body["abandon_after"]),
        multiple=body["multiple"],
        completes_on=body["completes_on"],
        source_file=body["source_file"],
        # Stored before on_stall existed: no stall case.
        stall_case=StallCase(stall["queue"], stall["priority"]) if (stall := body.get("stall_case")) else None,
    )
