"""Redundant data collection: every place that collects each canonical field, how often it asked for a value
Seamline already held from elsewhere, and how often the values disagreed. Ranked by effort wasted. Pure.

Places are trait sources (imports, tracking sources, console corrections: from trait provenance) and any extra
collection points a caller passes — journey steps, for one, as `CollectionPoint`s with their own counters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class CollectionPoint:
    """A place outside trait provenance that asks for a field, with its prefill counters (a journey step)."""

    journey: str
    step: str
    field: str
    asked: int
    already_held: int
    disagreed: int


@dataclass(frozen=True, slots=True)
class Redundancy:
    place: str  # a source's name, or "journey JOURNEY, step STEP"
    kind: str  # source, journey
    field: str
    asked: int  # people it holds (or asked) a value for
    already_held: int  # of them, people who had already given it elsewhere first
    disagreed: int  # of those, people whose values disagree
    first_holder: str | None  # where they most often gave it first
    sentence: str

    @property
    def held_share(self) -> float:
        return self.already_held / self.asked if self.asked else 0.0

    def as_record(self) -> dict[str, Any]:
        return {**asdict(self), "held_share": round(self.held_share, 4)}


def _field(name: str) -> str:
    return name.replace("_", " ")


def sentence(place: str, field: str, asked: int, held: int, disagreed: int, holder: str | None) -> str:
    """The finding in one plain sentence."""
    if not asked or not held:
        return f"{place} asks for the {_field(field)}; nobody had given it elsewhere first."
    where = f"to {holder}" if holder else "elsewhere"
    text = f"{place} asks for the {_field(field)}; {held / asked:.0%} already gave it {where}"
    if disagreed:
        text += f", and for {disagreed / held:.0%} of them the two disagree"
    return text + "."


def build(
    collected: Sequence[Mapping[str, Any]], sources: Mapping[int, str], points: Sequence[CollectionPoint] = ()
) -> list[Redundancy]:
    """Rows from trait provenance (queries.collections) and extra collection points, most effort wasted first;
    a place that never asked for anything already held is left out."""
    out: list[Redundancy] = []
    for r in collected:
        held = int(r["already_held"])
        if not held:
            continue
        place = sources.get(int(r["collector"]), f"source {r['collector']}")
        holder = sources.get(int(r["holder"])) if r["holder"] is not None else None
        asked, disagreed, field = int(r["asked"]), int(r["disagreed"]), str(r["name"])
        out.append(
            Redundancy(
                place,
                "source",
                field,
                asked,
                held,
                disagreed,
                holder,
                sentence(place, field, asked, held, disagreed, holder),
            )
        )
    for p in points:
        if not p.already_held:
            continue
        place = f"the {p.journey} journey at step {p.step}"
        out.append(
            Redundancy(
                place,
                "journey",
                p.field,
                p.asked,
                p.already_held,
                p.disagreed,
                None,
                sentence(place, p.field, p.asked, p.already_held, p.disagreed, None),
            )
        )
    return sorted(out, key=lambda r: (-r.already_held, -r.held_share, r.place, r.field))
