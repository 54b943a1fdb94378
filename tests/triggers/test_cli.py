"""`seamline triggers check` names the file, line and field of a bad rule; the running worker evaluates the rules
of `[triggers] rules_dir`, and `seamline tasks` shows and works the tasks they make."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings
from seamline.triggers.config import TriggersConfig
from seamline.worker.runner import Worker
from tests.support.builders import make_source
from tests.support.flows import send
from tests.triggers.world import rule_folder

BEREAVEMENT = """
name: bereavement-notice
on: {event: Bereavement Notified}
do:
  task: {title: "Bereavement notice: call with care", queue: bereavement, skills: [bereavement], priority: urgent}
"""


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_check_lists_good_rules_and_names_a_bad_file(runner: CliRunner, tmp_path: Path) -> None:
    folder = rule_folder(tmp_path, {"bereavement": BEREAVEMENT})
    good = runner.invoke(app, ["triggers", "check", str(folder)])
    assert good.exit_code == 0, good.output
    assert "bereavement-notice" in good.output
    (folder / "typo.yaml").write_text("on: {event: X}\ndo:\n  sned: journey_reminder\n", encoding="utf-8")
    bad = runner.invoke(app, ["triggers", "check", str(folder)])
    assert bad.exit_code == 1
    assert "typo.yaml:3: do[0].sned: unknown field" in bad.output


def test_the_worker_runs_the_configured_rules_and_tasks_are_worked_from_the_cli(
    client: TestClient, engine: Engine, settings: Settings, runner: CliRunner, tmp_path: Path
) -> None:
    folder = rule_folder(tmp_path, {"bereavement": BEREAVEMENT})
    configured = settings.model_copy(update={"triggers": TriggersConfig(rules_dir=folder)})
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-1", "traits": {"email": "one@example.com"}})
    send(client, web, {"type": "track", "userId": "u-1", "event": "Bereavement Notified", "properties": {}})
    worker = Worker(engine, configured)
    assert worker.drain() == 2
    assert worker.run_due() == 0  # nothing waits: the task was made in the batch
    listed = runner.invoke(app, ["tasks", "list", "--queue", "bereavement", "--json"])
    assert listed.exit_code == 0, listed.output
    [task] = [orjson.loads(line) for line in listed.output.splitlines()]
    assert (task["title"], task["priority"], task["rule"]) == (
        "Bereavement notice: call with care",
        "urgent",
        "bereavement-notice",
    )
    picked = runner.invoke(app, ["tasks", "pick-up", str(task["id"]), "--agent", "alex"])
    assert picked.exit_code == 0, picked.output
    done = runner.invoke(app, ["tasks", "complete", str(task["id"]), "--agent", "alex", "--outcome", "resolved",
                               "--follow-up", "Send the bereavement pack"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "follow-up task" in done.output
    rest = runner.invoke(app, ["tasks", "list", "--json"])
    assert [orjson.loads(line)["title"] for line in rest.output.splitlines()] == ["Send the bereavement pack"]
