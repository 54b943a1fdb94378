"""Once per person across workers: two workers that take the same moment of the same person at the same time
make one task. The firing's unique key is inserted in each batch's transaction; the second insert waits for the
first transaction and then finds its row."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.ingestion.service import append_processed
from seamline.pipeline.registry import Pipeline
from seamline.pipeline.service import process_events
from seamline.triggers.models import TriggerFiring
from tests.triggers.world import START, World, rule_folder

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)]

BEREAVEMENT = """
name: bereavement-notice
on: {event: Bereavement Notified}
do:
  task: {title: "Bereavement notice: call with care", queue: bereavement, skills: [bereavement], priority: urgent}
"""


def test_two_workers_racing_on_one_persons_moment_make_one_task(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"bereavement": BEREAVEMENT}))
    world.customer("u-1")
    # A second worker: its own pipeline and trigger engine over the same rule folder.
    other = World.__new__(World)
    other.__dict__.update(world.__dict__)
    other.triggers = type(world.triggers)(world.book, world.triggers.actions, clock=lambda: START)
    other.pipeline = Pipeline(settings.identity, settings.consent, settings.traits, triggers=other.triggers)
    first_done, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def work(pipeline: Pipeline, message_id: str, *, holds: bool) -> None:
        message: dict[str, Any] = {
            "type": "track", "messageId": message_id, "userId": "u-1", "event": "Bereavement Notified",
            "timestamp": START.isoformat(),
        }  # fmt: skip
        try:
            with unit_of_work(engine) as session:
                items = append_processed(session, world.source.id, [message])
                process_events(session, items, pipeline)
                if holds:  # keep the first transaction open while the other runs into the same key
                    first_done.set()
                    release.wait(timeout=30)
        except BaseException as exc:  # the assertion below shows it
            failures.append(exc)

    a = threading.Thread(target=work, args=(world.pipeline, "race-a"), kwargs={"holds": True})
    b = threading.Thread(target=work, args=(other.pipeline, "race-b"), kwargs={"holds": False})
    a.start()
    first_done.wait(timeout=30)
    b.start()
    time.sleep(0.5)  # let the second worker reach the firing's unique key and wait on the first transaction
    release.set()
    a.join(60)
    b.join(60)
    assert failures == []
    tasks = world.tasks()
    assert [t.title for t in tasks] == ["Bereavement notice: call with care"]
    with unit_of_work(engine, write=False) as session:
        assert session.execute(select(func.count()).select_from(TriggerFiring)).scalar_one() == 1
