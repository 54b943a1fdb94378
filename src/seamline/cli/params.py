"""Parameters commands share: ids bounded as the database stores them, so a number no row can have is a usage
error (exit 2, before anything runs), not a driver's overflow traceback."""

from __future__ import annotations

from typing import Any

import typer

# The bounds of a BIGINT, as core.ids states them (tests/cli/test_params.py checks every id parameter against them):
# that module also defines the API's pydantic `Id`, and importing pydantic costs a command given no id ~0.05 s.
MIN_ID = -(2**63)
MAX_ID = 2**63 - 1


def id_argument(help: str | None = None) -> Any:
    """A positional id."""
    return typer.Argument(help=help, min=MIN_ID, max=MAX_ID)


def id_option(help: str | None = None) -> Any:
    """An optional id."""
    return typer.Option(help=help, min=MIN_ID, max=MAX_ID)
