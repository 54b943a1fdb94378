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
    # Each person's first `depth` touches by a top-N aggregate (min_by with a count: no sort of everything they
    # did; 2.7 s → 2.2 s against a window, over 4.6M synthetic events). Events' labels stay numbers (`labels`
    # names them) until the few paths shown.
    sql = (
        f"{head},\nanchor AS (SELECT profile_id, t{at} AS t0 FROM reach WHERE t{at} IS NOT NULL{stop}),\n"
        "p AS (SELECT a.profile_id, min_by({'lid': x.label_id, 'label': x.label}, "
        "{'t': x.t, 'rank': x.rank, 'lid': x.label_id, 'label': x.label}, ?) AS path "
        "FROM anchor a JOIN touches x ON x.profile_id = a.profile_id AND x.t > a.t0 AND x.t <= a.t0 + ? "
        "GROUP BY a.profile_id),\n"
        "g AS MATERIALIZED (SELECT coalesce(p.path, []) AS path, count(*) AS people "
        "FROM anchor a LEFT JOIN p ON p.profile_id = a.profile_id GROUP BY 1)\n"
        "(SELECT 'path' AS kind, path, people FROM g ORDER BY people DESC, path LIMIT ?)\n"
        "UNION ALL SELECT 'first', [path[1]], sum(people) FROM g GROUP BY path[1]"
    )
    names = {int(i): str(n) for i, n in con.execute("SELECT label_id, label FROM labels").fetchall()}

    def named(touches: list[dict[str, object]]) -> tuple[str, ...]:
        return tuple(str(t["label"]) if t["label"] is not None else names.get(int(str(t["lid"])), "?")
                     for t in touches if t is not None)  # fmt: skip

    rows = con.execute(sql, [*params, depth, horizon_seconds, top]).fetchall()
    found = sorted(((named(p), int(c)) for k, p, c in rows if k == "path"), key=lambda r: (-r[1], r[0]))
    firsts = sorted(((named(p)[0] if named(p) else NOTHING, int(c)) for k, p, c in rows if k == "first"),
                    key=lambda r: (-r[1], r[0]))  # fmt: skip
    everyone = sum(c for _, c in firsts)
    return PathView(
        step=at,
        label=steps[at - 1].label,
        who="dropped" if dropped else "reached",
        people=everyone,
        depth=depth,
        horizon_seconds=horizon_seconds,
        paths=tuple(PathRow(p, c, c / everyone) for p, c in found),
        first_touches=tuple(firsts[:top]),
    )
