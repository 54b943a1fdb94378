"""Customer segments written once (segments.yaml) and read by a rule on a schedule and by the reports: the file's
errors name file, line and field; a rule names a segment instead of repeating its conditions; the members are read
from the golden record as the rule reads them, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.triggers.membership import Audience
from seamline.triggers.rules import Condition, RuleError, parse_rule
from seamline.triggers.segments import SegmentError, conditions_of, parse_segments
from seamline.worker.runner import Worker
from tests.triggers.world import World, rule_folder

SEGMENTS = """\
affluent:
  title: Affluent customers
  traits: {segment: affluent, age: {gte: 30}}
young:
  traits: {age: {lt: 30}}
"""
REVIEW = """
name: affluent-daily-review
on: {schedule: 1d, segment: affluent}
once_every: 1d
do:
  task: {title: "Review {traits.first_name}'s portfolio", queue: wealth}
"""


def test_segments_parse_into_the_rules_conditions() -> None:
    segments = parse_segments(SEGMENTS, "segments.yaml")
    assert list(segments) == ["affluent", "young"]
    affluent = segments["affluent"]
    assert affluent.title == "Affluent customers"
    assert affluent.conditions == (Condition("traits.segment", "eq", "affluent"), Condition("traits.age", "gte", 30))
    assert affluent.trait_names == {"segment", "age"}
    assert segments["young"].title == "young"
    rule = parse_rule(REVIEW, "rules/review.yaml", segments=conditions_of(segments))
    assert rule.traits == affluent.conditions  # the one definition, not a copy written again
    assert rule.trait_names >= {"segment", "age", "first_name"}
    with pytest.raises(RuleError) as unknown:
        parse_rule(REVIEW.replace("affluent}", "wealthy}"), "rules/review.yaml", segments=conditions_of(segments))
    assert str(unknown.value) == "rules/review.yaml:3: on.segment: no segment 'wealthy'; known: affluent, young"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("product:\n  traits: {a: 1}\n", 1, "product"),  # the product split's old name
        ("Big:\n  traits: {a: 1}\n", 1, "Big"),
        ("vip:\n  title: VIP\n", 2, "vip.traits"),
        ("vip:\n  traits: {age: {about: 3}}\n", 2, "vip.traits.age"),
        ("vip:\n  traits: {a: 1}\n  colour: red\n", 3, "vip.colour"),
        ("- vip\n", None, "segments"),
    ],
)
def test_a_bad_segments_file_names_line_and_field(text: str, line: int | None, field: str) -> None:
    with pytest.raises(SegmentError) as raised:
        parse_segments(text, "segments.yaml")
    assert (raised.value.line, raised.value.field) == (line, field), str(raised.value)


def test_members_are_read_from_the_golden_record(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    world = World(engine, settings, rule_folder(tmp_path, {}))
    world.send("u-1", traits={"email": "a@example.com", "segment": "affluent", "age": 41})
    world.send("u-2", traits={"email": "b@example.com", "segment": "mass", "age": 41})
    world.send("u-3", traits={"email": "c@example.com", "segment": "affluent", "age": 22})
    audience = Audience(parse_segments(SEGMENTS, "segments.yaml"), settings.survivorship)
    kept = Audience(audience.segments, settings.survivorship, ttl=3600)
    with unit_of_work(engine, write=False) as session:
        assert audience.members(session, "affluent") == {world.profile("u-1")}
        assert audience.members(session, "young") == {world.profile("u-3")}
        assert kept.members(session, "affluent") == {world.profile("u-1")}
    world.send("u-2", traits={"segment": "affluent"})  # the newest value wins: Bo joins
    with unit_of_work(engine, write=False) as session:
        assert audience.members(session, "affluent") == {world.profile("u-1"), world.profile("u-2")}
        assert kept.members(session, "affluent") == {world.profile("u-1")}  # kept for its ttl


def test_the_worker_runs_a_rule_over_a_named_segment(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    folder = rule_folder(tmp_path, {"review": REVIEW})
    segments = tmp_path / "segments.yaml"
    segments.write_text(SEGMENTS, encoding="utf-8")
    (tmp_path / "none").mkdir()
    world = World(engine, settings, rule_folder(tmp_path / "none", {}))  # the people; the worker has the rules
    world.send("u-1", traits={"email": "a@example.com", "first_name": "Ada", "segment": "affluent", "age": 41})
    world.send("u-2", traits={"email": "b@example.com", "first_name": "Bo", "segment": "affluent", "age": 22})
    triggers = settings.triggers.model_copy(update={"rules_dir": folder, "segments_file": segments})
    worker = Worker(engine, settings.model_copy(update={"triggers": triggers}))
    assert worker.schedule.run_due()["triggers.schedules"] == 1
    assert [t.title for t in world.tasks()] == ["Review Ada's portfolio"]
