"""The CLI's transaction boundary: settings, engine, one unit of work, and domain errors as exit codes.

A command that only needs the database reads its three settings alone (`config_parts`), one that needs a section
reads that section alone (`load_section`); the whole configuration (`load_settings`: pydantic-settings and every
domain's settings models) is built only by a command that reads more of it, so it is imported when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar, cast

import typer
from rich.markup import escape
from sqlalchemy import Engine

from seamline.cli.output import Messages
from seamline.config_parts import DatabaseSettings, config_section, database_settings
from seamline.core.db import create_db_engine, unit_of_work
from seamline.core.errors import InvalidInput, SeamlineError, TooLarge
from seamline.core.schema import is_up_to_date

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from seamline.config import Settings

    Section = TypeVar("Section", bound=BaseModel)

err = Messages()


def _invalid(exc: ValueError) -> typer.Exit:
    err.print(f"[red]error:[/red] the configuration is not valid:\n{escape(str(exc))}")
    return typer.Exit(2)


def load_settings() -> Settings:
    """The whole configuration, every section checked (exit 2 naming what is wrong)."""
    from seamline.config import Settings

    try:
        return Settings()
    except ValueError as exc:
        raise _invalid(exc) from None


def load_database_settings() -> DatabaseSettings:
    """Where the database is and how to open it, without the rest of the configuration (exit 2 when not valid)."""
    try:
        return database_settings()
    except ValueError as exc:
        raise _invalid(exc) from None


def load_section(name: str, model: type[Section]) -> Section:
    """One section of the configuration (`cases`, `console`…), as `load_settings().<name>` would give it."""
    try:
        found = config_section(name, model)
    except ValueError as exc:
        raise _invalid(exc) from None
    return found if found is not None else cast("Section", getattr(load_settings(), name))


def engine_for(settings: Settings | DatabaseSettings) -> Engine:
    return create_db_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)


def fail(exc: SeamlineError) -> typer.Exit:
    """Print a domain error for a person and give the exit code scripts can branch on."""
    # Messages quote what the user typed, which must not be read as Rich markup (`[/x]` would crash the print).
    err.print(f"[red]error:[/red] {escape(exc.message)}")
    for item in getattr(exc, "errors", []):
        where = f"[{item.index}] " if item.index is not None else ""
        err.print(escape(f"  {where}{item.field}: {item.message}"))
    return typer.Exit(2 if isinstance(exc, InvalidInput | TooLarge) else 1)


@contextmanager
def transaction(settings: Settings | DatabaseSettings | None = None) -> Iterator[Session]:
    """One command, one transaction: committed when the block ends, rolled back on any error."""
    engine = engine_for(settings or load_database_settings())
    try:
        if not is_up_to_date(engine):
            err.print("[red]error:[/red] the database schema is not current; run `seamline db upgrade` first")
            raise typer.Exit(1)
        with unit_of_work(engine) as session:
            yield session
    except SeamlineError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
