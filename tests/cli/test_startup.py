"""The CLI starts without what it does not use: `--help` imports no command group, a group's `--help` imports none
of its commands, a subcommand imports only the module it lives in, no command but those that match loads pandas,
DuckDB or Splink, the help of the commands that run the most (serve, worker, import, dispatcher) imports nothing they
run, the simplest reads of the database load neither numpy nor the pipeline, and a command that needs only the
database builds none of the configuration's models, parses no phone number or email, and, given no value, builds no
pydantic adapter (imports are checked in a fresh interpreter; timings live in benchmarks/cli_startup.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from seamline.cli import COMMANDS, GROUPS, load, load_group

HEAVY = ("pandas", "duckdb", "splink", "sklearn", "fastapi", "seamline.matching.model")
# What the lighter subcommands of the heaviest groups must not pay for: every consumer's domain, every channel.
WHOLE_PIPELINE = ("seamline.pipeline.registry", "seamline.pipeline.replay", "seamline.worker.dispatcher")
# The commands that match records or serve the API (which answers matching requests), and the communications
# assessment and journey analytics, whose reports run on DuckDB.
MATCHING = {"serve", "worker", "match", "assess", "analytics"}
# What a command's help and the simplest commands must not pay for: besides the above, numpy (the decision point),
# Arrow (Parquet imports), the pipeline, the API, the server, the worker and Alembic.
RUNS = (
    *HEAVY, *WHOLE_PIPELINE, "numpy", "pyarrow", "uvicorn", "alembic", "seamline.app", "seamline.worker.runner",
    "seamline.decisions.service", "seamline.communications.delivery",
)  # fmt: skip
SINGLE = ("serve", "worker", "import", "dispatcher")  # the single commands that run the most


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(done.stdout.split())


def _modules_of(group: str) -> set[str]:
    """Every module a group's subcommands live in."""
    return {COMMANDS[group].module} | {sub.module for sub in GROUPS[group].values() if sub.module}


def test_help_imports_no_command_group_nor_the_database_toolkit() -> None:
    loaded = _imported_after("from seamline.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass")
    assert not {f"seamline.cli.{entry.module}" for entry in COMMANDS.values()} & loaded
    assert "sqlalchemy" not in loaded
    assert not set(HEAVY) & loaded


def test_a_groups_help_imports_none_of_its_commands_nor_anything_heavy() -> None:
    assert set(GROUPS) == {name for name, entry in COMMANDS.items() if entry.attribute == "app"}, "a group not lazy"
    # One interpreter runs every group's help and says what each one added.
    probe = f"""
import json, sys
from seamline.cli import app
added = {{}}
for group in {sorted(GROUPS)!r} + ['assess']:
    before = set(sys.modules)
    try:
        app([group, '--help'])
    except SystemExit:
        pass
    added[group] = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    added = {group: set(modules) for group, modules in json.loads(done.stdout.splitlines()[-1]).items()}
    assert set(added) == {*GROUPS, "assess"}
    for group in GROUPS:
        assert not {f"seamline.cli.{module}" for module in _modules_of(group)} & added[group], group
    for group, modules in added.items():
        assert not {*HEAVY, *WHOLE_PIPELINE, "sqlalchemy"} & modules, group


def _added_by_each(calls: list[str]) -> dict[str, set[str]]:
    """Run each call in one fresh interpreter, in turn: the modules each one added. A module two calls import is
    counted for the first only, so what any of them imports is in the union."""
    probe = f"""
import json, sys
from seamline.cli import load, load_group
added = {{}}
for call in {calls!r}:
    before = set(sys.modules)
    eval(call)
    added[call] = sorted(set(sys.modules) - before)
print(json.dumps(added))
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return {call: set(modules) for call, modules in json.loads(done.stdout.splitlines()[-1]).items()}


def test_the_light_subcommands_of_a_heavy_group_load_neither_the_pipeline_nor_the_dispatcher() -> None:
    added = _added_by_each(["load_group('identity', 'identity')", "load_group('outbox', 'outbox')"])
    assert "seamline.cli.identity" in added["load_group('identity', 'identity')"]
    assert "seamline.cli.outbox" in added["load_group('outbox', 'outbox')"]
    assert not {*WHOLE_PIPELINE, *HEAVY} & set().union(*added.values())


def test_a_command_that_does_not_match_loads_no_dataframe_or_matching_library() -> None:
    calls = {f"load({name!r})": entry.module for name, entry in COMMANDS.items() if name not in {*GROUPS, *MATCHING}}
    calls |= {
        f"load_group({group!r}, {module!r})": module
        for group in sorted(set(GROUPS) - MATCHING)
        for module in sorted(_modules_of(group))
    }
    added = _added_by_each(list(calls))
    for call, module in calls.items():
        assert f"seamline.cli.{module}" in set().union(*added.values()), call
    heavy = {call: set(HEAVY) & modules for call, modules in added.items() if set(HEAVY) & modules}
    assert not heavy


