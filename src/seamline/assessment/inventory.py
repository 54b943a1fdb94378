"""The inventory: every communication in the ecosystem, one row each, from the log and the declarations. Pure.

A row joins what the templates declare (purpose, owner, source systems, platform, channels, consent basis) with
what the log shows (versions, sources, platforms, channels, volume, cadence, first and last sent, error rate).
Communications seen in the log but never declared are flagged `undeclared`; declared but never sent, `never_sent`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

UNDECLARED = "undeclared"
NEVER_SENT = "never_sent"
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Declaration:
    """What a template declares about a communication (the catalog's view, read by the assessment)."""

    name: str
    type: str
    purpose: str
    topic: str | None
    owner: str
    version: str
    priority: str
    channels: tuple[str, ...]
    source_systems: tuple[str, ...]
    platform: str
    needs_consent: bool
    goal_event: str | None
    goal_window_days: int
    cost_per_message: float | None


@dataclass(frozen=True, slots=True)
class InventoryRow:
    communication: str
    type: str
    purpose: str | None
    topic: str | None
    owner: str | None
    versions: tuple[str, ...]
    source_systems: tuple[str, ...]
    platforms: tuple[str, ...]
    channels: tuple[str, ...]
    volume: int
    batches: int
    cadence: str
    first_sent: datetime | None
    last_sent: datetime | None
    consent_basis: str
    may_opt_out: bool | None
    error_rate: float | None
    held: int
    flags: tuple[str, ...]

    def as_record(self) -> dict[str, Any]:
        """A flat record for CSV and JSON: lists joined by `; `, times in ISO 8601."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, tuple | list):
                value = "; ".join(str(v) for v in value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            out[key] = value
        return out


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def cadence(volume: int, batches: int, first: float | None, last: float | None) -> str:
    """How often it goes, in words: per day, week or month over the span it was sent in."""
    if volume == 0 or first is None or last is None:
        return "never sent"
    days = max((last - first) / DAY, 1.0)
    runs = batches or volume
    if runs <= 1:
        return "once"
    per_month = runs / days * 30.0
    if per_month >= 60:
        return f"{runs / days:.0f} sends a day"
    if per_month >= 8:
        return f"{runs / days * 7:.0f} sends a week"
    if per_month >= 0.8:
        return f"{per_month:.0f} a month"
    return f"every {days / runs / 30:.0f} months"


def _basis(declared: Declaration | None) -> tuple[str, bool | None]:
    if declared is None:
        return "undeclared: unknown", None
    if declared.needs_consent:
        topic = f" ({declared.topic})" if declared.topic else ""
        return f"consent for {declared.purpose}{topic}", True
    return f"{declared.priority} {declared.type}: sent whatever the {declared.purpose} choice", False


def _merge(*parts: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted({p for part in parts for p in part if p}))


def build(seen: Sequence[Mapping[str, Any]], declared: Mapping[str, Declaration]) -> list[InventoryRow]:
    """Join the log's rows (queries.inventory) with the declarations; busiest first, never-sent last."""
    rows: list[InventoryRow] = []
    names = set()
    for item in seen:
        name = str(item["communication"])
        names.add(name)
        d = declared.get(name)
        basis, opt_out = _basis(d)
        volume, errors = int(item["volume"]), int(item["errors"])
        held = int(item["held"])
        attempted = volume - held
        rows.append(
            InventoryRow(
                communication=name,
                type=d.type if d else str(item["type"]),
                purpose=d.purpose if d else None,
                topic=d.topic if d else None,
                owner=d.owner if d else None,
                versions=_merge(item["versions"] or [], [d.version] if d else []),
                source_systems=_merge(item["sources"] or [], d.source_systems if d else []),
                platforms=_merge(item["platforms"] or []),
                channels=_merge(item["channels"] or []),
                volume=volume,
                batches=int(item["batches"]),
                cadence=cadence(volume, int(item["batches"]), item["first_sent"], item["last_sent"]),
                first_sent=_moment(item["first_sent"]),
                last_sent=_moment(item["last_sent"]),
                consent_basis=basis,
                may_opt_out=opt_out,
                error_rate=round(errors / attempted, 4) if attempted else None,
                held=held,
                flags=() if d else (UNDECLARED,),
            )
        )
    for name in sorted(set(declared) - names):
        d = declared[name]
        basis, opt_out = _basis(d)
        rows.append(
            InventoryRow(
                name,
                d.type,
                d.purpose,
                d.topic,
                d.owner,
                (d.version,),
                d.source_systems,
                (d.platform,),
                d.channels,
                0,
                0,
                "never sent",
                None,
                None,
                basis,
                opt_out,
                None,
                0,
                (NEVER_SENT,),
            )
        )
    return rows
