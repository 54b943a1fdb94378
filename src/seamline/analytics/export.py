"""Journey analytics as flat records: the API's CSV, the console's downloads and the CLI share them."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from typing import Any

from seamline.analytics.crosschannel import CrossChannel
from seamline.analytics.identification import RepeatedIdentification
from seamline.analytics.paths import PathView
from seamline.analytics.service import Funnel

Record = dict[str, Any]


def funnel_records(funnel: Funnel) -> list[Record]:
    """One record per step (and per breakdown group)."""
    return [asdict(f) for f in funnel.figures]


def path_records(view: PathView) -> list[Record]:
    """One record per path."""
    return [{"step": view.label, "who": view.who, "path": p.text, "people": p.people, "share": p.share}
            for p in view.paths]  # fmt: skip


def identification_records(found: RepeatedIdentification) -> list[Record]:
    """One record for person-days, then one per journey."""
    d = found.days
    rows: list[Record] = [
        {"scope": "person-day", "journey": "", "count": d.person_days, "repeated": d.repeated,
         "across_channels": d.across_channels, "repeated_share": d.repeated_share, "mean": d.mean_per_day,
         "most": d.most_in_a_day},
    ]  # fmt: skip
    rows.extend(
        {"scope": "journey", "journey": j.journey, "count": j.instances, "repeated": j.repeated,
         "across_channels": j.across_channels, "repeated_share": j.repeated_share, "mean": j.mean_identifications,
         "most": j.most}
        for j in found.journeys
    )  # fmt: skip
    return rows


def cross_channel_records(found: CrossChannel) -> list[Record]:
    """One record per journey and pair of channels (begun on, finished on)."""
    return [asdict(h) for h in found.handovers]


def csv_text(records: list[Record]) -> str:
    """Records as CSV (the header from the first record's keys)."""
    out = io.StringIO()
    if records:
        writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in r.items()} for r in records)
    return out.getvalue()


def _cell(value: Any) -> Any:
    # A step is typed by a user: text a spreadsheet would run as a formula is kept as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