def test_the_help_of_serve_worker_import_and_dispatcher_imports_nothing_they_run() -> None:
    help_of = "\n".join(f"try:\n    app([{name!r}, '--help'])\nexcept SystemExit:\n    pass" for name in SINGLE)
    loaded = _imported_after(f"from seamline.cli import app\n{help_of}")
    assert {f"seamline.cli.{COMMANDS[name].module}" for name in SINGLE} <= loaded  # their options were read
    assert not set(RUNS) & loaded


def test_the_simplest_reads_of_the_database_load_no_numpy_dataframe_nor_pipeline(
    database_url: str, tmp_path: Path
) -> None:
    commands = [["db", "status"], ["cases", "list"], ["privacy", "list"], ["users", "list"], ["outbox", "status"]]
    probe = f"""
import json, sys
from seamline.cli import app
codes = []
for command in {commands!r}:
    try:
        app(command)
    except SystemExit as exc:
        codes.append(exc.code)
print(json.dumps([codes, sorted(sys.modules)]))
"""
    env = {**os.environ, "SEAMLINE_DATABASE_URL": database_url, "SEAMLINE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120, env=env
    )
    codes, loaded = json.loads(done.stdout.splitlines()[-1])
    assert codes == [0] * len(commands), done.stderr  # they ran, and read the database
    assert {"seamline.privacy.requests", "seamline.cases.service"} <= set(loaded)
    assert not set(RUNS) & set(loaded)
    # Listing requests reads them alone: the privacy service reaches every domain that holds personal data.
    assert "seamline.privacy.service" not in loaded


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_in_the_listing_is_the_start_of_the_commands_own_help(name: str) -> None:
    command = load(name)
    assert command.name == name
    assert " ".join((command.help or "").split()).startswith(COMMANDS[name].summary)


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_group_lists_every_subcommand_it_has_with_the_start_of_its_own_help(group: str) -> None:
    real: dict[str, typer.core.TyperCommand | typer.core.TyperGroup] = {}
    for module in _modules_of(group):
        found = load_group(group, module)
        assert _first_paragraph(found.help) == COMMANDS[group].summary
        real.update(found.commands)  # type: ignore[arg-type]  # Typer's group exposes its commands as a plain dict
    assert list(GROUPS[group]) == [name for name in GROUPS[group] if name in real]
    assert set(GROUPS[group]) == set(real), "a subcommand is missing from GROUPS (or listed there but gone)"
    for name, sub in GROUPS[group].items():
        assert _first_paragraph(real[name].help) == sub.summary, name
        module = sub.module or COMMANDS[group].module
        assert name in load_group(group, module).commands, f"{name} is not in seamline.cli.{module}"


# The reads of benchmarks/cli_startup.py, which need only the database or one section of the configuration, in the
# order they run: the first ones are given no value (Typer coerces nothing, so nothing may import pydantic), the
# first three touch no table that only PostgreSQL's dialect writes (so on SQLite that dialect is not imported).
DATABASE_ONLY = [
    ["db", "status"], ["keys", "list"], ["audit", "list"], ["destinations", "list"], ["privacy", "list"],
    ["journeys", "list"], ["sources", "list"], ["outbox", "status"], ["tasks", "list", "--queue", "general"],
    ["cases", "list"], ["users", "list"], ["identity", "merges", "1"],
]  # fmt: skip
NO_VALUE = 6  # how many of the first are given no value and import no pydantic
NO_POSTGRESQL = 4  # how many of the first import no PostgreSQL dialect on SQLite
# What none of them may import: the whole configuration, phone and email parsing (identity's identifiers).
WHOLE_CONFIGURATION = ("seamline.config", "pydantic_settings", "phonenumbers", "email_validator")


def test_a_command_that_reads_the_database_builds_not_the_whole_configuration_nor_an_idle_adapter(
    database_url: str, tmp_path: Path
) -> None:
    probe = f"""
import json, sys
from seamline.cli import app
codes, loaded = [], []
for command in {DATABASE_ONLY!r}:
    try:
        app(command)
    except SystemExit as exc:
        codes.append(exc.code)
    loaded.append(sorted(sys.modules))
print(json.dumps([codes, loaded]))
"""
    env = {**os.environ, "SEAMLINE_DATABASE_URL": database_url, "SEAMLINE_DATA_DIR": str(tmp_path)}
    env.pop("SEAMLINE_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120, env=env
    )
    codes, loaded = json.loads(done.stdout.splitlines()[-1])
    assert codes == [0] * (len(DATABASE_ONLY) - 1) + [1], done.stderr  # they ran; there is no profile 1
    assert "no profile 1" in done.stderr
    assert not {*WHOLE_CONFIGURATION, *RUNS} & set(loaded[-1])
    assert "pydantic" not in loaded[NO_VALUE - 1]  # see seamline/cli/coercion.py
    assert "sqlalchemy" in loaded[0]
    if database_url.startswith("sqlite"):
        assert "sqlalchemy.dialects.postgresql" not in loaded[NO_POSTGRESQL - 1]
