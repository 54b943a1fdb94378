"""The journeys board: how many instances of each definition are open, stalled, abandoned or completed, at
which step; and the instances behind one of those counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from seamline.journeys import progress, repository


@dataclass(frozen=True, slots=True)
class BoardRow:
    journey: str
    name: str
    step: str | None
    counts: dict[str, int]  # status -> instances


def board(session: Session) -> list[BoardRow]:
    """One row per (definition, current step), in the definition's step order; completed ones on a row of their own."""
    definitions = {row.key: row for row in repository.definitions(session)}
    grouped: dict[tuple[str, str | None], dict[str, int]] = {}
    for row in repository.board(session):
        grouped.setdefault((row.journey, row.current_step), {})[row.status] = row.instances
    out = []
    for key, definition in definitions.items():
        order = [s["key"] for s in definition.body["steps"]]
        for step in [*order, None]:
            counts = grouped.get((key, step))
            if counts:
                out.append(BoardRow(key, definition.name, step, {s: counts.get(s, 0) for s in progress.STATUSES}))
    return out


# The instances behind a count, most recently active first.
listing = repository.listing
