"""Channel effectiveness per channel x communication (x segment): delivery, engagement, conversion against the
declared goal event, complaints, unsubscribes, cost, and contacts after. Pure.

Rates are shares of the messages that went (held ones, suppressed at send time, are counted apart): delivery,
opens, clicks, conversion and contacts after are over messages sent; complaints and unsubscribes too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from seamline.assessment.inventory import Declaration


@dataclass(frozen=True, slots=True)
class EffectivenessRow:
    channel: str
    communication: str
    segment: str | None
    volume: int
    held: int
    sent: int
    delivery_rate: float | None
    open_rate: float | None
    click_rate: float | None
    goal_event: str | None
    conversion_rate: float | None  # None: no goal event declared
    complaint_rate: float | None
    unsubscribe_rate: float | None
    failure_rate: float | None
    contacts_after_rate: float | None
    contacts_after: int
    cost_per_message: float | None
    cost: float | None

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def cost_of(declared: Declaration | None, channel: str, channel_costs: Mapping[str, float]) -> float | None:
    """One message's cost: the template's declaration first, else the channel's configured cost."""
    if declared is not None and declared.cost_per_message is not None:
        return declared.cost_per_message
    return channel_costs.get(channel)


def build(
    rows: Sequence[Mapping[str, Any]], declared: Mapping[str, Declaration], channel_costs: Mapping[str, float]
) -> list[EffectivenessRow]:
    """Rates per group from the counts (queries.effectiveness), busiest first."""
    out = []
    for r in rows:
        name, channel = str(r["communication"]), str(r["channel"])
        d = declared.get(name)
        sent = int(r["sent"])
        unit = cost_of(d, channel, channel_costs)
        goal = d.goal_event if d else None
        out.append(
            EffectivenessRow(
                channel=channel,
                communication=name,
                segment=r["segment"],
                volume=int(r["volume"]),
                held=int(r["held"]),
                sent=sent,
                delivery_rate=_share(int(r["delivered"]), sent),
                open_rate=_share(int(r["opened"]), sent) if channel in ("email", "in_app", "push") else None,
                click_rate=_share(int(r["clicked"]), sent) if channel in ("email", "in_app", "push") else None,
                goal_event=goal,
                conversion_rate=_share(int(r["converted"]), sent) if goal else None,
                complaint_rate=_share(int(r["complained"]), sent),
                unsubscribe_rate=_share(int(r["unsubscribed"]), sent),
                failure_rate=_share(int(r["failed"]), sent),
                contacts_after_rate=_share(int(r["contacted_after"]), sent),
                contacts_after=int(r["contacted_after"]),
                cost_per_message=unit,
                cost=round(unit * sent, 2) if unit is not None else None,
            )
        )
    return out
