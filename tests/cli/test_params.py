"""Every id a command takes is bounded as the database stores it: a number no row can have is a usage error
(exit 2) before anything runs, not an overflow traceback. The commands are walked, as the routes are."""

from __future__ import annotations

import importlib
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer import Typer
from typer.testing import CliRunner

from seamline.cli import COMMANDS, GROUPS, app
from seamline.config import Settings
from seamline.core.ids import MAX_ID, MIN_ID

ID_NAMES = ("profile", "before", "after")  # ids whose names do not end in _id


def _ids_of(callback: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    for param, hint in typing.get_type_hints(callback, include_extras=True).items():
        if typing.get_origin(hint) is not typing.Annotated or param == "return":
            continue
        base, *info = typing.get_args(hint)
        if base in (int, int | None) and (param.endswith("_id") or param in ID_NAMES):
            yield path, param, info[0]


def _every_command() -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """Every command, its module imported as running it would (the CLI lists them lazily, a group's subcommands
    from the modules GROUPS names)."""
    for name, entry in COMMANDS.items():
        modules = {entry.module} | {sub.module for sub in GROUPS.get(name, {}).values() if sub.module}
        for module in sorted(modules):
            found = getattr(importlib.import_module(f"seamline.cli.{module}"), entry.attribute)
            if isinstance(found, Typer):
                yield from _id_params(found, (name,))
            else:
                yield from _ids_of(found, (name,))


def _id_params(typer_app: Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """(command path, parameter name, its typer info) of every id parameter of every command."""
    for command in typer_app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__
        yield from _ids_of(command.callback, (*path, name))
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None
        assert group.name is not None
        yield from _id_params(group.typer_instance, (*path, group.name))


def test_every_id_a_command_takes_is_bounded() -> None:
    found = list(_every_command())
    assert (("cases", "show"), "case_id") in [(p, n) for p, n, _ in found]
    assert (("identity", "unmerge"), "merge_id") in [(p, n) for p, n, _ in found]
    assert len(found) >= 12
    for path, name, info in found:
        assert (info.min, info.max) == (MIN_ID, MAX_ID), (path, name)  # core.ids' bounds, which params.py repeats


@pytest.mark.parametrize(
    "argv",
    [
        ["cases", "show", str(MAX_ID + 1)],
        ["cases", "list", "--profile", "99999999999999999999"],
        ["cases", "escalate", str(MAX_ID + 1), "--reason", "x"],
        ["privacy", "complete", str(MAX_ID + 1)],
        ["identity", "merges", "--", str(MIN_ID - 1)],
        ["match", "accept", str(MAX_ID + 1)],
        ["audit", "list", "--before", str(MAX_ID + 1)],
    ],
)
def test_an_id_no_row_can_have_is_a_usage_error(
    argv: list[str], settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAMLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SEAMLINE_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2, (argv, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "922337203685477580" in result.output  # the bound it is past
