"""The reports' queries on the columnar copy (DuckDB SQL over `facts` and the tables beside it).

Every query takes the scope's WHERE clause with bound values; the clause names only the flow map's known stages.
"""

# ruff: noqa: S608  # the only text spliced into these queries is the scope's WHERE clause, built from the known stage
# names; every value is bound as a parameter.

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from seamline.assessment import counts
from seamline.assessment.latency import QUANTILES
from seamline.assessment.scope import Scope

Row = dict[str, Any]
OTHERS = "(everyone else)"  # a customer segment's split: the messages to people outside it


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object]) -> list[Row]:
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _counted(scope: Scope) -> tuple[str, str, list[object]]:
    """Where a report's counts come from: the per-day counts (rollup.py) for a period of whole days, else every
    message (`facts`, one row each: the same columns summed as 1s)."""
    daily = scope.daily_where()
    if daily is not None:
        return "daily", daily[0], daily[1]
    where, params = scope.where()
    return (
        f"(SELECT *, 1 AS volume, {counts.ONES}, sent_at AS first_sent, sent_at AS last_sent FROM facts)",
        where,
        params,
    )


def inventory(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[Row]:
    """One row per communication seen: what the log says of it.

    Grouped in two stages (every distinct combination first, then per communication): the lists of distinct
    versions, sources, platforms and channels are then built from a few thousand rows, not every message; the
    first stage reads the per-day counts when the period is whole days."""
    source, where, params = _counted(scope)
    return _rows(
        con,
        f"""
        WITH g AS (
          SELECT communication, type, template_version, source_system, platform, channel, batch,
                 sum(volume) AS n, sum(failed) AS errors, sum(held) AS held, min(first_sent) AS first,
                 max(last_sent) AS last
          FROM {source} WHERE {where} GROUP BY ALL)
        SELECT communication, min(type) AS type,
               list(DISTINCT template_version ORDER BY template_version)
                 FILTER (WHERE template_version IS NOT NULL) AS versions,
               list(DISTINCT source_system ORDER BY source_system) AS sources,
               list(DISTINCT platform ORDER BY platform) AS platforms,
               list(DISTINCT channel ORDER BY channel) AS channels,
               sum(n) AS volume, count(DISTINCT batch) AS batches, min(first) AS first_sent,
               max(last) AS last_sent, sum(errors) AS errors, sum(held) AS held
        FROM g GROUP BY communication ORDER BY volume DESC, communication
        """,
        params,
    )


def paths(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[Row]:
    """Volumes and failures of every source → platform → communication → channel path."""
    source, where, params = _counted(scope)
    return _rows(
        con,
        f"""
        SELECT source_system, platform, communication, channel, sum(volume) AS volume, sum(failed) AS failed
        FROM {source} WHERE {where} GROUP BY ALL ORDER BY volume DESC, source_system, platform, communication,
                                                          channel
        """,
        params,
    )


def effectiveness(
    con: duckdb.DuckDBPyConnection, scope: Scope, segment: str | None, *, customers: bool = False
) -> list[Row]:
    """Per channel x communication (x product, or x a customer segment's members and everyone else): delivery,
    engagement, conversion, complaints, unsubscribes, and contacts after, counted from the per-day counts plus
    the messages that converted or were followed by a contact (rollup.py). `customers`: `segment` is a customer
    segment whose members are the registered `segment_people` table (see `_split`)."""
    if customers:
        return _split(con, scope, segment)
    where, params = scope.where()
    seg = "coalesce(product, '(no product)')" if segment == "product" else "NULL"
    source, counted_where, counted_params = _counted(scope)
    return _rows(
        con,
        f"""
        WITH d AS (
          SELECT channel, communication, {seg} AS segment, sum(volume) AS volume, {counts.SUMMED}
          FROM {source} WHERE {counted_where} GROUP BY ALL),
        r AS (
          SELECT channel, communication, {seg} AS segment, {_REACHED_COUNTS}
          FROM reached WHERE {where} GROUP BY ALL)
        SELECT d.*, coalesce(r.converted, 0) AS converted, coalesce(r.contacted_after, 0) AS contacted_after
        FROM d LEFT JOIN r ON r.channel = d.channel AND r.communication = d.communication
         AND r.segment IS NOT DISTINCT FROM d.segment
        ORDER BY volume DESC, d.channel, d.communication, d.segment
        """,
        [*counted_params, *params],  # in the order the ? stand in the text
    )


_REACHED_COUNTS = "count(*) FILTER (WHERE converted) AS converted, count(*) FILTER (WHERE contacted) AS contacted_after"


def _split(con: duckdb.DuckDBPyConnection, scope: Scope, segment: str | None) -> list[Row]:
    """Effectiveness split into a customer segment's members and everyone else. Counted per person, so the
    members' messages are read one by one (joined to `segment_people`) — but only theirs are counted: everyone
    else is the whole (the per-day counts, for a period of whole days) minus the members, not a second count of
    every message. The messages that converted or were contacted after (`reached`) are split the same way."""
    where, params = scope.where()
    source, counted_where, counted_params = _counted(scope)
    others = ", ".join(f"t.{n} - coalesce(m.{n}, 0) AS {n}" for n in ("volume", *counts.NAMES))
    return _rows(
        con,
        f"""
        WITH m AS (
          SELECT channel, communication, count(*) AS volume, {counts.COUNTED}
          FROM facts JOIN segment_people USING (profile_id) WHERE {where} GROUP BY ALL),
        mr AS (
          SELECT channel, communication, {_REACHED_COUNTS}
          FROM reached JOIN segment_people USING (profile_id) WHERE {where} GROUP BY ALL),
        t AS (
          SELECT channel, communication, sum(volume) AS volume, {counts.SUMMED}
          FROM {source} WHERE {counted_where} GROUP BY ALL),
        tr AS (SELECT channel, communication, {_REACHED_COUNTS} FROM reached WHERE {where} GROUP BY ALL),
        split AS (
          SELECT m.channel, m.communication, ?::VARCHAR AS segment, m.* EXCLUDE (channel, communication),
                 coalesce(mr.converted, 0) AS converted, coalesce(mr.contacted_after, 0) AS contacted_after
          FROM m LEFT JOIN mr USING (channel, communication)
          UNION ALL
          SELECT t.channel, t.communication, ?::VARCHAR AS segment, {others},
                 coalesce(tr.converted, 0) - coalesce(mr.converted, 0) AS converted,
                 coalesce(tr.contacted_after, 0) - coalesce(mr.contacted_after, 0) AS contacted_after
          FROM t LEFT JOIN m USING (channel, communication) LEFT JOIN tr USING (channel, communication)
          LEFT JOIN mr USING (channel, communication))
        SELECT * FROM split WHERE volume > 0 ORDER BY volume DESC, channel, communication, segment
        """,
        [*params, *params, *counted_params, *params, segment, OTHERS],  # in the order the ? stand in the text
    )


def latencies(con: duckdb.DuckDBPyConnection, scope: Scope, late_seconds: float) -> list[Row]:
    """Per path: trigger→send and send→delivery p50/p95 (seconds), failures, bounces, held (and the commonest
    reason), late deliveries, and messages followed by a case within the copy's contact window (`reached`).

    For a period of whole days from the per-day histograms and counts (rollup.py; a quantile exact to its
    bucket's width, latency.py, and `late` by the copy's own threshold); else from every message, exactly."""
    daily = scope.daily_where()
    if daily is None:
        return _latencies_of_messages(con, scope, late_seconds)
    where, params = scope.where()
    day_where, day_params = daily
    path = "source_system, platform, communication, channel"
    quantiles = ", ".join(f"({q}::DOUBLE)" for q in QUANTILES)
    return _rows(
        con,
        f"""
        WITH h AS (
          SELECT {path}, kind, bucket, sum(n) AS n, min(low) AS low, max(high) AS high
          FROM latency_days WHERE {day_where} GROUP BY ALL),
        c AS (
          SELECT *, sum(n) OVER (PARTITION BY {path}, kind ORDER BY bucket) - n AS below,
                 sum(n) OVER (PARTITION BY {path}, kind) AS total
          FROM h),
        ranks AS (  -- quantile_cont's two ranks around (n - 1) x q, each estimated inside its bucket
          SELECT *, floor((total - 1) * q) AS r0, ceil((total - 1) * q) AS r1 FROM c, (VALUES {quantiles}) qs(q)),
        v AS (
          SELECT {path}, kind, q,
                 max(low + (high - low) * (r0 - below) / greatest(n - 1, 1)) FILTER (WHERE r0 >= below
                   AND r0 < below + n) AS v0,
                 max(low + (high - low) * (r1 - below) / greatest(n - 1, 1)) FILTER (WHERE r1 >= below
                   AND r1 < below + n) AS v1,
                 max((total - 1) * q - r0) AS frac
          FROM ranks GROUP BY ALL),
        lat AS (
          SELECT {path},
                 max(v0 + (v1 - v0) * frac) FILTER (WHERE kind = 'send' AND q = 0.5) AS send_p50,
                 max(v0 + (v1 - v0) * frac) FILTER (WHERE kind = 'send' AND q = 0.95) AS send_p95,
                 max(v0 + (v1 - v0) * frac) FILTER (WHERE kind = 'delivery' AND q = 0.5) AS deliver_p50,
                 max(v0 + (v1 - v0) * frac) FILTER (WHERE kind = 'delivery' AND q = 0.95) AS deliver_p95
          FROM v GROUP BY ALL),
        reasons AS (
          SELECT {path}, held_reason, sum(volume) AS volume, sum(failed) AS failed, sum(bounced) AS bounced,
                 sum(held) AS held, sum(late) AS late
          FROM path_days WHERE {day_where} GROUP BY ALL),
        counted AS (
          SELECT {path}, sum(volume) AS volume, sum(failed) AS failed, sum(bounced) AS bounced, sum(held) AS held,
                 arg_max(held_reason, held) FILTER (WHERE held_reason IS NOT NULL AND held > 0) AS held_reason,
                 sum(late) AS late
          FROM reasons GROUP BY ALL),
        contacts AS (
          SELECT {path}, count(*) AS contacts_after FROM reached WHERE contacted AND {where} GROUP BY ALL)
        SELECT k.*, lat.send_p50, lat.send_p95, lat.deliver_p50, lat.deliver_p95,
               coalesce(ct.contacts_after, 0) AS contacts_after
        FROM counted k
        LEFT JOIN lat USING ({path})
        LEFT JOIN contacts ct USING ({path})
        """,
        [*day_params, *day_params, *params],  # in the order the ? stand in the text
    )


def _latencies_of_messages(con: duckdb.DuckDBPyConnection, scope: Scope, late_seconds: float) -> list[Row]:
    where, params = scope.where()
    return _rows(
        con,
        f"""
        WITH f AS (SELECT * FROM facts WHERE {where}),
        contacted AS (SELECT id FROM reached WHERE contacted)
        SELECT source_system, platform, communication, channel, count(*) AS volume,
               quantile_cont(sent_at - created_at, 0.5) FILTER (WHERE NOT is_suppressed) AS send_p50,
               quantile_cont(sent_at - created_at, 0.95) FILTER (WHERE NOT is_suppressed) AS send_p95,
               quantile_cont(delivered_at - sent_at, 0.5) AS deliver_p50,
               quantile_cont(delivered_at - sent_at, 0.95) AS deliver_p95,
               count(*) FILTER (WHERE is_failed) AS failed, count(*) FILTER (WHERE is_bounced) AS bounced,
               count(*) FILTER (WHERE is_suppressed) AS held, mode(held_reason) AS held_reason,
               count(*) FILTER (WHERE delivered_at - sent_at > ?) AS late, count(ct.id) AS contacts_after
        FROM f LEFT JOIN contacted ct ON ct.id = f.id GROUP BY ALL
        """,
        [*params, late_seconds],  # in the order the ? stand in the text
    )


def dead_letters(con: duckdb.DuckDBPyConnection, scope: Scope) -> list[Row]:
    """Dead letters in the outbox, by the path of the communication they carried (read with the outbox)."""
    where, params = scope.where()
    return _rows(
        con,
        f"""
        SELECT source_system, platform, communication, channel, count(*) AS dead
        FROM outbox WHERE status = 'dead' AND communication IS NOT NULL AND {where} GROUP BY ALL
        """,
        params,
    )


def queues(con: duckdb.DuckDBPyConnection, now: float) -> list[Row]:
    """Waiting outbox messages per target: how many, the oldest's age, and arrivals today against yesterday."""
    return _rows(
        con,
        """
        SELECT target, kind, count(*) AS waiting, max(? - created_at) AS oldest_seconds,
               count(*) FILTER (WHERE created_at > ? - 86400) AS last_day,
               count(*) FILTER (WHERE created_at <= ? - 86400 AND created_at > ? - 172800) AS day_before
        FROM outbox WHERE status = 'pending' GROUP BY ALL ORDER BY waiting DESC
        """,
        [now, now, now, now],
    )


def collections(con: duckdb.DuckDBPyConnection) -> list[Row]:
    """Per source and canonical field: people it holds a value for, how many had already given one to another
    source first, how many of those disagree (no value in common with any earlier holder), and the source most
    often first — added up from the copy's per-person tables (rollup.py, `collected` and `collected_earlier`)."""
    return _rows(
        con,
        """
        WITH per_person AS (
          SELECT collector, name, profile_id, bool_and(differs) AS disagreed FROM collected_earlier GROUP BY ALL),
        held AS (
          SELECT collector, name, count(*) AS already_held, count(*) FILTER (WHERE disagreed) AS disagreed
          FROM per_person GROUP BY ALL),
        holders AS (
          SELECT collector, name, holder, count(DISTINCT profile_id) AS people FROM collected_earlier GROUP BY ALL),
        top_holder AS (
          SELECT collector, name, arg_max(holder, people) AS holder, max(people) AS holder_people
          FROM holders GROUP BY ALL),
        asked AS (SELECT collector, name, count(*) AS asked FROM collected GROUP BY ALL)
        SELECT a.collector, a.name, a.asked, coalesce(h.already_held, 0) AS already_held,
               coalesce(h.disagreed, 0) AS disagreed, t.holder, t.holder_people
        FROM asked a LEFT JOIN held h USING (collector, name) LEFT JOIN top_holder t USING (collector, name)
        """,
        [],
    )


def channel_days(
    con: duckdb.DuckDBPyConnection, scope: Scope, segment: str | None, *, people: bool = False
) -> list[Row]:
    """Per day (UTC, days since the epoch) x channel (x product when segmented): messages, held, sent, delivered,
    opened, clicked and failed — the CX overview's volumes and channel effectiveness in one scan of the facts.
    `people`: only messages to the profiles of the registered `report_people` table (a customer segment)."""
    where, params = scope.where()
    if people:
        where += " AND profile_id IN (SELECT profile_id FROM report_people)"
    seg = "coalesce(product, '(no product)')" if segment == "product" else "NULL"
    return _rows(
        con,
        f"""
        SELECT CAST(floor(sent_at / 86400) AS BIGINT) AS day, channel, {seg} AS segment, count(*) AS volume,
               {counts.COUNTED}
        FROM facts WHERE {where} GROUP BY ALL ORDER BY day, channel
        """,
        params,
    )
