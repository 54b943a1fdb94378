"""The customer-segment parameter of the aggregate APIs (feedback rollups, journey analytics): a segment of the
segments file, as the reports' dashboards hold it, and its members read now."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from seamline.core.db import unit_of_work
from seamline.core.errors import FieldError, InvalidInput
from seamline.reports.dashboards import Dashboards

SegmentName = Annotated[
    str | None, Query(max_length=64, description="A customer segment (segments.yaml): only its members count")
]


def segment_members(request: Request, segment: SegmentName = None) -> tuple[str | None, frozenset[int] | None]:
    """The segment asked for and its members' profile ids ((None, None): everyone); a 400 naming `segment`."""
    if not segment:
        return None, None
    dashboards: Dashboards = request.app.state.dashboards
    if dashboards.audience is None or segment not in dashboards.segments:
        known = ", ".join(sorted(dashboards.segments)) or "none are defined"
        raise InvalidInput([FieldError("segment", "unknown", f"no segment {segment!r}; known: {known}")])
    with unit_of_work(dashboards.engine, write=False) as session:
        return segment, dashboards.audience.members(session, segment)


Segmented = Annotated[tuple[str | None, frozenset[int] | None], Depends(segment_members)]
