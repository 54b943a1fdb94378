"""The demo bank's customer segments (DATA_DIR/segments.yaml): the CX overview, funnels, paths and the feedback
page can be filtered by them (console: Reports, "Customer segment"), and a rule on a schedule may name them.

`premier` is every customer whose golden record says `segment: premier` — the trait the decision point reads for
its propensity segments ([decisions] segment_trait), so the reports and the decisions speak of the same people.
The bank's relationship-management system (the web's CRM feed here) tells Seamline who they are: every second
registered customer, by an `identify` call."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from seamline.synthetic.people import Person

SEGMENTS = """\
# Customer segments: each the golden-record conditions of its members, in the language of a rule's on.traits.
# The reports' "Customer segment" filter lists them; a rule on a schedule names one with on.segment.
premier:
  title: Premier customers
  description: The relationship managers' customers (the decision point's segment trait).
  traits: {segment: premier}
everyday:
  title: Everyday banking customers
  traits: {segment: {ne: premier}}
"""


def install_segments(data_dir: Path) -> bool:
    """Write the demo's segments file (kept if already there: an operator may have edited it)."""
    path = data_dir / "segments.yaml"
    if path.exists():
        return False
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(SEGMENTS, encoding="utf-8")
    return True


def segment_traffic(people: Sequence[Person], now: datetime) -> list[tuple[str, dict[str, Any]]]:
    """An `identify` per registered customer naming their segment: every second one premier, the others everyday."""
    at = (now - timedelta(days=40)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    registered = [p for p in people if p.user_id is not None]
    return [
        ("web", {"type": "identify", "userId": p.user_id, "traits": {"segment": "premier" if i % 2 else "everyday"},
                 "context": {"channel": "web"}, "timestamp": at})
        for i, p in enumerate(registered, start=1)
    ]  # fmt: skip
