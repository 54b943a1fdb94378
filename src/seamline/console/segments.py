"""The customer-segment filter of the reports pages that are not dashboards (funnels, paths, feedback): the
segments of segments.yaml as the reports' dashboards hold them, and the members of the one chosen."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.reports.dashboards import Dashboards


@dataclass(frozen=True, slots=True)
class Chosen:
    """The segments offered (key → title), the one chosen, and its members' profile ids (None: everyone)."""

    choices: dict[str, str]
    key: str | None = None
    members: frozenset[int] | None = None


def chosen_segment(request: Request, value: str | None) -> Chosen:
    """The segment a page's query names, with its members read now; a 400 naming `segment` when it is not one."""
    dashboards: Dashboards = request.app.state.dashboards
    choices = dashboards.segments
    if not value:
        return Chosen(choices)
    if value not in choices or dashboards.audience is None:
        known = ", ".join(sorted(choices)) or "none are defined"
        raise InvalidInput([FieldError("segment", "unknown", f"no segment {value!r}; known: {known}")], "bad filter")
    with unit_of_work(dashboards.engine, write=False) as session:
        return Chosen(choices, value, dashboards.audience.members(session, value))
