"""Nothing acknowledged is lost: a server killed mid-load has every event it answered 200 for on disk."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.support.postgres import free_port


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    seamline = shutil.which("seamline") or str(Path(sys.executable).parent / "seamline")
    env = {
        **os.environ,
        "SEAMLINE_DATA_DIR": str(data_dir),
        "SEAMLINE_PORT": str(port),
        "SEAMLINE_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [seamline, "serve", "--no-worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _write_key(server: subprocess.Popen[bytes]) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline().decode()
        if line.startswith("demo source web"):
            return line.rsplit(" ", 1)[1].strip()
    raise AssertionError("the server printed no demo write key")


def test_a_killed_server_keeps_every_acknowledged_event(tmp_path: Path) -> None:
    port = free_port()
    server = _serve(tmp_path, port)
    try:
        key = _write_key(server)
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def send(worker: int) -> None:
            with httpx.Client(base_url=base, auth=(key, ""), timeout=10) as client:
                n = 0
                while not stop.is_set():
                    ids = [f"w{worker}-{n}-{i}" for i in range(20)]
                    batch = [{"type": "track", "userId": f"u{worker}", "event": "Tick", "messageId": m} for m in ids]
                    n += 1
                    try:
                        response = client.post("/v1/batch", json={"batch": batch})
                    except httpx.TransportError:
                        return  # the server died mid-request: that request was never acknowledged
                    if response.status_code == 200:
                        with lock:
                            acknowledged.extend(ids)

        threads = [threading.Thread(target=send, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        server.send_signal(signal.SIGKILL)  # no shutdown, no flush: a crash
        server.wait(10)
        stop.set()
        for thread in threads:
            thread.join(15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        if server.stdout is not None:
            server.stdout.close()

    assert len(acknowledged) > 100  # the load really ran before the crash
    engine = create_engine(f"sqlite:///{tmp_path / 'seamline.db'}")
    try:
        with engine.connect() as conn:
            stored = {row[0] for row in conn.execute(text("SELECT message_id FROM inbox_events"))}
    finally:
        engine.dispose()
    missing = [m for m in acknowledged if m not in stored]
    assert missing == []
