"""The assessment's reports, each computed from the store through the columnar copy (replica.py), with the
templates' declarations beside the log. One `Assessment` per process (the API, the console and the CLI share it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from seamline.assessment import bottlenecks, effectiveness, flowmap, inventory, queries, redundancy
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.inventory import Declaration
from seamline.assessment.replica import Replica
from seamline.assessment.rollup import Goal
from seamline.assessment.scope import Scope
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work
from seamline.core.errors import InvalidInput, NotFound

SEGMENTS = ("product",)


def declarations(catalog: Catalog) -> dict[str, Declaration]:
    """What every valid template declares (an invalid one cannot be sent, so it is not part of the ecosystem)."""
    out = {}
    for name in catalog.names():
        try:
            t = catalog.get(name)
        except (InvalidInput, NotFound):
            continue
        out[name] = Declaration(
            t.name, t.type, t.purpose, t.topic, t.owner, t.version, t.priority, t.channels, t.source_systems,
            t.platform, t.needs_consent, t.goal_event, t.goal_window_days, t.cost_per_message,
        )  # fmt: skip
    return out


@dataclass(frozen=True, slots=True)
class Bottlenecks:
    breaks: tuple[bottlenecks.Break, ...]
    paths: tuple[bottlenecks.PathLatency, ...]
    steps: tuple[bottlenecks.JourneyStep, ...] = ()  # journeys' steps, slowest first


class CollectedField(Protocol):
    """How often one step of a journey asked for one field (journeys' `CollectionCount` is one)."""

    @property
    def journey(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def field(self) -> str: ...
    @property
    def asked(self) -> int: ...
    @property
    def already_held(self) -> int: ...
    @property
    def disagreed(self) -> int: ...


# Where collection points outside trait provenance come from: a function of a read session —
# `seamline.journeys.service.collection_counts`, wired in by the app when journeys exist.
CollectionCounts = Callable[[Session], Sequence[CollectedField]]
# How long journey steps take and where people stop, completions in a period (since, until): a function of a read
# session — `seamline.journeys.steptimes.step_times`, wired in by the app as the collection counts are.
StepTimes = Callable[[Session, datetime | None, datetime | None], Sequence[bottlenecks.StepTiming]]


def collection_points(rows: Sequence[CollectedField]) -> list[redundancy.CollectionPoint]:
    return [redundancy.CollectionPoint(r.journey, r.step, r.field, r.asked, r.already_held, r.disagreed) for r in rows]


@dataclass
class Assessment:
    """The reports of one store, over a columnar copy kept in this process."""

    engine: Engine
    catalog: Catalog
    config: AssessmentConfig = field(default_factory=AssessmentConfig)
    collection_counts: CollectionCounts | None = None
    step_times: StepTimes | None = None
    replica: Replica = field(init=False)

    def __post_init__(self) -> None:
        self.replica = Replica(
            self.config.refresh_seconds,
            self.config.rebuild_seconds,
            self.config.contacts_after_days * 86_400.0,
            self.config.late_delivery_hours * 3600.0,
        )

    def close(self) -> None:
        """Free the columnar copy when the app stops."""
        self.replica.close()

    def _open(self) -> AbstractContextManager[Session]:
        return unit_of_work(self.engine, write=False)

    def _goals(self, declared: dict[str, Declaration]) -> list[Goal]:
        """(communication, goal event, window in seconds) of every template declaring a goal."""
        return [(n, d.goal_event, d.goal_window_days * 86_400.0) for n, d in declared.items() if d.goal_event]

    def inventory(self, scope: Scope | None = None) -> list[inventory.InventoryRow]:
        """Every communication, declared or seen; undeclared and never-sent ones flagged."""
        scope = scope or Scope()
        declared = declarations(self.catalog)
        with self.replica.reading(self._open, self._goals(declared)) as con:
            seen = queries.inventory(con, scope)
        narrowed = bool(scope.focus or scope.product or scope.type)
        # A narrowed view lists what it shows; every declared communication is listed only in the whole picture.
        shown = {k: v for k, v in declared.items() if not narrowed or k in {s["communication"] for s in seen}}
        return inventory.build(seen, shown)

    def flow_map(self, scope: Scope | None = None) -> flowmap.FlowMap:
        """Data sources → platforms → communications → channels, with volumes and failures on every edge."""
        scope = scope or Scope()
        declared = declarations(self.catalog)
        with self.replica.reading(self._open, self._goals(declared)) as con:
            return flowmap.build(queries.paths(con, scope))

    def effectiveness(
        self, scope: Scope | None = None, *, segment: str | None = None, members: Collection[int] | None = None
    ) -> list[effectiveness.EffectivenessRow]:
        """Per channel x communication (x segment): delivery, engagement, conversion, complaints, contacts after.

        `segment="product"` splits every row by product; any other segment is a customer segment
        (triggers/segments.py) whose `members` (profile ids, read by the caller through `Audience.members`) are
        given: every row splits into the segment's members (`segment` = its key) and everyone else
        (`effectiveness.OTHERS`), so the two compare side by side."""
        if segment is not None and segment not in SEGMENTS and members is None:
            raise ValueError(f"{segment!r} is not a segment")  # the edges check before
        scope = scope or Scope()
        declared = declarations(self.catalog)
        with self.replica.reading(self._open, self._goals(declared)) as con:
            if segment is None or segment in SEGMENTS:
                rows = queries.effectiveness(con, scope, segment)
            else:
                con.register("segment_people", pa.table({"profile_id": pa.array(sorted(members or ()), pa.int64())}))
                try:
                    rows = queries.effectiveness(con, scope, segment, customers=True)
                finally:
                    con.unregister("segment_people")
        return effectiveness.build(rows, declared, self.config.channel_costs)

    def channel_days(
        self, scope: Scope | None = None, *, segment: str | None = None, people: Collection[int] | None = None
    ) -> list[dict[str, Any]]:
        """Per day x channel (x product): messages, held, sent, delivered, opened, clicked, failed (the CX overview);
        only the messages to `people` (profile ids) when given."""
        if segment is not None and segment not in SEGMENTS:
            raise ValueError(f"{segment!r} is not a segment")  # the edges check before
        declared = declarations(self.catalog)
        with self.replica.reading(self._open, self._goals(declared)) as con:
            if people is None:
                return queries.channel_days(con, scope or Scope(), segment)
            con.register("report_people", pa.table({"profile_id": pa.array(sorted(people), pa.int64())}))
            try:
                return queries.channel_days(con, scope or Scope(), segment, people=True)
            finally:
                con.unregister("report_people")

    def bottlenecks(self, scope: Scope | None = None) -> Bottlenecks:
        """Latency and breaks per path, growing queues, and journeys' slow steps and stops: the worst break first."""
        scope = scope or Scope()
        declared = declarations(self.catalog)
        late = self.config.late_delivery_hours * 3600.0
        with self.replica.reading(self._open, self._goals(declared)) as con:
            latency = queries.latencies(con, scope, late)
            dead = queries.dead_letters(con, scope)
            waiting = queries.queues(con, time.time())
        steps: list[bottlenecks.JourneyStep] = []
        if self.step_times is not None and not (scope.product or scope.type or scope.focus):
            # Journeys have no product, type or flow-map node: they are part of the whole picture or a period's.
            with self._open() as session:
                steps = bottlenecks.journey_steps(self.step_times(session, scope.since, scope.until))
        paths = bottlenecks.paths(latency, dead)
        found = bottlenecks.breaks(
            paths, waiting, self.config.late_delivery_hours, self.config.contacts_after_days, steps
        )
        return Bottlenecks(tuple(found), tuple(paths), tuple(steps))

    def redundancy(self, points: Sequence[redundancy.CollectionPoint] = ()) -> list[redundancy.Redundancy]:
        """Every place collecting a field already held elsewhere, most effort wasted first; `points` adds places
        outside trait provenance (journey steps with their prefill counters)."""
        declared = declarations(self.catalog)
        extra = list(points)
        if self.collection_counts is not None:
            with self._open() as session:
                extra.extend(collection_points(self.collection_counts(session)))
        with self.replica.reading(self._open, self._goals(declared)) as con:
            collected = queries.collections(con)
            names = dict(self.replica.sources)
        return redundancy.build(collected, names, extra)
