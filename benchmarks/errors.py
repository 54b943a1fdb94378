"""Communication errors benchmark: blast radius over a large communications log, and the errors queue page.

Prints figures; asserts nothing. The log is written straight into the table in bulk (the shape the communications
domain writes: executemany on SQLite, COPY on PostgreSQL), `--batches` batches of two templates each, plus one
large batch (`--big-batch` communications) that the measured problem is about. Then:

* blast radius: the service call a problem page makes (`blast_radius`: count of the runs plus the first page of
  100 recipients with what was done for each), timed `--repeat` times for a problem of three wrong-balance
  reports on the big batch;
* the errors queue: `--errors` open errors stored, then GET /console/errors (first page of 50, most severe first,
  with clocks; audit of every customer listed included) through the ASGI app as a signed-in agent, `--requests`
  times, and GET /v1/communication-errors with a server key.

    python benchmarks/errors.py [--communications 10000000] [--big-batch 200000] [--errors 100000]
                                [--requests 300] [--repeat 20] [--postgres | --database-url URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert

from seamline.access.service import create_api_key
from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.principal import Principal
from seamline.errors.models import CommError
from seamline.errors.policy import RANK, SEVERITIES, read_policy
from seamline.errors.problems import blast_radius
from seamline.errors.service import Report, report_errors
from seamline.users.config import ConsoleConfig
from seamline.users.service import create_user

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark password"  # noqa: S105 - a throwaway user of a throwaway database
CHUNK = 50_000
COLUMNS = (
    "communication_id", "profile_id", "type", "template", "template_version", "batch", "source_system", "platform",
    "channel", "fields", "status", "created_at", "updated_at",
)  # fmt: skip
BIG = "2026-11-statements"


def _rows(total: int, big: int, batches: int, rng: random.Random) -> Iterator[tuple[object, ...]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(total):
        if n < big:
            batch, template = BIG, "statement_ready"
        else:
            batch = f"run-{rng.randrange(batches):05d}"
            template = ("statement_ready", "fee_notice")[n % 2]
        at = (start + timedelta(seconds=n)).isoformat()
        yield (
            f"c-{n}", 1 + n % 2_000_000, "statement", template, "1" if n % 7 else "2", batch, "core-banking",
            "print-house", "email", "{}", "sent", at, at,
        )  # fmt: skip


def populate_log(engine: Engine, total: int, big: int, batches: int) -> float:
    """Write the log in bulk; returns seconds taken."""
    rng = random.Random(7)
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        rows = _rows(total, big, batches, rng)
        if engine.dialect.name == "postgresql":
            copy_sql = f"COPY communications ({', '.join(COLUMNS)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:  # type: ignore[attr-defined]  # DBAPI cursor stubs lack psycopg's COPY; this branch runs on psycopg only
                for row in rows:
                    copy.write_row(row)
        else:
            # The engine's connections autocommit at the driver (it issues BEGIN itself): one transaction per chunk.
            marks = ", ".join("?" * len(COLUMNS))
            sql = f"INSERT INTO communications ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608 - constants
            cursor.execute("PRAGMA synchronous=OFF")  # loading a throwaway database
            chunk: list[tuple[object, ...]] = []
            for i, row in enumerate(rows, 1):
                chunk.append(row)
                if len(chunk) == CHUNK:
                    cursor.execute("BEGIN")
                    cursor.executemany(sql, chunk)
                    cursor.execute("COMMIT")
                    chunk = []
                if i % 1_000_000 == 0:
                    print(f"  {i:,} communications", flush=True)
            if chunk:
                cursor.execute("BEGIN")
                cursor.executemany(sql, chunk)
                cursor.execute("COMMIT")
            cursor.execute("PRAGMA synchronous=FULL")
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - began


def populate_errors(engine: Engine, count: int) -> None:
    """Store `count` open errors across severities, as the service would (clocks set, no personal text)."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        severity = rng.choices(SEVERITIES, weights=(40, 30, 20, 10))[0]
        at = now - timedelta(minutes=rng.randrange(60 * 24 * 30))
        rows.append(
            {
                "profile_id": 1 + rng.randrange(2_000_000), "intake": "import", "reporter": "bench", "field": "balance",
                "harm": "financial", "customers_affected": 1, "is_vulnerable": False, "severity": severity,
                "severity_rank": RANK[severity], "severity_reason": "benchmark", "owner_team": "operations",
                "template": "statement_ready", "template_version": "1", "batch": f"run-{n % 5000:05d}",
                "source_system": "core-banking", "channel": "email", "status": "open", "is_open": True,
                "escalation_level": 0, "reported_at": at, "acknowledge_due_at": at + timedelta(hours=1),
                "resolve_due_at": at + timedelta(hours=rng.randrange(1, 200)), "acknowledge_missed": False,
                "resolve_missed": False, "regulatory_warned": False, "updated_at": at,
            }
        )  # fmt: skip
        if len(rows) == CHUNK:
            with engine.begin() as conn:
                conn.execute(insert(table_of(CommError)), rows)
            rows = []
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(table_of(CommError)), rows)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def _quantiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {ordered[-1] * 1000:.1f} ms"


