"""What the columnar copy keeps beside `facts` so the inventory, the flow map and channel effectiveness read
thousands of rows, not every message (measured at 10M messages: docs/assessment.md):

- `daily`: the facts counted per UTC day x communication x version x path x product x batch — volumes, held,
  sent, delivered, opened, clicked, complaints, unsubscribes, failures, first and last send. The inventory, the
  flow map and effectiveness (whole, or by product) add these up for any period of whole days, product, type or
  flow-map node.
- `reached`: only the messages that converted (the template's goal event within its window) or were followed by
  a contact (a case within `contacts_after_days`), with the keys they are counted under. Those two join each
  message to *later* events and cases, so they cannot be summed at send time; they are computed here once, and
  again for the people whose new events, cases or messages the copy catches up with.
- `path_days` and `latency_days`: what the bottlenecks read, per UTC day x path x product x type — failures,
  bounces, held messages (by reason), late deliveries; and trigger→send and send→delivery latencies as
  histograms (latency.py: percentiles do not add up, histograms do; a quantile from them is exact to a bucket's
  width, under 5%).
- `collected` and `collected_earlier`: from trait provenance, who each source holds each field for, and which
  other source held it first (and whether their values differ) — the redundancy report's self-join of every
  trait candidate, done once and again only for the people with new candidates (the whole of it after an
  erasure deleted some), so the report adds up two tables instead.
"""

# ruff: noqa: S608  # the only text spliced into these statements is a fixed WHERE clause; values are bound.

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from seamline.assessment import counts
from seamline.assessment.latency import bucket_sql

Goal = tuple[str, str, float]  # (communication, goal event, window in seconds)

_DAILY = """
SELECT CAST(floor(sent_at / 86400) AS BIGINT) AS day, type, communication, template_version, source_system,
       platform, channel, product, batch, count(*) AS volume,
       COUNTED,
       min(sent_at) AS first_sent, max(sent_at) AS last_sent
FROM facts {where} GROUP BY ALL
""".replace("COUNTED", counts.COUNTED)

# The bottlenecks' counts per path; held messages by reason (the page names the commonest), late deliveries by
# the copy's threshold (`?`, seconds).
_PATH_DAYS = """
SELECT CAST(floor(sent_at / 86400) AS BIGINT) AS day, type, product, source_system, platform, communication, channel,
       held_reason, count(*) AS volume, count(*) FILTER (WHERE is_failed) AS failed,
       count(*) FILTER (WHERE is_bounced) AS bounced, count(*) FILTER (WHERE is_suppressed) AS held,
       count(*) FILTER (WHERE delivered_at - sent_at > ?) AS late
FROM facts {where} GROUP BY ALL
"""

# Trigger→send (messages not held) and send→delivery latencies, counted per bucket with each bucket's smallest
# and largest (latency.py reads quantiles from them).
_LATENCY_DAYS = """
WITH l AS (
  SELECT CAST(floor(sent_at / 86400) AS BIGINT) AS day, type, product, source_system, platform, communication,
         channel, 'send' AS kind, sent_at - created_at AS seconds
  FROM facts WHERE NOT is_suppressed AND created_at IS NOT NULL {and_where}
  UNION ALL
  SELECT CAST(floor(sent_at / 86400) AS BIGINT), type, product, source_system, platform, communication, channel,
         'delivery', delivered_at - sent_at
  FROM facts WHERE delivered_at IS NOT NULL {and_where})
SELECT day, type, product, source_system, platform, communication, channel, kind, BUCKET AS bucket,
       count(*) AS n, min(seconds) AS low, max(seconds) AS high
FROM l GROUP BY ALL
""".replace("BUCKET", bucket_sql("seconds"))

_REACHED = """
WITH f AS (SELECT * FROM facts WHERE NOT is_suppressed {where}),
converted AS (
  SELECT DISTINCT f.id FROM f JOIN goal_windows g ON g.communication = f.communication
  JOIN events e ON e.profile_id = f.profile_id AND e.name = g.goal_event
   AND e.occurred_at > f.sent_at AND e.occurred_at <= f.sent_at + g.window_seconds),
contacted AS (
  SELECT DISTINCT f.id FROM f JOIN cases c ON c.profile_id = f.profile_id
   AND c.opened_at > f.sent_at AND c.opened_at <= f.sent_at + ?)
SELECT f.id, f.profile_id, f.sent_at, f.type, f.communication, f.source_system, f.platform, f.channel, f.product,
       cv.id IS NOT NULL AS converted, ct.id IS NOT NULL AS contacted
FROM f LEFT JOIN converted cv ON cv.id = f.id LEFT JOIN contacted ct ON ct.id = f.id
WHERE cv.id IS NOT NULL OR ct.id IS NOT NULL
"""

# Per source x field: the people it holds a value for.
_COLLECTED = "SELECT source_id AS collector, name, profile_id FROM traits {where} GROUP BY ALL"

