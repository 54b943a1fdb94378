"""A small HTTP load generator for GET benchmarks: closed loop (as fast as N connections go) and open loop
(a fixed arrival rate, latency measured from each request's scheduled time, so a stall is not hidden).

Runs in its own process (the benchmarks start it with multiprocessing) so it does not share the server's GIL.
Also what the HTTP benchmarks share around it: starting `seamline serve` on a database, and the server's CPU.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.error import URLError
from urllib.parse import urlsplit


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _connection(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> int:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


def closed_loop(
    base: str, paths: list[str], headers: dict[str, str], connections: int, seconds: float
) -> dict[str, Any]:
    """Each connection sends its next request when the previous one is answered, for `seconds`."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def run(offset: int) -> None:
        conn = _connection(base)
        mine: list[float] = []
        bad = 0
        i = offset
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                status = _get(conn, paths[i % len(paths)], headers)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = _connection(base)
                status = 0
            if status == 200:
                mine.append((time.perf_counter() - started) * 1000)
            else:
                bad += 1
            i += connections
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(n,)) for n in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"ok": len(latencies), "errors": errors[0], "seconds": time.perf_counter() - started, "latencies": latencies}


def open_loop(
    base: str | list[str], paths: list[str], headers: dict[str, str], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """Requests scheduled at `rate` per second; latency counts from the scheduled time. Given several base URLs
    (several API processes), the connections are spread over them evenly."""
    bases = [base] if isinstance(base, str) else base
    jobs: queue.Queue[tuple[float, str] | None] = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run(target: str) -> None:
        conn = _connection(target)
        while (job := jobs.get()) is not None:
            scheduled, path = job
            try:
                status = _get(conn, path, headers)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = _connection(target)
                status = 0
            done = time.perf_counter()
            with lock:
                if status == 200:
                    latencies.append((done - scheduled) * 1000)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=run, args=(bases[n % len(bases)],)) for n in range(connections)]
    for t in threads:
        t.start()
    started = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        jobs.put((scheduled, paths[n % len(paths)]))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    return {"ok": len(latencies), "errors": errors[0], "seconds": time.perf_counter() - started, "latencies": latencies}


def serve(database_url: str, data_dir: Path, port: int, *, read_audit_fsync: bool) -> subprocess.Popen[bytes]:
    """`seamline serve --no-worker` on a database, once it answers /healthz."""
    env = {
        **os.environ,
        "SEAMLINE_DATABASE_URL": database_url,
        "SEAMLINE_DATA_DIR": str(data_dir),
        "SEAMLINE_PORT": str(port),
        "SEAMLINE_LOG_LEVEL": "warning",
        "SEAMLINE_READ_AUDIT_FSYNC": "true" if read_audit_fsync else "false",
    }
    seamline = shutil.which("seamline") or str(Path(sys.executable).parent / "seamline")
    server = subprocess.Popen([seamline, "serve", "--no-worker", "--no-demo"], env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return server
        except (URLError, OSError):
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    """The load averages, as printed beside every latency."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def steady(
    pool: Any,
    server_pid: int,
    base: str,
    paths: list[str],
    headers: dict[str, str],
    rate: int,
    seconds: float,
    connections: int,
) -> str:
    """One open-loop run at `rate` from the pool's process, described with the server's CPU per answer (what the
    route costs whatever else the machine is doing) and the load average."""
    cpu_before = cpu_seconds(server_pid)
    run = pool.apply(open_loop, (base, paths, headers, rate, seconds, connections))
    cpu_us = (cpu_seconds(server_pid) - cpu_before) / max(run["ok"], 1) * 1e6
    return (
        f"steady {rate}/s: p50 {percentile(run['latencies'], 50):.2f} ms, "
        f"p99 {percentile(run['latencies'], 99):.2f} ms ({run['ok']:,} requests, {run['errors']} errors, "
        f"achieved {run['ok'] / run['seconds']:,.0f}/s; server CPU {cpu_us:,.0f} us per answer; load {load()})"
    )


@contextmanager
def serving(
    database_url: str, data_dir: Path, api_key: str, *, read_audit_fsync: bool
) -> Iterator[tuple[Any, subprocess.Popen[bytes], str, dict[str, str]]]:
    """A server on the database and a one-process pool to load it from: (pool, server, base URL, auth headers)."""
    port = 18000 + os.getpid() % 1000
    server = serve(database_url, data_dir, port, read_audit_fsync=read_audit_fsync)
    try:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            yield pool, server, f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {api_key}"}
    finally:
        server.terminate()
        server.wait(30)
