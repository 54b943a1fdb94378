"""Who is in a customer segment now: the golden values of the traits its conditions name, read in bulk, and the
conditions evaluated as a scheduled rule evaluates them (one reading of the golden record for rules and reports)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from seamline.profiles.service import golden_values
from seamline.profiles.survivorship import SurvivorshipConfig
from seamline.sources.service import list_sources
from seamline.triggers.matching import all_hold, lookup
from seamline.triggers.segments import Segment, load_segments


def segments_path(configured: Path | None, data_dir: Path) -> Path:
    """`[triggers] segments_file`, by default DATA_DIR/segments.yaml."""
    return configured or data_dir / "segments.yaml"


@dataclass(frozen=True, slots=True)
class Audience:
    """The customer segments in force and how to read their members (merged profiles count once, as their
    survivor; erased ones are gone)."""

    segments: Mapping[str, Segment]
    survivorship: SurvivorshipConfig
    # Members are kept this many seconds per database and segment (0: read every time). Why: reading them is a
    # bulk read of the golden record (3.2 s for 50,000 profiles on SQLite under load, benchmarks/feedback.py),
    # and a funnel or feedback page asks for them on every request.
    ttl: float = 0.0
    _kept: dict[tuple[int, str], tuple[float, frozenset[int]]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(cls, path: Path | None, survivorship: SurvivorshipConfig, ttl: float = 0.0) -> Audience:
        """The segments of a file (none without one); SegmentError at a bad file."""
        return cls(load_segments(path), survivorship, ttl)

    def members(self, session: Session, key: str) -> frozenset[int]:
        """The profile ids of the segment's members now (or `ttl` seconds ago at most); KeyError for an unknown
        segment (the edges check first)."""
        segment = self.segments[key]
        mark = (id(session.get_bind()), key)
        kept = self._kept.get(mark)
        if kept is not None and time.monotonic() - kept[0] < self.ttl:
            return kept[1]
        sources = {s.id: s.name for s in list_sources(session)}
        found = golden_values(session, sorted(segment.trait_names), sources, self.survivorship, None)
        members = frozenset(p for p, traits in found.items() if all_hold(segment.conditions, lookup({}, traits)))
        if self.ttl > 0:
            self._kept[mark] = (time.monotonic(), members)
        return members
