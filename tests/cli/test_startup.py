"""The CLI starts without what it does not use: `--help` imports no command group, and no command but those that
match loads pandas, DuckDB or Splink (imports are checked in a fresh interpreter; timings live in benchmarks)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seamline.cli import COMMANDS, load

HEAVY = ("pandas", "duckdb", "splink", "fastapi", "seamline.matching.model")
# The commands that match records or serve the API (which answers matching requests), and the communications
# assessment and journey analytics, whose reports run on DuckDB.
MATCHING = {"serve", "worker", "match", "assess", "analytics"}


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(done.stdout.split())


def test_help_imports_no_command_group_nor_the_database_toolkit() -> None:
    loaded = _imported_after("from seamline.cli import app\ntry:\n    app(['--help'])\nexcept SystemExit:\n    pass")
    assert not {f"seamline.cli.{entry.module}" for entry in COMMANDS.values()} & loaded
    assert "sqlalchemy" not in loaded
    assert not set(HEAVY) & loaded


@pytest.mark.parametrize("name", sorted(set(COMMANDS) - MATCHING))
def test_a_command_that_does_not_match_loads_no_dataframe_or_matching_library(name: str) -> None:
    loaded = _imported_after(f"from seamline.cli import load\nload({name!r})")
    assert f"seamline.cli.{COMMANDS[name].module}" in loaded
    assert not set(HEAVY) & loaded


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_summary_in_the_listing_is_the_start_of_the_commands_own_help(name: str) -> None:
    command = load(name)
    assert command.name == name
    assert " ".join((command.help or "").split()).startswith(COMMANDS[name].summary)
