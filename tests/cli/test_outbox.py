"""`seamline destinations`, `seamline dispatcher` and `seamline outbox dead-letters` against a real database and a
loopback webhook receiver."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, text
from typer.testing import CliRunner, Result

from seamline.cli import app
from seamline.consent.config import ConsentConfig
from seamline.core.db import unit_of_work
from seamline.destinations.service import publish
from tests.support.webhooks import webhook_receiver

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")


def _run(database_url: str, tmp_path: Path, *args: str) -> Result:
    env = {
        "SEAMLINE_DATABASE_URL": database_url,
        "SEAMLINE_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
        "SEAMLINE_OUTBOX__RETRY_SCHEDULE_SECONDS": "[0]",
        "SEAMLINE_OUTBOX__JITTER": "0",
    }
    return CliRunner().invoke(app, list(args), env=env)


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def test_register_deliver_fail_and_replay_from_the_command_line(
    database_url: str, tmp_path: Path, engine: Engine
) -> None:
    with webhook_receiver() as receiver:
        out = _ok(_run(database_url, tmp_path, "destinations", "add", "crm", receiver.url, "--purpose", "analytics",
                       "--subscribe", "profile.erased"))  # fmt: skip
        [receiver.secret] = SECRET.findall(out)
        assert "crm" in _ok(_run(database_url, tmp_path, "destinations", "list"))
        with unit_of_work(engine) as session:
            publish(session, "profile.erased", None, {"profile_ids": [1]}, consent=ConsentConfig())

        receiver.status = 503
        assert "settled 2 messages (0 delivered)" in _ok(_run(database_url, tmp_path, "dispatcher", "--once"))
        listed = _ok(_run(database_url, tmp_path, "outbox", "dead-letters", "list"))
        assert "HTTP 503" in listed
        assert "1 dead letters" in listed
        with engine.connect() as conn:
            dead_id = str(conn.execute(text("SELECT id FROM outbox_messages")).scalar_one())

        receiver.status = 200
        assert "replayed 1" in _ok(_run(database_url, tmp_path, "outbox", "dead-letters", "replay", dead_id))
        assert "(1 delivered)" in _ok(_run(database_url, tmp_path, "dispatcher", "--once"))
        assert [b["type"] for b in receiver.received] == ["profile.erased"]
        assert "sent" in _ok(_run(database_url, tmp_path, "outbox", "status"))

        gone = _run(database_url, tmp_path, "outbox", "dead-letters", "discard", dead_id)
        assert gone.exit_code == 1  # no longer a dead letter
        assert "not dead letters" in gone.stderr

        assert "paused crm" in _ok(_run(database_url, tmp_path, "destinations", "pause", "crm"))
        assert "resumed crm" in _ok(_run(database_url, tmp_path, "destinations", "resume", "crm"))
        out = _ok(_run(database_url, tmp_path, "destinations", "replay", "crm", "--since", "2000-01-01T00:00:00"))
        assert "queued 1 webhooks to crm again" in out

        bad = _run(database_url, tmp_path, "destinations", "add", "x", "ftp://no", "--purpose", "spying",
                   "--subscribe", "all")  # fmt: skip
        assert bad.exit_code == 2
        assert "purpose" in bad.stderr
