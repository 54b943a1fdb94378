"""A real `seamline serve` under load for benchmarks/ingest.py: start it, drive it, watch its worker drain.

The server runs as users run it (`seamline serve --no-demo`, its worker on or off), on a fresh database with one
source made by `seamline sources create`. The load generator runs in its own process; while it runs, this process
samples the inbox backlog (an indexed count) to tell how many events the worker processed in the measured window,
then waits for the backlog to drain.
"""

from __future__ import annotations

import http.client
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from ingest_load import LoadPlan, LoadResult, run_load
from seamline.core.db import create_db_engine

HOST = "127.0.0.1"
BACKLOG_SAMPLE_SECONDS = 0.25


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The process's children, whichever of its threads started them."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with suppress(OSError):
            children += [int(c) for c in (task / "children").read_text().split()]
    return children


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    write_key: str
    log: Path

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU seconds so far of the API process, and of its children (the worker process, when there is one)."""
        return _cpu_seconds(self.process.pid), sum(_cpu_seconds(c) for c in _children(self.process.pid))

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


def _seamline() -> str:
    script = Path(sys.executable).parent / "seamline"
    return str(script) if script.exists() else "seamline"


@contextmanager
def running_server(folder: Path, database_url: str, *, worker: str) -> Iterator[Server]:
    """`seamline serve` as a user starts it, on a free loopback port, until the block ends.

    `worker` is off (--no-worker), process (the default: a child process) or thread (SEAMLINE_SERVE_WORKER=thread).
    """
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
    if worker != "off":
        env["SEAMLINE_SERVE_WORKER"] = worker
    created = subprocess.run(
        [_seamline(), "sources", "create", "bench", "--kind", "server"], env=env, capture_output=True, check=True
    )
    key = next(
        line.split("write key:")[1].strip() for line in created.stdout.decode().splitlines() if "write key:" in line
    )
    command = [_seamline(), "serve", "--no-demo", "--no-worker" if worker == "off" else "--worker"]
    log = folder / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(process, port, log)
        yield Server(process, port, key, log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
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


def _inbox(engine: Engine) -> tuple[int, int]:
    """(events stored, events waiting for the worker): the highest id, and an indexed count of pending events."""
    with engine.connect() as conn:
        stored, pending = conn.execute(
            text(
                "SELECT (SELECT coalesce(max(id), 0) FROM inbox_events),"
                " (SELECT count(*) FROM inbox_events WHERE processed_at IS NULL)"
            )
        ).one()
    return int(stored), int(pending)


@dataclass(frozen=True)
class ServedRun:
    worker: str  # off | process | thread
    rate: float  # 0: back to back
    libraries: str
    load: LoadResult
    stored_rows: int
    processed_rows: int
    api_cpu_seconds: float
    worker_cpu_seconds: float  # of the worker process; 0 when there is none
    wall_seconds: float
    processed_in_window: int  # events the worker processed while the measured window ran
    window_seconds: float
    backlog_at_end: int  # events still waiting when the load stopped
    drain_seconds: float | None  # from the end of the load until nothing waited; None: not drained in time
    loads: tuple[float, float]  # the 1-minute load average before and after the run


def serve_and_drive(plan: LoadPlan, url: str, folder: Path, *, worker: str, drain_timeout: float) -> ServedRun:
    """Serve a fresh database, drive it with `plan` (its host, port and key are filled in), watch the worker."""
    folder.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    with running_server(folder, url, worker=worker) as server:
        plan = LoadPlan(
            HOST,
            server.port,
            server.write_key,
            plan.connections,
            plan.warmup_seconds,
            plan.seconds,
            plan.seed,
            plan.prefix,
            plan.batch_size,
            plan.rate,
        )
        engine = create_db_engine(url, pool_size=1)
        try:
            context = multiprocessing.get_context("spawn")
            parent, child = context.Pipe(duplex=False)
            process = context.Process(target=_drive_in_child, args=(plan, child), name="seamline-bench-load")
            process.start()
            child.close()
            parent.recv()  # the generator has built its bodies and starts now
            api_cpu, worker_cpu = server.cpu_seconds()
            wall = time.perf_counter()
            time.sleep(plan.warmup_seconds)
            window_start = time.perf_counter()
            stored, pending = _inbox(engine)
            processed_start = stored - pending
            result: LoadResult = parent.recv()
            window_seconds = time.perf_counter() - window_start
            stored, backlog_at_end = _inbox(engine)
            processed_in_window = stored - backlog_at_end - processed_start
            api_end, worker_end = server.cpu_seconds()
            wall = time.perf_counter() - wall
            process.join()
            drain_seconds = _drain(engine, drain_timeout) if worker != "off" else None
            libraries = server.libraries()
            with engine.connect() as conn:
                stored_rows, processed_rows = conn.execute(
                    text("SELECT count(*), count(processed_at) FROM inbox_events")
                ).one()
        finally:
            engine.dispose()
    return ServedRun(
        worker=worker,
        rate=plan.rate,
        libraries=libraries,
        load=result,
        stored_rows=int(stored_rows),
        processed_rows=int(processed_rows),
        api_cpu_seconds=api_end - api_cpu,
        worker_cpu_seconds=worker_end - worker_cpu,
        wall_seconds=wall,
        processed_in_window=processed_in_window,
        window_seconds=window_seconds,
        backlog_at_end=backlog_at_end,
        drain_seconds=drain_seconds,
        loads=(load_before, os.getloadavg()[0]),
    )


def _drain(engine: Engine, timeout: float) -> float | None:
    """Seconds until nothing waits for the worker, or None after `timeout`."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if _inbox(engine)[1] == 0:
            return time.perf_counter() - started
        time.sleep(BACKLOG_SAMPLE_SECONDS)
    return None
