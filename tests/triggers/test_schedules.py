"""Rules on a schedule, both databases: a daily rule over a segment of the golden record fires for the people in
it once a day, for nobody else, once however many workers look; the worker runs it as a job of its periodic
schedule; a rule on a schedule without a segment, or too often, is refused naming the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.triggers.rules import RuleError, parse_rule
from seamline.worker.runner import Worker
from tests.triggers.world import START, World, rule_folder

DAILY = """
name: affluent-daily-review
on:
  schedule: 1d
  traits: {segment: affluent, age: {gte: 30}}
once_every: 1d
do:
  task: {title: "Review {traits.first_name}'s portfolio", queue: wealth}
"""


def _run(world: World, hours: float) -> int:
    world.now = START + timedelta(hours=hours)
    with unit_of_work(world.engine) as session:
        return world.triggers.run_schedules(session, world.now)


def test_a_daily_rule_fires_for_its_segment_once_a_day(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"daily": DAILY}))
    world.send("u-1", traits={"email": "a@example.com", "first_name": "Ada", "segment": "affluent", "age": 41})
    world.send("u-2", traits={"email": "b@example.com", "first_name": "Bo", "segment": "mass", "age": 41})
    world.send("u-3", traits={"email": "c@example.com", "first_name": "Cy", "segment": "affluent", "age": 22})

    assert _run(world, 0) == 1
    assert [t.title for t in world.tasks()] == ["Review Ada's portfolio"]
    assert _run(world, 1) == 0  # not due again until a day has passed
    world.send("u-2", traits={"segment": "affluent"})  # Bo joins the segment
    assert _run(world, 25) == 2
    assert sorted(t.title for t in world.tasks()) == [
        "Review Ada's portfolio", "Review Ada's portfolio", "Review Bo's portfolio",
    ]  # fmt: skip


def test_the_worker_runs_rules_on_a_schedule_as_a_job(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = rule_folder(tmp_path, {"daily": DAILY})
    world = World(engine, settings, folder)
    world.send("u-1", traits={"email": "a@example.com", "first_name": "Ada", "segment": "affluent", "age": 41})
    worker = Worker(engine, settings.model_copy(update={"triggers": settings.triggers.model_copy(
        update={"rules_dir": folder})}))  # fmt: skip
    ran = worker.schedule.run_due()
    assert ran["triggers.schedules"] == 1
    assert [t.queue for t in world.tasks()] == ["wealth"]
    assert "triggers.schedules" not in worker.schedule.run_due()  # its next run is a minute away


@pytest.mark.parametrize(
    ("on", "field"),
    [("{schedule: 1d}", "on.traits"), ("{schedule: 30s, traits: {segment: a}}", "on.schedule"),
     ("{schedule: soon, traits: {segment: a}}", "on.schedule")],
)  # fmt: skip
def test_a_bad_rule_on_a_schedule_names_its_field(on: str, field: str) -> None:
    with pytest.raises(RuleError) as raised:
        parse_rule(f"on: {on}\ndo: {{task: {{title: T}}}}\n", "rules/bad.yaml")
    assert f": {field}: " in str(raised.value)
