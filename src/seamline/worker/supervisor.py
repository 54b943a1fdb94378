"""`seamline serve`'s worker in a child process: started, watched, restarted when it dies, stopped with the server.

One process cannot use two cores for Python code: the API and identity resolution would share one GIL. The child
is `python -m seamline.worker.child` in its own session, so a Ctrl-C in a terminal reaches `serve` alone and `serve`
stops its worker in order (SIGTERM: it finishes the batch in hand, then exits). The child gets the settings on its
stdin and watches that pipe: if `serve` dies without stopping it, the pipe closes and the child stops too. Its
heartbeats (a line a second on its stdout) say it is alive and how many events it processed. A child that exits
while `serve` runs is restarted after a backoff of 1 s, doubled on each quick failure up to 30 s, and logged.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO

import orjson

from seamline.config import Settings
from seamline.observability.metrics import Metrics

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 60.0  # a child that ran this long before dying starts the backoff from the beginning again
STALE_HEARTBEAT_SECONDS = 10.0  # a running child silent for longer than this is reported as not alive
STOP_GRACE_SECONDS = 30.0  # how long a stopping child may take to finish its batch before it is killed


@dataclass(frozen=True)
class WorkerHealth:
    """What /healthz and the metrics say about the embedded worker."""

    mode: str  # process | thread | off
    is_alive: bool
    pid: int | None = None
    restarts: int = 0
    processed: int = 0
    heartbeat_age_seconds: float | None = None
    last_exit_code: int | None = None

    def as_dict(self) -> dict[str, object]:
        age = self.heartbeat_age_seconds
        return {
            "mode": self.mode,
            "alive": self.is_alive,
            "pid": self.pid,
            "restarts": self.restarts,
            "processed": self.processed,
            "heartbeat_age_seconds": None if age is None else round(age, 3),
            "last_exit_code": self.last_exit_code,
        }


def backoff_after(failures: int) -> float:
    """Seconds to wait before the next start after `failures` quick failures in a row (1, 2, 4, … 30)."""
    return min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2.0 ** max(0, failures - 1))


class WorkerSupervisor:
    """Keeps one worker child process running until `stop`."""

    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self._settings = settings
        self._metrics = metrics
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._monitor: threading.Thread | None = None
        self._heartbeat_at: float | None = None
        self._processed_before = 0  # by children that have exited
        self._processed_now = 0  # by the running child, from its last heartbeat
        self.restarts = 0
        self.last_exit_code: int | None = None

    def start(self) -> None:
        """Start the child and the thread that watches it."""
        self._monitor = threading.Thread(target=self._supervise, name="seamline-worker-supervisor", daemon=True)
        self._monitor.start()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Ask the child to finish its batch and exit (SIGTERM); kill it if it takes longer than `grace`."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                log.error("the worker process %d did not stop within %.0f s; killing it", process.pid, grace)
                process.kill()
        if self._monitor is not None:
            self._monitor.join(grace)
            self._monitor = None

    def health(self) -> WorkerHealth:
        with self._lock:
            process, beat = self._process, self._heartbeat_at
            processed = self._processed_before + self._processed_now
        is_running = process is not None and process.poll() is None
        age = None if beat is None or not is_running else time.monotonic() - beat
        return WorkerHealth(
            mode="process",
            is_alive=is_running and age is not None and age < STALE_HEARTBEAT_SECONDS,
            pid=process.pid if is_running and process is not None else None,
            restarts=self.restarts,
            processed=processed,
            heartbeat_age_seconds=age,
            last_exit_code=self.last_exit_code,
        )

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                process, heartbeats = self._spawn()
            except OSError:
                log.exception("could not start the worker process")
                code = None
            else:
                code = process.wait()
                heartbeats.join(STALE_HEARTBEAT_SECONDS)  # its last beats counted before the count moves on
                if process.stdin is not None:
                    process.stdin.close()
                with self._lock:
                    self._process = None
                    self._processed_before += self._processed_now
                    self._processed_now = 0
                    self._heartbeat_at = None
                    self.last_exit_code = code
            if self._stopping.is_set():
                break
            failures = 1 if time.monotonic() - started >= STABLE_SECONDS else failures + 1
            delay = backoff_after(failures)
            log.error("the worker process exited with code %s; starting it again in %.0f s", code, delay)
            if self._stopping.wait(delay):
                break
            self.restarts += 1

    def _spawn(self) -> tuple[subprocess.Popen[bytes], threading.Thread]:
        process = subprocess.Popen(
            [sys.executable, "-m", "seamline.worker.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a terminal's Ctrl-C reaches serve alone; serve stops the child in order
        )
        assert process.stdin is not None
        assert process.stdout is not None
        with self._lock:
            self._process = process
        if self._stopping.is_set():  # stop() ran while the child was being created: it never saw this one
            process.terminate()
        try:
            process.stdin.write(self._settings.model_dump_json().encode() + b"\n")
            process.stdin.flush()  # and stdin stays open: its end of file tells the child that serve has gone
        except BrokenPipeError:
            pass  # the child died at once; wait() reports how
        heartbeats = threading.Thread(
            target=self._read_heartbeats, args=(process.stdout,), name="seamline-worker-heartbeats", daemon=True
        )
        heartbeats.start()
        log.info("worker process %d started", process.pid)
        return process, heartbeats

    def _read_heartbeats(self, stream: IO[bytes]) -> None:
        with stream:
            for line in stream:
                try:
                    processed = int(orjson.loads(line)["processed"])
                except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                    continue
                with self._lock:
                    delta = processed - self._processed_now
                    self._processed_now = processed
                    self._heartbeat_at = time.monotonic()
                if self._metrics is not None and delta > 0:
                    self._metrics.events_processed.inc(delta)
