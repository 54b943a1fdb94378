"""What /metrics says of the outbox: messages by status and the dispatchers' lag, read from the database whichever
process dispatches, and the attempts of the dispatcher embedded in this process."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from seamline.app import create_app
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.outbox.service import enqueue, lag_seconds


def _sample(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_lag_is_how_long_the_longest_waiting_due_message_has_waited(engine: Engine) -> None:
    now = utcnow()
    with unit_of_work(engine) as session:
        enqueue(session, "webhook", "a", {}, not_before=now - timedelta(seconds=90))
        enqueue(session, "webhook", "b", {}, not_before=now - timedelta(seconds=30))
        enqueue(session, "email", "c", {}, not_before=now + timedelta(hours=1))  # not due: nobody is behind on it
    with unit_of_work(engine, write=False) as session:
        lag = lag_seconds(session, now=now)
    assert set(lag) == {"webhook"}
    assert abs(lag["webhook"] - 90) < 1


def test_metrics_report_the_outbox_and_the_embedded_dispatchers_attempts(engine: Engine, settings: Settings) -> None:
    with unit_of_work(engine) as session:
        for _ in range(3):  # to a destination that does not exist: refused for good at send time
            enqueue(session, "webhook", "destination:gone", {"destination_id": 999, "body": {}})
        enqueue(session, "webhook", "destination:later", {"destination_id": 999}, not_before=utcnow() + timedelta(1))
    app = create_app(settings, embedded_dispatcher=True)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        deadline = time.monotonic() + 20
        text = ""
        while time.monotonic() < deadline:
            text = client.get("/metrics").text
            if _sample(text, 'seamline_outbox_attempts_total{kind="webhook",result="refused"}') == 3:
                break
            time.sleep(0.05)
    assert _sample(text, 'seamline_outbox_attempts_total{kind="webhook",result="refused"}') == 3
    assert _sample(text, 'seamline_outbox_messages{status="failed"}') == 3
    assert _sample(text, 'seamline_outbox_messages{status="pending"}') == 1  # the one not yet due waits
    assert _sample(text, 'seamline_outbox_lag_seconds{kind="webhook"}') is None  # nothing due is waiting
