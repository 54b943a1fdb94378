"""Repeated identification: how often a customer had to say who they are again, within one day or one journey,
and across how many channels — the patchwork's cost, counted.

An identification is an `identify` call, or any event that linked an identifier to the person for the first time
(a call-centre verification that added a phone number, a branch visit that added a card). Within a journey, the
identifications counted are those from `LEAD_SECONDS` before it started (the sign-in that began it) to its
completion (or its last activity while it is open).
"""

# ruff: noqa: S608  # the only spliced text is the fixed period clause; values are parameters.

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from seamline.analytics.funnels import Window, period_clause

LEAD_SECONDS = 3600.0
DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class DayFigures:
    """Per person and day (UTC)."""

    person_days: int  # a person on a day they identified at least once
    repeated: int  # … twice or more
    across_channels: int  # … twice or more, through two channels or more
    repeated_share: float | None
    mean_per_day: float | None
    most_in_a_day: int
    again_by_channel: tuple[tuple[str, int], ...]  # where people identified again (the second time or later)
    histogram: tuple[tuple[str, int], ...]  # person-days by identifications: 1, 2, 3, 4, 5+


@dataclass(frozen=True, slots=True)
class JourneyFigures:
    """Per journey: its instances and the identifications made while each ran."""

    journey: str
    instances: int
    repeated: int  # instances with two identifications or more
    across_channels: int  # … through two channels or more
    repeated_share: float | None
    mean_identifications: float | None
    most: int


@dataclass(frozen=True, slots=True)
class RepeatedIdentification:
    days: DayFigures
    journeys: tuple[JourneyFigures, ...]


def count(con: duckdb.DuckDBPyConnection, window: Window) -> RepeatedIdentification:
    """Repeated identification per person-day and per journey, in the period."""
    period, params = period_clause(window, "t")
    # Ranked once into a temporary table (the copy is held for this report alone), read by both questions.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE ranked_identifications AS SELECT profile_id, channel, floor(t / 86400) AS day, "
        "row_number() OVER (PARTITION BY profile_id, floor(t / 86400) ORDER BY t, id) AS nth "
        f"FROM identifications WHERE true{period}",
        params,
    )
    try:
        [row] = con.execute(
            "WITH d AS (SELECT profile_id, day, count(*) AS n, count(DISTINCT channel) AS ch "
            "FROM ranked_identifications GROUP BY ALL)\n"
            "SELECT count(*), count(*) FILTER (WHERE n >= 2), count(*) FILTER (WHERE n >= 2 AND ch >= 2), avg(n), "
            "coalesce(max(n), 0), count(*) FILTER (WHERE n = 1), count(*) FILTER (WHERE n = 2), "
            "count(*) FILTER (WHERE n = 3), count(*) FILTER (WHERE n = 4), count(*) FILTER (WHERE n >= 5) FROM d"
        ).fetchall()
        again = con.execute(
            "SELECT channel, count(*) FROM ranked_identifications WHERE nth >= 2 GROUP BY channel ORDER BY 2 DESC, 1"
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS ranked_identifications")
    total, repeated = int(row[0]), int(row[1])
    days = DayFigures(
        person_days=total,
        repeated=repeated,
        across_channels=int(row[2]),
        repeated_share=repeated / total if total else None,
        mean_per_day=round(float(row[3]), 3) if row[3] is not None else None,
        most_in_a_day=int(row[4]),
        again_by_channel=tuple((str(c), int(n)) for c, n in again),
        histogram=tuple(zip(("1", "2", "3", "4", "5+"), (int(v) for v in row[5:10]), strict=True)),
    )
    started, started_params = period_clause(window, "i.started_at")
    journeys_sql = (
        "WITH j AS (SELECT i.id, i.journey, count(x.id) AS n, count(DISTINCT x.channel) AS ch FROM instances i "
        "LEFT JOIN identifications x ON x.profile_id = i.profile_id AND x.t >= i.started_at - ? "
        f"AND x.t <= coalesce(i.completed_at, i.last_activity_at) WHERE true{started} GROUP BY i.id, i.journey)\n"
        "SELECT journey, count(*), count(*) FILTER (WHERE n >= 2), count(*) FILTER (WHERE n >= 2 AND ch >= 2), "
        "avg(n), max(n) FROM j GROUP BY journey ORDER BY journey"
    )
    journeys = tuple(
        JourneyFigures(
            journey=str(r[0]),
            instances=int(r[1]),
            repeated=int(r[2]),
            across_channels=int(r[3]),
            repeated_share=int(r[2]) / int(r[1]) if r[1] else None,
            mean_identifications=round(float(r[4]), 3) if r[4] is not None else None,
            most=int(r[5] or 0),
        )
        for r in con.execute(journeys_sql, [LEAD_SECONDS, *started_params]).fetchall()
    )
    return RepeatedIdentification(days, journeys)
