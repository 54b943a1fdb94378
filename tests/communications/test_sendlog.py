"""`seamline communications import`: another platform's send log into the communications log, all rows or none."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from seamline.cli import app
from seamline.communications.service import communications_of, view
from seamline.config import Settings
from seamline.core.db import unit_of_work
from tests.support.people import person

HEADER = "communication_id,customer,type,template,batch,platform,channel,source_system,sent_at,outcome\n"


def _import(settings: Settings, path: Path) -> Result:
    env = {"SEAMLINE_DATABASE_URL": settings.database_url, "SEAMLINE_DATA_DIR": str(settings.data_dir)}
    return CliRunner().invoke(app, ["communications", "import", str(path)], env=env)


def test_a_send_log_is_imported_once_and_a_bad_row_rejects_the_whole_file(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    ada = person(client, engine, settings)
    log = tmp_path / "sends.csv"
    log.write_text(
        HEADER
        + "sf-1,email:Ada@Example.com,statement,stmt-v3,2026-11,salesforce,email,core-banking,2026-11-30T08:00:00Z,\n"
        + "sf-2,user_id:u-ada,marketing,winter,2026-12,salesforce,email,crm,2026-12-01T09:00:00Z,bounced_hard\n",
        encoding="utf-8",
    )
    first = _import(settings, log)
    assert first.exit_code == 0, first.output
    assert "2 rows: 2 communications added, 0 already in the log" in first.stdout
    again = _import(settings, log)
    assert "0 communications added, 2 already in the log" in again.stdout
    with unit_of_work(engine, write=False) as session:
        logged = {c.communication_id: c for c in communications_of(session, ada)}
        bounced = view(session, "sf-2")
    assert set(logged) == {"sf-1", "sf-2"}
    assert (logged["sf-1"].platform, logged["sf-1"].source_system, logged["sf-1"].status) == (
        "salesforce", "core-banking", "sent",
    )  # fmt: skip
    assert [o.outcome for o in bounced.outcomes] == ["bounced_hard"]

    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + "sf-3,email:ada@example.com,notice,,,salesforce,email,,,\n"
        "sf-4,email:nobody@example.com,notice,,,salesforce,email,,yesterday,\n",
        encoding="utf-8",
    )
    refused = _import(settings, bad)
    assert refused.exit_code == 2
    assert "[1] sent_at" in refused.stderr
    with unit_of_work(engine, write=False) as session:
        assert len(communications_of(session, ada)) == 2  # sf-3 was valid, but the file is all or nothing
