"""The bottlenecks' p50/p95 from the per-day latency histograms (latency.py, rollup.py) agree with the exact
quantiles of the raw rows to within a bucket's width; the counts beside them are exact."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
from sqlalchemy import Engine

from seamline.assessment import latency
from seamline.assessment.config import AssessmentConfig
from seamline.assessment.scope import Scope, scope_of
from seamline.assessment.service import Assessment
from seamline.communications.service import ExternalCommunication, Happened, log_external, record_outcomes
from seamline.communications.templates import Catalog
from seamline.core.db import unit_of_work

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)


def exact(values: list[float], q: float) -> float:
    """DuckDB's quantile_cont: the two sorted values around rank (n - 1) x q, interpolated."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = ordered[math.floor(position)]
    return low + (ordered[math.ceil(position)] - low) * (position - math.floor(position))


def close(estimate: float | None, truth: float) -> bool:
    """Within the bucket's width (5% of the value), plus the report's rounding to 0.1 s."""
    return estimate is not None and abs(estimate - truth) <= truth * (latency.RATIO - 1) + 0.05


def test_buckets_are_log_spaced_at_most_five_percent_wide_and_the_sql_agrees() -> None:
    rng = random.Random(7)
    values = [0.0, -3.0, 0.0005, 0.001, 1.0, 59.99, 60.0, 3600.0, 86_400.0 * 400] + [
        10 ** rng.uniform(-3, 8) for _ in range(2000)
    ]
    for v in values:
        low, high = latency.bounds(latency.bucket_of(v))
        assert low <= v < high
        if v >= latency.FLOOR_SECONDS:
            assert high / low <= 1.05 + 1e-12
    con = duckdb.connect()
    in_sql = con.execute(f"SELECT {latency.bucket_sql('v')} FROM unnest(?::DOUBLE[]) t(v)", [values]).fetchall()  # noqa: S608  # the SQL is our own bucket expression, the values are bound
    mismatched = [
        (v, b) for v, (b,) in zip(values, in_sql, strict=True) if b != latency.bucket_of(v)
        and not math.isclose(math.log(v / latency.FLOOR_SECONDS) / math.log(latency.RATIO) % 1, 0, abs_tol=1e-9)
    ]  # fmt: skip  # a value on a bucket's edge may fall either side by rounding
    assert mismatched == []


def test_a_quantile_read_from_buckets_is_exact_to_the_bucket_width() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(5, 2) for _ in range(5000)]
    buckets: dict[int, list[float]] = {}
    for v in values:
        buckets.setdefault(latency.bucket_of(v), []).append(v)
    histogram = [(b, len(vs), min(vs), max(vs)) for b, vs in buckets.items()]
    for q in (0.5, 0.95, 0.99):
        assert close(latency.quantile(histogram, q), exact(values, q))
    assert latency.quantile([(5, 1, 7.0, 7.0), (9, 2, 20.0, 21.0)], 0.5) == 20.0  # one or two a bucket: exact
    assert latency.quantile([], 0.5) is None


def test_the_bottlenecks_from_the_per_day_histograms_match_the_raw_rows(engine: Engine, tmp_path: Path) -> None:
    """Three days of two paths' messages with spread latencies: the whole-day report (histograms) against the
    same messages read one by one (a period not of whole days) and against the raw rows computed here."""
    rng = random.Random(11)
    sends: list[ExternalCommunication] = []
    happened: list[Happened] = []
    raw: dict[str, dict[str, list[float]]] = {p: {"send": [], "delivery": []} for p in ("mailer", "sms-hub")}
    for i in range(180):
        platform = "mailer" if i % 3 else "sms-hub"
        logged = DAY0 + timedelta(days=i % 3, hours=rng.uniform(0, 20))
        to_send = rng.uniform(1, 600) if platform == "mailer" else rng.uniform(0.5, 5)
        to_deliver = rng.lognormvariate(6, 1.5)
        sends.append(ExternalCommunication(f"m{i}", i + 1, "notice", "email", platform, template="notice",
                                           source_system="core", occurred_at=logged))  # fmt: skip
        happened.append(Happened(f"m{i}", "sent", origin="event", occurred_at=logged + timedelta(seconds=to_send)))
        raw[platform]["send"].append(to_send)
        if i % 10 == 0:
            happened.append(Happened(f"m{i}", "bounced_hard", "550", "event",
                                     occurred_at=logged + timedelta(seconds=to_send + 1)))  # fmt: skip
            continue
        happened.append(Happened(f"m{i}", "delivered", origin="event",
                                 occurred_at=logged + timedelta(seconds=to_send + to_deliver)))  # fmt: skip
        raw[platform]["delivery"].append(to_deliver)
    with unit_of_work(engine) as session:
        log_external(session, sends)
        record_outcomes(session, happened)
    assessment = Assessment(engine, Catalog(tmp_path), AssessmentConfig(late_delivery_hours=0.5))
    three_days = scope_of(DAY0.date(), DAY0.date() + timedelta(days=2))
    by_days = {p.platform: p for p in assessment.bottlenecks(three_days).paths}
    every = {p.platform: p for p in assessment.bottlenecks(Scope(since=DAY0 + timedelta(seconds=1))).paths}
    assert set(by_days) == set(every) == {"mailer", "sms-hub"}
    for platform, path in by_days.items():
        messages = every[platform]
        assert (path.volume, path.bounced, path.late) == (messages.volume, messages.bounced, messages.late)
        assert path.volume == len(raw[platform]["send"])
        assert path.late == sum(1 for d in raw[platform]["delivery"] if d > 1800)
        for kind, q, from_days, one_by_one in (
            ("send", 0.5, path.send_p50_seconds, messages.send_p50_seconds),
            ("send", 0.95, path.send_p95_seconds, messages.send_p95_seconds),
            ("delivery", 0.5, path.delivery_p50_seconds, messages.delivery_p50_seconds),
            ("delivery", 0.95, path.delivery_p95_seconds, messages.delivery_p95_seconds),
        ):
            truth = exact(raw[platform][kind], q)
            assert one_by_one is not None
            assert abs(one_by_one - truth) <= 0.06, (platform, kind, q)
            assert close(from_days, truth), (platform, kind, q, from_days, truth)
