"""Definition files: clear errors naming file, line and field; a bad file loads nothing and leaves the running
definitions unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from seamline.core.clock import utcnow
from seamline.core.db import unit_of_work
from seamline.journeys.definitions import DefinitionsInvalid, as_json, from_json, load_folder, parse_definition
from seamline.journeys.installed import load_definitions, running_definitions
from tests.journeys.support import DEMO_DEFINITIONS

BAD = """journey: open_savings
name: Open savings
stall_after: soon
steps:
  - key: about_you
    fields:
      - {key: email, trait: email, required: maybe}
  - key: joint
    when: {field: colour, equals: blue}
    sla: {business_weeks: 1}
    colour: red
"""


def test_each_problem_names_its_file_line_and_field() -> None:
    with pytest.raises(DefinitionsInvalid) as caught:
        parse_definition(BAD, "open_savings.yaml")
    found = {(e.line, e.field) for e in caught.value.errors}
    assert found == {
        (3, "stall_after"),
        (7, "steps[0].fields[0].required"),
        (9, "steps[1].when.field"),
        (10, "steps[1].sla.business_weeks"),
        (11, "steps[1].colour"),
    }
    assert str(caught.value).startswith("open_savings.yaml:")


def test_yaml_that_does_not_parse_is_reported_with_its_line() -> None:
    with pytest.raises(DefinitionsInvalid) as caught:
        parse_definition("journey: x\nsteps: [\n  - key: a\n", "broken.yaml")
    [error] = caught.value.errors
    assert (error.file, error.field) == ("broken.yaml", "(file)")
    assert error.line >= 2


def test_the_demo_bank_definitions_load() -> None:
    keys = sorted(d.key for d in load_folder(DEMO_DEFINITIONS))
    assert keys == ["activate_card", "apply_for_mortgage", "go_paperless", "open_checking_account"]


def test_a_bad_file_leaves_the_running_definitions_unchanged(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "journeys"
    shutil.copytree(DEMO_DEFINITIONS, folder)
    with unit_of_work(engine) as session:
        load_definitions(session, folder, utcnow())
    with unit_of_work(engine, write=False) as session:
        running = running_definitions(session)
    # An edit to a good file, and a bad new file beside it: neither is taken.
    paperless = folder / "go_paperless.yaml"
    paperless.write_text(paperless.read_text().replace("name: Go paperless", "name: Paper off"))
    (folder / "open_savings.yaml").write_text(BAD)
    with pytest.raises(DefinitionsInvalid, match=r"open_savings\.yaml:3: stall_after"), unit_of_work(engine) as session:
        load_definitions(session, folder, utcnow())
    with unit_of_work(engine, write=False) as session:
        assert running_definitions(session) == running
        assert running["go_paperless"].name == "Go paperless"
    # Fixed, it loads.
    (folder / "open_savings.yaml").unlink()
    with unit_of_work(engine) as session:
        load_definitions(session, folder, utcnow())
        assert running_definitions(session)["go_paperless"].name == "Paper off"


ONE_STEP = "journey: j\nsteps:\n  - key: a\n    fields: [{key: x, required: true}]\n"


def test_on_stall_opens_a_case_in_a_queue_and_priority_or_says_what_is_wrong() -> None:
    assert parse_definition(ONE_STEP, "j.yaml").stall_case is None
    plain = parse_definition("on_stall: case\n" + ONE_STEP, "j.yaml").stall_case
    assert plain is not None
    assert (plain.queue, plain.priority) == (None, "normal")
    named = parse_definition("on_stall: {case: {queue: onboarding, priority: high}}\n" + ONE_STEP, "j.yaml")
    assert named.stall_case is not None
    assert (named.stall_case.queue, named.stall_case.priority) == ("onboarding", "high")
    # Stored and read back as it was.
    assert from_json(as_json(named)) == named
    for text, field in (
        ("on_stall: call\n", "on_stall"),
        ("on_stall: {case: {queue: Not A Queue}}\n", "on_stall.case.queue"),
        ("on_stall: {case: {priority: asap}}\n", "on_stall.case.priority"),
        ("on_stall: {case: {colour: red}}\n", "on_stall.case.colour"),
        ("on_stall: {email: true}\n", "on_stall.email"),
    ):
        with pytest.raises(DefinitionsInvalid) as caught:
            parse_definition(text + ONE_STEP, "j.yaml")
        assert [(e.line, e.field) for e in caught.value.errors] == [(1, field)], text
