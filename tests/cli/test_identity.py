"""`seamline identity` against a real database: lookup, merges, unmerge, rebuild (dry run and apply)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from seamline.audit.service import entries
from seamline.cli import app
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.builders import make_source
from tests.support.flows import active_profiles, drain, profile_holding, send


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich tables would otherwise fold to the test terminal's 80
    return CliRunner()


def _stitched(client: TestClient, engine: Engine, settings: Settings) -> None:
    _, web = make_source(engine, "web", "web")
    send(
        client,
        web,
        {"type": "page", "anonymousId": "a-1", "name": "Home"},
        {"type": "identify", "anonymousId": "a-1", "userId": "u-1", "traits": {"email": "Zoe@Example.com"}},
        {"type": "page", "anonymousId": "a-2", "name": "Pricing"},
        {"type": "track", "anonymousId": "a-2", "userId": "u-1", "event": "Signed In"},
    )
    drain(engine, settings)


def test_lookup_normalizes_the_identifier_and_prints_the_profile(
    client: TestClient, engine: Engine, settings: Settings, runner: CliRunner
) -> None:
    _stitched(client, engine, settings)
    result = runner.invoke(app, ["identity", "lookup", "email: ZOE@example.com "])
    assert result.exit_code == 0, result.output
    assert f"profile {profile_holding(engine, 'user_id:u-1')}" in result.output
    assert "anonymous_id:a-2" in result.output

    missing = runner.invoke(app, ["identity", "lookup", "email:nobody@example.com"])
    assert missing.exit_code == 1
    assert "no profile holds email:nobody@example.com" in missing.output
    with unit_of_work(engine, write=False) as session:
        audited = entries(session, subject_type="profile")
    assert [(e.actor_kind, e.surface, e.action) for e in audited] == [("operator", "cli", "read")]
    malformed = runner.invoke(app, ["identity", "lookup", "shoe-size:9"])
    assert malformed.exit_code == 2
    assert "unknown identifier type 'shoe-size'" in malformed.output


def test_unmerge_through_the_cli_and_rebuild_reports_before_it_applies(
    client: TestClient, engine: Engine, settings: Settings, runner: CliRunner
) -> None:
    _stitched(client, engine, settings)
    person = profile_holding(engine, "user_id:u-1")
    history = runner.invoke(app, ["identity", "merges", str(person)])
    assert history.exit_code == 0, history.output
    assert "anonymous_stitch" in history.output
    assert "anonymous_id:a-2" in history.output

    dry = runner.invoke(app, ["identity", "rebuild"])
    assert dry.exit_code == 0, dry.output
    assert "profiles:         1 -> 1" in dry.output
    assert "events that moved to other company: 0" in dry.output
    assert "dry run" in dry.output

    undone = runner.invoke(app, ["identity", "unmerge", "1", "--reason", "shared laptop"])
    assert undone.exit_code == 0, undone.output
    assert len(active_profiles(engine)) == 2
    again = runner.invoke(app, ["identity", "unmerge", "1", "--reason", "twice"])
    assert again.exit_code == 1
    assert "already undone" in again.output


def test_rebuild_after_a_rule_change_reports_then_applies(
    client: TestClient, engine: Engine, settings: Settings, runner: CliRunner
) -> None:
    _stitched(client, engine, settings)
    assert len(active_profiles(engine)) == 1
    stricter = {"SEAMLINE_IDENTITY__MAX_IDENTIFIERS_PER_PROFILE": "3"}  # the stitch would make four

    dry = runner.invoke(app, ["identity", "rebuild"], env=stricter)
    assert dry.exit_code == 0, dry.output
    assert "profiles:         1 -> 2" in dry.output
    assert "events that moved to other company: 4" in dry.output
    assert len(active_profiles(engine)) == 1  # a dry run changes nothing

    applied = runner.invoke(app, ["identity", "rebuild", "--apply"], env=stricter)
    assert applied.exit_code == 0, applied.output
    assert "applied." in applied.output
    assert len(active_profiles(engine)) == 2
    assert profile_holding(engine, "anonymous_id:a-2") != profile_holding(engine, "user_id:u-1")
