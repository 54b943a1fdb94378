"""Cross-channel completion: journeys completed through another channel or device than the one they began on.

An instance begins on its `started_channel` and the device of its first step; it finishes on the channel and
device of its last completed step (the step that completed it, or the last before a `completes_on` event).
"""

# ruff: noqa: S608  # the only spliced text is the fixed period clause; values are parameters.

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from seamline.analytics.funnels import Window, period_clause

BRANCH = "branch"


@dataclass(frozen=True, slots=True)
class Handover:
    """Completed instances of one journey begun on one channel and finished on another (or the same)."""

    journey: str
    started_channel: str
    finished_channel: str
    completed: int


@dataclass(frozen=True, slots=True)
class Completion:
    """One journey's completions, and how many changed channel, device, or finished at the branch."""

    journey: str
    started: int
    completed: int
    cross_channel: int
    cross_device: int
    at_branch: int  # finished at the branch, begun elsewhere
    cross_channel_share: float | None


@dataclass(frozen=True, slots=True)
class CrossChannel:
    journeys: tuple[Completion, ...]
    handovers: tuple[Handover, ...]


def count(con: duckdb.DuckDBPyConnection, window: Window) -> CrossChannel:
    """Completion across channels and devices per journey, for instances begun in the period."""
    period, params = period_clause(window, "i.started_at")
    base = (
        "WITH c AS (SELECT i.journey, i.completed_at IS NOT NULL AS done, coalesce(i.started_channel, '(none)') AS a, "
        "coalesce(x.last_channel, i.started_channel, '(none)') AS b, x.first_device AS da, x.last_device AS db "
        f"FROM instances i LEFT JOIN instance_ends x ON x.instance_id = i.id WHERE true{period})"
    )
    summary = con.execute(
        f"{base} SELECT journey, count(*), count(*) FILTER (WHERE done), count(*) FILTER (WHERE done AND a <> b), "
        "count(*) FILTER (WHERE done AND da IS NOT NULL AND db IS NOT NULL AND da <> db), "
        f"count(*) FILTER (WHERE done AND b = '{BRANCH}' AND a <> '{BRANCH}') FROM c GROUP BY journey ORDER BY journey",
        params,
    ).fetchall()
    pairs = con.execute(
        f"{base} SELECT journey, a, b, count(*) FROM c WHERE done GROUP BY ALL ORDER BY journey, 4 DESC, a, b", params
    ).fetchall()
    return CrossChannel(
        journeys=tuple(
            Completion(str(j), int(s), int(d), int(x), int(v), int(br), int(x) / int(d) if d else None)
            for j, s, d, x, v, br in summary
        ),
        handovers=tuple(Handover(str(j), str(a), str(b), int(n)) for j, a, b, n in pairs),
    )
