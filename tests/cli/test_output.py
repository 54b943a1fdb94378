"""What the CLI prints into a file or a pipe is not cut or wrapped at 80 columns: a script reads whole rows and
whole messages. On a terminal rich sizes to the terminal; an operator's COLUMNS still wins."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings
from tests.support.builders import make_source

ORIGINS = ("https://shop.a-long-brand-name-for-a-test.example", "https://checkout.another-long-name.example")


@pytest.fixture
def runner(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("COLUMNS", raising=False)
    return CliRunner()


def test_tables_and_messages_keep_their_width_off_a_terminal(engine: Engine, runner: CliRunner) -> None:
    make_source(engine, "web-shop-with-a-long-name", "web", origins=ORIGINS)
    listed = runner.invoke(app, ["sources", "list"])
    assert listed.exit_code == 0, listed.output
    rows = [line for line in listed.stdout.splitlines() if "web-shop-with-a-long-name" in line]
    assert len(rows) == 1  # one row, not wrapped over several lines
    assert ", ".join(ORIGINS) in rows[0]  # not cut with an ellipsis either
    assert max(len(line) for line in listed.stdout.splitlines()) > 80

    missing = runner.invoke(app, ["cases", "show", "424242"])
    assert missing.exit_code == 1
    assert "error: no case 424242" in missing.stderr
    revoked = runner.invoke(app, ["sources", "revoke", "a-source-name-that-nobody-ever-created-for-this-long-message"])
    message = next(line for line in revoked.stderr.splitlines() if "a-source-name" in line)
    assert "a-source-name-that-nobody-ever-created-for-this-long-message" in message


def test_an_operators_columns_still_win(engine: Engine, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    make_source(engine, "web-shop-with-a-long-name", "web", origins=ORIGINS)
    monkeypatch.setenv("COLUMNS", "60")
    listed = runner.invoke(app, ["sources", "list"])
    assert listed.exit_code == 0, listed.output
    assert max(len(line) for line in listed.stdout.splitlines()) <= 60
