"""`seamline cases` against a real database: open, list, show, escalate, and bad input as exit codes."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.audit.service import entries
from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import drain, profile_holding, send


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def test_operators_open_list_show_and_escalate_cases(
    client: TestClient, engine: Engine, settings: Settings, runner: CliRunner
) -> None:
    _, web = make_source(engine, "web", "web")
    send(client, web, {"type": "identify", "userId": "u-ann", "traits": {"email": "ann@example.com"}})
    drain(engine, settings)
    ann = profile_holding(engine, "user_id:u-ann")

    opened = runner.invoke(app, ["cases", "open", str(ann), "--subject", "Card declined", "--priority", "high"])
    assert opened.exit_code == 0, opened.output
    case_id = int(opened.output.split()[1])
    listed = runner.invoke(app, ["cases", "list", "--queue", "support", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [orjson.loads(line)["id"] for line in listed.output.splitlines()] == [case_id]
    assert "Card declined" in runner.invoke(app, ["cases", "list"]).output

    escalated = runner.invoke(app, ["cases", "escalate", str(case_id), "--reason", "Needs a supervisor"])
    assert escalated.exit_code == 0, escalated.output
    assert "escalated to supervisors" in escalated.output
    shown = runner.invoke(app, ["cases", "show", str(case_id)])
    assert shown.exit_code == 0, shown.output
    assert "escalated to supervisors: Needs a supervisor" in shown.output
    assert runner.invoke(app, ["cases", "list", "--escalated", "--json"]).output.count("\n") == 1

    again = runner.invoke(app, ["cases", "escalate", str(case_id), "--reason", "again"])
    assert again.exit_code == 1
    assert "status" in again.output
    bad = runner.invoke(app, ["cases", "open", str(ann), "--subject", "x", "--priority", "asap"])
    assert bad.exit_code == 2
    assert "priority" in bad.output
    assert runner.invoke(app, ["cases", "show", "99999"]).exit_code == 1
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile", subject_id=ann)
    assert {(e.actor_kind, e.surface) for e in audited} == {("operator", "cli")}
    assert len(audited) == 6  # open, three listings, escalate, show
