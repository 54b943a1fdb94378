"""Read-path benchmark: the audited profile reads beside a bare route, in one run, as ratios.

Prints figures; asserts nothing. Absolute figures on a shared machine move by ±60% between runs; the ratio of an
audited route to the bare route measured minutes before it, on the same database and server settings, is what
says how far the read path is from the framework's own speed.

1. --profiles profiles are written straight into the tables (an email, an email and a name trait, and a consent
   choice each; the routes read them by key and index, so what matters is that the tables hold that many).
2. `benchmarks/bareroute.py` (FastAPI, one held driver connection, the identifier's row and its profile's header,
   no key, no audit) is started with the same uvicorn settings as `seamline serve`, and driven at each steady rate.
3. `seamline serve --no-worker` is driven the same way on three audited routes, every answer audited:
   the lookup by identifier, the profile card (`GET /v1/profiles/{id}`, the golden record the console's customer
   page heads with) and the consent check (`GET /v1/profiles/{id}/may-contact`).
4. Each figure: server CPU per answer (the server processes' CPU from /proc over the answers), p50/p99 latency
   from each request's scheduled time (open loop, a separate load process), the load average; and the audited
   CPU as a multiple of the bare route's. By default the bare and audited servers run side by side and at each
   rate every audited run is bracketed by bare windows of half its length (bare, lookup, bare, card, bare,
   consent, bare): the multiple is over the median of that rate's bare windows, all printed. (With --audit-gather-ms or
   --read-audit-fsync both: one bare window per rate, before the audited runs.)

    python benchmarks/readpath.py                         # SQLite, 1M profiles, 500/s and 1,000/s
    python benchmarks/readpath.py --processes 1,2         # also several API processes (each its own port)
    python benchmarks/readpath.py --postgres --processes 1,2,4   # a private durable PostgreSQL cluster
    python benchmarks/readpath.py --quick                 # 20k profiles, 3 s runs
    python benchmarks/readpath.py --audit-gather-ms 0,1   # each audited run without and with the gather window
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.error import URLError

import orjson
from sqlalchemy import func, insert, select

from seamline.access.service import create_api_key
from seamline.consent.models import ConsentChoice
from seamline.core.db import create_db_engine, table_of, unit_of_work
from seamline.core.migrations import upgrade
from seamline.core.secrets import hash_key
from seamline.identity.models import IdentifierLink, Profile
from seamline.profiles.models import TraitValue
from seamline.sources.service import create_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import cpu_seconds, load, open_loop, percentile

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FILL_CHUNK = 50_000


def fill(database_url: str, profiles: int) -> tuple[str, float]:
    """Store `profiles` profiles (email identifier, email and name traits, a consent choice); returns the API key."""
    engine = create_db_engine(database_url, sqlite_synchronous="OFF")
    upgrade(engine)
    with unit_of_work(engine) as session:
        _view, api_key = create_api_key(session, f"bench-{os.getpid()}", ["profiles:read"])
    started = time.perf_counter()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.connect() as conn:
        have = int(conn.execute(select(func.count()).select_from(table_of(Profile))).scalar_one())
    if have < profiles:
        with unit_of_work(engine) as session:
            source_id = create_source(session, f"bench-{os.getpid()}", "server")[0].id
    for start in range(have, profiles, FILL_CHUNK):
        count = min(FILL_CHUNK, profiles - start)
        with engine.begin() as conn:
            ids = (
                conn.execute(
                    insert(table_of(Profile)).returning(table_of(Profile).c.id),
                    [{"created_at": at, "updated_at": at, "merge_count": 0} for _ in range(count)],
                )
                .scalars()
                .all()
            )
            conn.execute(
                insert(table_of(IdentifierLink)),
                [{"profile_id": pid, "type": "email", "value": f"p{pid}@example.com", "source_id": source_id,
                  "first_seen_at": at, "last_seen_at": at} for pid in ids],
            )  # fmt: skip
            traits = []
            for pid in ids:
                for name, value in (("email", f"p{pid}@example.com"), ("name", f"Person {pid}")):
                    encoded = orjson.dumps(value).decode()
                    traits.append(
                        {"profile_id": pid, "name": name, "value_json": encoded, "value_hash": hash_key(encoded)[:32],
                         "source_id": source_id, "first_event_id": 0, "last_event_id": 0, "first_seen_at": at,
                         "last_seen_at": at, "times_seen": 1}
                    )  # fmt: skip
            conn.execute(insert(table_of(TraitValue)), traits)
            conn.execute(
                insert(table_of(ConsentChoice)),
                [{"profile_id": pid, "origin_profile_id": pid, "kind": "consent", "purpose": "marketing",
                  "channel": "email", "value": "granted", "actor": "bench", "surface": "api", "evidence": {},
                  "recorded_at": at, "effective_at": at} for pid in ids],
            )  # fmt: skip
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # a database at rest before the servers start
    else:
        with engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return api_key, time.perf_counter() - started


def _wait_healthy(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"a server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except (URLError, OSError):
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("a server did not start")


@contextmanager
def servers(kind: str, database_url: str, workdir: Path, processes: int, env: dict[str, str],
            port_offset: int = 0) -> Iterator[Any]:  # fmt: skip
    """`processes` servers of `kind` ("bare" or "audited"), each on its own port: (their pids, their base URLs)."""
    first = 18200 + os.getpid() % 500 * 8 + port_offset
    started: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(processes):
            port = first + n
            child_env = {
                **os.environ,
                **env,
                "SEAMLINE_DATABASE_URL": database_url,
                "SEAMLINE_DATA_DIR": str(workdir),
                "SEAMLINE_PORT": str(port),
                "SEAMLINE_LOG_LEVEL": "warning",
            }
            if kind == "bare":
                command = [sys.executable, str(HERE / "bareroute.py")]
            else:
                seamline = shutil.which("seamline") or str(Path(sys.executable).parent / "seamline")
                command = [seamline, "serve", "--no-worker", "--no-demo"]
            started.append(subprocess.Popen(command, env=child_env))
            _wait_healthy(started[-1], port)
        yield [s.pid for s in started], [f"http://127.0.0.1:{first + n}" for n in range(processes)]
    finally:
        for server in started:
            server.terminate()
        for server in started:
            server.wait(30)


def user_system(pid: int) -> tuple[float, float]:
    """User and system CPU seconds a process has used (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def loop_thread_seconds(pid: int) -> float:
    """CPU seconds of a server's main thread, the one uvicorn runs the event loop on (Linux /proc)."""
    return sum(_task_cpu(pid, pid))


def _task_cpu(pid: int, tid: int) -> tuple[float, float]:
    try:
        fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def measure(pool: Any, pids: list[int], bases: list[str], paths: list[str], headers: dict[str, str], rate: int,
            seconds: float, connections: int) -> dict[str, Any]:  # fmt: skip
    """One open-loop run at `rate`: answers, errors, latencies, and the servers' CPU per answer (µs), also split
    into user and system time (the split is the kernel's tick sampling; the total is exact) and into the event
    loop's thread and the process's other threads (the audit writer, the embedded dispatcher, the followers)."""
    before = sum(cpu_seconds(p) for p in pids)
    split_before = [user_system(p) for p in pids]
    loop_before = sum(loop_thread_seconds(p) for p in pids)
    load_before = load()
    run = pool.apply(open_loop, (bases, paths, headers, rate, seconds, connections))
    answers = max(run["ok"], 1)
    cpu_us = (sum(cpu_seconds(p) for p in pids) - before) / answers * 1e6
    loop_us = (sum(loop_thread_seconds(p) for p in pids) - loop_before) / answers * 1e6
    split_after = [user_system(p) for p in pids]
    user = sum(a[0] - b[0] for a, b in zip(split_after, split_before, strict=True)) / answers * 1e6
    system = sum(a[1] - b[1] for a, b in zip(split_after, split_before, strict=True)) / answers * 1e6
    return {**run, "cpu_us": cpu_us, "user_us": user, "system_us": system, "loop_us": loop_us,
            "load": f"{load_before} -> {load()}"}  # fmt: skip


def describe(label: str, run: dict[str, Any], rate: int, bare: dict[str, Any] | None) -> str:
    ratio = f", {run['cpu_us'] / bare['cpu_us']:.2f}x the bare route's" if bare else ""
    return (
        f"  {label:<12} {rate:>5}/s: CPU {run['cpu_us']:,.0f} us per answer{ratio} "
        f"(user {run['user_us']:,.0f}, system {run['system_us']:,.0f}; event loop thread {run['loop_us']:,.0f}, "
        f"other threads {run['cpu_us'] - run['loop_us']:,.0f}); "
        f"p50 {percentile(run['latencies'], 50):.2f} ms, p99 {percentile(run['latencies'], 99):.2f} ms "
        f"({run['ok']:,} answers, {run['errors']} errors, achieved {run['ok'] / run['seconds']:,.0f}/s; "
        f"load {run['load']})"
    )


def interleaved(pool: Any, args: Any, processes: int, database_url: str, workdir: Path, fsync: str,
                gathers: list[str], routes: list[str], audited_paths: dict[str, list[str]], headers: dict[str, str],
                rates: list[int], bare: dict[int, dict[str, Any]]) -> None:  # fmt: skip
    """Each route and rate measured once per gather window, back to back (a server started for each run), so a
    before/after comparison shares the machine's load of the moment."""
    for route in routes:
        paths = audited_paths[route]
        for rate in rates:
            for gather in gathers:
                env = {"SEAMLINE_READ_AUDIT_FSYNC": fsync, "SEAMLINE_READ_AUDIT_GATHER_MS": gather}
                with servers("audited", database_url, workdir, processes, env) as (pids, bases):
                    pool.apply(open_loop, (bases, paths, headers, 300, 2.0, 8))  # warm up
                    run = measure(pool, pids, bases, paths, headers, rate, args.seconds, args.connections)
                print(describe(f"{route} g={gather}", run, rate, bare[rate]))


def bracketed(pool: Any, args: Any, processes: int, database_url: str, workdir: Path, routes: list[str],
              audited_paths: dict[str, list[str]], bare_paths: list[str], headers: dict[str, str],
              rates: list[int]) -> None:  # fmt: skip
    """The bare and the audited servers run side by side; at each rate every audited run is bracketed by bare
    windows (bare, lookup, bare, card, bare, consent, bare), and each audited figure is divided by the median of
    that rate's bare windows: a baseline taken across the same minutes as the runs it is compared with, rather
    than one window before them all (the bare route's own CPU per answer moved by up to half between runs)."""
    env = {"SEAMLINE_READ_AUDIT_FSYNC": "true"}
    bare_seconds = max(3.0, args.seconds / 2)  # 5 s at 1,000/s is 5,000 answers; keeps the run within 5 minutes
    with (
        servers("bare", database_url, workdir, processes, {}) as (bare_pids, bare_bases),
        servers("audited", database_url, workdir, processes, env, port_offset=processes) as (pids, bases),
    ):
        pool.apply(open_loop, (bare_bases, bare_paths, {}, 300, 2.0, 8))  # warm up
        for route in routes:
            pool.apply(open_loop, (bases, audited_paths[route], headers, 300, 2.0, 8))
        for rate in rates:
            windows: list[dict[str, Any]] = []
            runs: dict[str, dict[str, Any]] = {}
            for route in [*routes, None]:
                window = measure(pool, bare_pids, bare_bases, bare_paths, {}, rate, bare_seconds, args.connections)
                windows.append(window)
                print(describe("bare", window, rate, None))
                if route is not None:
                    runs[route] = measure(pool, pids, bases, audited_paths[route], headers, rate, args.seconds,
                                          args.connections)  # fmt: skip
                    print(describe(route, runs[route], rate, None))
            baseline = {"cpu_us": statistics.median(float(w["cpu_us"]) for w in windows)}
            spread = ", ".join(f"{w['cpu_us']:,.0f}" for w in windows)
            print(f"  at {rate}/s the bare route's median window: {baseline['cpu_us']:,.0f} us per answer "
                  f"(windows in order: {spread} us); each audited route against it:")  # fmt: skip
            for route, run in runs.items():
                print(describe(route, run, rate, baseline))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--rates", default="500,1000", help="comma-separated steady requests/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each steady run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", default="1", help="comma-separated API process counts to measure")
    parser.add_argument("--routes", default="lookup,card,consent", help="audited routes to measure")
    parser.add_argument(
        "--read-audit-fsync",
        default="true",
        choices=["true", "false", "both"],
        help="SEAMLINE_READ_AUDIT_FSYNC of the audited servers (both: one set of runs each)",
    )
    parser.add_argument(
        "--audit-gather-ms",
        default="",
        help="comma-separated SEAMLINE_READ_AUDIT_GATHER_MS values, one set of audited runs each, interleaved per "
        "route and rate (0: every entry commits as soon as the writer is free, as before the gather window)",
    )
    parser.add_argument("--database-url", default="", help="default: SQLite in a temporary folder")
    parser.add_argument("--postgres", action="store_true", help="a private durable PostgreSQL cluster")
    parser.add_argument("--quick", action="store_true", help="20k profiles, 3 s runs")
    parser.add_argument("--workdir", default="", help="keep the SQLite database here, and reuse it next time")
    args = parser.parse_args()
    if args.quick:
        args.profiles, args.seconds = 20_000, 3.0

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="seamline-readpath-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cluster = None
    database_url = args.database_url or f"sqlite:///{workdir / 'seamline.db'}"
    if args.postgres:
        sys.path.insert(0, str(REPO))  # tests.support.postgres starts private clusters for tests and benchmarks
        from tests.support.postgres import start_cluster

        cluster = start_cluster(durable=True)  # fsync and synchronous_commit on, as in production
        database_url = cluster.url
    try:
        api_key, seconds = fill(database_url, args.profiles)
        dialect = database_url.split(":", 1)[0]
        print(f"machine: {os.cpu_count()} cores; database: {dialect}; load {load()}")
        print(f"{args.profiles:,} profiles stored ({seconds:.1f} s to store what was missing)")
        ids = list(range(1, args.profiles + 1, max(1, args.profiles // 20_000)))
        bare_paths = [f"/bare/lookup?identifier=email:p{pid}@example.com" for pid in ids]
        audited_paths = {
            "lookup": [f"/v1/profiles/lookup?identifier=email:p{pid}@example.com" for pid in ids],
            "card": [f"/v1/profiles/{pid}" for pid in ids],
            "consent": [f"/v1/profiles/{pid}/may-contact?purpose=marketing&channel=email" for pid in ids],
        }
        headers = {"Authorization": f"Bearer {api_key}"}
        rates = [int(r) for r in args.rates.split(",")]
        routes = args.routes.split(",")
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            for processes in (int(p) for p in args.processes.split(",")):
                print(f"{processes} API process(es), {args.seconds:.0f} s per run, {args.connections} connections:")
                fsyncs = ["true", "false"] if args.read_audit_fsync == "both" else [args.read_audit_fsync]
                gathers = args.audit_gather_ms.split(",") if args.audit_gather_ms else []
                if not gathers and fsyncs == ["true"]:
                    bracketed(pool, args, processes, database_url, workdir, routes, audited_paths, bare_paths,
                              headers, rates)  # fmt: skip
                    continue
                bare: dict[int, dict[str, Any]] = {}
                with servers("bare", database_url, workdir, processes, {}) as (pids, bases):
                    pool.apply(open_loop, (bases, bare_paths, {}, 300, 2.0, 8))  # warm up
                    for rate in rates:
                        bare[rate] = measure(pool, pids, bases, bare_paths, {}, rate, args.seconds, args.connections)
                        print(describe("bare", bare[rate], rate, None))
                for fsync in fsyncs:
                    if fsync == "false":
                        print("  the same, audit commits not waiting for the disk (SEAMLINE_READ_AUDIT_FSYNC=false):")
                    if gathers:
                        interleaved(pool, args, processes, database_url, workdir, fsync, gathers, routes,
                                    audited_paths, headers, rates, bare)  # fmt: skip
                        continue
                    env = {"SEAMLINE_READ_AUDIT_FSYNC": fsync}
                    with servers("audited", database_url, workdir, processes, env) as (pids, bases):
                        for route in routes:
                            paths = audited_paths[route]
                            pool.apply(open_loop, (bases, paths, headers, 300, 2.0, 8))  # warm up
                            for rate in rates:
                                run = measure(pool, pids, bases, paths, headers, rate, args.seconds, args.connections)
                                print(describe(route, run, rate, bare[rate]))
    finally:
        if cluster is not None:
            cluster.stop()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
