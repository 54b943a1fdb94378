"""How many events per second a real `seamline serve` durably accepts, with and without its worker, against what its
database can take.

Starts `seamline serve --no-demo` on loopback (SQLite in a temporary folder unless --database-url or --postgres)
with a source made by `seamline sources create`, drives POST /v1/batch from a separate process with keep-alive
connections, then counts the stored rows to check that every 200 is in the database. By default, in one run:
the server with its worker off (the API's ceiling), the embedded default (worker on, in its own process), both
sending back to back, and the embedded default at a paced rate (--rate, 15,000 events/s), where the question is
whether p99 stays low and the worker keeps up. For each worker run it reports the events the worker processed
while the load ran, the backlog left at the end and how long it took to drain. Then it measures the database's
ceiling: the same kind of rows, parsed by the same code, appended with `repository.append_events` to a fresh
database of the same kind with the same settings, one transaction per group. Prints figures only; exits 1 only
when the server fails or the stored rows do not match the 200s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ingest_load import LoadPlan, make_templates, request_body
from ingest_serve import HOST, ServedRun, serve_and_drive
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import WRITE_INTENT, create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.ingestion import repository
from seamline.ingestion.wire import Limits, parse_batch
from seamline.sources.service import create_source

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Options:
    connections: int
    seconds: float
    warmup: float
    batch_size: int
    workers: tuple[str, ...]
    rate: float
    drain_timeout: float
    ceiling_events: int
    database_url: str | None
    postgres: bool
    keep: bool
    is_paced_only: bool = False
    batch_seconds: tuple[float, ...] = ()


def parse_options(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="The server and the ceiling read the same SEAMLINE_* settings (by default SQLite in WAL mode with "
        "synchronous=FULL). Figures are noisy on a shared machine: compare runs made under the same load.",
    )
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive connections (16)")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring (2)")
    parser.add_argument("--batch-size", type=int, default=100, help="events per request (100)")
    parser.add_argument(
        "--worker",
        default="off,process",
        help="comma-separated runs of `seamline serve`: off (--no-worker: the API's ceiling), process (the embedded "
        "default: its worker in a child process), thread (SEAMLINE_SERVE_WORKER=thread: in the API's process); "
        "`on` means process, `both` off,process (off,process)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=15_000,
        help="after the back-to-back runs, one more run of each worker mode at this many events/s on a fixed "
        "schedule (latency counted from each request's due time); 0 for none (15000)",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=120.0, help="most seconds to wait for the worker's backlog (120)"
    )
    parser.add_argument(
        "--ceiling-events", type=int, default=200_000, help="at most this many events for the ceiling (200000)"
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--database-url",
        help="a PostgreSQL server URL (postgresql+psycopg://user@host/db); the benchmark creates its own databases "
        "on it and drops them afterwards",
    )
    target.add_argument("--postgres", action="store_true", help="start a private durable PostgreSQL cluster")
    parser.add_argument(
        "--paced-only", action="store_true", help="only the paced runs (--rate), not the back-to-back ones"
    )
    parser.add_argument(
        "--batch-seconds",
        default="",
        help="comma-separated worker_batch_seconds values (how long a worker transaction aims to hold SQLite's "
        "write lock): one more paced run of the worker process for each, e.g. 0.015,0.05 (none)",
    )
    parser.add_argument("--quick", action="store_true", help="a few seconds: a smoke test of the benchmark itself")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and databases")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.ceiling_events = 2.0, 0.5, min(args.ceiling_events, 20_000)
    aliases = {"on": ("process",), "both": ("off", "process")}
    workers = tuple(m for part in args.worker.split(",") for m in aliases.get(part.strip(), (part.strip(),)))
    if not workers or any(m not in ("off", "process", "thread") for m in workers):
        parser.error(f"--worker takes off, process, thread (comma-separated), not {args.worker!r}")
    return Options(
        connections=args.connections,
        seconds=args.seconds,
        warmup=args.warmup,
        batch_size=args.batch_size,
        workers=workers,
        rate=args.rate,
        drain_timeout=args.drain_timeout,
        ceiling_events=args.ceiling_events,
        database_url=args.database_url,
        postgres=args.postgres,
        keep=args.keep,
        is_paced_only=args.paced_only and args.rate > 0,
        batch_seconds=tuple(float(x) for x in args.batch_seconds.split(",") if x.strip()) if args.rate > 0 else (),
    )


class Databases:
    """Fresh databases of one kind: files in a temporary folder, or databases on a PostgreSQL server."""

    def __init__(self, folder: Path, server_url: str | None) -> None:
        self.folder = folder
        self.server_url = server_url
        self.created: list[str] = []

    @property
    def kind(self) -> str:
        if self.server_url:
            return "PostgreSQL"
        synchronous = Settings(data_dir=self.folder).sqlite_synchronous
        return f"SQLite (WAL, synchronous={synchronous})"

    def fresh(self, name: str) -> str:
        """The URL of a new, migrated, empty database."""
        if self.server_url is None:
            url = f"sqlite:///{self.folder / name / 'seamline.db'}"
        else:
            database = f"seamline_bench_{os.getpid()}_{name.replace('-', '_')}"
            admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
                conn.execute(text(f'CREATE DATABASE "{database}"'))
            admin.dispose()
            self.created.append(database)
            url = make_url(self.server_url).set(database=database).render_as_string(hide_password=False)
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        return url

    def drop_all(self) -> None:
        if self.server_url is None or not self.created:
            return
        admin = create_engine(self.server_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for database in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def measure_ceiling(
    databases: Databases, name: str, templates: list[bytes], requests: int, group: int, batch_size: int
) -> float:
    """Events per second that `repository.append_events` reaches on a fresh database, `group` requests per commit.

    Bodies are parsed by the server's own `parse_batch` beforehand, untimed: only the database work counts.
    """
    url = databases.fresh(name)
    settings = Settings(database_url=url, data_dir=databases.folder / name)
    engine = create_db_engine(url, sqlite_synchronous=settings.sqlite_synchronous, pool_size=settings.db_pool_size)
    try:
        with unit_of_work(engine) as session:
            source, _key = create_source(session, "bench", "server")
        limits = Limits()
        received_at = utcnow()
        parsed = [parse_batch(orjson.loads(request_body(templates, n)), received_at, limits) for n in range(requests)]
        writer = engine.execution_options(**{WRITE_INTENT: True})
        started = time.perf_counter()
        for first in range(0, requests, group):
            with writer.begin() as conn:
                repository.append_events(conn, [(source.id, received_at, e) for e in parsed[first : first + group]])
        elapsed = time.perf_counter() - started
        with engine.connect() as conn:
            stored = int(conn.execute(text("SELECT count(*) FROM inbox_events")).scalar_one())
        if stored != requests * batch_size:
            raise RuntimeError(f"ceiling stored {stored} rows, expected {requests * batch_size}")
    finally:
        engine.dispose()
    return requests * batch_size / elapsed


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


GOAL_EVENTS_PER_SECOND = 15_000
GOAL_P99_MS = 100.0
KEPT_UP_SECONDS = 2.0


@dataclass(frozen=True)
class Figures:
    """One served run in the figures the goal speaks of."""

    run: ServedRun
    accepted_per_second: float
    p99_ms: float
    is_consistent: bool  # the stored rows are exactly the acknowledged events
    batch_seconds: float | None = None  # SEAMLINE_WORKER_BATCH_SECONDS of this run, when the run set it

    @property
    def label(self) -> str:
        pace = f"paced {self.run.rate:,.0f}/s" if self.run.rate else "back to back"
        held = f", batches of {self.batch_seconds * 1000:g} ms" if self.batch_seconds is not None else ""
        return f"worker {self.run.worker}, {pace}{held}"

    @property
    def has_kept_up(self) -> bool | None:
        """Whether the worker kept up: what waited when the load stopped (the batch in hand, the last requests)
        drained within KEPT_UP_SECONDS."""
        if self.run.worker == "off":
            return None
        return self.run.drain_seconds is not None and self.run.drain_seconds <= KEPT_UP_SECONDS


def report_run(run: ServedRun, batch_size: int, batch_seconds: float | None = None) -> Figures:
    """Print one served run and return its figures."""
    load = run.load
    rate = load.measured_ok_requests * batch_size / load.measured_seconds
    acknowledged = load.ok_requests * batch_size
    p99 = _percentile(load.latencies_ms, 0.99)
    figures = Figures(run, rate, p99, acknowledged == run.stored_rows, batch_seconds)
    print(
        f"  {figures.label}: {rate:,.0f} events/s accepted ({load.measured_ok_requests / load.measured_seconds:,.0f} "
        f"requests/s)   latency p50 {_percentile(load.latencies_ms, 0.5):.1f} ms, p99 {figures.p99_ms:.1f} ms, "
        f"max {max(load.latencies_ms, default=float('nan')):.1f} ms   (load average {run.loads[0]:.2f} -> "
        f"{run.loads[1]:.2f})"
    )
    refused = ", ".join(f"{n} x HTTP {s}" for s, n in sorted(load.statuses.items())) or "none"
    failed = ", ".join(f"{n} x {e}" for e, n in sorted(load.errors.items())) or "none"
    print(f"      refused: {refused}; connection errors: {failed}")
    print(
        f"      stored: {run.stored_rows:,} rows for {acknowledged:,} acknowledged events "
        f"({'match' if figures.is_consistent else 'MISMATCH'})"
    )
    if run.worker != "off":
        drained = f"drained {run.drain_seconds:.1f} s later" if run.drain_seconds is not None else "NOT drained"
        print(
            f"      worker: {run.processed_in_window / run.window_seconds:,.0f} events/s processed while the load ran; "
            f"{run.backlog_at_end:,} waiting when it stopped, {drained}: "
            f"{'kept up' if figures.has_kept_up else 'did NOT keep up'}; {run.processed_rows:,} processed in all"
        )
    cores = [f"API process {run.api_cpu_seconds / run.wall_seconds:.2f}"]
    if run.worker == "process":
        cores.append(f"worker process {run.worker_cpu_seconds / run.wall_seconds:.2f}")
    per_event = run.api_cpu_seconds / max(1, acknowledged) * 1e6
    print(
        f"      CPU cores: {', '.join(cores)} ({per_event:.1f} us of API CPU per event), load generator "
        f"{load.cpu_seconds / run.wall_seconds:.2f}; server runs {run.libraries}"
    )
    return figures


def report_goal(figures: list[Figures]) -> None:
    """The embedded default beside the ceiling, and whether it meets the goal."""
    print(
        f"goal, worker on in its own process: >= {GOAL_EVENTS_PER_SECOND:,} events/s accepted with the worker "
        f"keeping up, p99 < {GOAL_P99_MS:.0f} ms"
    )
    for f in figures:
        kept = {None: "", True: ", worker kept up", False: ", worker did NOT keep up"}[f.has_kept_up]
        meets = (
            f.accepted_per_second >= GOAL_EVENTS_PER_SECOND * 0.995  # a paced run delivers its rate give or take
            and f.p99_ms < GOAL_P99_MS
            and f.has_kept_up is True
        )
        verdict = "" if f.run.worker == "off" else ("  -> meets the goal" if meets else "  -> short of the goal")
        print(f"  {f.label:<52} {f.accepted_per_second:>9,.0f} events/s, p99 {f.p99_ms:7.1f} ms{kept}{verdict}")


@contextmanager
def _worker_batch_seconds(seconds: float | None) -> Iterator[None]:
    """SEAMLINE_WORKER_BATCH_SECONDS for the server started in the block, when given (the server reads its
    environment)."""
    if seconds is None:
        yield
        return
    before = os.environ.get(BATCH_SECONDS_VARIABLE)
    os.environ[BATCH_SECONDS_VARIABLE] = str(seconds)
    try:
        yield
    finally:
        if before is None:
            del os.environ[BATCH_SECONDS_VARIABLE]
        else:
            os.environ[BATCH_SECONDS_VARIABLE] = before


BATCH_SECONDS_VARIABLE = "SEAMLINE_WORKER_BATCH_SECONDS"


def main(argv: list[str] | None = None) -> int:
    options = parse_options(argv)
    folder = Path(tempfile.mkdtemp(prefix="seamline-bench-"))
    cluster = None
    server_url = options.database_url
    if options.postgres:
        sys.path.insert(0, str(REPO))  # tests.support.postgres starts private clusters for tests and benchmarks
        from tests.support.postgres import start_cluster

        cluster = start_cluster(durable=True)  # fsync and synchronous_commit on, as in production
        server_url = cluster.url
    databases = Databases(folder, server_url)
    prefix = uuid.uuid4().hex[:8]
    seed = 20_240_601
    is_ok = True
    try:
        templates = make_templates(seed, prefix, options.batch_size)
        event_bytes = sum(len(t) for t in templates) / (len(templates) * options.batch_size)
        print(
            f"Seamline ingest: {databases.kind}, {os.cpu_count()} cores, load average "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at start"
        )
        print(
            f"load: {options.connections} keep-alive connections from a separate process, POST /v1/batch of "
            f"{options.batch_size} events (~{event_bytes:.0f} bytes each), {options.seconds:g} s measured after "
            f"{options.warmup:g} s warm-up"
        )
        runs: list[tuple[str, float, float | None]] = []
        if not options.is_paced_only:
            runs += [(worker, 0.0, None) for worker in options.workers]
        if options.rate > 0:
            runs += [(worker, options.rate, None) for worker in options.workers if worker != "off"]
            runs += [("process", options.rate, seconds) for seconds in options.batch_seconds]
        figures = []
        for number, (worker, rate, batch_seconds) in enumerate(runs):
            name = f"serve-{number}-{worker}"
            plan = LoadPlan(
                HOST, 0, "", options.connections, options.warmup, options.seconds, seed, f"{prefix}{number}",
                options.batch_size, rate,
            )  # fmt: skip
            with _worker_batch_seconds(batch_seconds):
                run = serve_and_drive(
                    plan,
                    databases.fresh(name),
                    databases.folder / name,
                    worker=worker,
                    drain_timeout=options.drain_timeout,
                )
            figures.append(report_run(run, options.batch_size, batch_seconds))
            is_ok = is_ok and figures[-1].is_consistent and run.load.ok_requests > 0
        accepted_requests = max(f.run.load.ok_requests for f in figures)
        requests = max(1, min(accepted_requests, options.ceiling_events // options.batch_size))
        print(
            f"database ceiling: repository.append_events into a fresh database of the same kind and settings, "
            f"{requests * options.batch_size:,} events parsed beforehand (untimed)"
        )
        ceilings = {}
        for group in (1, options.connections):
            ceilings[group] = measure_ceiling(
                databases, f"ceiling-{group}", templates, requests, group, options.batch_size
            )
            events = group * options.batch_size
            what = "one request's events" if group == 1 else f"all {group} connections' requests at once"
            print(f"  {events:>6,} events per transaction ({what}): {ceilings[group]:>9,.0f} events/s")
        best = ceilings[options.connections]
        for f in figures:
            grouped = options.connections * options.batch_size
            print(
                f"ratio accepted/database ceiling, {f.label}: {f.accepted_per_second / best:.2f} of the "
                f"{grouped:,}-event-transaction ceiling, {f.accepted_per_second / ceilings[1]:.2f} of the "
                f"{options.batch_size}-event one"
            )
        report_goal(figures)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at end")
    finally:
        if not options.keep:
            databases.drop_all()
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"kept {folder}" + (f" and databases {', '.join(databases.created)}" if databases.created else ""))
        if cluster is not None:
            cluster.stop()
    return 0 if is_ok else 1


if __name__ == "__main__":
    sys.exit(main())
