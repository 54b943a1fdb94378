"""Templates are files: YAML declarations around Jinja2 sources, rendered in a sandboxed, autoescaping environment.

A template declares its communication type, the purpose and topic consent is asked for, its priority class, its
owner and the data fields it uses. Using a field it did not declare, or lacking a declared one, is an error at
render time (never a silent blank): undeclared names are refused when the template is loaded, and the render
itself runs with StrictUndefined.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2 import Template as JinjaTemplate
from jinja2.sandbox import SandboxedEnvironment

from seamline.core.errors import FieldError, InvalidInput, NotFound

TYPES = ("statement", "notice", "service", "marketing", "regulatory", "survey")
PRIORITIES = ("critical", "service", "marketing")
CHANNELS = ("email", "sms", "push", "paper", "in_app")
# Names Seamline fills itself, which a template may use without declaring.
PROVIDED = ("preferences_url", "communication_id")
SEAMLINE = "seamline"  # the platform of the templates Seamline renders and sends itself
# The sources a template may hold: html and in_app are autoescaped (an app may show the inbox body as HTML).
SOURCES = ("subject", "text", "html", "sms", "in_app")
SECRET = "[secret]"  # noqa: S105  # not a password: what the communications log keeps of a secret field's value
# Channels whose delivery keeps no copy of the body on our side: the only ones a template with secrets may use.
SECRET_CHANNELS = ("email", "sms")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,99}$")


@dataclass(frozen=True, slots=True)
class Template:
    """A loaded, checked template."""

    name: str
    version: str
    type: str
    purpose: str
    topic: str | None
    priority: str
    owner: str
    channels: tuple[str, ...]
    fields: tuple[str, ...]
    document_type: str | None
    sources: Mapping[str, str]  # subject, text, html (email); text (paper); sms (sms, push); in_app (the inbox)
    compiled: Mapping[str, JinjaTemplate]  # each source compiled once, when the template is loaded
    # What the communications assessment reads (docs/assessment.md): the systems whose data feeds it, the
    # platform that sends it (another platform's communication is declared without a body), the event that
    # says it did its job and within how many days, and what one message costs.
    source_systems: tuple[str, ...] = ()
    platform: str = SEAMLINE
    goal_event: str | None = None
    goal_window_days: int = 7
    cost_per_message: float | None = None
    # Fields whose values must never be kept (a live resume link or code): the log keeps them as SECRET, the
    # message carries them only in its outbox payload, which is dropped once the message is settled.
    secret_fields: tuple[str, ...] = ()

    @property
    def is_declaration_only(self) -> bool:
        """Another platform sends it: Seamline knows what it is, not how to render it."""
        return self.platform != SEAMLINE

    @property
    def needs_consent(self) -> bool:
        """Critical and regulatory messages pass a purpose opt-out (never an unreachable channel)."""
        return not (self.priority == "critical" or self.type == "regulatory")


@dataclass(frozen=True, slots=True)
class Rendered:
    template: Template
    subject: str
    text: str
    html: str | None
    fields: Mapping[str, Any]
    sms: str | None = None  # the short body of SMS and push, when the template declares one
    in_app: str | None = None  # the in-app inbox body (HTML, autoescaped), when declared

    @property
    def has_secret(self) -> bool:
        """The rendered body holds a secret field's value: it may live only in the outbox, until it is sent."""
        return bool(self.template.secret_fields)


def _problem(name: str, field: str, code: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError(field, code, message)], f"template {name!r} cannot be used")


_TEXT_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_HTML_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)


