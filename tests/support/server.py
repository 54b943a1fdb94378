"""Real servers on loopback for tests: an app in a thread (SDK tests), or `seamline serve` as its own process."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from seamline.config import Settings
from tests.support.postgres import free_port


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def call(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One HTTP request to 127.0.0.1:port: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


@dataclass
class ServeProcess:
    """A `seamline serve` process started as a user starts it, and its port."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def health(self) -> dict[str, Any]:
        status, body = call(self.port, "GET", "/healthz")
        assert status == 200
        health: dict[str, Any] = json.loads(body)
        return health

    def wait_for(self, what: str, check: Any, timeout: float = 60.0) -> dict[str, Any]:
        """Poll /healthz until `check(health)` holds; the health that passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self.health()
            if check(health):
                return health
            time.sleep(0.1)
        raise AssertionError(f"{what} within {timeout:.0f} s; last /healthz: {health}\n{self.log.read_text()[-3000:]}")


def seamline_command(*args: str) -> list[str]:
    """The installed `seamline` script with arguments."""
    return [shutil.which("seamline") or str(Path(sys.executable).parent / "seamline"), *args]


def serve_environment(settings: Settings) -> dict[str, str]:
    """The environment that points `seamline` commands at the settings' database and folder."""
    return {
        **os.environ,
        "SEAMLINE_DATABASE_URL": settings.database_url,
        "SEAMLINE_DATA_DIR": str(settings.data_dir),
        "SEAMLINE_LOG_LEVEL": "info",
    }


@contextmanager
def serve_process(settings: Settings, *args: str) -> Iterator[ServeProcess]:
    """`seamline serve --no-demo ARGS` on the settings' database until the block ends (SIGTERM, then kill)."""
    port = free_port()
    env = serve_environment(settings) | {"SEAMLINE_PORT": str(port)}
    log = settings.data_dir / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            seamline_command("serve", "--no-demo", *args), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"seamline serve did not start:\n{log.read_text()[-3000:]}")
            try:
                if call(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield ServeProcess(process, port, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
