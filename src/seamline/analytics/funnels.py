"""Funnels on the columnar copy: who reached each step, in order, within the window counted from the first step.

Each person enters at their first step-1 event in the period; step k is the first step-k event at or after the
time they reached step k-1 and no later than entry + window. The entry's channel, device and source are what a
breakdown groups by. Everything is one statement per report (a chain of grouped joins), run by DuckDB.
"""

# ruff: noqa: S608  # spliced text is built here from step indexes and fixed column names; values are parameters.

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from seamline.analytics.steps import Step

GROUPS = {"channel": "r.channel", "device": "r.device", "source": "src.name"}
NONE = "(none)"


@dataclass(frozen=True, slots=True)
class Window:
    """Who enters (step 1 at or after `since`, before `until`, epoch seconds) and for how long they may convert."""

    since: float | None
    until: float | None
    seconds: float


@dataclass(frozen=True, slots=True)
class StepFigures:
    """One step of a funnel (overall, or for one group of a breakdown)."""

    index: int  # 1-based
    step: str
    group: str | None  # the breakdown's value; None for everyone
    reached: int
    conversion: float | None  # share of step 1 who reached this step
    step_conversion: float | None  # share of the previous step who reached this one
    dropped: int  # reached this step, not the next
    drop_off: float | None  # dropped / reached
    median_seconds: float | None  # from the previous step
    p90_seconds: float | None


def _source(step: Step, k: int, filtered: set[int]) -> tuple[str, list[Any]]:
    if step.kind == "journey":
        columns = "profile_id, t, channel, device, source_id"
        return f"s{k} AS (SELECT {columns} FROM journey_steps WHERE journey = ? AND step = ?)", [step.name, step.step]
    keep = f" AND id IN (SELECT id FROM filter_{k})" if k in filtered else ""
    return f"s{k} AS (SELECT profile_id, t, channel, device, source_id FROM events WHERE name = ?{keep})", [step.name]


def reach_sql(steps: list[Step], window: Window, filtered: set[int]) -> tuple[str, list[Any]]:
    """`WITH …, reach AS (…)`: one row per person who entered, with t1…tn (NULL where not reached). `filtered`
    holds the steps whose events are filtered by a property (`filter_K`), and 0 when only the profiles of
    `filter_0` may enter."""
    parts: list[str] = []
    params: list[Any] = []
    for k, step in enumerate(steps, start=1):
        sql, values = _source(step, k, filtered)
        parts.append(sql)
        params.extend(values)
    period, values = period_clause(window, "t")
    params.extend(values)
    if 0 in filtered:  # a customer segment: only its members enter
        period += " AND profile_id IN (SELECT profile_id FROM filter_0)"
    parts.append(
        "f1 AS (SELECT profile_id, min(t) AS t1, min(t) AS t, arg_min(channel, t) AS channel, "
        f"arg_min(device, t) AS device, arg_min(source_id, t) AS source_id FROM s1 WHERE true{period} "
        "GROUP BY profile_id)"
    )
    for k in range(2, len(steps) + 1):
        parts.append(
            f"f{k} AS (SELECT p.profile_id, any_value(p.t1) AS t1, min(s.t) AS t FROM f{k - 1} p JOIN s{k} s "
            f"ON s.profile_id = p.profile_id AND s.t >= p.t AND s.t <= p.t1 + ? GROUP BY p.profile_id)"
        )
        params.append(window.seconds)
    joins = " ".join(f"LEFT JOIN f{k} ON f{k}.profile_id = f1.profile_id" for k in range(2, len(steps) + 1))
    times = ", ".join(f"f{k}.t AS t{k}" for k in range(2, len(steps) + 1))
    parts.append(
        "reach AS (SELECT f1.profile_id, f1.channel, f1.device, f1.source_id, f1.t1"
        + (f", {times}" if times else "")
        + f" FROM f1 {joins})"
    )
    return "WITH " + ",\n".join(parts), params


