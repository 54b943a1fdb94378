"""Case changes start rules: the worker reads the cases' changes from a cursor, so an escalation makes a task once,
and the changes from before the rules were there start nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from seamline.cases.config import CasesConfig
from seamline.cases.service import open_case
from seamline.cases.workflow import escalate
from seamline.config import Settings
from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from tests.triggers.world import World, rule_folder

ESCALATED = """
name: escalated-case-callback
on:
  case: escalated
  where: {priority: {in: [high, urgent]}}
once: "{case_id}"
do:
  task: {title: "Escalated case {case_id}: call the customer back", queue: supervisors, priority: high}
"""
CONFIG = CasesConfig()


def _case(engine: Engine, profile: int, priority: str) -> int:
    with unit_of_work(engine) as session:
        view = open_case(session, CONFIG, profile_id=profile, subject="Card blocked", channel="phone",
                         priority=priority, actor="alex", surface="console")  # fmt: skip
    return view.id


def _escalate(engine: Engine, case_id: int) -> None:
    with unit_of_work(engine) as session:
        escalate(session, CONFIG, case_id, reason="fraud check", actor="alex", surface="console")


def test_an_escalation_makes_a_task_once_and_history_starts_nothing(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {"escalated": ESCALATED}))
    world.customer("u-1")
    profile = world.profile("u-1")
    before = _case(engine, profile, "high")
    _escalate(engine, before)  # before the rules read the feed: history
    assert world.run_due(utcnow()) == 0  # the cursor starts at the latest change
    high, low = _case(engine, profile, "high"), _case(engine, profile, "low")
    _escalate(engine, high)
    _escalate(engine, low)
    assert world.run_due(utcnow()) >= 2  # case changes happen now: the clock is the real one
    [task] = world.tasks()
    assert (task.title, task.case_id) == (f"Escalated case {high}: call the customer back", high)
    assert world.run_due(utcnow()) == 0  # nothing new
    assert len(world.tasks()) == 1
