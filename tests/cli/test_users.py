"""`seamline users` against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.users import service
from seamline.users.config import ConsoleConfig


@pytest.fixture
def runner(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def can_log_in(engine: Engine, username: str, password: str) -> bool:
    with unit_of_work(engine) as session:
        result = service.log_in(session, username, password, ip=None, user_agent=None, config=ConsoleConfig())
    return not result.is_refused


def test_create_asks_for_the_password_twice_and_lists_the_user(runner: CliRunner, engine: Engine) -> None:
    result = runner.invoke(
        app, ["users", "create", "root", "--role", "admin", "--name", "First Admin"], input="a long password\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "created console user root (admin)" in result.output
    assert can_log_in(engine, "root", "a long password")
    listed = runner.invoke(app, ["users", "list"])
    assert "First Admin" in listed.output
    assert "active" in listed.output


def test_bad_input_exits_2_and_creates_nothing(runner: CliRunner) -> None:
    result = runner.invoke(app, ["users", "create", "root", "--role", "god"], input="short\nshort\n")
    assert result.exit_code == 2
    assert "role: role must be one of agent, supervisor, analyst, admin" in result.output
    assert "password: use at least 12 characters" in result.output
    assert "root" not in runner.invoke(app, ["users", "list"]).output
    assert runner.invoke(app, ["users", "disable", "nobody"]).exit_code == 1


def test_disable_enable_set_password_and_unlock(runner: CliRunner, engine: Engine) -> None:
    env = {"SEAMLINE_NEW_PASSWORD": "a long password"}
    assert runner.invoke(app, ["users", "create", "ada", "--role", "agent"], env=env).exit_code == 0
    assert runner.invoke(app, ["users", "disable", "ada"]).exit_code == 0
    assert "disabled" in runner.invoke(app, ["users", "list"]).output
    assert not can_log_in(engine, "ada", "a long password")
    assert runner.invoke(app, ["users", "enable", "ada"]).exit_code == 0
    for _ in range(5):
        can_log_in(engine, "ada", "not the password")
    assert "locked until" in runner.invoke(app, ["users", "list"]).output
    assert runner.invoke(app, ["users", "unlock", "ada"]).exit_code == 0
    changed = runner.invoke(app, ["users", "set-password", "ada"], input="another long one\n" * 2)
    assert changed.exit_code == 0, changed.output
    assert can_log_in(engine, "ada", "another long one")