def _parse(name: str, raw: Mapping[str, Any]) -> Template:
    def text(key: str, default: str | None = None) -> str | None:
        value = raw.get(key, default)
        if value is not None and not isinstance(value, str | int | float):
            raise _problem(name, key, "invalid", f"{key} must be text")
        return None if value is None else str(value)

    kind, priority, purpose = text("type"), text("priority"), text("purpose")
    if kind not in TYPES:
        raise _problem(name, "type", "invalid", f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    if priority not in PRIORITIES:
        raise _problem(name, "priority", "invalid", f"priority must be one of {', '.join(PRIORITIES)}")
    if not purpose:
        raise _problem(name, "purpose", "required", "a template declares the consent purpose it is sent for")
    owner = text("owner")
    if not owner:
        raise _problem(name, "owner", "required", "a template declares its owner")
    channels = tuple(raw.get("channels") or ["email"])
    bad = [c for c in channels if c not in CHANNELS]
    if bad:
        raise _problem(name, "channels", "invalid", f"unknown channels {bad}; known: {', '.join(CHANNELS)}")
    fields = tuple(str(f) for f in raw.get("fields") or [])
    sources = {key: str(raw[key]) for key in SOURCES if raw.get(key) is not None}
    platform = text("platform", SEAMLINE) or SEAMLINE
    assessed = _assessed(name, raw)
    if platform != SEAMLINE:
        sources = {}  # another platform renders it; a body here would never be used
    elif "text" not in sources:
        raise _problem(name, "text", "required", "a template has a text body")
    if platform == SEAMLINE and "email" in channels and "subject" not in sources:
        raise _problem(name, "subject", "required", "an email template has a subject")
    compiled: dict[str, JinjaTemplate] = {}
    for key, source in sources.items():
        env = _HTML_ENV if key in ("html", "in_app") else _TEXT_ENV
        try:
            used = meta.find_undeclared_variables(env.parse(source))
            compiled[key] = env.from_string(source)
        except TemplateError as exc:
            raise _problem(name, key, "syntax", f"{key}: {exc}") from exc
        undeclared = sorted(used - set(fields) - set(PROVIDED))
        if undeclared:
            raise _problem(
                name,
                key,
                "undeclared_field",
                f"{key} uses {', '.join(undeclared)}, which the template does not declare",
            )
    secret_fields = _secret_fields(name, raw, fields, channels, sources)
    return Template(
        name=name,
        version=text("version", "1") or "1",
        type=kind,
        purpose=purpose,
        topic=text("topic"),
        priority=priority,
        owner=owner,
        channels=channels,
        fields=fields,
        document_type=text("document_type"),
        sources=sources,
        compiled=compiled,
        platform=platform,
        secret_fields=secret_fields,
        **assessed,
    )


def _secret_fields(
    name: str, raw: Mapping[str, Any], fields: tuple[str, ...], channels: tuple[str, ...], sources: Mapping[str, str]
) -> tuple[str, ...]:
    """`secret_fields`: declared fields kept out of the log. Not in the subject (the log keeps it), and only on
    channels that keep no copy of the body (an in-app inbox row or a print file would)."""
    given = raw.get("secret_fields") or []
    if not isinstance(given, list) or not all(isinstance(f, str) for f in given):
        raise _problem(name, "secret_fields", "invalid", "secret_fields is a list of declared field names")
    undeclared = [f for f in given if f not in fields]
    if undeclared:
        raise _problem(name, "secret_fields", "undeclared_field", f"{', '.join(undeclared)} not in fields")
    if given and any(c not in SECRET_CHANNELS for c in channels):
        allowed = ", ".join(SECRET_CHANNELS)
        raise _problem(name, "channels", "keeps_secret", f"a template with secret fields is sent only by {allowed}")
    in_subject = meta.find_undeclared_variables(_TEXT_ENV.parse(sources.get("subject", ""))) & set(given)
    if in_subject:
        raise _problem(name, "subject", "secret_field", f"the subject is logged: it may not use {sorted(in_subject)}")
    return tuple(given)


def _assessed(name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The declarations the assessment reads: source systems, goal event and window, cost per message."""
    systems = raw.get("source_systems") or []
    if not isinstance(systems, list) or not all(isinstance(s, str) and s for s in systems):
        raise _problem(name, "source_systems", "invalid", "source_systems is a list of system names")
    goal = raw.get("goal_event")
    if goal is not None and (not isinstance(goal, str) or not goal.strip()):
        raise _problem(name, "goal_event", "invalid", "goal_event is the name of a tracked event")
    window = raw.get("goal_window_days", 7)
    if not isinstance(window, int) or isinstance(window, bool) or not 1 <= window <= 365:
        raise _problem(name, "goal_window_days", "invalid", "goal_window_days is a whole number from 1 to 365")
    cost = raw.get("cost_per_message")
    if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float) or cost < 0):
        raise _problem(name, "cost_per_message", "invalid", "cost_per_message is a number, 0 or more")
    return {
        "source_systems": tuple(systems),
        "goal_event": goal.strip() if isinstance(goal, str) else None,
        "goal_window_days": window,
        "cost_per_message": None if cost is None else float(cost),
    }


class Catalog:
    """The templates of one folder (`NAME.yaml`), loaded and checked on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded: dict[str, Template] = {}

    def get(self, name: str) -> Template:
        """The template `name`; NotFound when there is no such file, InvalidInput when it is not valid."""
        found = self._loaded.get(name)
        if found is not None:
            return found
        path = self.directory / f"{name}.yaml"
        if not _NAME.fullmatch(name) or not path.is_file():
            raise NotFound(f"no template {name!r} in {self.directory}")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise _problem(name, "template", "syntax", f"not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise _problem(name, "template", "invalid", "a template file is a mapping of declarations")
        template = self._loaded[name] = _parse(name, raw)
        return template

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.yaml"))


def render(template: Template, data: Mapping[str, Any], provided: Mapping[str, Any]) -> Rendered:
    """Render with exactly the declared fields; a missing one is an InvalidInput naming it."""
    if template.is_declaration_only:
        raise _problem(template.name, "template", "not_sent_here", f"{template.platform} sends it, not Seamline")
    missing = [f for f in template.fields if f not in data]
    if missing:
        raise InvalidInput(
            [FieldError(f"data.{f}", "missing", f"template {template.name!r} declares {f}") for f in missing],
            f"data for template {template.name!r} lacks declared fields",
        )
    context = {**{k: v for k, v in provided.items() if k in PROVIDED}, **{f: data[f] for f in template.fields}}
    out: dict[str, str] = {}
    for key, compiled in template.compiled.items():
        try:
            out[key] = compiled.render(context)
        except TemplateError as exc:
            raise _problem(template.name, key, "render", f"{key}: {exc}") from exc
    fields = {f: SECRET if f in template.secret_fields else data[f] for f in template.fields}
    sms = out["sms"].strip() if "sms" in out else None
    subject = out.get("subject", "").strip()
    return Rendered(template, subject, out["text"], out.get("html"), fields, sms, out.get("in_app"))
