"""The communication-error policy file: harms, severity rules, each severity's owner, clocks and escalation levels,
and regulatory clocks. Pure: text in, a checked policy (or every mistake with its file, line and field) out.

A YAML file is read twice: once as data for the schema, once as a node tree that knows each value's line, so a
mistake deep in the file is reported where it is (`policy.yaml line 42: severities.high.acknowledge.minutes: …`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from seamline.cases.config import CalendarConfig
from seamline.cases.sla import BusinessCalendar

BUILTIN_POLICY = Path(__file__).parent / "policy.yaml"
SEVERITIES = ("low", "medium", "high", "critical")  # least to most severe
# The queue lists the most severe first: the rank stored with each error orders it (1 = critical).
RANK = {name: len(SEVERITIES) - i for i, name in enumerate(SEVERITIES)}
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DESTINATION = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")  # as destinations names them


def _email_addresses(value: list[str]) -> list[str]:
    bad = [v for v in value if not _EMAIL.fullmatch(v)]
    if bad:
        raise ValueError(f"notify lists email addresses; not {', '.join(map(repr, bad))}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HarmRule(_Strict):
    """One kind of harm to the customer."""

    description: str = ""
    severity: str
    fix_at_contact: bool = Field(default=False, description="The agent may fix it on the call, through corrections.")
    correct_and_resend: bool = Field(
        default=False, description="The agent may correct the source value and re-send the communication with it."
    )
    regulatory_clock: str | None = None

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: str) -> str:
        if value not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {value!r}")
        return value


class ClockRule(_Strict):
    """How long a clock may run: business minutes on the policy's calendar, or every minute (24x7)."""

    minutes: int = Field(ge=1)
    around_the_clock: bool = False


class Level(_Strict):
    """One escalation level: who it is, and who is told when the error reaches it: people by email, destinations
    (a pager, a chat room, a ticketing system) by a signed webhook."""

    name: str = Field(min_length=1, max_length=100)
    notify: list[str] = Field(default_factory=list)
    destinations: list[str] = Field(default_factory=list, description="Names of registered destinations.")

    @field_validator("notify")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return _email_addresses(value)

    @field_validator("destinations")
    @classmethod
    def _destination_names(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not _DESTINATION.fullmatch(v)]
        if bad:
            raise ValueError(f"destinations lists destination names; not {', '.join(map(repr, bad))}")
        return value

    @model_validator(mode="after")
    def _someone(self) -> Level:
        if not self.notify and not self.destinations:
            raise ValueError("a level notifies someone: give notify (email addresses) or destinations (names)")
        return self


class SeverityRule(_Strict):
    """What a severity sets in motion."""

    owner: str = Field(min_length=1, max_length=64)
    acknowledge: ClockRule
    resolve: ClockRule
    escalation: list[Level] = Field(min_length=1, description="Level 0 is told at once; each missed clock, the next.")
    tell_customer: str = Field(default="", max_length=500)


class AffectedStep(_Strict):
    at_least: int = Field(ge=2)
    raise_: int = Field(alias="raise", ge=1, le=3)


class RegulatoryClock(_Strict):
    """A deadline the law sets from the moment the company knew (e.g. GDPR Art. 33: 72 hours)."""

    name: str = Field(min_length=1, max_length=200)
    hours: int = Field(ge=1)
    warn_before_hours: int = Field(ge=0)
    notify: list[str] = Field(min_length=1)

    @field_validator("notify")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return _email_addresses(value)

    @model_validator(mode="after")
    def _warn(self) -> RegulatoryClock:
        if self.warn_before_hours >= self.hours:
            raise ValueError(f"warn_before_hours ({self.warn_before_hours}) must be less than hours ({self.hours})")
        return self


