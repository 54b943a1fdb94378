"""`seamline keys` and `seamline audit` against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.access.service import authenticate_api_key
from seamline.audit.service import record
from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from seamline.core.errors import Unauthorized
from seamline.core.principal import Principal


@pytest.fixture
def runner(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")  # rich tables would otherwise fold to the test terminal's 80
    return CliRunner()


def key_in(output: str) -> str:
    [line] = [line for line in output.splitlines() if line.startswith("key: ")]
    return line.removeprefix("key: ")


def test_create_prints_a_working_key_once(runner: CliRunner, engine: Engine) -> None:
    result = runner.invoke(app, ["keys", "create", "crm-sync", "--scope", "profiles:read", "--scope", "audit:read"])
    assert result.exit_code == 0, result.output
    assert "created API key crm-sync (scopes: profiles:read, audit:read)" in result.output
    key = key_in(result.output)
    with unit_of_work(engine, write=False) as session:
        assert authenticate_api_key(session, key, "audit:read").name == "crm-sync"

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0, listed.output
    assert key not in listed.output
    assert key[:7] + "…" in listed.output


def test_a_bad_scope_exits_2_naming_the_scope(runner: CliRunner) -> None:
    result = runner.invoke(app, ["keys", "create", "crm-sync", "--scope", "profiles:read", "--scope", "profiles:rw"])
    assert result.exit_code == 2
    assert "[1] scopes: 'profiles:rw' is not a scope" in result.output
    assert "crm-sync" not in runner.invoke(app, ["keys", "list"]).output

    no_scope = runner.invoke(app, ["keys", "create", "crm-sync"])
    assert no_scope.exit_code == 2
    assert "scopes: give at least one scope" in no_scope.output


def test_list_shows_status_and_revoke_stops_the_key(runner: CliRunner, engine: Engine) -> None:
    created = runner.invoke(app, ["keys", "create", "crm-sync", "--scope", "profiles:read"])
    runner.invoke(app, ["keys", "create", "mobile-backend", "--scope", "profiles:write"])
    key = key_in(created.output)

    revoked = runner.invoke(app, ["keys", "revoke", "crm-sync"])
    assert revoked.exit_code == 0, revoked.output
    assert "revoked API key crm-sync" in revoked.output
    rows = {line.split()[1]: line for line in runner.invoke(app, ["keys", "list"]).output.splitlines() if "-" in line}
    assert "revoked" in rows["crm-sync"]
    assert "active" in rows["mobile-backend"]
    with pytest.raises(Unauthorized, match="revoked"), unit_of_work(engine, write=False) as session:
        authenticate_api_key(session, key, "profiles:read")

    missing = runner.invoke(app, ["keys", "revoke", "nobody"])
    assert missing.exit_code == 1
    assert "no API key named 'nobody'" in missing.output


def seed_audit(engine: Engine) -> None:
    crm = Principal(name="crm-sync", kind="api_key", scopes=frozenset({"profiles:read"}), surface="api")
    app_key = Principal(name="mobile-backend", kind="api_key", scopes=frozenset({"profiles:write"}), surface="api")
    with unit_of_work(engine) as session:
        record(session, crm, "read", "profile", 123, {"fields": ["email"]})
        record(session, crm, "read", "profile", 7)
        record(session, app_key, "change", "profile", 123, {"trait": "phone"})
        record(session, app_key, "read", "case", "[bold]x[/nope]")


def test_audit_list_prints_a_table_filtered_by_subject_and_actor(runner: CliRunner, engine: Engine) -> None:
    seed_audit(engine)
    result = runner.invoke(app, ["audit", "list", "--subject", "profile:123"])
    assert result.exit_code == 0, result.output
    assert "mobile-backend (api_key)" in result.output
    assert "profile:123" in result.output
    assert "profile:7" not in result.output
    assert '{"trait":"phone"}' in result.output

    by_actor = runner.invoke(app, ["audit", "list", "--actor", "mobile-backend"])
    assert by_actor.exit_code == 0, by_actor.output
    assert "crm-sync" not in by_actor.output
    assert "case:[bold]x[/nope]" in by_actor.output  # shown as stored, not read as Rich markup


def test_audit_list_as_json_lines_newest_first(runner: CliRunner, engine: Engine) -> None:
    seed_audit(engine)
    result = runner.invoke(app, ["audit", "list", "--json", "--limit", "2", "--subject", "profile"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [(e["actor"], e["action"], e["subject_id"]) for e in lines] == [
        ("mobile-backend", "change", "123"),
        ("crm-sync", "read", "7"),
    ]
    assert lines[0]["detail"] == {"trait": "phone"}
    assert lines[0]["at"].endswith("Z")

    older = runner.invoke(app, ["audit", "list", "--json", "--subject", "profile", "--before", str(lines[-1]["id"])])
    assert [json.loads(line)["subject_id"] for line in older.output.splitlines()] == ["123"]

    # The CLI's own reads of the audit log are not audited.
    again = runner.invoke(app, ["audit", "list", "--json"])
    assert len(again.output.splitlines()) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--subject", ":123"], "is not TYPE or TYPE:ID"),
        (["--subject", "profile:"], "is not TYPE or TYPE:ID"),
        (["--limit", "0"], "limit must be between 1 and 1000"),
    ],
)
def test_audit_list_refuses_a_bad_query_with_exit_2(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["audit", "list", *args])
    assert result.exit_code == 2
    assert message in result.output