# Per source x field x person: each other source that held the field first, and whether the two share no value.
_EARLIER = """
WITH t AS (SELECT * FROM traits {where}),
s AS (SELECT profile_id, name, source_id, min(first_seen_at) AS first FROM t GROUP BY ALL),
pairs AS (
  SELECT a.source_id AS collector, a.name, a.profile_id, b.source_id AS holder
  FROM s a JOIN s b ON a.profile_id = b.profile_id AND a.name = b.name AND a.source_id <> b.source_id
   AND b.first < a.first),
agree AS (
  SELECT DISTINCT a.profile_id, a.name, a.source_id AS collector, b.source_id AS holder
  FROM t a JOIN t b ON a.profile_id = b.profile_id AND a.name = b.name AND a.value_hash = b.value_hash
   AND a.source_id <> b.source_id)
SELECT p.collector, p.name, p.profile_id, p.holder, g.holder IS NULL AS differs
FROM pairs p LEFT JOIN agree g USING (profile_id, name, collector, holder)
"""

DAY = "CAST(floor(sent_at / 86400) AS BIGINT)"


def build(con: duckdb.DuckDBPyConnection, goals: Sequence[Goal], contact_seconds: float, late_seconds: float) -> None:
    """Every table from the whole of `facts` (after a whole build)."""
    con.register("incoming", pa.table({
        "communication": pa.array([g[0] for g in goals], pa.string()),
        "goal_event": pa.array([g[1] for g in goals], pa.string()),
        "window_seconds": pa.array([g[2] for g in goals], pa.float64()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TABLE goal_windows AS SELECT * FROM incoming")
    con.unregister("incoming")
    con.execute(f"CREATE OR REPLACE TABLE daily AS {_DAILY.format(where='')}")
    con.execute(f"CREATE OR REPLACE TABLE reached AS {_REACHED.format(where='')}", [contact_seconds])
    con.execute(f"CREATE OR REPLACE TABLE path_days AS {_PATH_DAYS.format(where='')}", [late_seconds])
    con.execute(f"CREATE OR REPLACE TABLE latency_days AS {_LATENCY_DAYS.format(and_where='')}")
    collected(con, None)


def collected(con: duckdb.DuckDBPyConnection, people: set[int] | None) -> None:
    """Who collects each field and who held it first, from `traits`: again for `people`, or whole (None)."""
    if people is None:
        con.execute(f"CREATE OR REPLACE TABLE collected AS {_COLLECTED.format(where='')}")
        con.execute(f"CREATE OR REPLACE TABLE collected_earlier AS {_EARLIER.format(where='')}")
        return
    if not people:
        return
    con.register("touched_people", pa.table({"profile_id": pa.array(sorted(people), pa.int64())}))
    where = "WHERE profile_id IN (SELECT profile_id FROM touched_people)"
    for table, sql in (("collected", _COLLECTED), ("collected_earlier", _EARLIER)):
        con.execute(f"DELETE FROM {table} {where}")
        con.execute(f"INSERT INTO {table} {sql.format(where=where)}")
    con.unregister("touched_people")


def days_of(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The days of the facts whose ids are in the registered `touched` table (before and after they change)."""
    found = con.execute(f"SELECT DISTINCT {DAY} FROM facts WHERE id IN (SELECT id FROM touched)").fetchall()
    return {int(d) for (d,) in found}


def refresh(
    con: duckdb.DuckDBPyConnection, days: set[int], people: set[int], contact_seconds: float, late_seconds: float
) -> None:
    """Count `days` again in the per-day tables, and the conversions and contacts of `people`'s messages in
    `reached`."""
    if days:
        con.register("touched_days", pa.table({"day": pa.array(sorted(days), pa.int64())}))
        on_days = f"{DAY} IN (SELECT day FROM touched_days)"
        for table in ("daily", "path_days", "latency_days"):
            con.execute(f"DELETE FROM {table} WHERE day IN (SELECT day FROM touched_days)")
        con.execute(f"INSERT INTO daily {_DAILY.format(where=f'WHERE {on_days}')}")
        con.execute(f"INSERT INTO path_days {_PATH_DAYS.format(where=f'WHERE {on_days}')}", [late_seconds])
        con.execute(f"INSERT INTO latency_days {_LATENCY_DAYS.format(and_where=f'AND {on_days}')}")
        con.unregister("touched_days")
    if people:
        con.register("touched_people", pa.table({"profile_id": pa.array(sorted(people), pa.int64())}))
        con.execute("DELETE FROM reached WHERE profile_id IN (SELECT profile_id FROM touched_people)")
        where = "AND profile_id IN (SELECT profile_id FROM touched_people)"
        con.execute(f"INSERT INTO reached {_REACHED.format(where=where)}", [contact_seconds])
        con.unregister("touched_people")
