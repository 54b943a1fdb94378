"""Rules on a schedule, both databases: a daily rule over a segment of the golden record fires for the people in
it once a day, for nobody else, once however many workers look; a large segment goes a keyset page per
transaction, and a run that crashed goes on from its last committed page without telling anyone twice; the worker
runs it as a job of its periodic schedule; a rule on a schedule without a segment, or too often, is refused naming
the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.clock import isoformat_z
from seamline.core.db import unit_of_work
from seamline.triggers.rules import RuleError, parse_rule
from seamline.triggers.service import TriggerEngine
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


class _Crash(Exception):
    """The worker's process dying in the middle of a page (its transaction is never committed)."""


def _page_then_crash(world: World) -> None:
    with unit_of_work(world.engine) as session:
        fired = world.triggers.run_schedules(session, world.now)
        raise _Crash(fired)


def test_a_segment_goes_a_page_per_transaction_and_a_crashed_run_goes_on_without_repeats(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"daily": DAILY}))
    world.triggers.segment_page = 2
    names = ["Ada", "Bo", "Cy", "Di", "Ed"]
    for n, name in enumerate(names):
        world.send(f"u-{n}", traits={"email": f"{n}@example.com", "first_name": name, "segment": "affluent", "age": 41})
    world.send("u-x", traits={"email": "x@example.com", "first_name": "Xi", "segment": "mass", "age": 41})

    assert _run(world, 0) == 2  # the first page: Ada and Bo
    world.now = START + timedelta(minutes=1)
    with pytest.raises(_Crash) as crashed:
        _page_then_crash(world)
    assert crashed.value.args == (2,)  # it had fired for Cy and Di
    assert len(world.tasks()) == 2

    # A new process: nothing of the run is in memory, its position is in the database.
    world.triggers = TriggerEngine(world.book, world.triggers.actions, clock=lambda: world.now, segment_page=2)
    assert [_run(world, 0.1), _run(world, 0.2), _run(world, 0.3)] == [2, 1, 0]  # Cy and Di; Ed (and Xi); the end
    assert _run(world, 0.4) == 0  # the run is over, and the next is due tomorrow
    tasks = world.tasks()
    assert sorted(t.title for t in tasks) == sorted(f"Review {name}'s portfolio" for name in names)
    # Every page fired as of the run's start: the keys of once_every are the same whichever page or retry.
    assert {t.context["properties"]["scheduled_at"] for t in tasks} == {isoformat_z(START)}

    assert _run(world, 25) == 2  # the next day's run starts again from the first page
    assert _run(world, 25.1) == 2


def test_the_worker_runs_rules_on_a_schedule_as_a_job(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = rule_folder(tmp_path, {"daily": DAILY})
    world = World(engine, settings, folder)
    world.send("u-1", traits={"email": "a@example.com", "first_name": "Ada", "segment": "affluent", "age": 41})
    worker = Worker(engine, settings.model_copy(update={"triggers": settings.triggers.model_copy(
        update={"rules_dir": folder})}))  # fmt: skip
    ran = worker.schedule.run_due()
    assert ran["triggers.schedules"] == 1
    assert [t.queue for t in world.tasks()] == ["wealth"]
    assert worker.schedule.run_due().get("triggers.schedules", 0) == 0  # told today: not again until tomorrow
    assert [t.queue for t in world.tasks()] == ["wealth"]


@pytest.mark.parametrize(
    ("on", "field"),
    [("{schedule: 1d}", "on.traits"), ("{schedule: 30s, traits: {segment: a}}", "on.schedule"),
     ("{schedule: soon, traits: {segment: a}}", "on.schedule")],
)  # fmt: skip
def test_a_bad_rule_on_a_schedule_names_its_field(on: str, field: str) -> None:
    with pytest.raises(RuleError) as raised:
        parse_rule(f"on: {on}\ndo: {{task: {{title: T}}}}\n", "rules/bad.yaml")
    assert f": {field}: " in str(raised.value)
