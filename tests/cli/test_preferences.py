"""`seamline preferences link`: a link the app accepts, signed with the secret both share."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.cli import app
from seamline.config import Settings


@pytest.fixture
def runner(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    return CliRunner()


def test_the_cli_prints_a_link_the_page_accepts(
    runner: CliRunner, client: TestClient, engine: Engine, ada: int
) -> None:
    result = runner.invoke(app, ["preferences", "link", str(ada), "--days", "3"])
    assert result.exit_code == 0, result.output
    path = result.output.splitlines()[0]
    assert path.startswith("/preferences/")
    assert client.get(path).status_code == 200
    assert runner.invoke(app, ["preferences", "link", "999999"]).exit_code == 1
    assert runner.invoke(app, ["preferences", "link", str(ada), "--days", "365"]).exit_code == 2
