"""Parameters commands share: ids bounded as the database stores them, so a number no row can have is a usage
error (exit 2, before anything runs), not a driver's overflow traceback."""

from __future__ import annotations

from typing import Any

import typer

from seamline.core.ids import MAX_ID, MIN_ID


def id_argument(help: str | None = None) -> Any:
    """A positional id."""
    return typer.Argument(help=help, min=MIN_ID, max=MAX_ID)


def id_option(help: str | None = None) -> Any:
    """An optional id."""
    return typer.Option(help=help, min=MIN_ID, max=MAX_ID)
