"""How many events per second a real `seamline serve` durably accepts, against what its database can take.

Starts `seamline serve` on loopback (SQLite in a temporary folder unless --database-url or --postgres),
drives POST /v1/batch from a separate process with keep-alive connections, each sending batches of
realistic events back to back, then counts the stored rows to check that every 200 is in the database.
Then it measures the ceiling: the same kind of rows, parsed by the same code, appended with
`repository.append_events` to a fresh database of the same kind with the same settings, one transaction per
group. Prints figures only; exits 1 only when the server fails or the stored rows do not match the 200s.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ingest_load import LoadPlan, LoadResult, make_templates, request_body, run_load
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import WRITE_INTENT, create_db_engine, unit_of_work
from seamline.core.migrations import upgrade
from seamline.ingestion import repository
from seamline.ingestion.wire import Limits, parse_batch
from seamline.sources.service import create_source

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Options:
    connections: int
    seconds: float
    warmup: float
    batch_size: int
    workers: tuple[bool, ...]
    ceiling_events: int
    database_url: str | None
    postgres: bool
    keep: bool


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
        choices=("on", "off", "both"),
        default="on",
        help="the embedded worker of `seamline serve`: on (as users run it), off, or both runs (on)",
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
    parser.add_argument("--quick", action="store_true", help="a few seconds: a smoke test of the benchmark itself")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and databases")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.warmup, args.ceiling_events = 2.0, 0.5, min(args.ceiling_events, 20_000)
    workers = {"on": (True,), "off": (False,), "both": (True, False)}[args.worker]
    return Options(
        connections=args.connections,
        seconds=args.seconds,
        warmup=args.warmup,
        batch_size=args.batch_size,
        workers=workers,
        ceiling_events=args.ceiling_events,
        database_url=args.database_url,
        postgres=args.postgres,
        keep=args.keep,
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


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    write_key: str
    log: Path

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def libraries(self) -> str:
        """Which event loop and HTTP parser the server loaded (uvicorn picks uvloop and httptools when present)."""
        maps = Path(f"/proc/{self.process.pid}/maps").read_text()
        loop = "uvloop" if "/uvloop/" in maps else "asyncio"
        parser = "httptools" if "/httptools/" in maps else "h11"
        return f"{loop} + {parser}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(folder: Path, database_url: str, *, worker: bool) -> Iterator[Server]:
    """`seamline serve` as a user starts it, on a free loopback port, until the block ends."""
    port = _free_port()
    # Other SEAMLINE_* variables pass through, so that the server and the ceiling read the same settings.
    env = os.environ | {
        "SEAMLINE_DATA_DIR": str(folder),
        "SEAMLINE_DATABASE_URL": database_url,
        "SEAMLINE_HOST": HOST,
        "SEAMLINE_PORT": str(port),
        "SEAMLINE_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    }
    seamline = Path(sys.executable).parent / "seamline"
    command = [str(seamline) if seamline.exists() else "seamline", "serve", "--worker" if worker else "--no-worker"]
    log = folder / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(process, port, log)
        key = next(
            line.split("write key:")[1].strip()
            for line in log.read_text().splitlines()
            if line.startswith("demo source web ")
        )
        yield Server(process, port, key, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"seamline serve exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with suppress(OSError):
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        time.sleep(0.1)
    raise RuntimeError(f"seamline serve did not answer within 60 s:\n{log.read_text()[-3000:]}")


def _drive_in_child(plan: LoadPlan, conn: multiprocessing.connection.Connection) -> None:
    conn.send(run_load(plan, on_start=lambda: conn.send(None)))
    conn.close()


def drive(plan: LoadPlan, server: Server) -> tuple[LoadResult, float, float]:
    """Run the load generator in its own process, so it never shares a GIL with the server or this script.

    Returns its result, and the server's CPU seconds and the wall seconds while it ran.
    """
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_drive_in_child, args=(plan, child), name="seamline-bench-load")
    process.start()
    child.close()
    parent.recv()  # the generator has built its bodies and starts now
    cpu, wall = server.cpu_seconds(), time.perf_counter()
    result: LoadResult = parent.recv()
    cpu, wall = server.cpu_seconds() - cpu, time.perf_counter() - wall
    process.join()
    return result, cpu, wall


def count_rows(database_url: str) -> tuple[int, int]:
    """Rows in the inbox, and how many of them the worker has processed."""
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as conn:
            stored, processed = conn.execute(text("SELECT count(*), count(processed_at) FROM inbox_events")).one()
            return int(stored), int(processed)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class ServedRun:
    worker: bool
    libraries: str
    load: LoadResult
    stored_rows: int
    processed_rows: int
    server_cpu_seconds: float
    wall_seconds: float


def serve_and_drive(options: Options, databases: Databases, *, worker: bool, prefix: str, seed: int) -> ServedRun:
    name = "serve-worker" if worker else "serve-no-worker"
    url = databases.fresh(name)
    folder = databases.folder / name
    folder.mkdir(parents=True, exist_ok=True)
    with running_server(folder, url, worker=worker) as server:
        plan = LoadPlan(
            HOST,
            server.port,
            server.write_key,
            options.connections,
            options.warmup,
            options.seconds,
            seed,
            prefix,
            options.batch_size,
        )
        load, cpu, wall = drive(plan, server)
        libraries = server.libraries()
        stored, processed = count_rows(url)
    return ServedRun(worker, libraries, load, stored, processed, cpu, wall)


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


def report_run(run: ServedRun, batch_size: int) -> tuple[float, bool]:
    """Print one served run; returns its accepted events per second and whether the stored rows match."""
    load = run.load
    rate = load.measured_ok_requests * batch_size / load.measured_seconds
    acknowledged = load.ok_requests * batch_size
    is_consistent = acknowledged == run.stored_rows
    label = "worker on " if run.worker else "worker off"
    print(
        f"  {label}: {rate:>9,.0f} events/s accepted ({load.measured_ok_requests / load.measured_seconds:,.0f} "
        f"requests/s)   latency p50 {_percentile(load.latencies_ms, 0.5):.1f} ms, "
        f"p99 {_percentile(load.latencies_ms, 0.99):.1f} ms"
    )
    refused = ", ".join(f"{n} x HTTP {s}" for s, n in sorted(load.statuses.items())) or "none"
    failed = ", ".join(f"{n} x {e}" for e, n in sorted(load.errors.items())) or "none"
    print(f"              refused: {refused}; connection errors: {failed}")
    print(
        f"              stored: {run.stored_rows:,} rows for {acknowledged:,} acknowledged events "
        f"({'match' if is_consistent else 'MISMATCH'}); {run.processed_rows:,} processed by the worker "
        f"({run.processed_rows / run.wall_seconds:,.0f}/s)"
    )
    per_event = run.server_cpu_seconds / max(1, acknowledged) * 1e6
    print(
        f"              CPU: server {run.server_cpu_seconds / run.wall_seconds:.2f} cores ({per_event:.1f} us per "
        f"event), load generator {load.cpu_seconds / run.wall_seconds:.2f} cores; server runs {run.libraries}"
    )
    return rate, is_consistent and load.ok_requests > 0


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
            f"Seamline ingest: {databases.kind}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start"
        )
        print(
            f"load: {options.connections} keep-alive connections from a separate process, POST /v1/batch of "
            f"{options.batch_size} events (~{event_bytes:.0f} bytes each), {options.seconds:g} s measured after "
            f"{options.warmup:g} s warm-up"
        )
        rates = []
        for worker in options.workers:
            run = serve_and_drive(options, databases, worker=worker, prefix=prefix, seed=seed)
            rate, is_run_ok = report_run(run, options.batch_size)
            rates.append((run, rate))
            is_ok = is_ok and is_run_ok
        accepted_requests = max(r.load.ok_requests for r, _ in rates)
        requests = max(1, min(accepted_requests, options.ceiling_events // options.batch_size))
        print(
            f"ceiling: repository.append_events into a fresh database of the same kind and settings, "
            f"{requests * options.batch_size:,} events parsed beforehand (untimed)"
        )
        groups = (1, options.connections)
        ceilings = {}
        for group in groups:
            ceilings[group] = measure_ceiling(
                databases, f"ceiling-{group}", templates, requests, group, options.batch_size
            )
            events = group * options.batch_size
            what = "one request's events" if group == 1 else f"all {group} connections' requests at once"
            print(f"  {events:>6,} events per transaction ({what}): {ceilings[group]:>9,.0f} events/s")
        best = ceilings[options.connections]
        for run, rate in rates:
            label = "worker on " if run.worker else "worker off"
            grouped = options.connections * options.batch_size
            print(
                f"ratio accepted/ceiling, {label}: {rate / best:.2f} of the {grouped:,}-event-transaction ceiling "
                f"(the most the server can group), {rate / ceilings[1]:.2f} of the {options.batch_size}-event one"
            )
        print(f"load average {os.getloadavg()[0]:.2f} at end")
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
