"""Tables of the report pages that are not dashboards (funnels, paths) download through the reports area's one
export (`reports/export.py`: CSV with formulas defused, or JSON records): the page, given `format`, answers the
table named by `table` as a file instead of the page, computed from the same query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import Response

from seamline.console.pages import HEADERS
from seamline.reports.export import MEDIA, encoded
from seamline.reports.tiles import Table

Format = Annotated[str | None, Query(pattern="^(csv|json)$", description="Download a table: csv or json")]


def download(name: str, records: Sequence[Mapping[str, Any]], format: str) -> Response:
    """The records (one mapping per row, same keys) as a CSV or JSON attachment named after the table."""
    columns = tuple(records[0]) if records else ()
    body = encoded(Table(name, name, columns, tuple(records)), format)
    disposition = f'attachment; filename="{name}.{format}"'
    return Response(body, media_type=MEDIA[format], headers={**HEADERS, "Content-Disposition": disposition})
