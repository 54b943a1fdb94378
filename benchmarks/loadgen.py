"""A small HTTP load generator for GET benchmarks: closed loop (as fast as N connections go) and open loop
(a fixed arrival rate, latency measured from each request's scheduled time, so a stall is not hidden).

Runs in its own process (the benchmarks start it with multiprocessing) so it does not share the server's GIL.
"""

from __future__ import annotations

import http.client
import queue
import threading
import time
from typing import Any
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
    base: str, paths: list[str], headers: dict[str, str], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """Requests scheduled at `rate` per second; latency counts from the scheduled time."""
    jobs: queue.Queue[tuple[float, str] | None] = queue.Queue()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run() -> None:
        conn = _connection(base)
        while (job := jobs.get()) is not None:
            scheduled, path = job
            try:
                status = _get(conn, path, headers)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = _connection(base)
                status = 0
            done = time.perf_counter()
            with lock:
                if status == 200:
                    latencies.append((done - scheduled) * 1000)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=run) for _ in range(connections)]
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
