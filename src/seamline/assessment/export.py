"""Reports as flat records, CSV and JSON: the console's downloads, the API's CSV and `seamline assess` share them."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from typing import Any

from seamline.assessment.scope import Scope
from seamline.assessment.service import Assessment

REPORTS = ("inventory", "flow", "effectiveness", "bottlenecks", "journey_steps", "redundancy")


def report_records(
    reports: Assessment,
    report: str,
    scope: Scope,
    *,
    segment: str | None = None,
    members: Collection[int] | None = None,
) -> list[dict[str, Any]]:
    """A report's rows as flat records (the flow map's: one per edge); effectiveness split by `segment` (product,
    or a customer segment with its `members`) when given."""
    if report == "inventory":
        return [r.as_record() for r in reports.inventory(scope)]
    if report == "flow":
        return reports.flow_map(scope).edge_rows()
    if report == "effectiveness":
        return [r.as_record() for r in reports.effectiveness(scope, segment=segment, members=members)]
    if report == "bottlenecks":
        return [b.as_record() for b in reports.bottlenecks(scope).breaks]
    if report == "journey_steps":
        return [s.as_record() for s in reports.bottlenecks(scope).steps]
    if report == "redundancy":
        return [r.as_record() for r in reports.redundancy()]
    raise ValueError(f"{report!r} is not a report")  # the edges check before


def csv_text(records: list[dict[str, Any]]) -> str:
    """Records as CSV (header from the first record's keys; lists joined by `; `)."""
    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow(
                {k: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v for k, v in record.items()}
            )
    return out.getvalue()
