"""Bottlenecks and breaks: for every path of the flow map, latency trigger→send→delivery (p50/p95), failures,
bounces, dead letters, held messages and late deliveries; queues that grow; and journeys' slowest steps and the
steps where people stop. Ranked by how many messages (or journeys) each break touched, so the worst is first. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from seamline.assessment.scope import STAGES

FAILURES = "failures"
BOUNCES = "bounces"
DEAD_LETTERS = "dead letters"
HELD = "held"
LATE = "late deliveries"
CONTACTS = "contacts after"
QUEUE = "growing queue"
STOPS = "journeys stop"


@dataclass(frozen=True, slots=True)
class PathLatency:
    source_system: str
    platform: str
    communication: str
    channel: str
    volume: int
    send_p50_seconds: float | None
    send_p95_seconds: float | None
    delivery_p50_seconds: float | None
    delivery_p95_seconds: float | None
    failed: int
    bounced: int
    dead: int
    held: int
    held_reason: str | None
    late: int
    contacts_after: int  # messages followed by a case within the window

    def as_record(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def path(self) -> str:
        return f"{self.source_system} → {self.platform} → {self.communication} → {self.channel}"


@dataclass(frozen=True, slots=True)
class Break:
    """One break, with how many messages it touched and a plain sentence."""

    kind: str
    where: str
    messages: int
    share: float | None
    sentence: str

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


class StepTiming(Protocol):
    """What the journeys domain reports of one step (`seamline.journeys.steptimes.StepTime`)."""

    @property
    def journey(self) -> str: ...
    @property
    def journey_name(self) -> str: ...
    @property
    def step(self) -> str: ...
    @property
    def step_name(self) -> str: ...
    @property
    def completed(self) -> int: ...
    @property
    def p50_seconds(self) -> float | None: ...
    @property
    def p95_seconds(self) -> float | None: ...
    @property
    def waiting(self) -> int: ...
    @property
    def stalled(self) -> int: ...
    @property
    def abandoned(self) -> int: ...


@dataclass(frozen=True, slots=True)
class JourneyStep:
    """One journey step: how long it takes (current → completed, p50/p95) and who waits or stopped there."""

    journey: str
    step: str
    completed: int
    p50_seconds: float | None
    p95_seconds: float | None
    waiting: int
    stalled: int
    abandoned: int

    @property
    def reached(self) -> int:
        return self.completed + self.waiting + self.stalled + self.abandoned

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def journey_steps(timings: Sequence[StepTiming]) -> list[JourneyStep]:
    """The steps, slowest (p95) first; steps nobody completed yet last."""
    steps = [
        JourneyStep(f"{t.journey_name} ({t.journey})", f"{t.step_name} ({t.step})", t.completed, t.p50_seconds,
                    t.p95_seconds, t.waiting, t.stalled, t.abandoned)
        for t in timings
    ]  # fmt: skip
    return sorted(steps, key=lambda s: (s.p95_seconds is None, -(s.p95_seconds or 0.0), s.journey, s.step))


def _stop(s: JourneyStep) -> Break:
    quiet = s.stalled + s.abandoned
    parts = [f"{n} {word}" for n, word in ((s.stalled, "stalled"), (s.abandoned, "abandoned")) if n]
    sentence = (
        f"{quiet} of {s.reached} journeys that reached {s.step} in {s.journey} stopped there "
        f"({', '.join(parts)}; {_share(quiet, s.reached)}); completing it takes p50 {_hours(s.p50_seconds)}, "
        f"p95 {_hours(s.p95_seconds)}."
    )
    return Break(STOPS, f"{s.journey} → {s.step}", quiet, round(quiet / s.reached, 4) if s.reached else None, sentence)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def paths(rows: Sequence[Mapping[str, Any]], dead: Sequence[Mapping[str, Any]]) -> list[PathLatency]:
    """Latency and break counts per path (queries.latencies, queries.dead_letters)."""
    dead_by = {tuple(str(d[s]) for s in STAGES): int(d["dead"]) for d in dead}
    out = []
    for r in rows:
        key = tuple(str(r[s]) for s in STAGES)
        out.append(
            PathLatency(
                key[0],
                key[1],
                key[2],
                key[3],
                int(r["volume"]),
                _round(r["send_p50"]),
                _round(r["send_p95"]),
                _round(r["deliver_p50"]),
                _round(r["deliver_p95"]),
                int(r["failed"]),
                int(r["bounced"]),
                dead_by.get(key, 0),
                int(r["held"]),
                r["held_reason"] or None,
                int(r["late"]),
                int(r["contacts_after"]),
            )
        )
    return sorted(out, key=lambda p: -p.volume)


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _share(count: int, whole: int) -> str:
    return f"{count / whole:.0%}" if whole else "—"


def _path_breaks(p: PathLatency, late_hours: float, contact_days: int) -> list[Break]:
    reason = f": {p.held_reason}" if p.held_reason else ""
    candidates = (
        (FAILURES, p.failed, f"{p.failed} of {p.volume} {p.communication} messages failed on {p.channel} "
                             f"through {p.platform} ({_share(p.failed, p.volume)})."),
        (BOUNCES, p.bounced, f"{p.bounced} {p.communication} messages bounced on {p.channel} "
                             f"({_share(p.bounced, p.volume)})."),
        (DEAD_LETTERS, p.dead, f"{p.dead} {p.communication} messages gave up after every retry (dead letters)."),
        (HELD, p.held, f"{p.held} {p.communication} messages were held at send time{reason}."),
        (LATE, p.late, f"{p.late} {p.communication} messages on {p.channel} arrived more than {late_hours:g} h "
                       f"after sending (p95 {_hours(p.delivery_p95_seconds)})."),
        (CONTACTS, p.contacts_after, f"{p.contacts_after} {p.communication} messages on {p.channel} were "
                                     f"followed by a call or case within {contact_days} days "
                                     f"({_share(p.contacts_after, p.volume)})."),
    )  # fmt: skip
    return [
        Break(kind, p.path, count, round(count / p.volume, 4) if p.volume else None, sentence)
        for kind, count, sentence in candidates
        if count
    ]


def breaks(
    latencies: Sequence[PathLatency],
    queues: Sequence[Mapping[str, Any]],
    late_hours: float,
    contact_days: int = 7,
    steps: Sequence[JourneyStep] = (),
) -> list[Break]:
    """Every break found, worst (most messages or journeys touched) first."""
    found: list[Break] = [b for p in latencies for b in _path_breaks(p, late_hours, contact_days)]
    found.extend(_stop(s) for s in steps if s.stalled + s.abandoned)
    for q in queues:
        last, before = int(q["last_day"]), int(q["day_before"])
        if last > before:
            found.append(
                Break(
                    QUEUE,
                    f"outbox → {q['target']}",
                    int(q["waiting"]),
                    None,
                    f"{q['waiting']} messages wait for {q['target']}; {last} arrived in the last day against "
                    f"{before} the day before (oldest {_hours(float(q['oldest_seconds'] or 0))}).",
                )
            )
    return sorted(found, key=lambda b: (-b.messages, b.kind, b.where))
