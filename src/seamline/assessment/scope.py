"""What a report looks at: a period, a product, a communication type, and a focus on flow-map nodes. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

# The four columns of the flow map, left to right, as the facts name them.
STAGES = ("source_system", "platform", "communication", "channel")
STAGE_LABELS = {
    "source_system": "data source",
    "platform": "platform",
    "communication": "communication",
    "channel": "channel",
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Filters shared by every report; an empty scope is everything."""

    since: datetime | None = None
    until: datetime | None = None
    product: str | None = None
    type: str | None = None  # statement, notice, service, marketing, regulatory, survey…
    focus: dict[str, str] = field(default_factory=dict)  # stage → value: a clicked node (or both ends of an edge)

    def where(self) -> tuple[str, list[object]]:
        """The facts' WHERE clause and its parameters (values always bound, never spliced)."""
        clauses: list[str] = ["TRUE"]
        params: list[object] = []
        if self.since is not None:
            clauses.append("sent_at >= ?")
            params.append(self.since.timestamp())
        if self.until is not None:
            clauses.append("sent_at < ?")
            params.append(self.until.timestamp())
        if self.product:
            clauses.append("product = ?")
            params.append(self.product)
        if self.type:
            clauses.append("type = ?")
            params.append(self.type)
        for stage, value in sorted(self.focus.items()):
            if stage not in STAGES:
                raise ValueError(f"{stage!r} is not a stage of the flow map")  # the edges check before
            clauses.append(f"{stage} = ?")
            params.append(value)
        return " AND ".join(clauses), params

    def daily_where(self) -> tuple[str, list[object]] | None:
        """The clause on the copy's per-day counts (rollup.py), when the period is whole UTC days (None: it is
        not, and the reports read every message)."""
        clause, params = self.where()
        bounds = [b for b in (self.since, self.until) if b is not None]
        if any(b.timestamp() % 86_400 for b in bounds):
            return None
        if self.since is not None:
            clause = clause.replace("sent_at >= ?", "day >= ?", 1)
            params[0] = int(self.since.timestamp() // 86_400)
        if self.until is not None:
            clause = clause.replace("sent_at < ?", "day < ?", 1)
            params[1 if self.since is not None else 0] = int(self.until.timestamp() // 86_400)
        return clause, params

    def as_query(self) -> dict[str, str]:
        """The scope as query parameters (links keep it)."""
        out = {k: v for k, v in self.focus.items()}
        if self.since:
            out["since"] = self.since.date().isoformat()
        if self.until:
            out["until"] = self.until.date().isoformat()
        if self.product:
            out["product"] = self.product
        if self.type:
            out["type"] = self.type
        return out


def scope_of(
    since: date | None = None,
    until: date | None = None,
    product: str | None = None,
    type: str | None = None,
    focus: dict[str, str | None] | None = None,
) -> Scope:
    """A scope from what a form or a query string gives: whole days, `until` included."""
    return Scope(
        since=datetime.combine(since, time.min, UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time.min, UTC) if until else None,
        product=product or None,
        type=type or None,
        focus={k: v for k, v in (focus or {}).items() if v and k in STAGES},
    )
