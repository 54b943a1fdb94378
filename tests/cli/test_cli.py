"""The `seamline` command line against a real database: what it prints, what it changes, how it fails."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner, Result

from seamline.cli import app
from seamline.core.db import unit_of_work
from seamline.core.schema import expected_revision as head_revision
from seamline.sources.service import authenticate_write_key, find_by_key, revoke_source
from tests.support.builders import make_source

KEY = re.compile(r"wk_[A-Za-z0-9_-]{32}")


def _run(database_url: str, tmp_path: Path, *args: str, **env: str) -> Result:
    runner = CliRunner()
    environment = {"SEAMLINE_DATABASE_URL": database_url, "SEAMLINE_DATA_DIR": str(tmp_path), "COLUMNS": "200", **env}
    return runner.invoke(app, list(args), env=environment)


def _flat(text_: str) -> str:
    return " ".join(text_.split())


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.stdout


def _fails(result: Result, code: int, *phrases: str) -> None:
    assert result.exit_code == code, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    message = _flat(result.stderr)
    assert message.startswith("error:"), message
    for phrase in phrases:
        assert phrase in message


def _table_rows(out: str) -> list[list[str]]:
    """The body rows of a Rich table, as lists of cell texts."""
    return [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in out.splitlines()
        if line.startswith("│")
    ]


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 (our table names)


# --- sources -------------------------------------------------------------------------------------------------------


def test_create_prints_a_working_key_once(database_url: str, tmp_path: Path, engine: Engine) -> None:
    out = _ok(
        _run(
            database_url,
            tmp_path,
            "sources",
            "create",
            "web",
            "--kind",
            "web",
            "--origin",
            "https://shop.example",
            "--origin",
            "https://www.shop.example/",
            "--rate-limit",
            "20",
        )
    )
    [key] = KEY.findall(out)
    assert "created source web (web)" in out
    assert "not shown again" in out
    with unit_of_work(engine, write=False) as session:
        source = authenticate_write_key(session, key)
    assert source.allowed_origins == ("https://shop.example", "https://www.shop.example")
    assert source.rate_limit_per_second == 20


def test_create_refuses_bad_input_with_exit_2_naming_the_field(
    database_url: str, tmp_path: Path, engine: Engine
) -> None:
    for args, field in (
        (["Bad Name", "--kind", "web"], "name:"),
        (["web", "--kind", "website"], "kind: kind must be one of: web, mobile"),
        (["web", "--kind", "web", "--origin", "shop.example"], "[0] origins:"),
        (["web", "--kind", "web", "--origin", "https://ok.example", "--origin", "http://[oops"], "[1] origins:"),
        (["web", "--kind", "web", "--rate-limit", "0"], "rate_limit:"),
        (["web", "--kind", "web", "--rate-limit", "nan"], "rate_limit:"),
    ):
        _fails(_run(database_url, tmp_path, "sources", "create", *args), 2, "was not created", field)
    assert _count(engine, "sources") == 0


def test_create_refuses_a_duplicate_name_with_exit_1(database_url: str, tmp_path: Path, engine: Engine) -> None:
    make_source(engine, "web")
    _fails(_run(database_url, tmp_path, "sources", "create", "web", "--kind", "server"), 1, "'web' already exists")
    assert _count(engine, "sources") == 1


def test_create_needs_a_kind(database_url: str, tmp_path: Path) -> None:
    result = _run(database_url, tmp_path, "sources", "create", "web")
    assert result.exit_code == 2
    assert "--kind" in result.output


def test_list_shows_each_source_with_its_status_and_counts(
    database_url: str, tmp_path: Path, engine: Engine, client: TestClient
) -> None:
    _web, key = make_source(engine, "web", origins=["https://shop.example"])
    make_source(engine, "crm", "crm")
    with unit_of_work(engine) as session:
        revoke_source(session, "crm")
    items = [{"type": "track", "userId": f"u-{i}", "event": "E"} for i in range(3)]
    assert client.post("/v1/batch", json={"batch": items}, auth=(key, "")).status_code == 200
    _ok(_run(database_url, tmp_path, "worker", "--once"))
    assert client.post("/v1/track", json=items[0], auth=(key, "")).status_code == 200

    out = _ok(_run(database_url, tmp_path, "sources", "list"))
    rows = {cells[0]: cells[1:] for cells in _table_rows(out)}
    assert rows["web"] == ["web", key[:7] + "…", "active", "https://shop.example", "4", "3"]
    assert rows["crm"][:1] + rows["crm"][2:] == ["crm", "revoked", "-", "0", "0"]
    assert "inbox backlog: 1" in out
    assert key not in out


def test_revoke_stops_the_key(database_url: str, tmp_path: Path, engine: Engine) -> None:
    _source, key = make_source(engine)
    assert "revoked source web" in _ok(_run(database_url, tmp_path, "sources", "revoke", "web"))
    with unit_of_work(engine, write=False) as session:
        assert find_by_key(session, key) is None


def test_rotate_prints_a_new_key_and_the_old_one_stops(database_url: str, tmp_path: Path, engine: Engine) -> None:
    _source, old_key = make_source(engine)
    out = _ok(_run(database_url, tmp_path, "sources", "rotate", "web"))
    [new_key] = KEY.findall(out)
    assert new_key != old_key
    with unit_of_work(engine, write=False) as session:
        assert find_by_key(session, old_key) is None
        assert find_by_key(session, new_key) is not None


def test_an_unknown_source_is_exit_1_with_its_name(database_url: str, tmp_path: Path, engine: Engine) -> None:
    make_source(engine)
    for command in ("revoke", "rotate"):
        # Names are echoed verbatim, never read as console markup.
        for name in ("nope", "[/nope]", "[bold]x"):
            _fails(_run(database_url, tmp_path, "sources", command, name), 1, f"no source named '{name}'")
    assert _count(engine, "sources") == 1


# --- db and worker -------------------------------------------------------------------------------------------------


def test_db_status_on_a_current_schema(database_url: str, tmp_path: Path) -> None:
    out = _ok(_run(database_url, tmp_path, "db", "status"))
    assert _flat(out) == f"current: {head_revision()} newest: {head_revision()}"


def test_db_upgrade_brings_an_empty_database_to_the_newest_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = _run(url, tmp_path, "db", "status")
    assert result.exit_code == 1
    assert "current: (empty)" in result.stdout
    _fails(_run(url, tmp_path, "sources", "list"), 1, "seamline db upgrade")
    _fails(_run(url, tmp_path, "worker", "--once"), 1, "seamline db upgrade")
    assert f"database at revision {head_revision()}" in _ok(_run(url, tmp_path, "db", "upgrade"))
    _ok(_run(url, tmp_path, "db", "status"))
    assert "inbox backlog: 0" in _ok(_run(url, tmp_path, "sources", "list"))


def test_worker_once_processes_what_is_pending(
    database_url: str, tmp_path: Path, engine: Engine, client: TestClient
) -> None:
    _source, key = make_source(engine)
    # People spread over many partitions, so one claim does not see them all.
    items = [{"type": "identify", "anonymousId": f"a-{i}"} for i in range(40)]
    assert client.post("/v1/batch", json={"batch": items}, auth=(key, "")).status_code == 200
    out = _ok(_run(database_url, tmp_path, "worker", "--once"))
    assert out.strip() == "processed 40 events"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inbox_events WHERE processed_at IS NULL")).scalar_one() == 0
    assert _ok(_run(database_url, tmp_path, "worker", "--once")).strip() == "processed 0 events"


def test_a_bad_configuration_is_exit_2(database_url: str, tmp_path: Path) -> None:
    # A command reads what it needs: the whole configuration (a lookup reads identity's rules through it), one
    # section (`cases list`), or only the database settings (`sources list`); each checks what it reads.
    _fails(
        _run(database_url, tmp_path, "identity", "lookup", "email:a@example.com", SEAMLINE_PORT="not-a-port"),
        2,
        "configuration is not valid",
        "port",
    )
    config = tmp_path / "seamline.toml"
    config.write_text('[cases]\ndefault_queue = "Not A Queue"\n', encoding="utf-8")
    _fails(
        _run(database_url, tmp_path, "cases", "list", SEAMLINE_CONFIG=str(config)),
        2,
        "configuration is not valid",
        "default_queue",
    )
    _fails(
        _run(database_url, tmp_path, "sources", "list", SEAMLINE_SQLITE_SYNCHRONOUS="sometimes"),
        2,
        "configuration is not valid",
        "sqlite_synchronous",
    )


def test_help_lists_the_command_groups(database_url: str, tmp_path: Path) -> None:
    out = _ok(_run(database_url, tmp_path, "--help"))
    for command in ("serve", "worker", "db", "sources"):
        assert command in out


def test_serve_on_a_taken_port_is_exit_1_and_creates_nothing(database_url: str, tmp_path: Path, engine: Engine) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = _run(database_url, tmp_path, "serve", "--host", "127.0.0.1", "--port", str(port))
    _fails(result, 1, f"cannot listen on 127.0.0.1:{port}", "--port")
    with engine.connect() as conn:  # no demo workspace half made: its traffic could never have been sent
        assert conn.execute(text("SELECT count(*) FROM sources")).scalar() == 0