class Policy(_Strict):
    """The whole policy file."""

    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    harms: dict[str, HarmRule] = Field(min_length=1)
    fields: dict[str, str] = Field(default_factory=dict)
    affected: list[AffectedStep] = Field(default_factory=list)
    vulnerable_raise: int = Field(default=1, ge=0, le=3)
    severities: dict[str, SeverityRule]
    regulatory_clocks: dict[str, RegulatoryClock] = Field(default_factory=dict)
    notice_template: str = "communication_correction"

    @model_validator(mode="after")
    def _references(self) -> Policy:
        problems = [
            f"harm name {h!r} must be lower-case letters, digits or _" for h in self.harms if not _NAME.match(h)
        ]
        missing = [s for s in SEVERITIES if s not in self.severities]
        if missing:
            problems.append(f"severities needs every severity; missing {', '.join(missing)}")
        problems += [
            f"severities.{s} is not a severity ({', '.join(SEVERITIES)})"
            for s in self.severities
            if s not in SEVERITIES
        ]
        for name, harm in self.harms.items():
            if harm.regulatory_clock is not None and harm.regulatory_clock not in self.regulatory_clocks:
                problems.append(f"harms.{name}.regulatory_clock names no clock in regulatory_clocks")
        problems += [
            f"fields.{f} names harm {h!r}, which harms does not define"
            for f, h in self.fields.items()
            if h not in self.harms
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def calendar_for(self, rule: ClockRule) -> BusinessCalendar:
        calendar = self.calendar.calendar()
        return calendar.around_the_clock() if rule.around_the_clock else calendar


class PolicyError(Exception):
    """A policy file that did not load, with each mistake as `FILE line N: field: what is wrong`."""

    def __init__(self, source: str, mistakes: Sequence[str]) -> None:
        self.source = source
        self.mistakes = list(mistakes)
        super().__init__(f"the error policy {source} was not loaded:\n  " + "\n  ".join(self.mistakes))


def _line_of(root: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """The 1-based line of the value at `loc` in the YAML node tree (the deepest node found on the way)."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            found = node.value[key]
        else:
            found = None
        if found is None:
            break
        node, line = found, found.start_mark.line + 1
    return line


def load_policy(text: str, source: str = "policy.yaml") -> Policy:
    """Parse and check a policy; PolicyError lists every mistake with its line and field."""
    try:
        data, root = yaml.safe_load(text), yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise PolicyError(source, [f"{source}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise PolicyError(source, [f"{source} line 1: the policy must be a mapping (harms, severities, …)"])
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        mistakes = []
        for error in exc.errors():
            loc = [p for p in error["loc"] if p not in ("function-after[_references(), Policy]",)]
            field = ".".join(str(p) for p in loc) or "(the policy)"
            line = _line_of(root, loc)
            mistakes.append(f"{source} line {line}: {field}: {error['msg']}")
        raise PolicyError(source, mistakes) from None


def read_policy(path: Path | None) -> Policy:
    """The policy in a file (the built-in one when None); PolicyError when it cannot be read or is wrong."""
    path = path or BUILTIN_POLICY
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), [f"{path}: cannot be read: {exc.strerror}"]) from None
    return load_policy(text, str(path))


@dataclass(frozen=True, slots=True)
class Classification:
    """The harm and severity of a report, with the reason in words."""

    harm: str
    severity: str
    reason: str
    may_fix_at_contact: bool


def harm_for(policy: Policy, field: str, harm: str | None) -> str | None:
    """The harm a reporter named, or the one the policy reads from the wrong field; None when neither says."""
    if harm:
        return harm
    return policy.fields.get(field.strip().lower())


def classify(policy: Policy, harm: str, customers_affected: int, is_vulnerable: bool) -> Classification:
    """Severity from harm, the customers affected and vulnerability, capped at the most severe."""
    rule = policy.harms[harm]
    base = SEVERITIES.index(rule.severity)
    steps = [s.raise_ for s in policy.affected if customers_affected >= s.at_least]
    raised_by_count = max(steps, default=0)
    raised_by_vulnerability = policy.vulnerable_raise if is_vulnerable else 0
    severity = SEVERITIES[min(base + raised_by_count + raised_by_vulnerability, len(SEVERITIES) - 1)]
    parts = [f"{harm.replace('_', ' ')} harm is {rule.severity}"]
    people = "customer" if customers_affected == 1 else "customers"
    parts.append(f"{customers_affected} {people} affected" + (f" (+{raised_by_count})" if raised_by_count else ""))
    if is_vulnerable:
        parts.append(f"vulnerable customer (+{raised_by_vulnerability})")
    reason = "; ".join(parts) + f" → {severity}"
    # A simple error stays the agent's to fix only while it touches one customer and nobody vulnerable.
    may_fix = rule.fix_at_contact and severity in ("low", "medium") and customers_affected == 1
    return Classification(harm, severity, reason, may_fix)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The due times a report starts with."""

    acknowledge_due_at: datetime
    resolve_due_at: datetime
    regulatory_clock: str | None
    regulatory_due_at: datetime | None
    regulatory_warn_at: datetime | None


def deadlines(policy: Policy, harm: str, severity: str, known_at: datetime) -> Deadlines:
    """When acknowledgement and resolution are due (business time or 24x7), and any regulatory deadline (wall-clock
    time from the moment the company knew)."""
    rule = policy.severities[severity]
    ack = policy.calendar_for(rule.acknowledge).add(known_at, rule.acknowledge.minutes * 60.0)
    resolve = policy.calendar_for(rule.resolve).add(known_at, rule.resolve.minutes * 60.0)
    clock_name = policy.harms[harm].regulatory_clock
    if clock_name is None:
        return Deadlines(ack, resolve, None, None, None)
    clock = policy.regulatory_clocks[clock_name]
    due = known_at + timedelta(hours=clock.hours)
    return Deadlines(ack, resolve, clock_name, due, due - timedelta(hours=clock.warn_before_hours))
