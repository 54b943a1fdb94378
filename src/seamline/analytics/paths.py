"""Detours: what people did next after they stopped at a funnel step — the next events, journey steps,
communications and cases on their timeline, as paths with counts ("email: payment_reminder → case (phone)").
"""

# ruff: noqa: S608  # spliced text is built from step indexes; values are parameters.

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from seamline.analytics.funnels import Window, reach_sql
from seamline.analytics.steps import Step

NOTHING = "(nothing)"


@dataclass(frozen=True, slots=True)
class PathRow:
    """One path taken after the step, and how many people took it."""

    path: tuple[str, ...]  # empty: nothing happened within the horizon
    people: int
    share: float

    @property
    def text(self) -> str:
        """The path as one line."""
        return " → ".join(self.path) if self.path else NOTHING


@dataclass(frozen=True, slots=True)
class PathView:
    """The paths after one step: of the people who dropped off there, or (at the last step) of all who reached it."""

    step: int
    label: str
    who: str  # "dropped" or "reached"
    people: int
    depth: int
    horizon_seconds: float
    paths: tuple[PathRow, ...]
    first_touches: tuple[tuple[str, int], ...]  # the first thing done next, with how many did it


def detours(
    con: duckdb.DuckDBPyConnection,
    steps: list[Step],
    window: Window,
    filtered: set[int],
    *,
    at: int,
    depth: int,
    horizon_seconds: float,
    top: int,
) -> PathView:
    """The `top` commonest paths of `depth` touches within `horizon_seconds` after step `at` (1-based)."""
    dropped = at < len(steps)
    head, params = reach_sql(steps[: at + 1], window, filtered)
    stop = f" AND t{at + 1} IS NULL" if dropped else ""
    sql = (
        f"{head},\nanchor AS (SELECT profile_id, t{at} AS t0 FROM reach WHERE t{at} IS NOT NULL{stop}),\n"
        "nxt AS (SELECT a.profile_id, x.label_id, x.label, "
        "row_number() OVER (PARTITION BY a.profile_id ORDER BY x.t, x.rank, x.label_id, x.label) AS rn "
        "FROM anchor a JOIN touches x ON x.profile_id = a.profile_id AND x.t > a.t0 AND x.t <= a.t0 + ?),\n"
        # Events' labels are numbers until here: only the few touches kept are named.
        "p AS (SELECT n.profile_id, list(coalesce(n.label, l.label) ORDER BY n.rn) AS path FROM nxt n "
        "LEFT JOIN labels l ON l.label_id = n.label_id WHERE n.rn <= ? GROUP BY n.profile_id)\n"
        "SELECT coalesce(p.path, []::VARCHAR[]) AS path, count(*) AS people, sum(count(*)) OVER () AS everyone "
        "FROM anchor a LEFT JOIN p ON p.profile_id = a.profile_id GROUP BY 1 ORDER BY 2 DESC, 1"
    )
    rows = con.execute(sql, [*params, horizon_seconds, depth]).fetchall()
    everyone = int(rows[0][2]) if rows else 0
    firsts: dict[str, int] = {}
    for path, count, _ in rows:
        first = path[0] if path else NOTHING
        firsts[first] = firsts.get(first, 0) + int(count)
    return PathView(
        step=at,
        label=steps[at - 1].label,
        who="dropped" if dropped else "reached",
        people=everyone,
        depth=depth,
        horizon_seconds=horizon_seconds,
        paths=tuple(PathRow(tuple(p), int(c), int(c) / everyone) for p, c, _ in rows[:top]),
        first_touches=tuple(sorted(firsts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
    )
