"""Nothing acknowledged is lost: a server killed mid-load has every event it answered 200 for on disk."""

from __future__ import annotations

import base64
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

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
        for _ in range(200):
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                probe.request("GET", "/healthz")
                ready = probe.getresponse().status == 200
                probe.close()
                if ready:
                    break
            except OSError:
                time.sleep(0.05)
        auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def send(worker: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Authorization": auth, "Content-Type": "application/json"}
            n = 0
            try:
                while not stop.is_set():
                    ids = [f"w{worker}-{n}-{i}" for i in range(20)]
                    batch = [{"type": "track", "userId": f"u{worker}", "event": "Tick", "messageId": m} for m in ids]
                    n += 1
                    try:
                        conn.request("POST", "/v1/batch", body=json.dumps({"batch": batch}), headers=headers)
                        response = conn.getresponse()
                        response.read()
                    except (OSError, http.client.HTTPException):
                        return  # the server died mid-request: that request was never acknowledged
                    if response.status == 200:
                        with lock:
                            acknowledged.extend(ids)
            finally:
                conn.close()

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
