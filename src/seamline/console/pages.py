"""Rendering: Jinja2 templates beside this module, autoescaped, and the headers every console page carries."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from seamline.console.labels import trait_label
from seamline.profiles.vocabulary import ADDRESS_PARTS, address_text
from seamline.users.permissions import (
    ASSESS_COMMUNICATIONS,
    CHANGE_PREFERENCES,
    FIND_CUSTOMERS,
    MANAGE_OUTBOX,
    MANAGE_USERS,
    REVIEW_MATCHES,
    VIEW_CASES,
    VIEW_JOURNEYS,
    VIEW_REPORTS,
    may,
)
from seamline.users.service import SignedIn

HERE = Path(__file__).parent
# Pages show personal data: no cache may keep them, no other site may frame them, and there is no script at all.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
}
# (permission, path, label): the shell's navigation shows what the role may open, nothing else.
NAVIGATION = (
    (FIND_CUSTOMERS, "/console/find", "Find a customer"),
    (VIEW_CASES, "/console/cases", "Cases"),
    (VIEW_JOURNEYS, "/console/journeys", "Journeys"),
    (VIEW_CASES, "/console/tasks", "Tasks"),
    (VIEW_CASES, "/console/errors", "Errors"),
    (REVIEW_MATCHES, "/console/matches", "Match review"),
    (VIEW_REPORTS, "/console/reports", "Reports"),
    (ASSESS_COMMUNICATIONS, "/console/communications", "Communications"),
    (MANAGE_USERS, "/console/users", "Users"),
    (MANAGE_OUTBOX, "/console/outbox", "Outbox"),
)


@pass_context
def _when(context: Context, moment: datetime | None) -> str:
    """A time in the console's time zone (stored times are UTC; a naive one is read as UTC)."""
    if moment is None:
        return "—"
    zone: ZoneInfo = context.get("time_zone") or ZoneInfo("UTC")
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def _value(value: Any) -> str:
    """A trait value as text: strings as they are, an address on one line, anything else as compact JSON."""
    if isinstance(value, dict) and value and all(k in ADDRESS_PARTS for k in value):
        return address_text(value)
    return value if isinstance(value, str) else orjson.dumps(value).decode()


_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["when"] = _when
_env.filters["json"] = _json
_env.filters["value"] = _value
_env.filters["label"] = trait_label


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _zone_name(request: Request) -> str:
    console = getattr(request.app.state, "console", None)  # absent only before the lifespan has started
    return str(console.config.time_zone) if console is not None else "UTC"


def render(request: Request, template: str, user: SignedIn | None, *, status: int = 200, **values: Any) -> HTMLResponse:
    """A console page inside the shell (navigation by role, the user, and the logout form)."""
    navigation = [(path, label) for permission, path, label in NAVIGATION if user and may(user.user.role, permission)]
    body = _env.get_template(template).render(
        user=user,
        navigation=navigation,
        current=request.url.path,
        csrf_token=user.csrf_token if user else "",
        may=(lambda permission: bool(user) and may(user.user.role, permission)) if user else (lambda _p: False),
        CHANGE_PREFERENCES=CHANGE_PREFERENCES,
        time_zone=_zone(_zone_name(request)),
        **values,
    )
    return HTMLResponse(body, status_code=status, headers=HEADERS)