def figures(
    con: duckdb.DuckDBPyConnection, steps: list[Step], window: Window, breakdown: str | None, filtered: set[int]
) -> list[StepFigures]:
    """Every step's figures for everyone, then (with a breakdown) for each group, largest group first."""
    head, params = reach_sql(steps, window, filtered)
    n = len(steps)
    columns = [f"count(r.t{k})" for k in range(1, n + 1)]
    for k in range(2, n + 1):
        columns.append(f"median(r.t{k} - r.t{k - 1})")
        columns.append(f"quantile_cont(r.t{k} - r.t{k - 1}, 0.9)")
    if breakdown:
        group = GROUPS[breakdown]
        sql = (
            f"{head}\nSELECT grouping({group}) = 1 AS everyone, coalesce(CAST({group} AS VARCHAR), '{NONE}') AS grp, "
            + ", ".join(columns)
            + f" FROM reach r LEFT JOIN sources src ON src.id = r.source_id GROUP BY GROUPING SETS ((), ({group}))"
            + " ORDER BY everyone DESC, count(r.t1) DESC, grp"
        )
    else:
        sql = f"{head}\nSELECT true, NULL, " + ", ".join(columns) + " FROM reach r"
    out: list[StepFigures] = []
    for row in con.execute(sql, params).fetchall():
        counts = [int(c) for c in row[2 : 2 + n]]
        times = row[2 + n :]
        for k in range(1, n + 1):
            reached = counts[k - 1]
            dropped = reached - counts[k] if k < n else 0
            out.append(
                StepFigures(
                    index=k,
                    step=steps[k - 1].label,
                    group=None if row[0] else str(row[1]),
                    reached=reached,
                    conversion=_share(reached, counts[0]),
                    step_conversion=_share(reached, counts[k - 2]) if k > 1 else _share(reached, counts[0]),
                    dropped=dropped,
                    drop_off=_share(dropped, reached) if k < n else None,
                    median_seconds=_seconds(times[2 * (k - 2)]) if k > 1 else None,
                    p90_seconds=_seconds(times[2 * (k - 2) + 1]) if k > 1 else None,
                )
            )
    return out


def people(
    con: duckdb.DuckDBPyConnection,
    steps: list[Step],
    window: Window,
    filtered: set[int],
    *,
    step: int,
    outcome: str,
    breakdown: str | None,
    group: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[int]]:
    """How many people are behind one number (reached step k, or dropped after it), and a page of their ids."""
    head, params = reach_sql(steps, window, filtered)
    where = f"r.t{step} IS NOT NULL"
    if outcome == "dropped" and step < len(steps):
        where += f" AND r.t{step + 1} IS NULL"
    if breakdown and group is not None:
        where += f" AND coalesce(CAST({GROUPS[breakdown]} AS VARCHAR), '{NONE}') = ?"
        params = [*params, group]
    sql = (
        f"{head}\nSELECT r.profile_id, count(*) OVER () FROM reach r LEFT JOIN sources src ON src.id = r.source_id "
        f"WHERE {where} ORDER BY r.profile_id LIMIT ? OFFSET ?"
    )
    rows = con.execute(sql, [*params, limit, offset]).fetchall()
    if not rows and offset:
        total_sql = f"{head}\nSELECT count(*) FROM reach r LEFT JOIN sources src ON src.id = r.source_id WHERE {where}"
        [(total,)] = con.execute(total_sql, params).fetchall()
        return int(total), []
    return (int(rows[0][1]) if rows else 0), [int(r[0]) for r in rows]


def period_clause(window: Window, column: str) -> tuple[str, list[Any]]:
    """` AND column >= ? AND column < ?` for the window's period, with its parameters."""
    sql, params = "", []
    if window.since is not None:
        sql += f" AND {column} >= ?"
        params.append(window.since)
    if window.until is not None:
        sql += f" AND {column} < ?"
        params.append(window.until)
    return sql, params


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _seconds(value: Any) -> float | None:
    return round(float(value), 3) if value is not None else None
