"""What the store-level benchmarks share: a database to measure on, the machine's load, peak memory, timed calls.

A benchmark adds `--postgres` and `--database-url` with `add_database_options`, then runs inside `database(...)`,
which yields the URL of a temporary SQLite file, a private durable PostgreSQL cluster (`tests.support.postgres`,
stopped afterwards) or the URL given. `timed` runs a call and prints its p50 and p99 beside the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def add_database_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--postgres", action="store_true", help="a private PostgreSQL cluster (tests/support)")
    parser.add_argument("--database-url", help="measure on this database instead of a temporary one")


@contextmanager
def database(args: argparse.Namespace, prefix: str) -> Iterator[str]:
    """The URL to measure on: --database-url, else a private PostgreSQL cluster, else a temporary SQLite file."""
    if args.database_url:
        yield args.database_url
        return
    if args.postgres:
        sys.path.insert(0, str(REPO))  # tests.support.postgres starts private clusters for tests and benchmarks
        from tests.support.postgres import start_cluster

        cluster = start_cluster(durable=True)
        try:
            yield cluster.url
        finally:
            cluster.stop()
        return
    yield f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'seamline-{prefix}-')) / 'bench.db'}"


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(label: str, runs: int, call: Callable[[], object], *, width: int = 52, precise: bool = False) -> None:
    """Run `call` `runs` times and print p50 and p99 (and the maximum when `precise`, to a tenth of a ms)."""
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - began)
    seconds.sort()
    p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
    digits = 1 if precise else 0
    line = (
        f"{label:<{width}} p50 {statistics.median(seconds) * 1000:8.{digits}f} ms   p99 {p99 * 1000:8.{digits}f} ms   "
    )
    if precise:
        line += f"max {seconds[-1] * 1000:8.1f} ms  "
    print(line + f"({runs} runs; load {os.getloadavg()[0]:.1f})")
