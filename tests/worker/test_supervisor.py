"""`seamline serve` runs its worker in a child process: it resolves events, comes back after a kill, stops with serve.

Each test starts `seamline serve` as its own process, as a user does, and posts events over loopback.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.db import create_db_engine
from seamline.core.migrations import upgrade
from seamline.worker.supervisor import backoff_after
from tests.support.builders import make_source
from tests.support.server import ServeProcess, call, serve_process


def _post(server: ServeProcess, key: str, batch: list[dict[str, Any]]) -> None:
    auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": auth}
    status, body = call(server.port, "POST", "/v1/batch", json.dumps({"batch": batch}).encode(), headers)
    assert status == 200, body


def _people(first: int, count: int) -> list[dict[str, Any]]:
    """An identify (user id and email) and a track for each person."""
    events: list[dict[str, Any]] = []
    for n in range(first, first + count):
        events.append({"type": "identify", "userId": f"u-{n}", "traits": {"email": f"p{n}@example.com"}})
        events.append({"type": "track", "userId": f"u-{n}", "event": "Card Activated"})
    return events


def _inbox(engine: Engine) -> tuple[int, int, int, int]:
    """(events stored, events waiting, timeline entries, events counted by the worker's progress)."""
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]  # four counts, one per query below
            int(conn.execute(text(sql)).scalar() or 0)
            for sql in (
                "SELECT count(*) FROM inbox_events",
                "SELECT count(*) FROM inbox_events WHERE processed_at IS NULL",
                "SELECT count(*) FROM profile_events",
                "SELECT sum(processed) FROM inbox_progress",
            )
        )


def _wait_until_drained(engine: Engine, timeout: float = 90.0) -> tuple[int, int, int, int]:
    deadline = time.monotonic() + timeout
    while (inbox := _inbox(engine))[1] > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    return inbox


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's wait is missing


def _wait_until_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while _is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _is_running(pid)


def _metrics(server: ServeProcess) -> str:
    status, body = call(server.port, "GET", "/metrics")
    assert status == 200
    return body.decode()


def test_the_child_worker_resolves_events_comes_back_after_a_kill_and_stops_with_serve(
    settings: Settings, engine: Engine
) -> None:
    _source, key = make_source(engine, "web")
    with serve_process(settings) as server:
        health = server.wait_for("the worker child is alive", lambda h: h["worker"]["alive"])
        first = health["worker"]["pid"]
        assert health["worker"]["mode"] == "process"
        assert first != server.process.pid
        assert _parent_of(first) == server.process.pid

        _post(server, key, _people(0, 50))
        stored, waiting, timeline, progress = _wait_until_drained(engine)
        assert (stored, waiting, timeline, progress) == (100, 0, 100, 100)
        with engine.connect() as conn:
            people = conn.execute(
                text("SELECT count(DISTINCT profile_id) FROM identifiers WHERE type = 'email'")
            ).scalar()
            holder = conn.execute(
                text(
                    "SELECT e.profile_id = u.profile_id FROM identifiers e JOIN identifiers u"
                    " ON e.type = 'email' AND e.value = 'p7@example.com' AND u.type = 'user_id' AND u.value = 'u-7'"
                )
            ).scalar()
        assert people == 50
        assert holder  # one profile holds both of the person's identifiers: the child resolved identity

        # Killed with work in hand: its transaction never committed, so the next child does that work again.
        for start in range(50, 650, 100):
            _post(server, key, _people(start, 100))
        os.kill(first, signal.SIGKILL)
        health = server.wait_for(
            "the worker child is back", lambda h: h["worker"]["alive"] and h["worker"]["pid"] not in (None, first)
        )
        assert health["worker"]["restarts"] == 1
        assert health["worker"]["last_exit_code"] == -signal.SIGKILL
        assert "the worker process exited with code -9" in server.log.read_text()
        stored, waiting, timeline, progress = _wait_until_drained(engine)
        assert (stored, waiting, timeline, progress) == (1300, 0, 1300, 1300)  # each event once, none lost
        metrics = _metrics(server)
        assert "seamline_worker_up 1.0" in metrics
        assert "seamline_worker_restarts_total 1.0" in metrics

        second = health["worker"]["pid"]
        server.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down in order, then ends by the signal it was sent, as process managers expect
        assert server.process.wait(60) in (0, -signal.SIGTERM)
        assert _wait_until_gone(second)
    log = server.log.read_text()
    assert "worker stopped after" in log  # the child finished in order, it was not killed
    assert log.index("worker stopped after") < log.index("Application shutdown complete")


def test_the_child_worker_stops_when_serve_is_killed(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'seamline.db'}", data_dir=tmp_path)
    engine = create_db_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    with serve_process(settings) as server:
        child = server.wait_for("the worker child is alive", lambda h: h["worker"]["alive"])["worker"]["pid"]
        server.process.send_signal(signal.SIGKILL)  # no shutdown: only the closed pipe tells the child
        server.process.wait(10)
        assert _wait_until_gone(child)
    assert "the serve process has gone" in server.log.read_text()


def test_the_worker_can_run_in_the_api_process(settings: Settings) -> None:
    in_process = settings.model_copy(update={"serve_worker": "thread", "metrics_token": "scrape"})
    with TestClient(create_app(in_process, embedded_worker=True)) as client:
        worker = client.get("/healthz").json()["worker"]
        assert (worker["mode"], worker["alive"], worker["pid"]) == ("thread", True, None)
        metrics = client.get("/metrics", headers={"Authorization": "Bearer scrape"}).text
        assert "seamline_worker_up 1.0" in metrics


def test_a_worker_that_keeps_dying_is_started_again_less_and_less_often() -> None:
    assert [backoff_after(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