def run(url: str, options: argparse.Namespace, data_dir: Path) -> None:
    print(f"\n== {url.split('://')[0]} ==")
    engine = create_db_engine(url)
    upgrade(engine)
    took = populate_log(engine, options.communications, options.big_batch, options.batches)
    rate = options.communications / took
    print(f"communications log: {options.communications:,} rows written in {took:.0f} s ({rate:,.0f}/s)")
    operator = Principal(name="bench", kind="operator", scopes=frozenset(), surface="cli")
    policy = read_policy(None)
    with unit_of_work(engine) as session:
        made = report_errors(
            session, policy, [Report([f"c-{i}"], "balance") for i in (10, 20, 30)], actor=operator, intake="import"
        )
    problem_id = made[-1].problem_id
    assert problem_id is not None
    samples = []
    for _ in range(options.repeat):
        began = time.perf_counter()
        with unit_of_work(engine, write=False) as session:
            radius = blast_radius(session, problem_id, limit=100)
        samples.append(time.perf_counter() - began)
    print(
        f"blast radius of a problem on a batch of {options.big_batch:,} (template version 1 of it: {radius.total:,}) "
        f"in a log of {options.communications:,}: {_quantiles(samples)} over {options.repeat} calls"
    )
    populate_errors(engine, options.errors)
    with unit_of_work(engine) as session:
        create_user(session, "agent", "agent", PASSWORD, actor=operator, config=ConsoleConfig())
        _view, key = create_api_key(session, "bench", ["errors:read"])
    settings = Settings(database_url=url, data_dir=data_dir)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        login = client.get("/console/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        client.post(
            "/console/login",
            data={"username": "agent", "password": PASSWORD, "csrf_token": token, "next": "/console"},
        )
        for name, path, headers in (
            ("console errors queue (GET /console/errors)", "/console/errors", {}),
            (
                "API queue (GET /v1/communication-errors)",
                "/v1/communication-errors",
                {"Authorization": f"Bearer {key}"},
            ),
        ):
            assert client.get(path, headers=headers).status_code == 200
            timings = []
            cpu = time.process_time()
            for _ in range(options.requests):
                began = time.perf_counter()
                response = client.get(path, headers=headers)
                timings.append(time.perf_counter() - began)
                assert response.status_code == 200
            # CPU time of the whole process (client and app) per request: far less sensitive to the machine's load
            # than the wall-clock figures.
            per_request = (time.process_time() - cpu) / options.requests * 1000
            print(
                f"{name} with {options.errors + 3:,} open errors: {_quantiles(timings)} over {options.requests}; "
                f"CPU {per_request:.1f} ms per request"
            )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communications", type=int, default=10_000_000)
    parser.add_argument("--big-batch", type=int, default=200_000, help="communications of the measured batch")
    parser.add_argument("--batches", type=int, default=5000, help="other batches the rest of the log is spread over")
    parser.add_argument("--errors", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="on a private PostgreSQL cluster instead of SQLite")
    parser.add_argument("--database-url", default="", help="run on this (empty, migratable) database")
    options = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="seamline-errors-"))
    cluster = None
    try:
        if options.database_url:
            url = options.database_url
        elif options.postgres:
            sys.path.insert(0, str(REPO))  # tests.support.postgres starts private clusters for tests and benchmarks
            from tests.support.postgres import start_cluster

            cluster = start_cluster(durable=True)
            url = cluster.url
        else:
            url = f"sqlite:///{data_dir / 'seamline.db'}"
        run(url, options, data_dir)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
